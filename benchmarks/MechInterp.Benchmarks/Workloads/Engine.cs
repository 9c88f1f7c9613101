namespace MechInterp.Benchmarks.Workloads;

/// <summary>The compute engine a workload runs on.</summary>
public enum Engine
{
    /// <summary>MechInterp's managed SIMD CPU backend (<see cref="Device.Cpu"/>).</summary>
    Managed,
    /// <summary>libtorch CPU through TorchSharp (<see cref="Device.TorchCpu"/>), 2 intra-op threads.</summary>
    Libtorch,
}
