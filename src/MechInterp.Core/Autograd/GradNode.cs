namespace MechInterp.Autograd;

/// <summary>Computes the gradients of an op's inputs from the gradient of its output (null = no gradient).</summary>
internal delegate Tensor?[] BackwardFn(Tensor gradOutput);

/// <summary>
/// One recorded op in the autograd graph: its inputs, how to push a gradient back to them, where each input's
/// gradient goes (<see cref="Edges"/>: the node that produced the input when the op ran, or the input itself for a
/// leaf) and the write version of every tensor its backward reads (<see cref="CheckSaved"/>). Edges are taken when
/// the op runs, as PyTorch's are, so an in-place write that later gives an input a new history (its node is rebased)
/// does not reroute the gradient of ops that saw the value before the write.
/// </summary>
internal sealed class GradNode
{
    private readonly (Tensor Tensor, Backends.TensorHandle Handle, long Version)[] _saved;

    public GradNode(string name, Tensor[] inputs, BackwardFn backward, Tensor[]? saved = null)
    {
        Name = name;
        Inputs = inputs;
        Backward = backward;
        Edges = new object?[inputs.Length];
        for (int k = 0; k < inputs.Length; k++) Edges[k] = (object?)inputs[k].GradFn ?? inputs[k];
        _saved = saved is null ? [] : Array.ConvertAll(saved, t => (t, t.Handle, t.Handle.WriteVersion));
    }

    public string Name { get; }

    public Tensor[] Inputs { get; }

    public BackwardFn Backward { get; }

    /// <summary>Per input: its <see cref="GradNode"/> when the op ran, else the input tensor (a leaf).</summary>
    public object?[] Edges { get; }

    /// <summary>The tensor this node produced while it is that tensor's current history (null once an in-place write
    /// rebased it): gradient hooks and retained gradients follow the tensor's current node.</summary>
    public Tensor? Output { get; set; }

    /// <summary>Set when <see cref="Output"/> was disposed: the graph is cut here, as it was before edges existed.</summary>
    public bool Disposed { get; set; }

    /// <summary>Throws when a tensor this node's backward reads was written in place after the op ran (its storage's
    /// write version moved, or its data was swapped).</summary>
    public void CheckSaved()
    {
        foreach (var (t, h, v) in _saved)
        {
            if (t.IsDisposed) continue; // reading it throws ObjectDisposedException, as before
            if (!ReferenceEquals(t.HandleOrNull, h) || h.WriteVersion != v)
                throw new InPlaceModificationException(Name, t.Shape, v, h.WriteVersion);
        }
    }
}

/// <summary>Records ops into the graph when any input requires a gradient and recording is on.</summary>
internal static class AutogradRecorder
{
    public static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        bool any = false;
        foreach (var t in inputs)
        {
            t.RefreshViewHistory();
            any |= t.RequiresGrad;
        }
        return any;
    }

    /// <summary>Records <paramref name="result"/> = <paramref name="name"/>(<paramref name="inputs"/>);
    /// <paramref name="saved"/> lists every tensor (inputs, the result, index tensors) whose values the backward reads,
    /// so that an in-place write into one of them before backward is refused instead of giving a wrong gradient.</summary>
    public static void Record(Tensor result, string name, Tensor[] inputs, BackwardFn backward, Tensor[]? saved = null)
    {
        if (!ShouldRecord(inputs)) return;
        result.SetHistory(new GradNode(name, inputs, backward, saved));
    }
}
