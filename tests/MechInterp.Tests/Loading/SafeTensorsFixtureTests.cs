using System.Text.Json;
using System.Runtime.InteropServices;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>Reads the oracle fixtures and checks them against facts computed independently in the test.</summary>
public class SafeTensorsFixtureTests
{
    public static TheoryData<string> Models() => new(FixtureNames);

    [Theory]
    [MemberData(nameof(Models))]
    public void HeaderEntriesMatchAnIndependentJsonParse(string model)
    {
        foreach (var fileName in new[] { "model.safetensors", "reference.safetensors" })
        {
            var path = Fixture(model, fileName);
            var (n, meta, entries) = ParseIndependently(File.ReadAllBytes(path));
            using var st = SafeTensorsFile.Open(path);
            Assert.Equal(n, st.HeaderLength);
            Assert.Equal(8 + n, st.DataOffset);
            Assert.Equal(meta.OrderBy(kv => kv.Key), st.Metadata.OrderBy(kv => kv.Key));
            Assert.Equal(entries.Keys.OrderBy(k => k, StringComparer.Ordinal), st.Names);
            foreach (var (name, e) in entries)
            {
                var info = st.GetInfo(name);
                Assert.Equal(e.DType, info.StoredDTypeName);
                Assert.Equal(e.Shape, info.Shape);
                Assert.Equal(e.Begin, info.DataStart);
                Assert.Equal(e.End, info.DataEnd);
                Assert.Equal(8 + n + e.Begin, info.FileOffset);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ReferenceInputIdsEqualReferenceJson(string model)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture(model, "reference.json")));
        var expected = json.RootElement.GetProperty("input_ids").EnumerateArray()
            .SelectMany(row => row.EnumerateArray().Select(v => v.GetInt64())).ToArray();
        using var st = SafeTensorsFile.Open(Fixture(model, "reference.safetensors"));
        var info = st.GetInfo("input_ids");
        Assert.Equal(DType.Int64, info.DType);
        Assert.Equal(new long[] { 2, 12 }, info.Shape);
        Assert.Equal(expected, st.ReadArray<long>("input_ids"));
        Assert.Equal(expected.Select(v => (int)v), st.ReadArray<int>("input_ids"));
    }

    [Fact]
    public void Float32WeightsAreTheStoredBytes()
    {
        var path = Fixture("gpt2-tiny", "model.safetensors");
        var raw = RawData(File.ReadAllBytes(path), "transformer.wte.weight");
        var expected = MemoryMarshal.Cast<byte, float>(raw).ToArray();
        using var st = SafeTensorsFile.Open(path);
        Assert.Equal(DType.Float32, st.GetInfo("transformer.wte.weight").DType);
        Assert.Equal(new long[] { 512, 64 }, st.GetInfo("transformer.wte.weight").Shape);
        Assert.Equal(expected, st.ReadArray<float>("transformer.wte.weight"));
        var span = new float[expected.Length];
        st.ReadFloats("transformer.wte.weight", span);
        Assert.Equal(expected, span);
        Assert.Equal(expected.Select(v => (double)v), st.ReadArray<double>("transformer.wte.weight"));
    }

    [Fact]
    public void Float16WeightsUpcastExactly()
    {
        var path = Fixture("pythia-tiny", "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        using var st = SafeTensorsFile.Open(path);
        foreach (var name in new[] { "gpt_neox.embed_in.weight", "gpt_neox.final_layer_norm.weight", "embed_out.weight" })
        {
            Assert.Equal(DType.Float16, st.GetInfo(name).DType);
            Assert.Equal(DType.Float32, SafeTensorsFile.DefaultReadDType(st.GetInfo(name).DType));
            var raw = RawData(bytes, name);
            var expected = new float[raw.Length / 2];
            for (int i = 0; i < expected.Length; i++)
                expected[i] = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(raw, 2 * i));
            Assert.Equal(expected, st.ReadArray<float>(name));
            var span = new float[expected.Length];
            st.ReadFloats(name, span);
            Assert.Equal(expected, span);
            Assert.Equal(expected.Select(v => (Half)v), st.ReadArray<Half>(name)); // F16 round trip is exact
        }
    }

