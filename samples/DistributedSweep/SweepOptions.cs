namespace DistributedSweep;

/// <summary>The sample's command line.</summary>
internal sealed record SweepOptions
{
    public int Silos { get; init; } = 3;
    public string Model { get; init; } = DefaultModel();
    public string Activation { get; init; } = "z";
    public int CellsPerUnit { get; init; } = 8;
    public int Batch { get; init; } = 4;
    public int Positions { get; init; } = 24;
    public bool Kill { get; init; }
    public bool Bench { get; init; }
    public int Repeats { get; init; } = 3;
    public bool InProcess { get; init; }
    public string? WorkerName { get; init; }
    public int PrimaryPort { get; init; }
    public int Parent { get; init; }

    public const string Usage = """
        usage: dotnet run --project samples/DistributedSweep -c Release -- [options]
          --silos N            worker silos on loopback (default 3), each its own process
          --in-process         the worker silos as Orleans hosts in this process instead (still over TCP)
          --model PATH|ID      model folder or Hugging Face id every silo loads (default: the gpt2-tiny test fixture)
          --activation NAME    z (heads by position, default), resid_pre, attn_out, mlp_out (by position)
          --cells-per-unit N   cells of the sweep per unit (default 8; 0 = one layer per unit)
          --batch N --pos N    random prompts of N tokens (default 4 × 24)
          --kill               kill worker 1 once it holds a unit; its units go to the others
          --bench              time the single-process sweep and 1..N silos (and units of one cell)
          --repeats N          timed runs per configuration with --bench (default 3; the best is kept)
        """;

    public static SweepOptions Parse(string[] args)
    {
        var o = new SweepOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            int Int() { var s = Next(); return int.TryParse(s, out var v) && v >= 0 ? v : throw new ArgumentException($"{args[i - 1]} takes a count, got '{s}'\n{Usage}"); }
            o = args[i] switch
            {
                "--silos" => o with { Silos = Int() },
                "--model" => o with { Model = Next() },
                "--activation" => o with { Activation = Next() },
                "--cells-per-unit" => o with { CellsPerUnit = Int() },
                "--batch" => o with { Batch = Int() },
                "--pos" => o with { Positions = Int() },
                "--kill" => o with { Kill = true },
                "--bench" => o with { Bench = true },
                "--repeats" => o with { Repeats = Int() },
                "--in-process" => o with { InProcess = true },
                "--worker" => o with { WorkerName = Next() },
                "--primary-port" => o with { PrimaryPort = Int() },
                "--parent" => o with { Parent = Int() },
                "-h" or "--help" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}"),
            };
        }
        if (o.Silos < 1) throw new ArgumentException($"--silos must be at least 1\n{Usage}");
        if (o.Kill && o.Silos < 2) throw new ArgumentException("--kill needs at least 2 silos (one to kill, one to finish)");
        return o;
    }

    private static string DefaultModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var fixture = Path.Combine(dir.FullName, "tests", "MechInterp.Tests", "Fixtures", "gpt2-tiny");
            if (Directory.Exists(fixture)) return fixture;
        }
        return "gpt2";
    }
}
