using System.Runtime.InteropServices;
using System.Text;
using MechInterp.Backends.Cpu;
using MechInterp.Loading.Architectures;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>SafeTensorsFile.ReadMapped: mapped tensors hold exactly the stored bytes (checked against the copying reader
/// and an independent parse of the file), writes stay private, and the cases that cannot map fall back to copies.</summary>
public sealed class MemoryMappedReadTests
{
    public static TheoryData<string> Fixtures() => new(FixtureNames);

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [Theory, MemberData(nameof(Fixtures))]
    public void MappedTensorsEqualTheCopyingReaderBitForBit(string fixture)
    {
        var path = Fixture(fixture, "model.safetensors");
        var raw = File.ReadAllBytes(path);
        var (_, _, entries) = ParseIndependently(raw);
        using var file = SafeTensorsFile.Open(path);
        foreach (var name in file.Names)
        {
            var info = file.GetInfo(name);
            using var mapped = file.ReadMapped(name);
            using var copied = file.Read(name);
            Assert.Equal(copied.Shape, mapped.Shape);
            Assert.Equal(copied.DType, mapped.DType);
            Assert.Equal(Bytes(copied.ToArray<float>()), Bytes(mapped.ToArray<float>()));
            // F32 data is aligned in every fixture, so it must be shared with the file; F16 is widened by a copy.
            Assert.Equal(entries[name].DType == "F32", SafeTensorsFile.IsMapped(mapped));
            Assert.False(SafeTensorsFile.IsMapped(copied));
            if (entries[name].DType == "F32")
                Assert.Equal(RawData(raw, name), Bytes(mapped.ToArray<float>()));
            else
                Assert.Equal(DType.Float16, info.DType);
        }
    }

    [Fact]
    public void StoredDTypeIsMappedWhenAskedForAndOtherDTypesAreCopied()
    {
        var path = Fixture("pythia-tiny", "model.safetensors");
        var raw = File.ReadAllBytes(path);
        using var file = SafeTensorsFile.Open(path);
        var name = file.Names[0];
        using var half = file.ReadMapped(name, DType.Float16);
        Assert.True(SafeTensorsFile.IsMapped(half));
        Assert.Equal(RawData(raw, name), Bytes(half.ToArray<Half>()));
        using var widened = file.ReadMapped(name, DType.Float64);
        Assert.False(SafeTensorsFile.IsMapped(widened));
        Assert.Equal(half.ToArray<Half>().Select(v => (double)v), widened.ToArray<double>());
    }

    [Fact]
    public void MisalignedFloat32IsCopiedAndAlignedNeighboursAreMapped()
    {
        // One F16 element (2 bytes) pushes the F32 tensor after it to an odd multiple of 2; the last is back on 4.
        float[] a = [1.5f, -2.25f, 3e-8f], b = [7f, 8f];
        var data = new byte[2 + 12 + 2 + 8];
        BitConverter.GetBytes((Half)0.5).CopyTo(data, 0);
        Bytes(a).CopyTo(data, 2);
        BitConverter.GetBytes((Half)(-1)).CopyTo(data, 14);
        Bytes(b).CopyTo(data, 16);
        var json = """{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"a":{"dtype":"F32","shape":[3],"data_offsets":[2,14]},"g":{"dtype":"F16","shape":[1],"data_offsets":[14,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}""";
        json += new string(' ', (8 - (8 + Encoding.UTF8.GetByteCount(json)) % 8) % 8);
        using var dir = new TempDir();
        using var file = SafeTensorsFile.Open(dir.Write("m.safetensors", Build(json, data)));
        using var ta = file.ReadMapped("a");
        using var tb = file.ReadMapped("b");
        Assert.False(SafeTensorsFile.IsMapped(ta));
        Assert.True(SafeTensorsFile.IsMapped(tb));
        Assert.Equal(Bytes(a), Bytes(ta.ToArray<float>()));
        Assert.Equal(Bytes(b), Bytes(tb.ToArray<float>()));
    }

    [Fact]
    public void BytesInMemoryAreCopied()
    {
        var raw = File.ReadAllBytes(Fixture("gpt2-tiny", "model.safetensors"));
        using var file = SafeTensorsFile.FromBytes(raw);
        using var t = file.ReadMapped(file.Names[0]);
        Assert.False(SafeTensorsFile.IsMapped(t));
        Assert.Equal(RawData(raw, file.Names[0]), Bytes(t.ToArray<float>()));
    }

    [Fact]
    public void WritesToMappedMemoryStayPrivateAndViewsKeepTheMappingAlive()
    {
        using var dir = new TempDir();
        var original = File.ReadAllBytes(Fixture("gpt2-tiny", "model.safetensors"));
        var path = dir.Write("model.safetensors", original);
        var file = SafeTensorsFile.Open(path);
        const string name = "transformer.wte.weight";
        var t = file.ReadMapped(name);
        Tensor view;
        using (var rows = t.Narrow(0, 1, 2)) view = rows.T;
        file.Dispose();
        var storage = ((CpuHandle)t.Handle).Storage;
        Assert.True(storage.IsMapped);
        storage.Span<float>().Fill(42f); // an in-place write, as a kernel writing into its input would make
        Assert.All(t.ToArray<float>(), v => Assert.Equal(42f, v));
        Assert.Equal(original, File.ReadAllBytes(path));
        using (var again = SafeTensorsFile.Open(path))
            Assert.Equal(RawData(original, name), Bytes(again.Read(name).ToArray<float>()));
        t.Dispose();
        Assert.All(view.ToArray<float>(), v => Assert.Equal(42f, v)); // the view still holds the mapping
        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => storage.Span<float>());
        Assert.Throws<ObjectDisposedException>(() => storage.Data);
    }

    [Fact]
    public void TruncatedAndCorruptFilesStillRaiseFormatErrors()
    {
        using var dir = new TempDir();
        var original = File.ReadAllBytes(Fixture("gpt2-tiny", "model.safetensors"));
        var truncated = dir.Write("truncated.safetensors", original[..(original.Length - 5)]);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(truncated));
        var corrupt = (byte[])original.Clone();
        corrupt[12] = (byte)'!';
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(dir.Write("corrupt.safetensors", corrupt)));
        using var model = new TempDir();
        foreach (var f in new[] { "config.json" }) File.Copy(Fixture("gpt2-tiny", f), model.File(f));
        File.WriteAllBytes(model.File("model.safetensors"), original[..(original.Length - 5)]);
        Assert.Throws<SafeTensorsFormatException>(() => HookedTransformer.FromPretrained(model.Path, new LoadOptions { MemoryMapWeights = true }));
    }

    public static TheoryData<long[], int[], int, long, long, long[], bool> ReshapeCases() => new()
    {
        // source shape, permutation, narrowed dim/start/length (length 0: none), target shape, whether a view is possible
        { [6, 8], [1, 0], 0, 0, 0, [2, 4, 6], true },       // transposed nn.Linear weight split into heads
        { [4, 12], [0, 1], 1, 4, 4, [4, 2, 2], true },      // narrowed fused q|k|v split into heads
        { [2, 3, 8], [2, 0, 1], 0, 0, 0, [8, 6], true },    // per-head view of a linear weight merged back (W_Q)
        { [2, 3, 4], [2, 0, 1], 0, 0, 0, [4, 6], true },    // merge of two strided dims
        { [3, 4, 5], [0, 2, 1], 0, 0, 0, [3, 20], false },  // merge across a transpose needs a copy
    };

    [Theory, MemberData(nameof(ReshapeCases))]
    public void ReshapeIsAViewWhenStridesAllowAndMatchesTheCopy(long[] shape, int[] perm, int narrowDim, long start, long length, long[] target, bool view)
    {
        int n = (int)shape.Aggregate(1L, (a, b) => a * b);
        using var x = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), shape);
        var v = x.Permute(perm);
        if (length > 0) v = v.Narrow(narrowDim, start, length);
        using var reference = v.Contiguous().Reshape(target);
        using var strided = v.Reshape(target);
        Assert.Equal(target, strided.Shape);
        Assert.Equal(reference.ToArray<float>(), strided.ToArray<float>());
        Assert.Equal(view, ReferenceEquals(((CpuHandle)strided.Handle).Storage, ((CpuHandle)x.Handle).Storage));
    }

    [Fact]
    public void AStridedReshapeViewCarriesGradientsBackThroughTheTranspose()
    {
        using var x = Tensor.FromArray(Enumerable.Range(0, 48).Select(i => (float)i / 10).ToArray(), [6, 8]).RequiresGrad_();
        using var weights = Tensor.FromArray(Enumerable.Range(0, 48).Select(i => (float)(i % 7) - 3).ToArray(), [2, 4, 6]);
        var view = x.T.Reshape(2, 4, 6); // a view of x's storage (the transposed nn.Linear case)
        Assert.True(ReferenceEquals(((CpuHandle)view.Handle).Storage, ((CpuHandle)x.Handle).Storage));
        (view * weights).Sum().Backward();
        // d/dx[i, j] of sum(x.T.reshape(2,4,6) * w) is w at the flat index j * 6 + i of the transposed layout.
        var w = weights.ToArray<float>();
        var expected = new float[48];
        for (int i = 0; i < 6; i++) for (int j = 0; j < 8; j++) expected[i * 8 + j] = w[j * 6 + i];
        Assert.Equal(expected, x.Grad!.ToArray<float>());
    }
}
