namespace MechInterp.Autograd;

/// <summary>Reverse-mode sweep over the recorded graph.</summary>
internal static class BackwardEngine
{
    public static void Run(Tensor root, Tensor? gradient)
    {
        root.RefreshViewHistory();
        if (!root.RequiresGrad)
            throw new InvalidOperationException("Backward() on a tensor that does not require gradients: set RequiresGrad on an input (or a parameter) before the forward pass, and do not run it under GradMode.NoGrad()");
        if (gradient is null && root.NumElements != 1)
            throw new InvalidOperationException($"Backward() without a gradient needs a scalar; this tensor has shape {Tensor.ShapeString(root.Shape)}: pass a gradient of the same shape or reduce it first (e.g. .Sum())");
        if (gradient is not null && !gradient.Shape.AsSpan().SequenceEqual(root.Shape))
            throw new ArgumentException($"gradient shape {Tensor.ShapeString(gradient.Shape)} does not match the tensor shape {Tensor.ShapeString(root.Shape)}", nameof(gradient));

        // The graph's vertices are nodes (one per recorded op) and leaf tensors: an op's edges were taken when it ran,
        // so an in-place write that rebased a tensor afterwards does not reroute the gradient of earlier ops.
        object rootKey = (object?)root.GradFn ?? root;
        var order = TopologicalOrder(rootKey);
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var grads = new Dictionary<object, Tensor>(ReferenceEqualityComparer.Instance);
        // Gradients the engine made and holds in `grads`, with how many entries hold each (an op like add hands the
        // same tensor to both inputs). One is disposed as soon as its last holder has been consumed, so the sweep keeps
        // only the gradient frontier alive instead of every intermediate of the whole backward pass: big activations'
        // buffers go back to the pool and are reused by the next node rather than touching fresh pages.
        var held = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var rootGrad = gradient ?? Tensor.OnesLike(root);
        grads[rootKey] = rootGrad;
        if (gradient is null) held[rootGrad] = 1;

        for (int i = order.Count - 1; i >= 0; i--)
        {
            var key = order[i];
            if (!grads.Remove(key, out var incoming)) continue;
            using var nodeScope = Tensor.Scope(); // temporaries of this node's backward
            var node = key as GradNode;
            // Hooks and retained gradients belong to a tensor's current history (a rebased node has no output).
            var tensor = node is null ? (Tensor)key : node.Output;
            var g = tensor is null ? incoming : tensor.ApplyGradHooks(incoming);
            if (node is null || tensor is { RetainsGrad: true }) Accumulate(tensor!, g);
            if (node is not null)
            {
                node.CheckSaved();
                var inputGrads = node.Backward(g);
                var inputs = node.Inputs;
                for (int k = 0; k < inputs.Length; k++)
                {
                    var gi = inputGrads[k];
                    var input = inputs[k];
                    var edge = node.Edges[k];
                    if (gi is null || edge is null || !Flows(edge)) continue;
                    if (gi.DType != input.DType) gi = gi.To(input.DType); // mixed-dtype ops: each input gets a gradient of its own dtype
                    if (!gi.Shape.AsSpan().SequenceEqual(input.Shape))
                        throw new InvalidOperationException($"internal autograd error in '{node.Name}': gradient {Tensor.ShapeString(gi.Shape)} for input {Tensor.ShapeString(input.Shape)}");
                    if (grads.TryGetValue(edge, out var prev))
                    {
                        var sum = prev + gi;
                        Release(held, prev, scope);
                        gi = sum;
                    }
                    nodeScope.MoveOut(gi);
                    if (held.TryGetValue(gi, out int n)) held[gi] = n + 1;
                    else if (scope.Owns(gi)) held[gi] = 1;
                    grads[edge] = gi;
                }
            }
            Release(held, incoming, scope);
        }
    }

    /// <summary>Whether a gradient goes along an edge: to a node unless its output was disposed (the graph is cut
    /// there), to a leaf that requires one and is still a leaf (a tensor that got a history from an in-place write
    /// after the op ran was not part of it then).</summary>
    private static bool Flows(object edge) => edge is GradNode n ? !n.Disposed : edge is Tensor { RequiresGrad: true, IsLeaf: true };

    /// <summary>Drops one holder of an engine-made gradient; the last one disposes it, unless a hook took it out of the
    /// backward pass's scope (then it lives on, as it did before gradients were freed early).</summary>
    private static void Release(Dictionary<Tensor, int> held, Tensor t, TensorScope scope)
    {
        if (!held.TryGetValue(t, out int n)) return;
        if (n > 1) { held[t] = n - 1; return; }
        held.Remove(t);
        if (scope.Owns(t)) t.Dispose();
    }

    private static void Accumulate(Tensor t, Tensor g)
    {
        var updated = t.Grad is null ? g.Clone() : t.Grad + g;
        updated.DetachFromScopes();
        t.Grad?.Dispose();
        t.Grad = updated;
    }

    private static List<object> TopologicalOrder(object root)
    {
        var order = new List<object>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(object Key, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (key, next) = stack.Pop();
            var edges = key is GradNode node ? node.Edges : [];
            if (next < edges.Length)
            {
                stack.Push((key, next + 1));
                var child = edges[next];
                if (child is not null && Flows(child) && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(key); // post-order: inputs before outputs
        }
        return order;
    }
}
