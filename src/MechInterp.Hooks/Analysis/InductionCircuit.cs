using MechInterp.Training.Datasets;

namespace MechInterp.Analysis;

/// <summary>What <see cref="InductionCircuit.Measure"/> found in a model on repeated-segment sequences.</summary>
/// <param name="SegmentLength">|A| of the sequences measured.</param>
/// <param name="FirstSegmentLoss">Mean next-token loss predicting the first copy (random: about ln(vocab - 1)).</param>
/// <param name="RepeatLoss">Mean next-token loss where induction can predict (the second copy after its first token).</param>
/// <param name="LossByPosition">Mean per-token loss at each position [pos - 1] (in-context learning shows as a drop at 1 + |A|).</param>
/// <param name="InductionScores">[layer, head]: detect_head induction score over the second copy's query rows.</param>
/// <param name="PreviousTokenScores">[layer, head]: detect_head previous-token score over every row.</param>
/// <param name="KComposition">[layer, head, layer, head]: K-composition scores (<see cref="HeadCircuits.AllCompositionScores"/>).</param>
/// <param name="InductionHead">The head with the highest induction score.</param>
/// <param name="PreviousTokenHead">The head of an earlier layer with the highest previous-token score.</param>
/// <param name="AblatedRepeatLoss">Repeat loss with each head of the induction head's layer zero-ablated [head].</param>
/// <param name="InductionHeads">The heads of the induction head's layer scoring at least 0.5.</param>
/// <param name="AllInductionHeadsAblatedRepeatLoss">Repeat loss with all of <paramref name="InductionHeads"/> zero-ablated.</param>
public sealed record InductionCircuitReport(int SegmentLength, double FirstSegmentLoss, double RepeatLoss, double[] LossByPosition,
    double[,] InductionScores, double[,] PreviousTokenScores, double[,,,] KComposition,
    (int Layer, int Head) InductionHead, (int Layer, int Head) PreviousTokenHead, double[] AblatedRepeatLoss,
    int[] InductionHeads, double AllInductionHeadsAblatedRepeatLoss)
{
    /// <summary>K-composition of <see cref="PreviousTokenHead"/> into <see cref="InductionHead"/>.</summary>
    public double CircuitKComposition => KComposition[PreviousTokenHead.Layer, PreviousTokenHead.Head, InductionHead.Layer, InductionHead.Head];

    /// <summary>The largest K-composition between any head of the previous-token head's layer and any head of the
    /// induction head's layer.</summary>
    public (int From, int To, double Score) LargestKComposition
    {
        get
        {
            int heads = KComposition.GetLength(1);
            var best = (From: 0, To: 0, Score: double.MinValue);
            for (int a = 0; a < heads; a++)
                for (int b = 0; b < heads; b++)
                {
                    double s = KComposition[PreviousTokenHead.Layer, a, InductionHead.Layer, b];
                    if (s > best.Score) best = (a, b, s);
                }
            return best;
        }
    }

    /// <summary>How much zero-ablating the induction head multiplies the repeat loss.</summary>
    public double InductionAblationRatio => AblatedRepeatLoss[InductionHead.Head] / RepeatLoss;
}

/// <summary>
/// Measures the two-head induction circuit of Olsson et al. (2022) in a model trained on
/// <see cref="RepeatedTokenSequences"/>: per-head induction and previous-token scores (TransformerLens's
/// detect_head), K-composition between layers, single-head zero ablations, and the per-position loss.
/// </summary>
public static class InductionCircuit
{
    /// <summary>Measures <paramref name="model"/> on <paramref name="batch"/>, whose rows must all have one segment
    /// length (draw it with <see cref="RepeatedTokenSequences.Sample"/>'s segmentLength).</summary>
    public static InductionCircuitReport Measure(HookedTransformer model, RepeatedTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        int h = batch.SegmentLengths[0];
        if (batch.SegmentLengths.Any(l => l != h))
            throw new ArgumentException("the batch mixes segment lengths: sample it with one segmentLength so the repeat rows line up", nameof(batch));
        if (model.Config.NLayers < 2) throw new ArgumentException("an induction circuit needs at least two layers", nameof(model));
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        var lossOptions = new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true };
        var perToken = model.Forward(batch.Tokens, lossOptions);        // [batch, pos - 1]
        double repeat = batch.MeanOverRepeats(perToken);
        var byPosition = perToken.Mean(0).To(DType.Float64).ToArray<double>();

        // Queries 2 + |A| .. 1 + 2|A| - 1 hold the second copy after its first token: each has an induction target.
        var induction = ToGrid(HeadDetector.DetectHead(model, batch.Tokens, HeadKind.Induction, queries: (h + 2)..(2 * h + 1)));
        var previous = ToGrid(HeadDetector.DetectHead(model, batch.Tokens, HeadKind.PreviousToken));
        var inductionHead = ArgMax(induction, 1, model.Config.NLayers);
        var previousHead = ArgMax(previous, 0, inductionHead.Layer);

        var k = model.AllCompositionScores(CompositionType.K).To(DType.Float64).ToArray<double>();
        int layers = model.Config.NLayers, heads = model.Config.NHeads;
        var kGrid = new double[layers, heads, layers, heads];
        Buffer.BlockCopy(k, 0, kGrid, 0, k.Length * sizeof(double));

        var ablated = new double[heads];
        for (int head = 0; head < heads; head++)
            ablated[head] = batch.MeanOverRepeats(model.RunWithHooks(batch.Tokens, [HeadAblation.Zero(inductionHead.Layer, head)], null, lossOptions));
        var inductionHeads = Enumerable.Range(0, heads).Where(hh => induction[inductionHead.Layer, hh] >= 0.5).DefaultIfEmpty(inductionHead.Head).Distinct().ToArray();
        double allAblated = batch.MeanOverRepeats(model.RunWithHooks(batch.Tokens, [HeadAblation.Zero(inductionHead.Layer, inductionHeads)], null, lossOptions));
        return new InductionCircuitReport(h, batch.MeanOverFirstSegment(perToken), repeat, byPosition, induction, previous, kGrid,
            inductionHead, previousHead, ablated, inductionHeads, allAblated);
    }

    private static double[,] ToGrid(Tensor scores)
    {
        var v = scores.ToArray<double>();
        int layers = (int)scores.Shape[0], heads = (int)scores.Shape[1];
        var grid = new double[layers, heads];
        for (int l = 0; l < layers; l++) for (int hh = 0; hh < heads; hh++) grid[l, hh] = v[l * heads + hh];
        return grid;
    }

    private static (int Layer, int Head) ArgMax(double[,] grid, int fromLayer, int toLayer)
    {
        var best = (Layer: fromLayer, Head: 0);
        for (int l = fromLayer; l < toLayer; l++)
            for (int hh = 0; hh < grid.GetLength(1); hh++)
                if (grid[l, hh] > grid[best.Layer, best.Head]) best = (l, hh);
        return best;
    }
}
