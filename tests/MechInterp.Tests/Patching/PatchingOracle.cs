using MechInterp.Tests.Models;
using Xunit;

namespace MechInterp.Tests.Patching;

/// <summary>
/// The patching oracle (Fixtures/patching/, copied from shared/fixtures/patching): Hugging Face-computed patching,
/// ablation and attribution results for gpt2-tiny and llama-tiny, with the prompts and the metric that made them.
/// </summary>
internal sealed class PatchingOracle : IDisposable
{
    private readonly FixtureReference _reference;

    public PatchingOracle(string fixture, string device)
    {
        _reference = new FixtureReference(Path.Combine("patching", fixture));
        Model = HookedTransformer.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture),
            new LoadOptions { Device = Device.Parse(device) });
        Clean = _reference.Tensor("clean_tokens", Model.Device);
        Corrupted = _reference.Tensor("corrupted_tokens", Model.Device);
        Answers = _reference.Tensor("answer_tokens").ToArray<long>();
        Wrong = _reference.Tensor("wrong_tokens").ToArray<long>();
        Metric = MechInterp.Patching.PatchingMetrics.LogitDifference(Answers, Wrong);
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in new[] { "gpt2-tiny", "llama-tiny" })
            foreach (var d in new[] { "cpu", "torch-cpu" }) data.Add(m, d);
        return data;
    }

    public HookedTransformer Model { get; }
    public Tensor Clean { get; }
    public Tensor Corrupted { get; }
    public long[] Answers { get; }
    public long[] Wrong { get; }
    public Func<Tensor, Tensor> Metric { get; }

    public float CleanMetric => Expected("clean_metric").ToArray<float>()[0];
    public float CorruptedMetric => Expected("corrupted_metric").ToArray<float>()[0];

    public Tensor Expected(string name) => _reference.Tensor(name);

    /// <summary>Asserts |x − ref| ≤ 1e-4 + 1e-4·|ref| elementwise (the fixtures' README) and returns max |x − ref|.</summary>
    public double AssertMatches(string name, Tensor actual)
    {
        var expected = Expected(name);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(DType.Float32, actual.DType);
        var want = expected.ToArray<double>();
        var got = actual.To(Device.Cpu).ToArray<double>();
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double d = Math.Abs(got[i] - want[i]);
            worst = Math.Max(worst, d);
            Assert.True(d <= 1e-4 + 1e-4 * Math.Abs(want[i]), $"{name}[{i}]: {got[i]:R} vs oracle {want[i]:R} (|d| = {d:E2})");
        }
        return worst;
    }

    public void Dispose() => _reference.Dispose();
}
