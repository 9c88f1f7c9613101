namespace MechInterp.Models.Components;

/// <summary>Token embedding W_E [d_vocab, d_model].</summary>
public sealed class Embed : Module
{
    /// <summary>Creates a zero-initialised embedding.</summary>
    public Embed(string prefix, int dVocab, int dModel, Device device) : base(prefix) =>
        W_E = Param("W_E", Tensor.Zeros([dVocab, dModel], device: device));

    /// <summary>The embedding matrix [d_vocab, d_model].</summary>
    public Parameter W_E { get; }

    /// <summary>Looks up tokens [batch, pos] → [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor tokens)
    {
        var rows = W_E.Value.IndexSelect(0, tokens.Reshape(-1));
        return rows.Reshape(tokens.Shape[0], tokens.Shape[1], W_E.Value.Shape[1]);
    }
}

/// <summary>Learned position embedding W_pos [n_ctx, d_model].</summary>
public sealed class PosEmbed : Module
{
    /// <summary>Creates a zero-initialised table.</summary>
    public PosEmbed(string prefix, int nCtx, int dModel, Device device) : base(prefix) =>
        W_pos = Param("W_pos", Tensor.Zeros([nCtx, dModel], device: device));

    /// <summary>The table [n_ctx, d_model].</summary>
    public Parameter W_pos { get; }

    /// <summary>Embeddings of positions [batch, pos] → [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor positions)
    {
        long nCtx = W_pos.Value.Shape[0];
        using (GradMode.NoGrad())
        {
            long max = positions.Max().Item<long>();
            if (max >= nCtx)
                throw new ArgumentException($"position {max} is past the model's context length n_ctx = {nCtx}: shorten the input to at most {nCtx} tokens");
        }
        var rows = W_pos.Value.IndexSelect(0, positions.Reshape(-1));
        return rows.Reshape(positions.Shape[0], positions.Shape[1], W_pos.Value.Shape[1]);
    }
}

/// <summary>Unembedding W_U [d_model, d_vocab] and b_U, with hook_in and hook_out.</summary>
public sealed class Unembed : Module
{
    /// <summary>Creates a zero-initialised unembedding.</summary>
    public Unembed(string prefix, int dModel, int dVocab, bool bias, Device device) : base(prefix)
    {
        HookIn = Hook("hook_in");
        HookOut = Hook("hook_out");
        W_U = Param("W_U", Tensor.Zeros([dModel, dVocab], device: device));
        b_U = Param("b_U", Tensor.Zeros([dVocab], device: device));
        HasBias = bias;
    }

    /// <summary>[d_model, d_vocab].</summary>
    public Parameter W_U { get; }
    /// <summary>[d_vocab] (zero when the checkpoint has no bias).</summary>
    public Parameter b_U { get; }
    /// <summary>Whether the checkpoint had a bias.</summary>
    public bool HasBias { get; }
    /// <summary>unembed.hook_in: the normalised residual [batch, pos, d_model].</summary>
    public HookPoint HookIn { get; }
    /// <summary>unembed.hook_out: the logits [batch, pos, d_vocab].</summary>
    public HookPoint HookOut { get; }

    /// <summary>Residual → logits.</summary>
    public Tensor Forward(Tensor x, double softCap)
    {
        x = HookIn.Invoke(x);
        var logits = Linear.Apply(x, W_U.Value, b_U.Value);
        if (softCap > 0) logits = (logits / softCap).Tanh() * softCap;
        return HookOut.Invoke(logits);
    }
}
