using System.Diagnostics;
using MechInterp.Optim;

namespace MechInterp.Saes;

/// <summary>
/// Trains one SAE with Adam: per step the architecture's <see cref="Sae.TrainingForward"/> loss (sparsity coefficient
/// warmed up, dead latents tracked over a token window for the aux losses), an Adam step with a warm-up/decay schedule,
/// and optionally unit-norm decoder rows. <see cref="SaveCheckpoint"/> / <see cref="Resume"/> continue a run exactly
/// where it stopped.
/// </summary>
public sealed partial class SaeTrainer
{
    private readonly Adam _adam;
    private readonly string[] _names;
    private readonly Stopwatch _clock = new();
    private long _tokensThisProcess;

    /// <summary>Trains <paramref name="sae"/> (its weights are updated in place).</summary>
    public SaeTrainer(Sae sae, SaeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(sae);
        ArgumentNullException.ThrowIfNull(options);
        if (options.TotalSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.TotalSteps, "TotalSteps must be at least 1");
        Sae = sae;
        Options = options;
        _names = sae.Weights.Keys.ToArray();
        sae.SetRequiresGrad(true);
        _adam = new Adam(_names.Select(n => sae.Weights[n]), options.LearningRate, options.Beta1, options.Beta2);
        DeadLatents = new DeadLatentTracker(sae.Config.DSae, options.DeadTokensWindow);
    }

    /// <summary>The SAE being trained.</summary>
    public Sae Sae { get; }

    /// <summary>The hyperparameters.</summary>
    public SaeTrainerOptions Options { get; }

    /// <summary>Steps done (including those before a resume).</summary>
    public long StepCount { get; private set; }

    /// <summary>Training tokens seen (including those before a resume).</summary>
    public long Tokens { get; private set; }

    /// <summary>The dead-latent counters.</summary>
    public DeadLatentTracker DeadLatents { get; }

    /// <summary>Whether <see cref="SaeTrainerOptions.TotalSteps"/> are done.</summary>
    public bool Done => StepCount >= Options.TotalSteps;

    /// <summary>One training step on activations [rows, d_in] (transcoders: with the output hook's [rows, d_out] as
    /// <paramref name="target"/>); returns the step's numbers.</summary>
    public SaeTrainingProgress Step(Tensor batch, Tensor? target = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _clock.Start();
        using var scope = Tensor.Scope();
        long step = StepCount;
        double lr = Options.LearningRateAt(step);
        _adam.LearningRate = lr;
        var loss = Options.Loss with { SparsityCoefficient = Options.SparsityAt(step) };
        var output = Sae.TrainingForward(batch, loss, DeadLatents.Mask(Sae.Device), target);
        output.Loss.Backward();
        if (Options.NormalizeDecoder) RemoveGradientAlongDecoderRows();
        _adam.Step();
        _adam.ZeroGrad();
        if (Options.NormalizeDecoder) NormalizeDecoderRows();
        DeadLatents.Update(output.FeatureActs);
        long rows = batch.Shape[0];
        StepCount++;
        Tokens += rows;
        _tokensThisProcess += rows;
        var report = Report(output, target ?? batch, lr);
        _clock.Stop();
        return report;
    }

    /// <summary>Trains on <paramref name="batches"/> until <see cref="SaeTrainerOptions.TotalSteps"/> (or the batches
    /// run out), reporting every <see cref="SaeTrainerOptions.ReportEvery"/> steps and at the end.</summary>
    public SaeTrainingProgress? Train(IEnumerable<Tensor> batches, IProgress<SaeTrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        SaeTrainingProgress? last = null;
        foreach (var batch in batches)
        {
            if (Done) break;
            cancellation.ThrowIfCancellationRequested();
            last = Step(batch);
            if (StepCount % Math.Max(1, Options.ReportEvery) == 0 || Done) progress?.Report(last);
        }
        return last;
    }

    private SaeTrainingProgress Report(TrainStepOutput output, Tensor wanted, double lr)
    {
        using var noGrad = GradMode.NoGrad();
        var losses = output.Losses.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Item<float>());
        var f = output.FeatureActs.Detach();
        double l0 = (f != 0).To(DType.Float64).Sum(-1).Mean().Item<double>();
        var x = wanted.To(Sae.ComputeDType);
        double residual = (x - output.SaeOut.Detach()).Square().Sum().To(DType.Float64).Item<double>();
        double total = (x - x.Mean(0, keepDim: true)).Square().Sum().To(DType.Float64).Item<double>();
        double seconds = _clock.Elapsed.TotalSeconds;
        return new SaeTrainingProgress(StepCount, Options.TotalSteps, Tokens, output.Loss.Item<float>(), losses, l0,
            total > 0 ? 1 - residual / total : double.NaN, DeadLatents.DeadFraction, seconds > 0 ? _tokensThisProcess / seconds : 0, lr);
    }

    // g ← g − (g · ŵ) ŵ per decoder row, so the step moves along the unit sphere.
    private void RemoveGradientAlongDecoderRows()
    {
        using var noGrad = GradMode.NoGrad();
        var w = Sae.WDec;
        if (w.Grad is not { } g) return;
        var unit = w / w.Norm(2, 1, keepDim: true);                      // [d_sae, d_out]
        var along = (g * unit).Sum(1, keepDim: true) * unit;              // [d_sae, d_out]
        var projected = (g - along).DetachFromScopes();
        w.Grad = projected;
        g.Dispose();
    }

    private void NormalizeDecoderRows()
    {
        using var noGrad = GradMode.NoGrad();
        var p = Sae.Weights["W_dec"];
        p.Value = (p.Value / p.Value.Norm(2, 1, keepDim: true)).Contiguous();
    }
}
