namespace MechInterp.Autograd;

/// <summary>Reverse-mode sweep over the recorded graph.</summary>
internal static class BackwardEngine
{
    public static void Run(Tensor root, Tensor? gradient)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require gradients: set RequiresGrad on an input (or a parameter) before the forward pass, and do not run it under GradMode.NoGrad()");
        if (gradient is null && root.NumElements != 1)
            throw new InvalidOperationException($"Backward() without a gradient needs a scalar; this tensor has shape {Tensor.ShapeString(root.Shape)}: pass a gradient of the same shape or reduce it first (e.g. .Sum())");
        if (gradient is not null && !gradient.Shape.AsSpan().SequenceEqual(root.Shape))
            throw new ArgumentException($"gradient shape {Tensor.ShapeString(gradient.Shape)} does not match the tensor shape {Tensor.ShapeString(root.Shape)}", nameof(gradient));

        var order = TopologicalOrder(root);
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        grads[root] = gradient ?? Tensor.OnesLike(root);

        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (!grads.Remove(t, out var g)) continue;
            g = t.ApplyGradHooks(g);
            if (t.GradFn is null || t.RetainsGrad)
                Accumulate(t, g);
            if (t.GradFn is null) continue;
            var inputGrads = t.GradFn.Backward(g);
            var inputs = t.GradFn.Inputs;
            for (int k = 0; k < inputs.Length; k++)
            {
                var gi = inputGrads[k];
                var input = inputs[k];
                if (gi is null || !input.RequiresGrad) continue;
                if (gi.DType != input.DType) gi = gi.To(input.DType); // mixed-dtype ops: each input gets a gradient of its own dtype
                if (!gi.Shape.AsSpan().SequenceEqual(input.Shape))
                    throw new InvalidOperationException($"internal autograd error in '{t.GradFn.Name}': gradient {Tensor.ShapeString(gi.Shape)} for input {Tensor.ShapeString(input.Shape)}");
                grads[input] = grads.TryGetValue(input, out var prev) ? prev + gi : gi;
            }
        }
    }

    private static void Accumulate(Tensor t, Tensor g)
    {
        var updated = t.Grad is null ? g.Clone() : t.Grad + g;
        updated.DetachFromScopes();
        t.Grad?.Dispose();
        t.Grad = updated;
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.GradFn?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(node); // post-order: inputs before outputs
        }
        return order;
    }
}
