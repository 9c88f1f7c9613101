namespace MechInterp.Saes;

/// <summary>Counts, per latent, the training tokens since it last fired; a latent past the window is dead.</summary>
public sealed class DeadLatentTracker
{
    private readonly long[] _sinceFired;

    /// <summary>Tracks <paramref name="dSae"/> latents with a window of <paramref name="windowTokens"/> tokens.</summary>
    public DeadLatentTracker(int dSae, long windowTokens)
    {
        if (windowTokens < 1) throw new ArgumentOutOfRangeException(nameof(windowTokens), windowTokens, "the dead-latent window must be at least one token");
        _sinceFired = new long[dSae];
        WindowTokens = windowTokens;
    }

    /// <summary>The window in tokens.</summary>
    public long WindowTokens { get; }

    /// <summary>Tokens since each latent last fired.</summary>
    public IReadOnlyList<long> TokensSinceFired => _sinceFired;

    /// <summary>Adds a batch of latents [rows, d_sae]: latents that fired on some row restart at 0, the others age by rows.</summary>
    public void Update(Tensor featureActs)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        long rows = featureActs.NumElements / featureActs.Shape[^1];
        var fired = (featureActs.Detach().Reshape(-1, featureActs.Shape[^1]) != 0).To(DType.Int64).Sum(0).To(Device.Cpu).ToArray<long>(); // [d_sae]
        for (int i = 0; i < _sinceFired.Length; i++) _sinceFired[i] = fired[i] > 0 ? 0 : _sinceFired[i] + rows;
    }

    /// <summary>Dead latents as a bool mask [d_sae] on <paramref name="device"/>.</summary>
    public Tensor Mask(Device device) => Tensor.FromArray(_sinceFired.Select(s => s >= WindowTokens).ToArray(), [_sinceFired.Length], DType.Bool, device);

    /// <summary>Fraction of dead latents.</summary>
    public double DeadFraction => _sinceFired.Count(s => s >= WindowTokens) / (double)_sinceFired.Length;

    /// <summary>Restores counters from a checkpoint.</summary>
    public void Restore(IReadOnlyList<long> sinceFired)
    {
        if (sinceFired.Count != _sinceFired.Length)
            throw new ArgumentException($"the checkpoint tracks {sinceFired.Count} latents, this SAE has {_sinceFired.Length}", nameof(sinceFired));
        for (int i = 0; i < _sinceFired.Length; i++) _sinceFired[i] = sinceFired[i];
    }
}
