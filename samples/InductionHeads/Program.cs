// Induction heads from scratch: train a 2-layer attention-only transformer on repeated random token sequences,
// find the heads that implement induction with RunWithCache, and confirm them causally with RunWithHooks ablations.
// Runs offline on the embedded managed CPU backend (pass "torch-cpu" or "cuda" to use TorchSharp instead).
using System.Diagnostics;
using MechInterp;
using MechInterp.Optim;

var device = args.Length > 0 ? Device.Parse(args[0]) : Device.Cpu;
int steps = args.Length > 1 ? int.Parse(args[1]) : 600;
const int Vocab = 48, Half = 20, Batch = 32;

var config = new HookedTransformerConfig
{
    NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = Vocab, NCtx = 2 * Half + 1,
    AttnOnly = true, NormalizationType = NormalizationType.LN, ModelName = "attn-only-2l",
};
var model = new HookedTransformer(config, device);
model.InitWeights(new Generator(7));
model.SetRequiresGrad(true);
var optimizer = new AdamW(model.NamedParameters().Select(p => p.Parameter), learningRate: 3e-3, weightDecay: 0.01);
var schedule = LearningRateSchedule.Cosine(3e-3, steps, warmupSteps: 30, minRate: 3e-4);
var data = new Generator(42);

// [BOS=0] r1..rh r1..rh filler: the repeated half is predictable only by copying from its first occurrence. During
// training the half length h varies per sequence, so no fixed positional offset can solve the task: the model has to
// learn induction (a previous-token head in layer 0 composing with an induction head in layer 1).
Tensor RepeatedBatch(int batch, bool fixedHalf)
{
    int length = 2 * Half + 1;
    var ids = new long[batch * length];
    for (int b = 0; b < batch; b++)
    {
        long offset = b * length;
        int h = fixedHalf ? Half : (int)data.NextInt64(6, Half + 1);
        for (int i = 1; i < length; i++) ids[offset + i] = data.NextInt64(1, Vocab);
        for (int i = 0; i < h; i++) ids[offset + 1 + h + i] = ids[offset + 1 + i];
    }
    return Tensor.FromArray(ids, batch, length).To(device);
}

Console.WriteLine($"Training {config.ModelName} on {device} for {steps} steps (batch {Batch}, {2 * Half + 1} tokens)...");
var clock = Stopwatch.StartNew();
for (int step = 0; step < steps; step++)
{
    using var scope = Tensor.Scope();
    schedule.Apply(optimizer);
    var loss = model.Forward(RepeatedBatch(Batch, fixedHalf: false), new ForwardOptions { ReturnType = ReturnType.Loss });
    optimizer.ZeroGrad();
    loss.Backward();
    GradientClipping.ClipByNorm(optimizer.Tensors, 1.0);
    optimizer.Step();
    if (step % 20 == 0 || step == steps - 1)
        ProgressBar.Render(step + 1, steps, $"loss {loss.Item<float>():F3}");
}
Console.WriteLine($"\ntrained in {clock.Elapsed.TotalSeconds:F1} s");
model.SetRequiresGrad(false);

using var evalScope = Tensor.Scope();
var tokens = RepeatedBatch(64, fixedHalf: true);
var perToken = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
double firstHalf = perToken.Narrow(1, 0, Half).Mean().Item<float>();
double secondHalf = perToken.Narrow(1, Half, Half).Mean().Item<float>();
Console.WriteLine($"loss on the random first half:   {firstHalf:F3} (uniform guess: ln {Vocab - 1} = {Math.Log(Vocab - 1):F3})");
Console.WriteLine($"loss on the repeated second half: {secondHalf:F3}");

// Induction score: attention from each token of the second half to the token right after its earlier copy.
var (_, cache) = model.RunWithCache(tokens, name => name.EndsWith("hook_pattern", StringComparison.Ordinal));
using (cache)
{
    Console.WriteLine("\ninduction score (mean attention to the token after the previous occurrence):");
    var scores = new List<(int Layer, int Head, double Score)>();
    for (int layer = 0; layer < config.NLayers; layer++)
    {
        var pattern = cache["pattern", layer]; // [batch, head, query, key]
        for (int head = 0; head < config.NHeads; head++)
        {
            // query q = Half+1+i attends to key q - Half + 1 (the token after the earlier copy).
            var diagonal = pattern.Select(1, head).Narrow(1, Half + 1, Half - 1).Narrow(2, 2, Half - 1);
            double score = Tensor.Einsum("bii->b", diagonal).Mean().Item<float>() / (Half - 1);
            scores.Add((layer, head, score));
            Console.WriteLine($"  L{layer}H{head}: {score:F2} {new string('#', (int)(score * 40))}");
        }
    }

    // Causal check: zero-ablate each layer-1 head's output (hook_z) and measure the loss on the repeated half.
    Console.WriteLine("\nloss on the repeated half with one layer-1 head zero-ablated:");
    for (int head = 0; head < config.NHeads; head++)
    {
        int h = head;
        var ablated = model.RunWithHooks(tokens, [new HookSpec(ActName.Z(1), (z, _) =>
        {
            var mask = Tensor.Ones([1, 1, config.NHeads, 1], device: z.Device);
            mask = Tensor.Where(Tensor.Arange(config.NHeads, device: z.Device).Reshape(1, 1, config.NHeads, 1) == h, Tensor.ZerosLike(mask), mask);
            return z * mask;
        })], null, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        double loss = ablated.Narrow(1, Half, Half).Mean().Item<float>();
        Console.WriteLine($"  ablate L1H{head}: {loss:F3} (+{loss - secondHalf:F3})");
    }
    var best = scores.MaxBy(s => s.Score);
    Console.WriteLine($"\nstrongest induction head: L{best.Layer}H{best.Head} (score {best.Score:F2})");
}

/// <summary>A one-line text progress bar.</summary>
internal static class ProgressBar
{
    public static void Render(int done, int total, string status)
    {
        const int Width = 30;
        int filled = (int)((long)done * Width / total);
        Console.Write($"\r[{new string('=', filled)}{new string(' ', Width - filled)}] {done}/{total} {status}   ");
    }
}
