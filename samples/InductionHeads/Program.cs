// Induction heads from scratch (Olsson et al. 2022): train a 2-layer attention-only transformer on random tokens in
// which one random segment repeats ([BOS] + A + A + random filler, |A| uniform in 6..17 with lengths 9 and 14 held
// out), then find the circuit: a layer-0 previous-token head, a layer-1 induction head that K-composes with it, the
// loss drop at the repeat (in-context learning), and what zero-ablating each layer-1 head does to it — all measured on
// fresh sequences whose segment length was never seen in training.
// Runs offline on the embedded managed CPU backend: dotnet run -c Release [-- <device> <steps> <learning rate>]
using System.Globalization;
using MechInterp;
using MechInterp.Analysis;
using MechInterp.Training;
using MechInterp.Training.Datasets;

var device = args.Length > 0 ? Device.Parse(args[0]) : Device.Cpu;
int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3000;
double learningRate = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 1e-3;
const int Vocab = 64, Length = 48;
int[] heldOut = [9, 14];

var config = new HookedTransformerConfig
{
    NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = Vocab, NCtx = Length,
    AttnOnly = true, NormalizationType = NormalizationType.LN, ModelName = "attn-only-2l",
};
var model = new HookedTransformer(config, device);
model.InitWeights(new Generator(1));
var data = new RepeatedTokenSequences(Vocab, Length, minSegment: 6, maxSegment: 17, batchSize: 32, heldOutSegments: heldOut);
var options = new TrainerOptions { Steps = steps, LearningRate = learningRate, WeightDecay = 0.01, WarmupSteps = 100, Seed = 5, ReportEvery = 25 };

Console.WriteLine($"Training {config.ModelName} on {device} for {steps} steps (batch 32 x {Length} tokens, segment lengths 6-17 without {string.Join(", ", heldOut)})...");
var result = new Trainer(model, options).Train(data, new ConsoleProgress());
Console.WriteLine($"\ntrained in {result.Elapsed.TotalSeconds:F0} s ({result.TokensPerSecond:F0} tokens/s)");

foreach (int length in heldOut)
{
    var report = InductionCircuit.Measure(model, data.Sample(64, new Generator(99), device, segmentLength: length));
    Console.WriteLine($"\n== fresh sequences with |A| = {length} (never seen in training) ==");
    Console.WriteLine($"loss on the first copy: {report.FirstSegmentLoss:F3} (uniform guess ln {Vocab - 1} = {Math.Log(Vocab - 1):F3});  on the repeat: {report.RepeatLoss:F3}");
    Console.Write("loss by position (in-context learning: it drops where the copy starts):\n  ");
    Console.WriteLine(string.Join(" ", report.LossByPosition.Take(2 * length + 4).Select(l => l.ToString("F1", CultureInfo.InvariantCulture))));
    Console.WriteLine("head   previous-token  induction (second copy)");
    for (int l = 0; l < config.NLayers; l++)
        for (int h = 0; h < config.NHeads; h++)
            Console.WriteLine($"L{l}H{h}  {report.PreviousTokenScores[l, h],14:F2}  {report.InductionScores[l, h],9:F2}  {new string('#', (int)(20 * Math.Max(0, report.InductionScores[l, h])))}");
    var (from, to, score) = report.LargestKComposition;
    Console.WriteLine($"previous-token head L{report.PreviousTokenHead.Layer}H{report.PreviousTokenHead.Head}, induction head L{report.InductionHead.Layer}H{report.InductionHead.Head}: " +
        $"K-composition {report.CircuitKComposition:F3} (largest layer-0 -> layer-1 pair: L0H{from} -> L1H{to}, {score:F3})");
    for (int h = 0; h < config.NHeads; h++)
        Console.WriteLine($"  zero-ablate L1H{h}: repeat loss {report.AblatedRepeatLoss[h]:F3} (x{report.AblatedRepeatLoss[h] / report.RepeatLoss:F2})");
    Console.WriteLine($"  zero-ablate all layer-1 induction heads ({string.Join(", ", report.InductionHeads.Select(h => $"L1H{h}"))}): repeat loss {report.AllInductionHeadsAblatedRepeatLoss:F3} (x{report.AllInductionHeadsAblatedRepeatLoss / report.RepeatLoss:F2})");
}

/// <summary>Renders training progress as a one-line bar.</summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        const int Width = 30;
        int filled = (int)((long)p.Step * Width / p.TotalSteps);
        Console.Write($"\r[{new string('=', filled)}{new string(' ', Width - filled)}] {p.Step}/{p.TotalSteps} loss {p.Loss:F3} lr {p.LearningRate:E1} {p.TokensPerSecond:F0} tok/s   ");
    }
}
