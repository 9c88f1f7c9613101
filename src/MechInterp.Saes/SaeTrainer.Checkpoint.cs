using System.Text.Json;
using System.Text.Json.Nodes;

namespace MechInterp.Saes;

public sealed partial class SaeTrainer
{
    /// <summary>The trainer state file of a checkpoint folder (weights, Adam moments, dead-latent counters).</summary>
    public const string StateTensorsFileName = "trainer_state.safetensors";

    /// <summary>The trainer state's counters (step, tokens, Adam step counts, BatchTopK threshold).</summary>
    public const string StateJsonFileName = "trainer_state.json";

    /// <summary>
    /// Writes a checkpoint to <paramref name="folder"/>: the SAE as a SAELens folder (usable on its own) plus the exact
    /// training state (weights in full precision, Adam moments and step counts, dead-latent counters, the step and
    /// token counts, a BatchTopK SAE's running threshold), so that <see cref="Resume"/> continues bit for bit.
    /// </summary>
    public void SaveCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var adamSteps = new JsonObject();
        for (int i = 0; i < _names.Length; i++)
        {
            tensors["weight." + _names[i]] = Sae.Weights[_names[i]].Value.To(Device.Cpu).Contiguous();
            if (_adam.StateOf(i) is { } s)
            {
                tensors["adam_m." + _names[i]] = s.M.To(Device.Cpu).Contiguous();
                tensors["adam_v." + _names[i]] = s.V.To(Device.Cpu).Contiguous();
                adamSteps[_names[i]] = s.Steps;
            }
        }
        tensors["dead.tokens_since_fired"] = Tensor.FromArray(DeadLatents.TokensSinceFired.ToArray(), DeadLatents.TokensSinceFired.Count);
        SafeTensorsWriter.Write(Path.Combine(folder, StateTensorsFileName), tensors);
        var state = new JsonObject
        {
            ["architecture"] = Sae.GetType().Name,
            ["d_sae"] = Sae.Config.DSae,
            ["step"] = StepCount,
            ["tokens"] = Tokens,
            ["optimizer_step"] = _adam.StepCount,
            ["adam_steps"] = adamSteps,
        };
        if (Sae is BatchTopKSae b) state["topk_threshold"] = b.TopKThreshold;
        File.WriteAllText(Path.Combine(folder, StateJsonFileName), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Sae.Save(folder);
    }

    /// <summary>
    /// Continues from a checkpoint that <see cref="SaveCheckpoint"/> wrote: this trainer's SAE (same architecture and
    /// size; its current weights are replaced) and optimiser take the saved state; the next <see cref="Step"/> is the
    /// one the interrupted run would have taken.
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder has no trainer state.</exception>
    /// <exception cref="SaeFormatException">The checkpoint is of another architecture or size, or a tensor is missing.</exception>
    public void Resume(string folder)
    {
        string jsonPath = Path.Combine(folder, StateJsonFileName), tensorsPath = Path.Combine(folder, StateTensorsFileName);
        if (!File.Exists(jsonPath) || !File.Exists(tensorsPath))
            throw new FileNotFoundException($"'{folder}' is not a trainer checkpoint: it needs {StateJsonFileName} and {StateTensorsFileName} (written by SaveCheckpoint)", jsonPath);
        var state = JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject();
        string arch = state["architecture"]!.GetValue<string>();
        if (arch != Sae.GetType().Name || state["d_sae"]!.GetValue<int>() != Sae.Config.DSae)
            throw new SaeFormatException(jsonPath, "architecture", $"is a {arch} with d_sae {state["d_sae"]}, but this trainer's SAE is a {Sae.GetType().Name} with d_sae {Sae.Config.DSae}");
        using var file = SafeTensorsFile.Open(tensorsPath);
        Tensor Read(string name) => file.Contains(name)
            ? file.Read(name, null, Sae.Device).DetachFromScopes()
            : throw new SaeFormatException(tensorsPath, name, "is missing from the checkpoint");
        using (GradMode.NoGrad())
        {
            var adamSteps = state["adam_steps"]!.AsObject();
            for (int i = 0; i < _names.Length; i++)
            {
                Sae.Weights[_names[i]].Value = Read("weight." + _names[i]);
                if (adamSteps[_names[i]] is { } steps)
                    _adam.RestoreState(i, Read("adam_m." + _names[i]), Read("adam_v." + _names[i]), steps.GetValue<long>());
            }
        }
        DeadLatents.Restore(file.ReadArray<long>("dead.tokens_since_fired"));
        StepCount = state["step"]!.GetValue<long>();
        Tokens = state["tokens"]!.GetValue<long>();
        _adam.StepCount = state["optimizer_step"]!.GetValue<long>();
        if (Sae is BatchTopKSae b && state["topk_threshold"] is { } t) b.TopKThreshold = t.GetValue<double>();
    }
}
