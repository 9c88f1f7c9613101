using TorchSharp;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Engine set-up shared by the workloads: devices, libtorch's thread count, and one loaded model per engine.</summary>
public static class Engines
{
    /// <summary>Threads given to both engines (the machine has 2 cores).</summary>
    public const int Threads = 2;

    private static readonly Dictionary<Engine, HookedTransformer> s_models = [];

    /// <summary>The engines a run compares: both, or those named in <c>MECHINTERP_BENCH_ENGINES</c> (e.g. "Managed").</summary>
    public static IEnumerable<Engine> Selected =>
        Environment.GetEnvironmentVariable("MECHINTERP_BENCH_ENGINES") is { Length: > 0 } names
            ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Enum.Parse<Engine>)
            : [Engine.Managed, Engine.Libtorch];
    private static readonly object s_gate = new();

    /// <summary>The device of <paramref name="engine"/>; for libtorch, also pins its intra-op threads to <see cref="Threads"/>.</summary>
    public static Device DeviceOf(Engine engine)
    {
        if (engine == Engine.Managed) return Device.Cpu;
        Environment.SetEnvironmentVariable("MECHINTERP_TORCH_THREADS", Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        torch.set_num_threads(Threads);
        return Device.TorchCpu;
    }

    /// <summary>The random-weight GPT-2 small loaded from its HF checkpoint onto <paramref name="engine"/> (once per process).</summary>
    public static HookedTransformer Gpt2(Engine engine)
    {
        lock (s_gate)
        {
            if (s_models.TryGetValue(engine, out var model)) return model;
            var device = DeviceOf(engine);
            model = HookedTransformer.FromPretrained(Gpt2SmallCheckpoint.EnsureWritten(), new LoadOptions { Device = device });
            s_models[engine] = model;
            return model;
        }
    }

    /// <summary>Random token ids [batch, pos] on the model's device (the same ids for both engines).</summary>
    public static Tensor Tokens(HookedTransformer model, int batch, int pos, int seed = 0)
    {
        var rng = new Random(seed);
        var ids = new long[batch * pos];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.Next(Gpt2SmallCheckpoint.Vocab);
        return Tensor.FromArray(ids, batch, pos).To(model.Device).DetachFromScopes();
    }

    /// <summary>Parses "BxS" (batch × sequence length).</summary>
    public static (int Batch, int Seq) ParseShape(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
