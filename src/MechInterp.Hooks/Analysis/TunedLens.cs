using MechInterp.Optim;

namespace MechInterp.Analysis;

/// <summary>
/// The tuned lens (Belrose et al. 2023): for each layer l, an affine translator h ↦ h + h·A_l + b_l (A_l and b_l start
/// at zero, so an untrained lens is the logit lens with recomputed norms) trained to minimise the KL divergence from the
/// model's final next-token distribution to the lens's reading of the residual entering layer l, through the model's
/// own final norm and unembedding. Save with <see cref="Save"/>, load with <see cref="Load"/>.
/// </summary>
public sealed class TunedLens
{
    private TunedLens(Tensor a, Tensor b) => (A, B) = (a.DetachFromScopes(), b.DetachFromScopes());

    /// <summary>Translator matrices [n_layers, d_model, d_model].</summary>
    public Tensor A { get; }
    /// <summary>Translator biases [n_layers, d_model].</summary>
    public Tensor B { get; }
    /// <summary>Number of translators (the model's layers; entry l reads resid_pre of layer l).</summary>
    public int Layers => (int)A.Shape[0];

    /// <summary>An identity lens for <paramref name="model"/> (all translators zero).</summary>
    public static TunedLens Identity(IHookedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int l = model.Config.NLayers, d = model.Config.DModel;
        return new TunedLens(Tensor.Zeros([l, d, d], device: model.Device), Tensor.Zeros([l, d], device: model.Device));
    }

    /// <summary>The lens's logits [..., vocab] for the residual entering <paramref name="layer"/> [..., d_model].</summary>
    public Tensor Logits(IHookedModel model, int layer, Tensor residual)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (layer < 0 || layer >= Layers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the lens has layers 0..{Layers - 1}");
        return Translate(model, A.Select(0, layer), B.Select(0, layer), residual);
    }

    /// <summary>
    /// Trains a lens on <paramref name="batches"/> of token ids for <paramref name="steps"/> AdamW steps (the model is
    /// not changed). Reports (step, summed KL over layers) every 10 steps.
    /// </summary>
    public static TunedLens Train(IHookedModel model, Training.IBatchSource batches, int steps, double learningRate = 1e-3,
        ulong seed = 0, IProgress<(int Step, double Kl)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var lens = Identity(model);
        lens.A.RequiresGrad = true;
        lens.B.RequiresGrad = true;
        var optimizer = new AdamW([lens.A, lens.B], learningRate, weightDecay: 0);
        var generator = new Generator(seed);
        for (int step = 1; step <= steps; step++)
        {
            using var scope = Tensor.Scope();
            var (residuals, target) = Residuals(model, batches.NextBatch(generator, model.Device));
            Tensor total = Tensor.Zeros([], device: model.Device);
            for (int l = 0; l < lens.Layers; l++)
                total = total + Kl(target, Translate(model, lens.A.Select(0, l), lens.B.Select(0, l), residuals[l]));
            optimizer.ZeroGrad();
            total.Backward();
            optimizer.Step();
            if (step % 10 == 0 || step == steps) progress?.Report((step, total.To(DType.Float64).Item<double>()));
        }
        optimizer.ZeroGrad();
        lens.A.RequiresGrad = false;
        lens.B.RequiresGrad = false;
        return lens;
    }

    /// <summary>Mean KL(final ‖ lens) per layer [n_layers] on <paramref name="tokens"/> [batch, pos].</summary>
    public double[] KlPerLayer(IHookedModel model, Tensor tokens)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var (residuals, target) = Residuals(model, tokens);
        return [.. Enumerable.Range(0, Layers).Select(l => Kl(target, Logits(model, l, residuals[l])).To(DType.Float64).Item<double>())];
    }

    /// <summary>Writes the translators to a safetensors file (names "A" and "B").</summary>
    public void Save(string path) => SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["A"] = A, ["B"] = B },
        new Dictionary<string, string> { ["format"] = "mechinterp-tuned-lens" });

    /// <summary>Reads translators written by <see cref="Save"/> onto <paramref name="device"/>.</summary>
    public static TunedLens Load(string path, Device? device = null)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Names.Contains("A") || !file.Names.Contains("B"))
            throw new InvalidDataException($"'{path}' is not a tuned lens (it needs tensors \"A\" and \"B\"): save one with TunedLens.Save");
        var a = file.Read("A", DType.Float32, device ?? Device.Cpu);
        var b = file.Read("B", DType.Float32, device ?? Device.Cpu);
        if (a.Rank != 3 || b.Rank != 2 || a.Shape[0] != b.Shape[0] || a.Shape[1] != a.Shape[2] || a.Shape[1] != b.Shape[1])
            throw new InvalidDataException($"'{path}' holds A {Tensor.ShapeString(a.Shape)} and B {Tensor.ShapeString(b.Shape)}; a tuned lens has A [layers, d, d] and B [layers, d]");
        return new TunedLens(a, b);
    }

    private static Tensor Translate(IHookedModel model, Tensor a, Tensor b, Tensor residual) =>
        model.ToLogits(model.ApplyFinalNorm(residual + residual.MatMul(a) + b)); // [..., vocab]

    /// <summary>Each layer's input residual (no gradient) and the final log-probabilities.</summary>
    private static (Tensor[] Residuals, Tensor Target) Residuals(IHookedModel model, Tensor tokens)
    {
        var (logits, cache) = model.RunWithCache(tokens, name => name.EndsWith("hook_resid_pre", StringComparison.Ordinal));
        using (cache)
        {
            // Copies owned by the caller's scope; the cache's own tensors are freed here.
            var residuals = Enumerable.Range(0, model.Config.NLayers).Select(l => cache["resid_pre", l].Clone()).ToArray();
            return (residuals, logits.Detach().LogSoftmax(-1));
        }
    }

    /// <summary>Mean over positions of KL(p ‖ q) = Σ p (log p − log q), from final log-probabilities and lens logits.</summary>
    private static Tensor Kl(Tensor targetLogProbs, Tensor lensLogits)
    {
        var logq = lensLogits.LogSoftmax(-1);
        return (targetLogProbs.Exp() * (targetLogProbs - logq)).Sum(-1).Mean();
    }
}
