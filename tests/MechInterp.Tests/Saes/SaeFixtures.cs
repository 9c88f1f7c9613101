using System.Text.Json;
using MechInterp.Saes;
using MechInterp.Tests.Models;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>The SAELens-written SAE folders of Fixtures/saes (oracle: SAELens 6.18.0 itself) and helpers to compare with them.</summary>
internal static class SaeFixtures
{
    public static readonly string[] Folders =
    [
        "standard", "standard-no-bdec-in", "standard-norm-constant", "standard-norm-layernorm", "standard-hookz", "topk",
        "topk-rescale", "jumprelu", "jumprelu-bf16", "gated", "batchtopk", "matryoshka-batchtopk", "transcoder",
        "skip-transcoder", "jumprelu-transcoder", "legacy-v5-standard",
    ];

    public static readonly Device[] Devices = [Device.Cpu, Device.TorchCpu];

    public static string Dir(string folder) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "saes", folder);

    public static FixtureReference Reference(string folder) => new(Path.Combine("saes", folder));

    public static TheoryData<string, string> FoldersOnBothBackends()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in Folders)
            foreach (var d in Devices) data.Add(f, d.ToString());
        return data;
    }

    public static JsonElement Get(this JsonElement e, params string[] path)
    {
        foreach (var p in path) e = e.GetProperty(p);
        return e;
    }

    public static void Close(Tensor actual, Tensor expected, double atol, double rtol, string what)
    {
        Assert.True(actual.Shape.SequenceEqual(expected.Shape), $"{what}: shape {string.Join(",", actual.Shape)} vs {string.Join(",", expected.Shape)}");
        var a = actual.To(Device.Cpu).ToArray<double>();
        var e = expected.To(Device.Cpu).ToArray<double>();
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - e[i]);
            worst = Math.Max(worst, d);
            Assert.True(d <= atol + rtol * Math.Abs(e[i]), $"{what}: element {i} is {a[i]} but SAELens gave {e[i]} (|d| {d:E2})");
        }
    }

    public static long[] RowL0(Tensor featureActs) => (featureActs != 0).To(DType.Int64).Sum(-1).To(Device.Cpu).ToArray<long>();
}
