using MechInterp.Models;

namespace MechInterp;

public sealed partial class HookedEncoder
{
    /// <summary>
    /// Runs the encoder on tokens [batch, pos] (or [pos]) with optional segment ids and a 1/0 attention mask (1 = real
    /// token; right padding). Returns the masked-LM logits [batch, pos, d_vocab], or, for a bare encoder, the last
    /// hidden state [batch, pos, d_model] (= <c>blocks.{n-1}.hook_normalized_resid_post</c>).
    /// </summary>
    public Tensor Forward(Tensor tokens, Tensor? tokenTypeIds = null, Tensor? attentionMask = null) =>
        ForwardFull(tokens, new EncoderForwardOptions { TokenTypeIds = tokenTypeIds, AttentionMask = attentionMask }).Logits!;

    Tensor IHookedModel.Forward(Tensor input, CommonForwardOptions? options) => Forward(input, EncoderForwardOptions.From(options));

    ForwardOutput IHookedModel.ForwardFull(Tensor input, CommonForwardOptions? options) => ForwardFull(input, EncoderForwardOptions.From(options));

    /// <summary>Runs a string through the model (tokenised as <c>[CLS] text [SEP]</c>).</summary>
    public Tensor Forward(string text) => Forward(ToTokens(text));

    /// <summary>
    /// Runs the encoder with TransformerLens-style options: <see cref="EncoderForwardOptions.TokenTypeIds"/>,
    /// <see cref="CommonForwardOptions.AttentionMask"/>, <see cref="CommonForwardOptions.ReturnType"/> (logits, or the masked-LM
    /// loss against <see cref="EncoderForwardOptions.Labels"/>, default the input itself) and <see cref="CommonForwardOptions.StopAtLayer"/>.
    /// </summary>
    public Tensor Forward(Tensor input, EncoderForwardOptions? options)
    {
        options ??= new EncoderForwardOptions();
        ForwardOutput.RejectBoth(options);
        return ForwardFull(input, options).Select(options.ReturnType, Device);
    }

    /// <summary>
    /// Runs the encoder and returns what <see cref="CommonForwardOptions.ReturnType"/> asks for. <c>Logits</c> holds the MLM
    /// logits, or the last hidden state for a bare encoder. The loss is the un-shifted masked-LM cross-entropy
    /// (Hugging Face <c>labels</c> semantics: each position predicts its own label, -100 is ignored), averaged over
    /// positions that are real tokens under the attention mask.
    /// </summary>
    public ForwardOutput ForwardFull(Tensor input, EncoderForwardOptions? options = null)
    {
        options ??= new EncoderForwardOptions();
        int n = Config.NLayers;
        int stop = options.StopAtLayer is { } s ? (s < 0 ? s + n : s) : n;
        if (stop < 0 || stop > n) throw new ArgumentOutOfRangeException(nameof(options), $"StopAtLayer {options.StopAtLayer} must be in 0..{n} (or -{n}..-1)");
        bool wantLoss = options.ReturnType is ReturnType.Loss or ReturnType.Both;
        if (wantLoss && !HasMlmHead) throw NoHead("a masked-LM loss");

        var (residual, tokens) = Encode(input, options, stop);
        if (stop < n) return new ForwardOutput(null, null, residual);
        if (options.ReturnType == ReturnType.None) return new ForwardOutput(null, null, null);
        if (!HasMlmHead) return new ForwardOutput(residual, null, null);

        var logits = Unembed!.Forward(MlmHead!.Forward(residual), 0);
        Tensor? loss = null;
        if (wantLoss)
        {
            var labels = options.Labels is { } lt ? PrepareIds(lt, tokens.Shape[0], tokens.Shape[1], nameof(EncoderForwardOptions.Labels)) : tokens;
            var mask = options.AttentionMask is { } am ? PrepareIds(am, tokens.Shape[0], tokens.Shape[1], nameof(EncoderForwardOptions.AttentionMask)) : null;
            loss = LossFunctions.MaskedTokenLoss(logits, labels, mask, options.LossPerToken);
        }
        return new ForwardOutput(options.ReturnType == ReturnType.Loss ? null : logits, loss, null);
    }

    /// <summary>The last hidden state [batch, pos, d_model] (TransformerLens's encoder_output), without the MLM head.</summary>
    public Tensor EncoderOutput(Tensor tokens, Tensor? tokenTypeIds = null, Tensor? attentionMask = null) =>
        Encode(tokens, new EncoderForwardOptions { TokenTypeIds = tokenTypeIds, AttentionMask = attentionMask }, Config.NLayers).Residual;

    /// <summary>Embeds and runs blocks 0..stop-1; returns the residual stream there and the prepared tokens.</summary>
    private (Tensor Residual, Tensor Tokens) Encode(Tensor input, EncoderForwardOptions options, int stop)
    {
        var tokens = PrepareTokens(input);
        long b = tokens.Shape[0], p = tokens.Shape[1];
        var types = options.TokenTypeIds is { } tt ? PrepareIds(tt, b, p, nameof(EncoderForwardOptions.TokenTypeIds)) : Tensor.Zeros([b, p], DType.Int64, Device);
        Tensor? padding = options.AttentionMask is { } m ? PrepareIds(m, b, p, nameof(EncoderForwardOptions.AttentionMask)).To(DType.Bool) : null;
        var positions = Tensor.Arange(p, device: Device).Unsqueeze(0);
        var context = new AttentionContext(positions, positions, padding, bidirectional: true, window: null, cache: null);
        try
        {
            var residual = HookFullEmbed.Invoke(Embed.Forward(tokens, types));
            for (int l = 0; l < stop; l++) residual = Blocks[l].Forward(residual, context);
            return (residual, tokens);
        }
        finally { context.Release(); }
    }

    private Tensor PrepareTokens(Tensor input) => ModelInputs.PrepareTokens(input, Device, Config.DVocab);

    private Tensor PrepareIds(Tensor ids, long b, long p, string what)
    {
        var t = ids.Rank == 1 ? ids.Unsqueeze(0) : ids;
        if (t.Rank != 2 || t.Shape[0] != b || t.Shape[1] != p)
            throw new ArgumentException($"{what} has shape {Tensor.ShapeString(ids.Shape)} but the tokens are [{b}, {p}]: give one entry per token");
        return t.To(Device).To(DType.Int64);
    }
}