    [Fact]
    public void BFloat16UpcastIsABitShift()
    {
        using var dir = new TempDir();
        var rng = new Random(7);
        var bits = Enumerable.Range(0, 300).Select(_ => (ushort)rng.Next(0, 65536)).ToArray();
        bits[0] = 0x3F80; bits[1] = 0xC000; bits[2] = 0x7F80; bits[3] = 0x0001;
        var header = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3,100],\"data_offsets\":[0,600]}}";
        var path = dir.Write("bf16.safetensors", Build(header, MemoryMarshal.AsBytes(bits.AsSpan()).ToArray()));
        using var st = SafeTensorsFile.Open(path);
        var floats = st.ReadArray<float>("w");
        for (int i = 0; i < bits.Length; i++)
            Assert.Equal(BitConverter.Int32BitsToSingle(bits[i] << 16).ToString("R"), floats[i].ToString("R"));
        Assert.Equal(1f, floats[0]);
        Assert.Equal(-2f, floats[1]);
        Assert.True(float.IsPositiveInfinity(floats[2]));
    }

    [Fact]
    public void ReadGivesTensorsWithShapeAndDType()
    {
        using var st = SafeTensorsFile.Open(Fixture("pythia-tiny", "model.safetensors"));
        using var t = st.Read("gpt_neox.embed_in.weight");
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new long[] { 512, 64 }, t.Shape);
        Assert.Equal(st.ReadArray<float>("gpt_neox.embed_in.weight"), t.ToArray<float>());
        using var ref_ = SafeTensorsFile.Open(Fixture("gpt2-tiny", "reference.safetensors"));
        using var ids = ref_.Read("input_ids");
        Assert.Equal(DType.Int64, ids.DType);
        Assert.Equal(ref_.ReadArray<long>("input_ids"), ids.ToArray<long>());
        using var asDouble = ref_.Read("logits", DType.Float64);
        Assert.Equal(DType.Float64, asDouble.DType);
        Assert.Equal(ref_.ReadArray<float>("logits").Select(v => (double)v), asDouble.ToArray<double>());
    }

    [Fact]
    public void MissingTensorNamesTheFile()
    {
        var path = Fixture("gpt2-tiny", "model.safetensors");
        using var st = SafeTensorsFile.Open(path);
        var e = Assert.Throws<KeyNotFoundException>(() => st.GetInfo("transformer.h.9.attn.c_attn.weight"));
        Assert.Contains("transformer.h.9.attn.c_attn.weight", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("transformer.h.0.attn.c_attn.weight", e.Message); // similar names are suggested
        Assert.False(st.Contains("nope"));
        Assert.Throws<ArgumentException>(() => st.ReadFloats("transformer.wte.weight", new float[3]));
    }

    [Fact]
    public void FromBytesReadsLikeTheMappedFile()
    {
        var path = Fixture("llama-tiny", "model.safetensors");
        using var mapped = SafeTensorsFile.Open(path);
        using var memory = SafeTensorsFile.FromBytes(File.ReadAllBytes(path), "llama in memory");
        Assert.Equal(mapped.Names, memory.Names);
        foreach (var name in mapped.Names) Assert.Equal(mapped.ReadArray<float>(name), memory.ReadArray<float>(name));
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.FromBytes(new byte[5], "five bytes"));
        Assert.Contains("five bytes", e.Message);
    }

    [Fact]
    public void DisposedFileRefusesReads()
    {
        var st = SafeTensorsFile.Open(Fixture("gpt2-tiny", "model.safetensors"));
        st.Dispose();
        st.Dispose();
        Assert.Throws<ObjectDisposedException>(() => st.ReadArray<float>("transformer.wte.weight"));
    }
}
