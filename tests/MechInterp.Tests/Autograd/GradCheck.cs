using Xunit.Sdk;

namespace MechInterp.Tests.Autograd;

/// <summary>One differentiable input of a gradient check: its shape and the range its seeded values are drawn
/// from (values with |v| &lt; <paramref name="MinAbs"/> are redrawn, to stay away from kinks such as |x| at 0).</summary>
internal sealed record Arg(long[] Shape, double Lo = -2, double Hi = 2, double MinAbs = 0)
{
    public static Arg Of(params long[] shape) => new(shape);
    public static Arg Positive(params long[] shape) => new(shape, 0.5, 2.0);
    public static Arg AwayFromZero(params long[] shape) => new(shape, -2, 2, 0.05);
}

/// <summary>A scalar-free function of some float64 inputs whose gradient is checked.</summary>
internal sealed record GradCase(Func<Tensor[], Tensor> F, params Arg[] Args);

/// <summary>
/// Checks reverse-mode gradients against central finite differences in float64 on the managed CPU backend.
/// The checked scalar is L(x) = Σ f(x) ⊙ W for a fixed seeded random W, so every output element matters with a
/// different weight. Each input element is perturbed by ±h and (L(x+h) - L(x-h)) / 2h is compared with the
/// gradient that Backward() accumulated into the leaf.
/// </summary>
internal static class GradCheck
{
    public const double Step = 1e-6;
    public const double RelTol = 1e-6;
    public const double AbsTol = 1e-7;

    /// <summary>Seeded values for <paramref name="arg"/> (the same on every run).</summary>
    public static double[] Values(Arg arg, ulong seed)
    {
        var gen = new Generator(seed);
        long n = arg.Shape.Aggregate(1L, (a, b) => a * b);
        var data = new double[n];
        for (long i = 0; i < n; i++)
        {
            double v;
            do v = arg.Lo + (arg.Hi - arg.Lo) * gen.NextDouble(); while (Math.Abs(v) < arg.MinAbs);
            data[i] = v;
        }
        return data;
    }

    public static Tensor Leaf(double[] data, long[] shape, bool requiresGrad)
    {
        var t = Tensor.FromArray(data, shape, DType.Float64, Device.Cpu);
        if (requiresGrad) t.RequiresGrad = true;
        return t;
    }

    public static void Run(string name, GradCase c)
    {
        using var scope = Tensor.Scope();
        var data = c.Args.Select((a, k) => Values(a, 1000 + (ulong)k * 7919)).ToArray();
        var leaves = c.Args.Select((a, k) => Leaf(data[k], a.Shape, true)).ToArray();
        var output = c.F(leaves);
        if (output.DType != DType.Float64)
            throw new XunitException($"{name}: output dtype is {output.DType}, expected Float64");
        var weights = Values(new Arg(output.Shape, -1, 1), 77);
        var w = Tensor.FromArray(weights, output.Shape, DType.Float64, Device.Cpu);
        (output * w).Sum().Backward();

        double Loss(double[][] values)
        {
            using var _ = GradMode.NoGrad();
            using var inner = Tensor.Scope();
            var ts = c.Args.Select((a, k) => Leaf(values[k], a.Shape, false)).ToArray();
            var o = c.F(ts).ToArray<double>();
            double s = 0;
            for (int i = 0; i < o.Length; i++) s += o[i] * weights[i];
            return s;
        }

        for (int k = 0; k < leaves.Length; k++)
        {
            var grad = leaves[k].Grad;
            if (grad is not null && !grad.Shape.AsSpan().SequenceEqual(c.Args[k].Shape))
                throw new XunitException($"{name}: gradient of input {k} has shape {Tensor.ShapeString(grad.Shape)}, the input {Tensor.ShapeString(c.Args[k].Shape)}");
            var analytic = grad?.ToArray<double>() ?? new double[data[k].Length];
            for (int i = 0; i < data[k].Length; i++)
            {
                double orig = data[k][i];
                data[k][i] = orig + Step;
                double up = Loss(data);
                data[k][i] = orig - Step;
                double down = Loss(data);
                data[k][i] = orig;
                double numeric = (up - down) / (2 * Step);
                double a = analytic[i];
                double tol = Math.Max(AbsTol, RelTol * Math.Max(Math.Abs(a), Math.Abs(numeric)));
                if (!(Math.Abs(a - numeric) <= tol))
                    throw new XunitException(
                        $"{name}: d/d input{k}[{i}] analytic {a:R} vs finite difference {numeric:R} (|diff| {Math.Abs(a - numeric):G3} > tol {tol:G3}){(grad is null ? " — no gradient reached the input" : "")}");
            }
        }
    }

    /// <summary>Theory data from a case table.</summary>
    public static Xunit.TheoryData<string> Names(IReadOnlyDictionary<string, GradCase> cases)
    {
        var d = new Xunit.TheoryData<string>();
        foreach (var k in cases.Keys) d.Add(k);
        return d;
    }
}
