namespace MechInterp.Backends;

/// <summary>
/// Optional one-pass norms (a backend capability). Without them <see cref="Tensor"/> composes mean, square, sqrt
/// and divide.
/// </summary>
internal interface IFusedNormKernels
{
    /// <summary>A norm over the last dim with its scale in one pass: layer norm ((x - mean) / scale * w + b, scale =
    /// sqrt(var + eps)) or, with <paramref name="rms"/>, x / scale with scale = sqrt(mean(x²) + eps) and no weight.
    /// Scale has the input's shape with a last dim of 1 (TransformerLens's hook_scale).</summary>
    (TensorHandle Normalized, TensorHandle Scale) NormalizeWithScale(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps, bool rms);

    /// <summary>Layer norm over the last dim: (x - mean) / sqrt(var + eps) * w + b (biased variance); weight and bias optional ([last]).</summary>
    TensorHandle LayerNorm(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps);

    /// <summary>RMS norm over the last dim: x / sqrt(mean(x^2) + eps) * w; weight optional ([last]).</summary>
    TensorHandle RmsNorm(TensorHandle x, TensorHandle? weight, double eps);
}
