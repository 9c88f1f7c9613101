using MechInterp.Backends;
using MechInterp.Backends.Cpu;
using MechInterp.Tests.Loading;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>A memory-mapped checkpoint stays mapped exactly as long as a model (or a tensor) uses it. The process's own
/// mapping table (/proc/self/maps) is the independent witness; the mapping counter must agree. Isolated: no other
/// test opens or closes mappings meanwhile.</summary>
[Collection("Isolated")]
public sealed class MappedWeightsLifetimeTests
{
    private static bool Mapped(string path) => File.ReadAllText("/proc/self/maps").Contains(path, StringComparison.Ordinal);

    /// <summary>The mapping count once mappings that earlier tests dropped without disposing (models that were never
    /// disposed) have been finalized, so that none is finalized in the middle of a count.</summary>
    private static long SettledLiveCount()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return MappedFile.LiveCount;
    }

    private static TempDir CopyOfGpt2()
    {
        var dir = new TempDir();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(LoadingTestSupport.Fixture("gpt2-tiny", f), dir.File(f));
        return dir;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DisposingTheModelUnmapsTheFileAndANewLoadSeesItsReplacement(bool processed)
    {
        Assert.True(OperatingSystem.IsLinux(), "this test reads /proc/self/maps");
        using var dir = CopyOfGpt2();
        var path = dir.File("model.safetensors");
        long before = SettledLiveCount();
        // Folding norms replaces the weights that read the residual stream; W_E, W_pos, W_O, W_out stay mapped.
        var options = new LoadOptions { FoldLayerNorm = processed };
        var model = HookedTransformer.FromPretrained(dir.Path, options);
        Assert.True(Mapped(path));
        // Unprocessed, the tied W_U reads wte through a second copy-on-write mapping; folding replaces W_U.
        Assert.Equal(before + (processed ? 1 : 2), MappedFile.LiveCount);
        using (var tokens = Tensor.FromArray([1L, 2, 3], 1, 3)) model.Forward(tokens).Dispose();
        model.Dispose();
        Assert.False(Mapped(path));
        Assert.Equal(before, MappedFile.LiveCount);

        // Rewrite the file in place (safe only once nothing maps it): W_E doubled must show up in a new load.
        var bytes = File.ReadAllBytes(path);
        var (n, _, entries) = LoadingTestSupport.ParseIndependently(bytes);
        var e = entries["transformer.wte.weight"];
        var original = new float[(e.End - e.Begin) / 4];
        Buffer.BlockCopy(bytes, (int)(8 + n + e.Begin), original, 0, original.Length * 4);
        var doubled = original.Select(v => v * 2).ToArray();
        Buffer.BlockCopy(doubled, 0, bytes, (int)(8 + n + e.Begin), doubled.Length * 4);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write)) stream.Write(bytes);
        using (var reloaded = HookedTransformer.FromPretrained(dir.Path))
        {
            Assert.Equal(doubled, reloaded.W_E.ToArray<float>());
            Assert.True(SafeTensorsFile.IsMapped(reloaded.W_E));
        }
        Assert.False(Mapped(path));
        Assert.Equal(before, MappedFile.LiveCount);
    }

    [Fact]
    public void AWeightKeptByTheCallerKeepsTheMappingUntilDisposed()
    {
        using var dir = CopyOfGpt2();
        var path = dir.File("model.safetensors");
        long before = SettledLiveCount();
        var model = HookedTransformer.FromPretrained(dir.Path);
        var kept = model.W_E.Narrow(0, 0, 4);
        var expected = kept.ToArray<float>();
        model.Dispose();
        Assert.True(Mapped(path));
        Assert.Equal(expected, kept.ToArray<float>());
        kept.Dispose();
        Assert.False(Mapped(path));
        Assert.Equal(before, MappedFile.LiveCount);
    }

    [Fact]
    public void ALostMappingIsUnmappedByTheCollector()
    {
        using var dir = CopyOfGpt2();
        var path = dir.File("model.safetensors");
        long before = SettledLiveCount();
        LoadAndDrop(dir.Path);
        for (int i = 0; i < 3 && MappedFile.LiveCount != before; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(before, MappedFile.LiveCount);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(Mapped(path));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void LoadAndDrop(string dir)
    {
        var model = HookedTransformer.FromPretrained(dir);
        Assert.True(SafeTensorsFile.IsMapped(model.W_E));
    }
}
