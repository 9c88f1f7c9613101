// Grokking (Nanda et al. 2023): a 1-layer transformer trained full-batch on 30% of the pairs of (a + b) mod 113 first
// memorises its training set, then — long after, under strong weight decay — generalises, and its embedding ends up
// concentrated on a few Fourier frequencies. Trains until the test accuracy reaches 99% (or the epoch budget runs
// out) and prints the accuracies over training, the embedding's Fourier spectrum and its key frequencies.
// dotnet run -c Release [-- <device> <max epochs> <modulus> <train fraction> <checkpoint folder> <checkpoint every>]
using System.Globalization;
using MechInterp;
using MechInterp.Analysis;
using MechInterp.Training;
using MechInterp.Training.Datasets;

var device = args.Length > 0 ? Device.Parse(args[0]) : Device.Cpu;
int maxEpochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 25_000;
int p = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 113;
double fraction = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0.3;
string? checkpoints = args.Length > 4 ? args[4] : null;
int checkpointEvery = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 0;

var data = new ModularAddition(p, fraction, seed: 598, device);
var model = new HookedTransformer(new HookedTransformerConfig
{
    NLayers = 1, DModel = 128, NHeads = 4, DHead = 32, DMlp = 512, DVocab = p + 1, DVocabOut = p, NCtx = 3,
    ActFn = "relu", NormalizationType = NormalizationType.None, ModelName = $"grokking-mod{p}",
}, device);
model.InitWeights(new Generator(999));
var options = new TrainerOptions
{
    Steps = maxEpochs, LearningRate = 1e-3, WeightDecay = 1.0, Beta1 = 0.9, Beta2 = 0.98, MaxGradNorm = null,
    WarmupSteps = 10, EvalEvery = 100, ReportEvery = 100, CheckpointDirectory = checkpoints, CheckpointEvery = checkpointEvery,
};
using var stop = new CancellationTokenSource();
int? memorised = null, grokked = null;
int evaluations = 0;
Console.WriteLine($"Training on {data.TrainTokens.Shape[0]} of {p * p} pairs of (a + b) mod {p}, full batch, up to {maxEpochs} epochs...");
var result = new Trainer(model, options).Train(new FullBatch(data.TrainTokens), new EpochPrinter(),
    loss: (m, tokens) => data.Loss(m.Forward(tokens), data.TrainLabels),
    evaluate: m =>
    {
        double train = data.Accuracy(m.Forward(data.TrainTokens), data.TrainLabels);
        double test = data.Accuracy(m.Forward(data.TestTokens), data.TestLabels);
        int epoch = ++evaluations * options.EvalEvery;
        if (memorised is null && train == 1) memorised = epoch;
        if (grokked is null && test >= 0.99) { grokked = epoch; stop.Cancel(); }
        Console.WriteLine($"  epoch {epoch}: train accuracy {train:F3}, test accuracy {test:F3}");
        return test;
    }, cancellationToken: stop.Token);

Console.WriteLine($"\n{result.Losses.Count} epochs in {result.Elapsed.TotalMinutes:F1} min; train accuracy reached 1 at epoch {memorised?.ToString() ?? "-"}, " +
    $"test accuracy 0.99 at epoch {grokked?.ToString() ?? "- (not within the budget)"}");
var spectrum = FourierSpectrum.Of(model.W_E.Narrow(0, 0, p));
var keys = spectrum.KeyFrequencies(5);
Console.WriteLine($"embedding's key frequencies: {string.Join(", ", keys)}; they carry {spectrum.FractionOf(keys):P1} of its (non-constant) norm");
Console.WriteLine("power by frequency:");
double max = spectrum.Power.Skip(1).Max();
for (int k = 1; k < spectrum.Power.Count; k++)
    Console.WriteLine($"  {k,3} {new string('#', (int)(40 * spectrum.Power[k] / max))}");

/// <summary>Prints the loss every 100 epochs.</summary>
internal sealed class EpochPrinter : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p) => Console.WriteLine($"epoch {p.Step}: train loss {p.Loss:F4} ({p.Elapsed.TotalSeconds:F0} s)");
}
