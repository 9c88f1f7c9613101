using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>
/// Mutates valid files (bit flips, byte overwrites, truncations, header length edits, JSON edits) with a seeded
/// generator, reading them from disk and from memory. Every open + read-all must succeed or throw SafeTensorsFormatException, finish within a time box,
/// and allocate less than 4 × file size + 1 MB.
/// </summary>
public class SafeTensorsFuzzTests
{
    private const int Cases = 1200;
    private static readonly string[] DTypeNames = ["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "I8", "F8_E4M3", "X", ""];

    private static byte[] BaseFile(TempDir dir)
    {
        var rng = new Random(1);
        var path = dir.File("base.safetensors");
        SafeTensorsWriter.Write(path,
        [
            new SafeTensorsEntry("w.f32", DType.Float32, [16, 8], Enumerable.Range(0, 128).Select(_ => (float)rng.NextDouble()).ToArray()),
            new SafeTensorsEntry("w.f16", DType.Float16, [4, 8], Enumerable.Range(0, 32).Select(i => (Half)(i * 0.25f)).ToArray()),
            new SafeTensorsEntry("w.bf16", DType.BFloat16, [6], new ushort[] { 0x3F80, 1, 2, 3, 0x7FC0, 0xFF80 }),
            new SafeTensorsEntry("b.f64", DType.Float64, [3], new[] { 1.0, 2.0, double.NaN }),
            new SafeTensorsEntry("ids", DType.Int64, [2, 3], new long[] { 1, 2, 3, 4, 5, 6 }),
            new SafeTensorsEntry("i32", DType.Int32, [2], new[] { -1, 1 }),
            new SafeTensorsEntry("u8", DType.UInt8, [3], new byte[] { 1, 2, 255 }),
            new SafeTensorsEntry("mask", DType.Bool, [3], new[] { true, false, true }),
            new SafeTensorsEntry("scalar", DType.Float32, [], new[] { 5f }),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return File.ReadAllBytes(path);
    }

    private static byte[] Mutate(byte[] valid, Random rng, out string what)
    {
        var b = (byte[])valid.Clone();
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(b);
        switch (rng.Next(8))
        {
            case 0:
            {
                int flips = rng.Next(1, 9);
                for (int i = 0; i < flips; i++) { int p = rng.Next(b.Length); b[p] ^= (byte)(1 << rng.Next(8)); }
                what = $"{flips} bit flips anywhere";
                return b;
            }
            case 1:
            {
                int flips = rng.Next(1, 4);
                for (int i = 0; i < flips; i++) { int p = rng.Next(8, 8 + (int)headerLength); b[p] ^= (byte)(1 << rng.Next(8)); }
                what = $"{flips} bit flips in the header";
                return b;
            }
            case 2:
            {
                int count = rng.Next(1, 6);
                for (int i = 0; i < count; i++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                what = $"{count} byte overwrites";
                return b;
            }
            case 3:
            {
                int cut = rng.Next(b.Length);
                what = $"truncated to {cut} bytes";
                return b[..cut];
            }
            case 4:
            {
                ulong n = rng.Next(5) switch
                {
                    0 => (ulong)rng.NextInt64(),
                    1 => (ulong)(headerLength + rng.Next(-16, 17)),
                    2 => (ulong)(b.Length - 8 + rng.Next(-2, 3)),
                    3 => ulong.MaxValue - (ulong)rng.Next(100),
                    _ => (ulong)rng.Next(0, 4),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(b, n);
                what = $"header length set to {n}";
                return b;
            }
            case 5:
            {
                int extra = rng.Next(1, 64);
                var longer = new byte[b.Length + extra];
                b.CopyTo(longer, 0);
                rng.NextBytes(longer.AsSpan(b.Length));
                what = $"{extra} random bytes appended";
                return longer;
            }
            default:
                return EditJson(b, headerLength, rng, out what);
        }
    }

    private static byte[] EditJson(byte[] b, long headerLength, Random rng, out string what)
    {
        var text = Encoding.UTF8.GetString(b, 8, (int)headerLength);
        var root = JsonNode.Parse(text)!.AsObject();
        var names = root.Select(kv => kv.Key).Where(k => k != "__metadata__").ToArray();
        var entry = root[names[rng.Next(names.Length)]]!.AsObject();
        var other = root[names[rng.Next(names.Length)]]!.AsObject();
        long Rand() => rng.Next(4) switch { 0 => rng.Next(-3, 3), 1 => rng.Next(0, 2000), 2 => rng.NextInt64(), _ => long.MaxValue - rng.Next(3) };
        switch (rng.Next(9))
        {
            case 0:
                (entry["data_offsets"], other["data_offsets"]) = (other["data_offsets"]!.DeepClone(), entry["data_offsets"]!.DeepClone());
                what = "offsets swapped"; break;
            case 1:
                entry["dtype"] = DTypeNames[rng.Next(DTypeNames.Length)]; what = $"dtype set to {entry["dtype"]}"; break;
            case 2:
                entry["shape"] = new JsonArray(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => (JsonNode)JsonValue.Create(Rand())).ToArray());
                what = $"shape set to {entry["shape"]!.ToJsonString()}"; break;
            case 3:
                entry["data_offsets"] = new JsonArray(JsonValue.Create(Rand()), JsonValue.Create(Rand()));
                what = $"offsets set to {entry["data_offsets"]!.ToJsonString()}"; break;
            case 4:
            {
                var key = new[] { "dtype", "shape", "data_offsets" }[rng.Next(3)];
                entry.Remove(key); what = $"{key} removed"; break;
            }
            case 5:
            {
                var key = new[] { "dtype", "shape", "data_offsets" }[rng.Next(3)];
                JsonNode?[] values = [null, true, 1.5, "x", new JsonObject(), new JsonArray(), new JsonArray(JsonValue.Create("1"))];
                entry[key] = values[rng.Next(values.Length)]?.DeepClone(); what = $"{key} given a wrong JSON type"; break;
            }
            case 6:
                root["__metadata__"] = rng.Next(2) == 0 ? new JsonObject { ["k"] = 3 } : new JsonArray(); what = "metadata made invalid"; break;
            case 7:
                text = text.Replace($"\"{names[0]}\":", $"\"{names[^1]}\":"); what = "duplicate tensor name"; return Rebuild(b, headerLength, text);
            default:
            {
                int p = rng.Next(text.Length);
                const string inserts = "{}[],:\"0-e ";
                text = text[..p] + inserts[rng.Next(inserts.Length)] + text[p..]; what = $"character inserted at {p}";
                return Rebuild(b, headerLength, text);
            }
        }
        return Rebuild(b, headerLength, root.ToJsonString());
    }

    private static byte[] Rebuild(byte[] b, long oldHeaderLength, string header) =>
        Build(header, b.AsSpan((int)(8 + oldHeaderLength)).ToArray());

    private static void ReadAll(string path, byte[]? inMemory)
    {
        using var st = inMemory is null ? SafeTensorsFile.Open(path) : SafeTensorsFile.FromBytes(inMemory, path);
        Span<byte> scratch = stackalloc byte[4096];
        foreach (var info in st.Tensors)
        {
            st.ReadArray(info, SafeTensorsFile.DefaultReadDType(info.DType));
            if (info.ByteLength <= scratch.Length) st.ReadBytes(info.Name, scratch[..(int)info.ByteLength]);
        }
        _ = st.Metadata.Count;
    }

    [Fact]
    public void MutatedFilesFailOnlyWithFormatExceptions()
    {
        using var dir = new TempDir();
        var bases = new[] { BaseFile(dir), File.ReadAllBytes(Fixture("gpt2-tiny", "reference.safetensors")) };
        var rng = new Random(20240611);
        var failures = new List<string>();
        int ok = 0, rejected = 0;
        long caseStart = 0;
        int current = -1;
        string currentWhat = "";
        var worker = new Thread(() =>
        {
            try { RunCases(); }
            catch (Exception e) { failures.Add($"the fuzz driver failed: {e}"); }
            Volatile.Write(ref current, Cases);
        }) { IsBackground = true };

        void RunCases()
        {
            for (int i = 0; i < Cases; i++)
            {
                var valid = bases[i % 10 == 9 ? 1 : 0];
                var bytes = Mutate(valid, rng, out var what);
                // Every 8th case goes through a real memory-mapped file (fresh names: overwriting is slow on some
                // file systems); the others through FromBytes, which shares the parser and readers.
                bool viaFile = i % 8 == 0;
                var path = viaFile ? dir.Write($"case{i}.safetensors", bytes) : $"case{i}.safetensors";
                currentWhat = what;
                Volatile.Write(ref caseStart, Stopwatch.GetTimestamp());
                Volatile.Write(ref current, i);
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    ReadAll(path, viaFile ? null : bytes);
                    ok++;
                }
                catch (SafeTensorsFormatException e)
                {
                    rejected++;
                    if (!e.Message.Contains(path)) failures.Add($"case {i} ({what}): message does not name the file: {e.Message}");
                }
                catch (Exception e)
                {
                    failures.Add($"case {i} ({what}): {e.GetType().Name}: {e.Message}");
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (allocated > 4L * bytes.Length + (1 << 20))
                    failures.Add($"case {i} ({what}): allocated {allocated} bytes for a {bytes.Length}-byte file");
            }
        }
        worker.Start();
        var total = Stopwatch.StartNew();
        while (!worker.Join(50))
        {
            int c = Volatile.Read(ref current);
            if (c >= 0 && Stopwatch.GetElapsedTime(Volatile.Read(ref caseStart)).TotalSeconds > 5)
                Assert.Fail($"case {c} ({currentWhat}) ran for more than 5 s");
            Assert.True(total.Elapsed.TotalSeconds < 60, "fuzz run exceeded 60 s");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(rejected > Cases / 4, $"only {rejected} of {Cases} mutations were rejected");
        Assert.True(ok > 20, $"only {ok} of {Cases} mutations were accepted");
    }
}
