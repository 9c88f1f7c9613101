namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation for one or two operands ("bpd,dv->bpv", "bhqk->bhkq", "ii->", "...d,d->..."): every
    /// contraction is reduced to permutes, reshapes, a batched matmul and sums, so gradients flow through it.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => EinsumPlanner.Run(equation, operands);
}

/// <summary>Turns an einsum equation into view ops and one batched matmul.</summary>
internal static class EinsumPlanner
{
    public static Tensor Run(string equation, Tensor[] operands)
    {
        var eq = equation.Replace(" ", "");
        string lhs, rhs;
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var inputs = (arrow >= 0 ? eq[..arrow] : eq).Split(',');
        if (inputs.Length != operands.Length)
            throw new ArgumentException($"einsum '{equation}' names {inputs.Length} operands but {operands.Length} were given");
        if (operands.Length is < 1 or > 2)
            throw new ArgumentException($"einsum supports one or two operands; '{equation}' has {operands.Length}: chain two-operand calls");
        // Expand "..." into fresh letters that the equation does not use.
        int ellipsisRank = 0;
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].Contains("...", StringComparison.Ordinal))
                ellipsisRank = Math.Max(ellipsisRank, operands[i].Rank - (inputs[i].Length - 3));
        var unused = Enumerable.Range(0, 26).SelectMany(k => new[] { (char)('A' + k), (char)('a' + k) }).Where(c => !eq.Contains(c));
        string ell = new([.. unused.Take(ellipsisRank)]);
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].Contains("...", StringComparison.Ordinal)) continue;
            int own = operands[i].Rank - (inputs[i].Length - 3);
            inputs[i] = inputs[i].Replace("...", ell[(ellipsisRank - own)..]);
        }
        lhs = string.Join(",", inputs);
        if (arrow >= 0) rhs = eq[(arrow + 2)..].Replace("...", ell);
        else
        {
            var counts = lhs.Where(char.IsLetter).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key);
            rhs = ell + new string([.. counts.Where(c => !ell.Contains(c)).OrderBy(c => c)]);
        }
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].Length != operands[i].Rank)
                throw new ArgumentException($"einsum '{equation}': operand {i} has shape {Tensor.ShapeString(operands[i].Shape)} but subscripts '{inputs[i]}' name {inputs[i].Length} dims");

        var sizes = new Dictionary<char, long>();
        for (int i = 0; i < inputs.Length; i++)
            for (int k = 0; k < inputs[i].Length; k++)
            {
                char c = inputs[i][k];
                long s = operands[i].Shape[k];
                if (sizes.TryGetValue(c, out var prev) && prev != s && prev != 1 && s != 1)
                    throw new ArgumentException($"einsum '{equation}': index '{c}' has size {prev} in one place and {s} in another");
                sizes[c] = sizes.TryGetValue(c, out var p2) ? Math.Max(p2, s) : s;
            }
        foreach (var c in rhs)
            if (!sizes.ContainsKey(c)) throw new ArgumentException($"einsum '{equation}': output index '{c}' does not appear in the inputs");

        var a = Diagonalize(operands[0], ref inputs[0]);
        if (operands.Length == 1) return ReduceTo(a, inputs[0], rhs);
        var b = Diagonalize(operands[1], ref inputs[1]);
        // Sum out indices that appear only in one operand and not in the output.
        a = SumUnique(a, ref inputs[0], inputs[1] + rhs);
        b = SumUnique(b, ref inputs[1], inputs[0] + rhs);
        string sa = inputs[0], sb = inputs[1];
        var batch = sa.Where(c => sb.Contains(c) && rhs.Contains(c)).ToArray();
        var contract = sa.Where(c => sb.Contains(c) && !rhs.Contains(c)).ToArray();
        var freeA = sa.Where(c => !sb.Contains(c)).ToArray();
        var freeB = sb.Where(c => !sa.Contains(c)).ToArray();
        long Prod(IEnumerable<char> cs) => cs.Aggregate(1L, (acc, c) => acc * sizes[c]);
        var pa = Arrange(a, sa, [.. batch, .. freeA, .. contract], sizes);
        var pb = Arrange(b, sb, [.. batch, .. contract, .. freeB], sizes);
        var ma = pa.Reshape(Prod(batch), Prod(freeA), Prod(contract));
        var mb = pb.Reshape(Prod(batch), Prod(contract), Prod(freeB));
        var prod = ma.MatMul(mb);
        var resultLabels = new string([.. batch, .. freeA, .. freeB]);
        var shaped = prod.Reshape([.. resultLabels.Select(c => sizes[c])]);
        return ReduceTo(shaped, resultLabels, rhs);
    }

    /// <summary>Takes diagonals for repeated indices within one operand ("ii" → "i").</summary>
    private static Tensor Diagonalize(Tensor t, ref string labels)
    {
        while (true)
        {
            int dup = -1, first = -1;
            for (int i = 0; i < labels.Length && dup < 0; i++)
                for (int j = i + 1; j < labels.Length; j++)
                    if (labels[i] == labels[j]) { first = i; dup = j; break; }
            if (dup < 0) return t;
            long n = t.Shape[first];
            var eye = Tensor.Eye(n, dtype: t.DType, device: t.Device);
            var shape = Enumerable.Repeat(1L, t.Rank).ToArray();
            shape[first] = n; shape[dup] = n;
            t = (t * eye.Reshape(shape)).Sum(dup);
            labels = labels.Remove(dup, 1);
        }
    }

    private static Tensor SumUnique(Tensor t, ref string labels, string elsewhere)
    {
        for (int i = labels.Length - 1; i >= 0; i--)
            if (!elsewhere.Contains(labels[i])) { t = t.Sum(i); labels = labels.Remove(i, 1); }
        return t;
    }

    private static Tensor Arrange(Tensor t, string labels, char[] order, Dictionary<char, long> sizes)
    {
        var perm = order.Select(c => labels.IndexOf(c)).ToArray();
        var p = t.Permute(perm);
        var target = order.Select(c => sizes[c]).ToArray();
        return p.Shape.AsSpan().SequenceEqual(target) ? p : p.Expand(target);
    }

    private static Tensor ReduceTo(Tensor t, string labels, string rhs)
    {
        for (int i = labels.Length - 1; i >= 0; i--)
            if (!rhs.Contains(labels[i])) { t = t.Sum(i); labels = labels.Remove(i, 1); }
        if (labels.Length != rhs.Length)
            throw new ArgumentException($"einsum: output '{rhs}' repeats an index");
        var perm = rhs.Select(c => labels.IndexOf(c)).ToArray();
        return perm.Select((p, i) => p == i).All(x => x) ? t : t.Permute(perm).Contiguous();
    }
}
