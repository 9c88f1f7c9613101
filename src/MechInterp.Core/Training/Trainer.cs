using System.Diagnostics;
using MechInterp.Optim;

namespace MechInterp.Training;

/// <summary>
/// Trains a <see cref="HookedTransformer"/> from batches: each step draws a batch, computes the loss (next-token
/// cross-entropy unless a loss is given), back-propagates, clips the gradient norm, and takes an AdamW step at the
/// scheduled rate (linear warm-up, then constant, cosine or linear decay). Evaluates every
/// <see cref="TrainerOptions.EvalEvery"/> steps without gradients, reports <see cref="TrainingProgress"/>, and saves
/// checkpoints that <see cref="HookedTransformer.FromPretrained(string, LoadOptions?)"/> loads back.
/// </summary>
/// <example><code>
/// var model = new HookedTransformer(config); model.InitWeights(new Generator(0));
/// var result = new Trainer(model, new TrainerOptions { Steps = 1000, WarmupSteps = 100 }).Train(batches, progress);
/// </code></example>
public sealed class Trainer
{
    private readonly HookedTransformer _model;
    private readonly TrainerOptions _options;

    /// <summary>A trainer for <paramref name="model"/> (initialise its weights first, e.g. <see cref="HookedTransformer.InitWeights"/>).</summary>
    public Trainer(HookedTransformer model, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _model = model;
        _options = options;
        Optimizer = new AdamW(model.NamedParameters().Select(p => p.Parameter), options.LearningRate, options.Beta1, options.Beta2, weightDecay: options.WeightDecay);
        Schedule = options.Decay switch
        {
            LearningRateDecay.Cosine => LearningRateSchedule.Cosine(options.LearningRate, options.Steps, options.WarmupSteps, options.MinLearningRate),
            LearningRateDecay.Linear => LearningRateSchedule.Linear(options.LearningRate, options.Steps, options.WarmupSteps, options.MinLearningRate),
            _ => LearningRateSchedule.LinearWarmup(options.LearningRate, options.WarmupSteps),
        };
    }

    /// <summary>The optimizer (its state persists across <see cref="Train"/> calls).</summary>
    public AdamW Optimizer { get; }

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>
    /// Runs <see cref="TrainerOptions.Steps"/> steps. <paramref name="loss"/> maps (model, batch tokens) to a scalar loss
    /// (default: the model's next-token loss); <paramref name="evaluate"/> returns a number to track (e.g. a held-out
    /// loss) and runs without gradients. Cancelling stops after the current step and still saves the final checkpoint.
    /// The parameters require gradients during the run and no longer afterwards.
    /// </summary>
    public TrainingResult Train(IBatchSource batches, IProgress<TrainingProgress>? progress = null,
        Func<HookedTransformer, Tensor, Tensor>? loss = null, Func<HookedTransformer, double>? evaluate = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        loss ??= static (m, tokens) => m.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss });
        var generator = new Generator(_options.Seed);
        var losses = new List<double>(_options.Steps);
        var evaluations = new List<(int, double)>();
        var clock = Stopwatch.StartNew();
        long tokensSeen = 0;
        double? lastEval = null;
        _model.SetRequiresGrad(true);
        try
        {
            for (int step = 1; step <= _options.Steps && !cancellationToken.IsCancellationRequested; step++)
            {
                double lossValue, gradNorm = double.NaN;
                using (Tensor.Scope())
                {
                    Schedule.Apply(Optimizer);
                    var tokens = batches.NextBatch(generator, _model.Device); // [batch, pos]
                    tokensSeen += tokens.NumElements;
                    var value = loss(_model, tokens);
                    if (value.NumElements != 1) throw new InvalidOperationException($"the loss must be a scalar, got {Tensor.ShapeString(value.Shape)}");
                    Optimizer.ZeroGrad();
                    value.Backward();
                    if (_options.MaxGradNorm is { } max) gradNorm = GradientClipping.ClipByNorm(Optimizer.Tensors, max);
                    Optimizer.Step();
                    lossValue = value.To(DType.Float64).Item<double>();
                }
                if (!double.IsFinite(lossValue))
                    throw new InvalidOperationException($"training diverged: the loss at step {step} is {lossValue}; lower TrainerOptions.LearningRate or set MaxGradNorm");
                losses.Add(lossValue);
                bool last = step == _options.Steps || cancellationToken.IsCancellationRequested;
                if (evaluate is not null && _options.EvalEvery > 0 && (step % _options.EvalEvery == 0 || last))
                {
                    using var noGrad = GradMode.NoGrad();
                    using var scope = Tensor.Scope();
                    lastEval = evaluate(_model);
                    evaluations.Add((step, lastEval.Value));
                }
                if (_options.CheckpointEvery > 0 && step % _options.CheckpointEvery == 0 && !last)
                    Checkpoint.Save(_model, Path.Combine(_options.CheckpointDirectory!, $"step-{step}"));
                if (step % _options.ReportEvery == 0 || last)
                    progress?.Report(new TrainingProgress(step, _options.Steps, lossValue, Optimizer.LearningRate, gradNorm,
                        tokensSeen / Math.Max(1e-9, clock.Elapsed.TotalSeconds), lastEval, clock.Elapsed));
            }
        }
        finally
        {
            _model.SetRequiresGrad(false);
            Optimizer.ZeroGrad();
        }
        if (_options.CheckpointDirectory is { } dir) Checkpoint.Save(_model, dir);
        return new TrainingResult(losses, evaluations, clock.Elapsed, tokensSeen / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
    }
}
