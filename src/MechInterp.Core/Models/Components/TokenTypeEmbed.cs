namespace MechInterp.Models.Components;

/// <summary>BERT's token-type (segment) embedding W_token_type [n_token_types, d_model].</summary>
public sealed class TokenTypeEmbed : Module
{
    /// <summary>Creates a zero-initialised table with <paramref name="nTypes"/> rows.</summary>
    public TokenTypeEmbed(string prefix, int nTypes, int dModel, Device device) : base(prefix) =>
        W_token_type = Param("W_token_type", Tensor.Zeros([nTypes, dModel], device: device));

    /// <summary>The table [n_token_types, d_model].</summary>
    public Parameter W_token_type { get; }

    /// <summary>Embeddings of token types [batch, pos] → [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor tokenTypeIds)
    {
        long n = W_token_type.Value.Shape[0];
        using (GradMode.NoGrad())
        {
            long lo = tokenTypeIds.Min().Item<long>(), hi = tokenTypeIds.Max().Item<long>();
            if (lo < 0 || hi >= n)
                throw new ArgumentException($"token type ids range over [{lo}, {hi}] but the model has {n} token types (0..{n - 1})");
        }
        var rows = W_token_type.Value.IndexSelect(0, tokenTypeIds.Reshape(-1));
        return rows.Reshape(tokenTypeIds.Shape[0], tokenTypeIds.Shape[1], W_token_type.Value.Shape[1]);
    }
}
