using System.Runtime.InteropServices;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>SafeTensorsWriter output is checked by an independent parse and by reading it back.</summary>
public class SafeTensorsWriterTests
{
    private static readonly Dictionary<string, string> Meta = new() { ["format"] = "pt", ["note"] = "émoji ✓ \"quoted\"" };

    /// <summary>One entry per dtype, with awkward values (NaN, infinities, extremes, odd sizes).</summary>
    private static List<SafeTensorsEntry> EveryDType() =>
    [
        new("f32", DType.Float32, [2, 3], new[] { 1.5f, -0f, float.NaN, float.PositiveInfinity, float.Epsilon, -3.4e38f }),
        new("f64", DType.Float64, [3], new[] { Math.PI, double.MinValue, -1e-300 }),
        new("f16", DType.Float16, [1, 1, 3], new[] { (Half)0.5f, Half.MaxValue, Half.Epsilon }),
        new("bf16", DType.BFloat16, [2], new ushort[] { 0x3F80, 0xFF7F }),
        new("i64", DType.Int64, [2], new[] { long.MinValue, long.MaxValue }),
        new("i32", DType.Int32, [3], new[] { int.MinValue, 0, int.MaxValue }),
        new("u8", DType.UInt8, [5], new byte[] { 0, 1, 127, 128, 255 }),
        new("bool", DType.Bool, [3], new[] { true, false, true }),
        new("scalar", DType.Float32, [], new[] { 42f }),
        new("empty", DType.Int64, [0, 4], Array.Empty<long>()),
    ];

    [Fact]
    public void EveryDTypeRoundTripsAndMatchesAnIndependentParse()
    {
        using var dir = new TempDir();
        var path = dir.File("all.safetensors");
        var entries = EveryDType();
        SafeTensorsWriter.Write(path, entries, Meta);

        var bytes = File.ReadAllBytes(path);
        var (n, meta, raw) = ParseIndependently(bytes);
        Assert.Equal(0, (8 + n) % 8);
        Assert.Equal(Meta, meta);
        Assert.Equal(entries.Select(e => e.Name).Order(StringComparer.Ordinal), raw.Keys.Order(StringComparer.Ordinal));
        long expectedOffset = 0;
        foreach (var (name, e) in raw.OrderBy(kv => kv.Key, StringComparer.Ordinal)) // sorted by name, no gaps
        {
            Assert.Equal(expectedOffset, e.Begin);
            expectedOffset = e.End;
        }
        Assert.Equal(bytes.Length, 8 + n + expectedOffset);

        using var st = SafeTensorsFile.Open(path);
        Assert.Equal(Meta, st.Metadata);
        foreach (var e in entries)
        {
            var info = st.GetInfo(e.Name);
            Assert.Equal(e.DType, info.DType);
            Assert.Equal(e.Shape, info.Shape);
            Assert.Equal(raw[e.Name].DType, info.StoredDTypeName);
            // Stored bytes equal the source array's bytes, independently located.
            Assert.Equal(ToBytes(e.Data), RawData(bytes, e.Name));
            var back = info.DType switch
            {
                DType.Float32 => (Array)st.ReadArray<float>(e.Name),
                DType.Float64 => st.ReadArray<double>(e.Name),
                DType.Float16 => st.ReadArray<Half>(e.Name),
                DType.BFloat16 => st.ReadArray(info, DType.BFloat16),
                DType.Int64 => st.ReadArray<long>(e.Name),
                DType.Int32 => st.ReadArray<int>(e.Name),
                DType.UInt8 => st.ReadArray<byte>(e.Name),
                _ => st.ReadArray<bool>(e.Name),
            };
            Assert.Equal(ToBytes(e.Data), ToBytes(back));
        }
    }

