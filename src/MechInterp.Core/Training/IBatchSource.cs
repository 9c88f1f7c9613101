namespace MechInterp.Training;

/// <summary>Where a <see cref="Trainer"/> gets its batches: token ids [batch, pos] drawn with the trainer's generator
/// (so a seed fixes the whole run).</summary>
public interface IBatchSource
{
    /// <summary>The next training batch of token ids [batch, pos] (int64) on <paramref name="device"/>.</summary>
    Tensor NextBatch(Generator generator, Device device);
}
