using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// A Stopwatch breakdown of a forward pass by component, taken through forward hooks on the points that bound each
/// component (hooks that return null; none of them sits on an intermediate point a fused kernel skips, so the fast
/// paths stay on). Segments: LN1+Q projection (resid_pre→hook_q), K and V projections, the attention core
/// (hook_v→hook_z: scores, mask, softmax, pattern·V), output projection, residual adds, LN2+W_in, GELU, W_out, and
/// the final norm + unembedding. Time is summed over layers; median of the repeats.
/// </summary>
public static class ComponentProfile
{
    /// <summary>The command-line switch that selects this profile.</summary>
    public const string Switch = "--profile";

    private static readonly (string From, string To, string Label)[] s_segments =
    [
        ("hook_resid_pre", "attn.hook_q", "ln1 + W_Q"),
        ("attn.hook_q", "attn.hook_k", "W_K"),
        ("attn.hook_k", "attn.hook_v", "W_V"),
        ("attn.hook_v", "attn.hook_z", "attention core"),
        ("attn.hook_z", "hook_attn_out", "W_O"),
        ("hook_attn_out", "hook_resid_mid", "add"),
        ("hook_resid_mid", "mlp.hook_pre", "ln2 + W_in"),
        ("mlp.hook_pre", "mlp.hook_post", "gelu"),
        ("mlp.hook_post", "hook_mlp_out", "W_out"),
        ("hook_mlp_out", "hook_resid_post", "add"),
    ];

    /// <summary>Arguments: ENGINE SHAPE [REPEATS] [backward | decode [REPEATS]]; prints milliseconds per component (or, with
    /// "backward", the forward-with-loss and backward times of workload C, for a sampling profiler to attach to; with
    /// "decode", SHAPE is the prompt and REPEATS the new tokens of a cached greedy decode, see <see cref="DecodeProfile"/>).</summary>
    public static int Run(string[] args)
    {
        var engine = Enum.Parse<Engine>(args[0]);
        if (args.Length > 3 && args[3] == "backward") return RunBackward(engine, args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
        if (args.Length > 3 && args[3] == "decode")
            return DecodeProfile.Run(engine, args[1], int.Parse(args[2], CultureInfo.InvariantCulture),
                args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3);
        var (b, s) = Engines.ParseShape(args[1]);
        int repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var model = Engines.Gpt2(engine);
        using var tokens = Engines.Tokens(model, b, s);
        var clock = Stopwatch.StartNew();
        var stamps = new Dictionary<string, double>(StringComparer.Ordinal);
        var totals = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var handles = AddStampHooks(model, clock, stamps);
        for (int r = 0; r < repeats + 1; r++)
        {
            stamps.Clear();
            double start, end;
            using (Tensor.Scope())
            using (GradMode.NoGrad())
            {
                start = clock.Elapsed.TotalMilliseconds;
                _ = model.Forward(tokens);
                end = clock.Elapsed.TotalMilliseconds;
            }
            if (r == 0) continue; // warm-up
            var perLabel = Split(model, stamps, start, end);
            foreach (var (k, v) in perLabel) (totals.TryGetValue(k, out var list) ? list : totals[k] = []).Add(v);
        }
        foreach (var h in handles) h.Dispose();
        Console.WriteLine($"{engine} {args[1]}: median ms over {repeats} forwards (other processes' load ~{QuietMachine.OtherCores(0.5):F2} cores)");
        foreach (var (k, v) in totals)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k,-20} {v.Order().ElementAt(v.Count / 2),9:F1}"));
        return 0;
    }

    /// <summary>Adds a hook on every segment boundary that records when it fired (by hook name) on <paramref name="clock"/>.</summary>
    internal static List<IDisposable> AddStampHooks(HookedTransformer model, Stopwatch clock, Dictionary<string, double> stamps)
    {
        var handles = new List<IDisposable>();
        var points = new HashSet<string>(s_segments.SelectMany(x => new[] { x.From, x.To }));
        foreach (var (name, point) in model.HookDict)
        {
            if (!points.Any(p => name.EndsWith("." + p, StringComparison.Ordinal))) continue;
            handles.Add(point.AddHook((_, h) => { stamps[h.Name] = clock.Elapsed.TotalMilliseconds; return null; }));
        }
        return handles;
    }

    /// <summary>Milliseconds per component of one forward that ran from <paramref name="start"/> to <paramref name="end"/>,
    /// summed over layers, from the stamps of <see cref="AddStampHooks"/>.</summary>
    internal static Dictionary<string, double> Split(HookedTransformer model, Dictionary<string, double> stamps, double start, double end)
    {
        var perLabel = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int l = 0; l < model.Config.NLayers; l++)
            foreach (var (from, to, label) in s_segments)
                perLabel[label] = perLabel.GetValueOrDefault(label) + stamps[$"blocks.{l}.{to}"] - stamps[$"blocks.{l}.{from}"];
        perLabel["embed"] = stamps["blocks.0.hook_resid_pre"] - start;
        perLabel["ln_final + unembed"] = end - stamps[$"blocks.{model.Config.NLayers - 1}.hook_resid_post"];
        perLabel["total"] = end - start;
        return perLabel;
    }

    private static int RunBackward(Engine engine, string shape, int repeats)
    {
        var model = Engines.Gpt2(engine);
        model.SetRequiresGrad(true);
        var (b, s) = Engines.ParseShape(shape);
        using var tokens = Engines.Tokens(model, b, s);
        for (int r = 0; r < repeats; r++)
        {
            model.ZeroGrad();
            using var scope = Tensor.Scope();
            var sw = Stopwatch.StartNew();
            var loss = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss });
            double forward = sw.Elapsed.TotalMilliseconds;
            loss.Backward();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{engine} {shape}: forward+loss {forward:F0} ms, backward {sw.Elapsed.TotalMilliseconds - forward:F0} ms"));
        }
        return 0;
    }
}
