using MechInterp;
using MechInterp.Distributed.Jobs;
using MechInterp.Patching;

namespace DistributedSweep;

/// <summary>The sample's prompts: random clean tokens, the same with two tokens changed as the corrupted run, a
/// logit difference between random answer tokens as the metric (seeded, so every run sweeps the same cells).</summary>
internal static class Prompts
{
    public static (PatchSweepJob Job, Tensor Base, Tensor Source, Func<Tensor, Tensor> Metric) Make(HookedTransformer model, SweepOptions o)
    {
        var rng = new Random(7);
        int vocab = model.Config.DVocab, n = o.Batch * o.Positions;
        var clean = Enumerable.Range(0, n).Select(_ => (long)rng.Next(vocab)).ToArray();
        var corrupted = (long[])clean.Clone();
        for (int b = 0; b < o.Batch; b++)
            foreach (int p in new[] { o.Positions / 3, 2 * o.Positions / 3 })
                corrupted[b * o.Positions + p] = (clean[b * o.Positions + p] + 1 + rng.Next(vocab - 1)) % vocab;
        var answers = Enumerable.Range(0, o.Batch).Select(_ => (long)rng.Next(vocab)).ToArray();
        var wrong = answers.Select(a => (a + 1 + rng.Next(vocab - 1)) % vocab).ToArray();
        var baseBatch = new TokenBatch(corrupted, o.Batch, o.Positions);
        var sourceBatch = new TokenBatch(clean, o.Batch, o.Positions);
        var job = new PatchSweepJob
        {
            Model = o.Model,
            BaseTokens = baseBatch,
            SourceTokens = sourceBatch,
            Activation = o.Activation,
            Axes = o.Activation == "z" ? [PatchAxis.Pos, PatchAxis.Head] : [PatchAxis.Pos],
            Metric = MetricSpec.LogitDifference(answers, wrong),
            CellsPerUnit = o.CellsPerUnit,
        };
        return (job, baseBatch.ToTensor(model.Device), sourceBatch.ToTensor(model.Device), PatchingMetrics.LogitDifference(answers, wrong));
    }

    /// <summary>"layer 1, pos 7, head 2" for flat cell <paramref name="i"/> of a [layers, ...] result.</summary>
    public static string CellName(long[] shape, int i)
    {
        var index = new long[shape.Length];
        long rest = i;
        for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
        string[] names = shape.Length == 3 ? ["layer", "pos", "head"] : ["layer", "pos"];
        return string.Join(", ", names.Zip(index, (n, v) => $"{n} {v}"));
    }
}
