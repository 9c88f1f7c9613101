using System.Buffers.Binary;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>Each malformed input raises SafeTensorsFormatException naming the file, the tensor and the problem.</summary>
public class SafeTensorsValidationTests
{
    private static SafeTensorsFormatException Fails(byte[] bytes, params string[] messageParts)
    {
        using var dir = new TempDir();
        var path = dir.Write("bad.safetensors", bytes);
        var e = Assert.Throws<SafeTensorsFormatException>(() =>
        {
            using var st = SafeTensorsFile.Open(path);
        });
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        foreach (var part in messageParts) Assert.Contains(part, e.Message);
        return e;
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Fact]
    public void TruncatedOrEmptyFiles()
    {
        Fails([], "0 bytes", "truncated");
        Fails([1, 0, 0], "3 bytes");
        var good = Build("{" + Entry("a", "F32", "[4]", 0, 16) + "}", new byte[16]);
        Fails(good[..20], "truncated");                    // header cut
        Fails(good[..(good.Length - 1)], "'a'", "past the end"); // data cut
    }

    [Fact]
    public void HeaderLengthPastEndOrAbsurd()
    {
        var bytes = Build("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        Fails(bytes, "1000", "truncated");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Fails(bytes, "limit");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 200_000_000);
        Fails(bytes, "limit");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 0);
        Fails(bytes, "too short");
    }

    [Fact]
    public void InvalidJsonAndWrongTypes()
    {
        Fails(Build("{\"a\":", []), "JSON");
        Fails(Build("[1,2]", []), "not a JSON object");
        Fails(Build("{}{}", []), "JSON");
        Fails(Build("{} 1", []), "JSON");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}", new byte[4]), "JSON");
        Fails(Build("{\"a\":[]}", []), "'a'", "must be an object");
        Fails(Build("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "'a'", "'dtype' must be a string");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", new byte[4]), "'shape' must be an array");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]), "1.5", "not a 64-bit integer");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "one number");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[4]), "more than two");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "no 'data_offsets'");
        Fails(Build("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "no 'dtype'");
        Fails(Build("{\"__metadata__\":{\"k\":1}}", []), "must be a string");
        Fails(Build("{\"__metadata__\":[]}", []), "must be an object");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", new byte[4]), "not a 64-bit integer");
    }

    [Fact]
    public void BadOffsets()
    {
        Fails(Build("{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 4, 12) + "}", new byte[12]), "'b'", "overlap", "'a'");
        Fails(Build("{" + Entry("a", "F32", "[2]", 8, 0) + "}", new byte[8]), "end before they begin");
        Fails(Build("{" + Entry("a", "F32", "[2]", 8, 16) + "}", new byte[8]), "past the end");
        Fails(Build("{" + Entry("a", "F32", "[2]", 0, 4) + "}", new byte[8]), "4 bytes", "needs 8");
        Fails(Build("{" + Entry("a", "F32", "[-2]", 0, 8) + "}", new byte[8]), "negative");
        Fails(Build("{" + Entry("a", "F32", "[2]", -8, 0) + "}", new byte[8]), "negative");
        Fails(Build("{" + Entry("a", "F64", "[4611686018427387904,4]", 0, 8) + "}", new byte[8]), "overflow");
    }

    [Fact]
    public void OutOfOrderEntriesAndZeroSizeTensorsAreFine()
    {
        using var dir = new TempDir();
        var data = new byte[12];
        BitConverter.GetBytes(1.5f).CopyTo(data, 0);
        BitConverter.GetBytes(-7).CopyTo(data, 4);
        BitConverter.GetBytes(2.25f).CopyTo(data, 8);
        var header = "{" + Entry("z", "F32", "[1]", 8, 12) + "," + Entry("empty", "F32", "[0,3]", 4, 4) + "," +
                     Entry("a", "F32", "[]", 0, 4) + "," + Entry("i", "I32", "[1]", 4, 8) + ",\"__metadata__\":{\"k\":\"v\"}}";
        var path = dir.Write("ok.safetensors", Build(header + "   ", data));
        using var st = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { "a", "empty", "i", "z" }, st.Names);
        Assert.Equal(new[] { 1.5f }, st.ReadArray<float>("a"));
        Assert.Empty(st.GetInfo("a").Shape);
        Assert.Empty(st.ReadArray<float>("empty"));
        Assert.Equal(new[] { -7 }, st.ReadArray<int>("i"));
        Assert.Equal(new[] { 2.25f }, st.ReadArray<float>("z"));
        Assert.Equal("v", st.Metadata["k"]);
    }

    [Fact]
    public void UnknownDTypeAndDuplicates()
    {
        Fails(Build("{" + Entry("a", "F31", "[2]", 0, 8) + "}", new byte[8]), "'a'", "unknown dtype 'F31'");
        Fails(Build("{" + Entry("a", "I8", "[2]", 0, 2) + "}", new byte[2]), "'I8' is not supported");
        Fails(Build("{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "'a'", "twice");
        Fails(Build("{\"__metadata__\":{},\"__metadata__\":{}}", []), "two '__metadata__'");
        Fails(Build("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", []), "'k' twice");
        Fails(Build("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "'dtype' appears twice");
    }

    [Fact]
    public void ControlCharactersInNamesAreNotEchoedRaw()
    {
        var e = Fails(Build("{\"a\\u0007b\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", []), "a?b");
        Assert.Equal("a\u0007b", e.TensorName);
    }

    [Fact]
    public void MissingFileIsNotAFormatError()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/dir/x.safetensors"));
        Assert.Contains("/nonexistent/dir/x.safetensors", e.Message);
    }
}
