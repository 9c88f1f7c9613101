namespace MechInterp.Saes;

public abstract partial class Sae
{
    /// <summary>
    /// One training forward pass on x [rows, d_in] (hook_z SAEs: the flattened [rows, n_heads·d_head], as SAELens's
    /// training mode turns the reshape off): <c>mse_loss</c> = mean over rows of Σ (Decode(Encode(x)) − x)² plus the
    /// architecture's own losses (<see cref="AddLosses"/>). <paramref name="deadMask"/> [d_sae] (bool or 0/1) marks dead
    /// latents for the losses that use them (TopK's aux loss, JumpReLU's pre-activation loss). Transcoders need the
    /// <paramref name="target"/> [rows, d_out] (the output hook's activations) that the mse compares with.
    /// </summary>
    public TrainStepOutput TrainingForward(Tensor x, SaeLossOptions? options = null, Tensor? deadMask = null, Tensor? target = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (IsTranscoder && target is null)
            throw new ArgumentException("a transcoder's mse compares with the output hook's activations: pass them as target [rows, d_out]", nameof(target));
        options ??= new SaeLossOptions();
        if (x.Rank != 2) throw new ArgumentException($"TrainingForward takes activations [rows, {Config.DIn}], got {Tensor.ShapeString(x.Shape)}", nameof(x));
        if (deadMask is not null && (deadMask.Rank != 1 || deadMask.Shape[0] != Config.DSae))
            throw new ArgumentException($"the dead-latent mask must have shape [{Config.DSae}], got {Tensor.ShapeString(deadMask.Shape)}", nameof(deadMask));
        bool was = _training;
        _training = true;
        LossOptions = options;
        try
        {
            var raw = x.To(ComputeDType);                                   // [rows, d_in]
            var (featureActs, hiddenPre) = TrainingEncode(ProcessInput(raw)); // [rows, d_sae] each
            var saeOut = Decode(featureActs);                                // [rows, d_out]
            var wanted = target?.To(ComputeDType) ?? raw;                     // [rows, d_out]
            var losses = new List<KeyValuePair<string, Tensor>> { new("mse_loss", MeanRowSquaredError(saeOut, wanted)) };
            var dead = deadMask?.To(DType.Bool);
            AddLosses(new SaeLossInputs(wanted, featureActs, hiddenPre, saeOut, options, dead), losses);
            var total = losses[0].Value;
            for (int i = 1; i < losses.Count; i++) total = total + losses[i].Value;
            return new TrainStepOutput(total, losses, saeOut, featureActs, hiddenPre);
        }
        finally { _training = was; }
    }

    /// <summary>The training-mode encoder (the inference one unless the architecture trains differently); returns the
    /// latents and the pre-activations its losses use.</summary>
    protected virtual (Tensor FeatureActs, Tensor HiddenPre) TrainingEncode(Tensor saeIn) => EncodeWithPre(saeIn);

    /// <summary>Appends the architecture's losses after <c>mse_loss</c>.</summary>
    protected abstract void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses);

    /// <summary>mean over rows of Σ over features of (a − b)² [].</summary>
    protected static Tensor MeanRowSquaredError(Tensor a, Tensor b) => (a - b).Square().Sum(-1).Mean();

    /// <summary>The options of the running <see cref="TrainingForward"/> (for training encoders that need them).</summary>
    protected SaeLossOptions LossOptions { get; private set; } = new();

    /// <summary>Whether the SAE is inside <see cref="TrainingForward"/> (hook_z reshaping off).</summary>
    protected bool InTraining => _training;
}
