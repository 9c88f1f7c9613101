using MechInterp.Attribution;
using MechInterp.Patching;

namespace MechInterp.Circuits;

/// <summary>
/// The model as a graph of residual-stream reads and writes, for edge attribution and circuits. Upstream nodes write
/// to the residual stream: the embeddings (<c>blocks.0.hook_resid_pre</c>), each head (its slice of
/// <c>attn.hook_result</c>) and each MLP (<c>hook_mlp_out</c>). Downstream inputs read it: each head's query, key and
/// value input (<c>hook_q_input</c>/<c>hook_k_input</c>/<c>hook_v_input</c>, key/value heads under grouped-query
/// attention), each MLP's input (<c>hook_mlp_in</c>) and the logits (the last <c>hook_resid_post</c>). An edge joins a
/// writer to every later reader: since a reader's input is the sum of everything written before it (plus biases that
/// never change), each edge's contribution to that input can be patched on its own.
/// </summary>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public sealed class ComputationalGraph
{
    private ComputationalGraph(List<Writer> writers, List<Reader> readers)
    {
        Writers = writers;
        Readers = readers;
        var valid = new bool[writers.Count * readers.Count];
        for (int u = 0; u < writers.Count; u++)
            for (int v = 0; v < readers.Count; v++) valid[u * readers.Count + v] = writers[u].Order < readers[v].Order;
        _valid = valid;
    }

    private readonly bool[] _valid;

    /// <summary>A node that writes to the residual stream: <paramref name="Name"/> ("embed", "a1.h3", "m0"), the hook
    /// carrying its output and, for heads, its index there (dim 2 of hook_result).</summary>
    /// <param name="Name">Node name.</param>
    /// <param name="Hook">Full hook name of its output.</param>
    /// <param name="Head">Head index in hook_result, or null.</param>
    /// <param name="Order">Position in the residual stream's order of writes and reads.</param>
    public sealed record Writer(string Name, string Hook, int? Head, int Order);

    /// <summary>An input that reads the residual stream: <paramref name="Name"/> ("a1.h3.q", "a1.g0.k", "m0", "logits").</summary>
    /// <param name="Name">Input name.</param>
    /// <param name="Hook">Full hook name of the input.</param>
    /// <param name="Head">Head index in the split input (dim 2), or null.</param>
    /// <param name="Order">Position in the residual stream's order of writes and reads.</param>
    public sealed record Reader(string Name, string Hook, int? Head, int Order);

    /// <summary>Nodes writing to the residual stream.</summary>
    public IReadOnlyList<Writer> Writers { get; }

    /// <summary>Inputs reading it.</summary>
    public IReadOnlyList<Reader> Readers { get; }

    /// <summary>True when writer <paramref name="u"/> comes before reader <paramref name="v"/> (an edge exists).</summary>
    /// <param name="u">Writer index.</param>
    /// <param name="v">Reader index.</param>
    public bool IsEdge(int u, int v) => _valid[u * Readers.Count + v];

    /// <summary>Number of edges.</summary>
    public int EdgeCount => _valid.Count(b => b);

    /// <summary>The graph of <paramref name="model"/>, which must expose per-head results and split inputs.</summary>
    /// <param name="model">A model loaded with <c>ConfigureConfig = c => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true }</c>.</param>
    /// <exception cref="NotSupportedException">The model lacks those hooks or normalises its sublayers' outputs (Gemma 2).</exception>
    public static ComputationalGraph For(IHookedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var cfg = model.Config;
        if (!cfg.UseAttnResult || !cfg.UseSplitQkvInput || (cfg.HasMlp && !cfg.UseHookMlpIn))
            throw new NotSupportedException("edge attribution needs each head's output and each reader's own input: load the model with " +
                "new LoadOptions { ConfigureConfig = c => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true } }");
        if (cfg.UseNormalizationBeforeAndAfter)
            throw new NotSupportedException("this model normalises attention and MLP outputs before adding them (ln1_post/ln2_post): a reader's input is then not a sum of writers' outputs");
        var writers = new List<Writer> { new("embed", ActName.ResidPre(0), null, 0) };
        var readers = new List<Reader>();
        int order = 1;
        for (int l = 0; l < cfg.NLayers; l++)
        {
            int readsAttn = order++;
            for (int h = 0; h < cfg.NHeads; h++) readers.Add(new($"a{l}.h{h}.q", $"blocks.{l}.hook_q_input", h, readsAttn));
            for (int g = 0; g < cfg.KvHeads; g++)
            {
                string kv = cfg.KvHeads == cfg.NHeads ? $"h{g}" : $"g{g}";
                readers.Add(new($"a{l}.{kv}.k", $"blocks.{l}.hook_k_input", g, readsAttn));
                readers.Add(new($"a{l}.{kv}.v", $"blocks.{l}.hook_v_input", g, readsAttn));
            }
            // Parallel blocks: the MLP reads what the heads of its own layer read.
            int readsMlp = cfg.ParallelAttnMlp ? readsAttn : order + 1;
            int headsWrite = order++;
            for (int h = 0; h < cfg.NHeads; h++) writers.Add(new($"a{l}.h{h}", ActName.Result(l), h, headsWrite));
            if (cfg.HasMlp)
            {
                if (!cfg.ParallelAttnMlp) order++;
                readers.Add(new($"m{l}", $"blocks.{l}.hook_mlp_in", null, readsMlp));
                writers.Add(new($"m{l}", ActName.MlpOut(l), null, order++));
            }
        }
        readers.Add(new("logits", ActName.ResidPost(cfg.NLayers - 1), null, order));
        foreach (var w in writers) model.GetHookPoint(w.Hook);
        foreach (var r in readers) model.GetHookPoint(r.Hook);
        return new ComputationalGraph(writers, readers);
    }

    /// <summary>Each writer's output on a run, [batch, pos, writers, d_model], from a cache holding the writers' hooks.</summary>
    internal Tensor WriterOutputs(ActivationCache cache) =>
        Tensor.Stack(Writers.Select(w => Slice(cache[w.Hook], w.Head)).ToList(), 2);

    /// <summary>[batch, pos, d_model] slice of a hook's activation for one node.</summary>
    internal static Tensor Slice(Tensor activation, int? head) => head is { } h ? activation.Select(2, h) : activation;

    /// <summary>All hooks the graph reads or writes.</summary>
    internal IEnumerable<string> Hooks => Writers.Select(w => w.Hook).Concat(Readers.Select(r => r.Hook)).Distinct();
}
