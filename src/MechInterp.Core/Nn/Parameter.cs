namespace MechInterp;

/// <summary>A named, replaceable weight of a <see cref="Module"/>. The value can be swapped (loading, weight
/// processing, optimizers); shape and device checks happen on assignment.</summary>
public sealed class Parameter
{
    private Tensor _value;

    internal Parameter(string name, Tensor value)
    {
        Name = name;
        _value = Adopt(value);
    }

    /// <summary>Name relative to the module that owns it (e.g. "W_Q").</summary>
    public string Name { get; }

    /// <summary>The current tensor.</summary>
    public Tensor Value
    {
        get => _value;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!value.Shape.AsSpan().SequenceEqual(_value.Shape))
                throw new ArgumentException($"parameter '{Name}' has shape {Tensor.ShapeString(_value.Shape)}; the new value has shape {Tensor.ShapeString(value.Shape)}");
            bool grad = _value.RequiresGrad;
            value.DetachFromScopes();
            if (!ReferenceEquals(value, _value) && !_value.IsDisposed) _value.Dispose();
            _value = Adopt(value.GradFnName is null ? value : value.Detach());
            if (grad && !_value.RequiresGrad) _value.RequiresGrad = true;
        }
    }

    /// <summary>Replaces the value allowing a different shape or device (used when loading and moving models).</summary>
    internal void Reset(Tensor value)
    {
        bool grad = _value.RequiresGrad;
        if (!ReferenceEquals(value, _value) && !_value.IsDisposed) _value.Dispose();
        _value = Adopt(value);
        if (grad) _value.RequiresGrad = true;
    }

    /// <summary>Takes <paramref name="value"/> out of every scope and tells its backend it holds weights.</summary>
    private static Tensor Adopt(Tensor value)
    {
        value.DetachFromScopes();
        value.MarkAsWeight();
        return value;
    }

    /// <summary>Implicit access to the tensor.</summary>
    public static implicit operator Tensor(Parameter p) => p.Value;
}
