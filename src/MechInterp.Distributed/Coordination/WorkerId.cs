namespace MechInterp.Distributed.Coordination;

/// <summary>One model replica of one worker silo: the silo's address (what membership declares dead), its name and
/// the replica's index and device.</summary>
/// <param name="Silo">The worker silo.</param>
/// <param name="SiloName">Its name (for reports).</param>
/// <param name="Replica">The replica's index on that silo.</param>
/// <param name="Device">The replica's device, e.g. "cpu" or "cuda:1".</param>
[GenerateSerializer, Immutable]
internal sealed record WorkerId([property: Id(0)] SiloAddress Silo, [property: Id(1)] string SiloName, [property: Id(2)] int Replica, [property: Id(3)] string Device)
{
    public override string ToString() => $"{SiloName}/{Replica} ({Device}, {Silo})";
}
