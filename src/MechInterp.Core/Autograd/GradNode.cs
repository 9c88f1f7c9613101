namespace MechInterp.Autograd;

/// <summary>Computes the gradients of an op's inputs from the gradient of its output (null = no gradient).</summary>
internal delegate Tensor?[] BackwardFn(Tensor gradOutput);

/// <summary>One recorded op in the autograd graph: its inputs and how to push a gradient back to them.</summary>
internal sealed class GradNode(string name, Tensor[] inputs, BackwardFn backward)
{
    public string Name { get; } = name;
    public Tensor[] Inputs { get; } = inputs;
    public BackwardFn Backward { get; } = backward;
}

/// <summary>Records ops into the graph when any input requires a gradient and recording is on.</summary>
internal static class AutogradRecorder
{
    public static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    public static void Record(Tensor result, string name, Tensor[] inputs, BackwardFn backward)
    {
        if (!ShouldRecord(inputs)) return;
        result.GradFn = new GradNode(name, inputs, backward);
        result.RequiresGradInternal = true;
    }
}
