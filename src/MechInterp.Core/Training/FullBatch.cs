namespace MechInterp.Training;

/// <summary>The same batch every step (full-batch training, as in the grokking experiments: one step is one epoch).</summary>
public sealed class FullBatch : IBatchSource
{
    private readonly Tensor _tokens;

    /// <summary>Trains on all of <paramref name="tokens"/> [rows, pos] at every step.</summary>
    public FullBatch(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Rank != 2) throw new ArgumentException($"a full batch is [rows, pos], got {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        _tokens = tokens.DetachFromScopes();
    }

    /// <inheritdoc />
    public Tensor NextBatch(Generator generator, Device device) => _tokens.Device == device ? _tokens : _tokens.To(device);
}
