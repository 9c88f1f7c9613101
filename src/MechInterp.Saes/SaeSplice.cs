namespace MechInterp.Saes;

/// <summary>
/// An SAE attached to a model at a hook point (<see cref="IHookModule"/>): the activation there is replaced by the SAE's
/// reconstruction (plus the error term when asked), and the SAE's hook points appear under the point's name. A
/// transcoder is attached at its output hook (<c>hook_name_out</c>) and reconstructs it from what its input hook
/// (<c>hook_name</c>) saw earlier in the same pass.
/// </summary>
internal sealed class SaeSplice : IHookModule, IDisposable
{
    private readonly IDisposable _names;
    private readonly IDisposable? _inputTap;
    private readonly IDisposable _attachment;
    private Tensor? _transcoderInput;

    public SaeSplice(IHookedModel model, Sae sae, bool useErrorTerm)
    {
        Sae = sae;
        UseErrorTerm = useErrorTerm;
        string input = sae.Config.HookName
            ?? throw new ArgumentException("the SAE's cfg.json has no metadata.hook_name, so it is not known where to splice it in: set Config.Metadata[\"hook_name\"]", nameof(sae));
        At = sae.IsTranscoder
            ? sae.Config.HookNameOut ?? throw new ArgumentException("the transcoder's cfg.json has no metadata.hook_name_out: it is not known which activation it replaces", nameof(sae))
            : input;
        var point = model.GetHookPoint(At); // throws UnknownHookException naming the nearest hooks
        if (sae.IsTranscoder)
            _inputTap = model.HookRegistry.AddHook(input, (x, _) => { _transcoderInput = x; return null; });
        _names = sae.NameHookPointsUnder(point.Name);
        try { _attachment = model.HookRegistry.Attach(At, this); }
        catch
        {
            _names.Dispose();
            _inputTap?.Dispose();
            throw;
        }
    }

    public Sae Sae { get; }

    public bool UseErrorTerm { get; }

    /// <summary>The hook point the SAE replaces.</summary>
    public string At { get; }

    public IReadOnlyList<HookPoint> HookPoints => Sae.SaeHookPoints;

    public Tensor Forward(Tensor activation)
    {
        if (!Sae.IsTranscoder) return Sae.Forward(activation, UseErrorTerm).To(activation.DType);
        var x = _transcoderInput ?? throw new InvalidOperationException(
            $"the transcoder replacing '{At}' did not see its input '{Sae.Config.HookName}' in this pass: that hook must run before '{At}'");
        _transcoderInput = null;
        return Sae.Forward(x).To(activation.DType);
    }

    public void Dispose()
    {
        _attachment.Dispose();
        _inputTap?.Dispose();
        _names.Dispose();
    }
}