    private static byte[] ToBytes(Array a) => a switch
    {
        float[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        double[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        Half[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        ushort[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        long[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        int[] x => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
        byte[] x => x,
        bool[] x => x.Select(b => b ? (byte)1 : (byte)0).ToArray(),
        _ => throw new ArgumentException(a.GetType().Name),
    };

    [Fact]
    public void ConversionsBetweenDTypesFollowTorchRules()
    {
        using var dir = new TempDir();
        var path = dir.File("conv.safetensors");
        SafeTensorsWriter.Write(path, [
            new SafeTensorsEntry("f", DType.Float32, [5], new[] { 1.7f, -2.7f, 0f, 1.00390625f, 300.5f }),
            new SafeTensorsEntry("i", DType.Int64, [3], new[] { 3L, -1L, 1L << 40 }),
        ], null);
        using var st = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { 1L, -2L, 0L, 1L, 300L }, st.ReadArray<long>("f"));          // truncation toward zero
        Assert.Equal(new[] { true, true, false, true, true }, st.ReadArray<bool>("f"));
        Assert.Equal(new[] { 3, -1, 0 }, st.ReadArray<int>("i"));                         // wraps like torch
        Assert.Equal(new[] { 3.0, -1.0, (double)(1L << 40) }, st.ReadArray<double>("i"));
        var bf = (ushort[])st.ReadArray(st.GetInfo("f"), DType.BFloat16);
        // 1.00390625 = 1 + 2^-8 lies halfway between bf16 1.0 and 1.0078125: ties to even gives 1.0 (0x3F80).
        Assert.Equal((ushort)0x3F80, bf[3]);
        Assert.Equal((ushort)0x3FDA, bf[0]); // 1.7f = 0x3FD9999A: the lower half 0x999A > 0x8000 rounds up
        Assert.Equal((Half)300.5f, st.ReadArray<Half>("f")[4]);
    }

    [Fact]
    public void HeaderIsPaddedWithSpacesAndReplacesAtomically()
    {
        using var dir = new TempDir();
        var path = dir.File("w.safetensors");
        SafeTensorsWriter.Write(path, [new SafeTensorsEntry("a", DType.Float32, [1], new[] { 1f })], null);
        var first = File.ReadAllBytes(path);
        var (n, meta, _) = ParseIndependently(first);
        Assert.Empty(meta);
        var headerText = System.Text.Encoding.UTF8.GetString(first, 8, (int)n);
        Assert.EndsWith("}", headerText.TrimEnd(' '));

        using (var old = SafeTensorsFile.Open(path))
        {
            SafeTensorsWriter.Write(path, [new SafeTensorsEntry("a", DType.Float32, [2], new[] { 2f, 3f })], null);
            Assert.Equal(new[] { 1f }, old.ReadArray<float>("a")); // a reader of the old file is undisturbed
        }
        using (var st = SafeTensorsFile.Open(path)) Assert.Equal(new[] { 2f, 3f }, st.ReadArray<float>("a"));

        // A failed write leaves the existing file intact and no temporary file behind.
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new SafeTensorsEntry("a", DType.Float32, [3], new[] { 1f })], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new SafeTensorsEntry("__metadata__", DType.Float32, [1], new[] { 1f })], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new SafeTensorsEntry("a", DType.Float32, [1], new[] { 1.0 })], null));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
        Assert.Throws<DirectoryNotFoundException>(() => SafeTensorsWriter.Write(dir.File("no/such/dir.safetensors"), [], null));
    }

    [Fact]
    public void TensorDictionaryRoundTrip()
    {
        using var dir = new TempDir();
        var path = dir.File("t.safetensors");
        using var a = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        using var ids = Tensor.FromArray(new long[] { 7, 8, 9 }, 3);
        using var mask = Tensor.FromArray(new[] { true, false }, 2);
        using var at = a.T; // a non-contiguous view is written row-major
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = a, ["ids"] = ids, ["mask"] = mask, ["aT"] = at },
            new Dictionary<string, string> { ["format"] = "pt" });
        using var st = SafeTensorsFile.Open(path);
        Assert.Equal("pt", st.Metadata["format"]);
        using var ra = st.Read("a");
        Assert.Equal(new long[] { 2, 3 }, ra.Shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, ra.ToArray<float>());
        Assert.Equal(new[] { 1f, 4f, 2f, 5f, 3f, 6f }, st.ReadArray<float>("aT"));
        Assert.Equal(new long[] { 7, 8, 9 }, st.ReadArray<long>("ids"));
        Assert.Equal(new[] { true, false }, st.ReadArray<bool>("mask"));
    }
}
