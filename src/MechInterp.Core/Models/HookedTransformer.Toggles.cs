using MechInterp.Models.Components;

namespace MechInterp;

/// <summary>Run-time switches for optional hook points (TransformerLens's set_use_attn_result, set_use_split_qkv_input,
/// set_use_hook_mlp_in, set_use_attn_in): the hook points appear in (or leave) <see cref="HookDict"/> at once, the
/// config records the switch, and the model's outputs do not change. Switch between passes, not during one.</summary>
public sealed partial class HookedTransformer
{
    /// <summary>Adds (or removes) <c>blocks.{l}.attn.hook_result</c> [batch, pos, head, d_model], each head's output.</summary>
    public void SetUseAttnResult(bool useAttnResult) =>
        Toggle(useAttnResult, ["attn.hook_result"], Config with { UseAttnResult = useAttnResult }, b => b.Attn.SetUseAttnResult(useAttnResult));

    /// <summary>Adds (or removes) <c>blocks.{l}.hook_q_input</c>, <c>hook_k_input</c> and <c>hook_v_input</c>
    /// [batch, pos, head, d_model]: a separate copy of the residual per head and per query/key/value, to patch one alone.</summary>
    /// <exception cref="InvalidOperationException">hook_attn_in is on (the two are exclusive, as in TransformerLens).</exception>
    public void SetUseSplitQkvInput(bool useSplitQkvInput)
    {
        if (useSplitQkvInput && Config.UseAttnIn)
            throw new InvalidOperationException("hook_attn_in is on: call SetUseAttnIn(false) before SetUseSplitQkvInput(true) (a block reads either one per-head input or three)");
        Toggle(useSplitQkvInput, ["hook_q_input", "hook_k_input", "hook_v_input"], Config with { UseSplitQkvInput = useSplitQkvInput }, b => b.SetUseSplitQkvInput(useSplitQkvInput));
    }

    /// <summary>Adds (or removes) <c>blocks.{l}.hook_attn_in</c> [batch, pos, head, d_model], one copy of the attention
    /// input per head.</summary>
    /// <exception cref="InvalidOperationException">The split q/k/v inputs are on.</exception>
    public void SetUseAttnIn(bool useAttnIn)
    {
        if (useAttnIn && Config.UseSplitQkvInput)
            throw new InvalidOperationException("the split q/k/v inputs are on: call SetUseSplitQkvInput(false) before SetUseAttnIn(true)");
        Toggle(useAttnIn, ["hook_attn_in"], Config with { UseAttnIn = useAttnIn }, b => b.SetUseAttnIn(useAttnIn));
    }

    /// <summary>Adds (or removes) <c>blocks.{l}.hook_mlp_in</c> [batch, pos, d_model], the MLP's un-normalised input.</summary>
    /// <exception cref="InvalidOperationException">The model has no MLP.</exception>
    public void SetUseHookMlpIn(bool useHookMlpIn)
    {
        if (useHookMlpIn && !Config.HasMlp) throw new InvalidOperationException($"'{Config.ModelName}' is attention-only: it has no MLP input to hook");
        Toggle(useHookMlpIn, ["hook_mlp_in"], Config with { UseHookMlpIn = useHookMlpIn }, b => b.SetUseHookMlpIn(useHookMlpIn));
    }

    private void Toggle(bool on, string[] hookSuffixes, HookedTransformerConfig next, Action<TransformerBlock> apply)
    {
        if (!on)
            foreach (var (name, module) in HookRegistry.Attached)
                if (hookSuffixes.Any(suffix => name.EndsWith("." + suffix, StringComparison.Ordinal)))
                    throw new InvalidOperationException($"a module ({module.GetType().Name}) is attached at '{name}', which would disappear: detach it first");
        foreach (var block in Blocks) apply(block);
        Config = next;
        HookRegistry.ReplacePoints(HookPoints());
    }
}
