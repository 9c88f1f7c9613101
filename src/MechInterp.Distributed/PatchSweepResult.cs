using MechInterp.Distributed.Coordination;

namespace MechInterp.Distributed;

/// <summary>A distributed sweep's result: the raw metric of every cell, in the order and shape the single-process
/// sweep returns ([n_layers, axis sizes...]), and how the job went.</summary>
/// <param name="Values">Metrics, row-major over <paramref name="Shape"/>.</param>
/// <param name="Shape">[n_layers, axis sizes...].</param>
/// <param name="Status">The job's final status (units, reassignments, where each unit ran).</param>
public sealed record PatchSweepResult(float[] Values, long[] Shape, JobStatus Status)
{
    /// <summary>The result as a float32 tensor of <see cref="Shape"/> on the CPU, as <see cref="Patching.ActivationPatching.Generic"/> returns it.</summary>
    public Tensor ToTensor() => Tensor.FromArray(Values, Shape);
}

/// <summary>A distributed harvest's result: one shard folder per unit, in dataset order.</summary>
/// <param name="Folders">The units' folders (read each with <see cref="Saes.ActivationShards.Read"/>).</param>
/// <param name="BatchesPerUnit">Batches (shard files) each unit wrote.</param>
/// <param name="Status">The job's final status.</param>
public sealed record HarvestResult(string[] Folders, int[] BatchesPerUnit, JobStatus Status);
