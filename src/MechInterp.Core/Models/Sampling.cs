namespace MechInterp;

/// <summary>Top-k / top-p sampling from one row of logits on the host.</summary>
internal static class Sampling
{
    public static long Sample(ReadOnlySpan<double> logits, int? topK, double? topP, Generator generator)
    {
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var values = logits.ToArray();
        Array.Sort(values.Select(v => -v).ToArray(), order);
        int keep = Math.Min(topK ?? logits.Length, logits.Length);
        double max = values[order[0]];
        var probs = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) { probs[i] = Math.Exp(values[order[i]] - max); sum += probs[i]; }
        if (topP is { } p)
        {
            double cum = 0;
            for (int i = 0; i < keep; i++)
            {
                cum += probs[i] / sum;
                if (cum >= p) { keep = i + 1; break; }
            }
            sum = probs.Take(keep).Sum();
        }
        double u = generator.NextDouble() * sum;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[i];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
