namespace MechInterp;

public sealed partial class HookedTransformer
{
    /// <summary>
    /// Random initialisation for training from scratch (TransformerLens's GPT-2 style): every matrix ~ N(0, std²) with
    /// std = <paramref name="std"/> (default 0.8 / √d_model), biases zero, norm weights one.
    /// </summary>
    public void InitWeights(Generator generator, double? std = null)
    {
        double s = std ?? 0.8 / Math.Sqrt(Config.DModel);
        using var _ = GradMode.NoGrad();
        foreach (var (name, p) in NamedParameters())
        {
            var shape = p.Value.Shape;
            string local = name[(name.LastIndexOf('.') + 1)..];
            Tensor value = local switch
            {
                "w" => Tensor.Ones(shape, p.Value.DType, Device),
                _ when local.StartsWith("b", StringComparison.Ordinal) => Tensor.Zeros(shape, p.Value.DType, Device),
                _ => Tensor.Randn(shape, generator, 0, s, p.Value.DType, Device),
            };
            p.Reset(value);
        }
    }
}
