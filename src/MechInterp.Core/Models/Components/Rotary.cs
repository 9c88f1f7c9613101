namespace MechInterp.Models.Components;

/// <summary>Rotary position embedding on the first <c>rotaryDim</c> dims of each head: rotate-half (NeoX/HF Llama)
/// or adjacent pairs (GPT-J). Angles are computed in float64 and rounded once.</summary>
internal sealed class Rotary
{
    private readonly int _dim;
    private readonly bool _adjacent;
    private readonly Tensor _sin, _cos; // [n_ctx, dim]

    public Rotary(int rotaryDim, int nCtx, double theta, bool adjacentPairs, Device device)
    {
        _dim = rotaryDim;
        _adjacent = adjacentPairs;
        int half = rotaryDim / 2;
        var sin = new float[nCtx * rotaryDim];
        var cos = new float[nCtx * rotaryDim];
        for (int p = 0; p < nCtx; p++)
            for (int j = 0; j < rotaryDim; j++)
            {
                int freqIndex = adjacentPairs ? j / 2 : j % half;
                double invFreq = 1.0 / Math.Pow(theta, 2.0 * freqIndex / rotaryDim);
                double angle = p * (double)(float)invFreq;
                sin[p * rotaryDim + j] = (float)Math.Sin(angle);
                cos[p * rotaryDim + j] = (float)Math.Cos(angle);
            }
        _sin = Tensor.FromArray(sin, nCtx, rotaryDim).To(device).DetachFromScopes();
        _cos = Tensor.FromArray(cos, nCtx, rotaryDim).To(device).DetachFromScopes();
    }

    /// <summary>Rotates x [batch, pos, heads, d_head] at positions [batch, pos] (Int64).</summary>
    public Tensor Apply(Tensor x, Tensor positions)
    {
        long b = x.Shape[0], p = x.Shape[1], dh = x.Shape[3];
        long n = _sin.Shape[0];
        using (GradMode.NoGrad())
            if (positions.Max().Item<long>() >= n)
                throw new ArgumentException($"position {positions.Max().Item<long>()} is past the rotary table of {n} positions (n_ctx): shorten the input");
        var flatPos = positions.Reshape(-1);
        var sin = _sin.IndexSelect(0, flatPos).Reshape(positions.Shape[0], p, 1, _dim);
        var cos = _cos.IndexSelect(0, flatPos).Reshape(positions.Shape[0], p, 1, _dim);
        var rot = _dim == dh ? x : x.Narrow(3, 0, _dim);
        Tensor rotated;
        if (_adjacent)
        {
            var pairs = rot.Reshape(b, p, x.Shape[2], _dim / 2, 2);
            var even = pairs.Select(4, 0);
            var odd = pairs.Select(4, 1);
            rotated = Tensor.Stack([-odd, even], 4).Reshape(b, p, x.Shape[2], _dim);
        }
        else
        {
            int half = _dim / 2;
            rotated = Tensor.Concat([-rot.Narrow(3, half, half), rot.Narrow(3, 0, half)], 3);
        }
        var result = rot * cos + rotated * sin;
        return _dim == dh ? result : Tensor.Concat([result, x.Narrow(3, _dim, dh - _dim)], 3);
    }
}
