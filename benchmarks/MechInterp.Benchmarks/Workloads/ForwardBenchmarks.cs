using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload A: GPT-2 small forward pass to logits (no hooks, no gradient) at 1×128, 8×128 and 1×1024 tokens.</summary>
[WorkloadJob]
public class ForwardBenchmarks : ShapedGpt2Workload
{
    /// <summary>logits = model(tokens).</summary>
    [Benchmark]
    public long Forward()
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        return Model.Forward(Tokens).NumElements;
    }
}
