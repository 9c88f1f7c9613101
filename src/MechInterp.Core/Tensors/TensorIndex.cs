namespace MechInterp;

/// <summary>One entry of a tensor indexing expression: an integer, a C# <see cref="System.Range"/>, a step slice,
/// <see cref="None"/> (new axis), <see cref="Ellipsis"/>, or an integer tensor (advanced indexing on one dim).</summary>
public readonly struct TensorIndex
{
    internal enum Kind { Single, Range, Step, NewAxis, Ellipsis, Tensor }

    internal Kind What { get; }
    internal Index Single { get; }
    internal Range Span { get; }
    internal long Start { get; }
    internal long? Stop { get; }
    internal long StepSize { get; }
    internal Tensor? Indices { get; }

    private TensorIndex(Kind kind, Index single = default, Range span = default, long start = 0, long? stop = null, long step = 1, Tensor? indices = null)
    {
        What = kind; Single = single; Span = span; Start = start; Stop = stop; StepSize = step; Indices = indices;
    }

    /// <summary>Inserts a new axis of size 1 (Python's None).</summary>
    public static TensorIndex None => new(Kind.NewAxis);

    /// <summary>Stands for as many full slices as needed (Python's ...).</summary>
    public static TensorIndex Ellipsis => new(Kind.Ellipsis);

    /// <summary>Python's start:stop:step (negative values count from the end; null stop = to the end).</summary>
    public static TensorIndex Slice(long start = 0, long? stop = null, long step = 1) => new(Kind.Step, start: start, stop: stop, step: step);

    /// <summary>An integer index (removes the dim).</summary>
    public static implicit operator TensorIndex(int i) => new(Kind.Single, single: i < 0 ? ^(-i) : i);

    /// <summary>An integer index (removes the dim).</summary>
    public static implicit operator TensorIndex(long i) => new(Kind.Single, single: i < 0 ? ^(int)(-i) : (int)i);

    /// <summary>A C# index such as ^1 (removes the dim).</summary>
    public static implicit operator TensorIndex(Index i) => new(Kind.Single, single: i);

    /// <summary>A C# range such as 1..^1 (keeps the dim).</summary>
    public static implicit operator TensorIndex(Range r) => new(Kind.Range, span: r);

    /// <summary>An integer tensor selecting entries of one dim.</summary>
    public static implicit operator TensorIndex(Tensor t) => new(Kind.Tensor, indices: t);
}
