using Xunit;
using System.Text.Json;

namespace MechInterp.Tests.Models;

/// <summary>The Hugging Face oracle outputs stored beside a fixture checkpoint (reference.json + reference.safetensors).</summary>
public sealed class FixtureReference : IDisposable
{
    private readonly SafeTensorsFile _tensors;

    public FixtureReference(string name)
    {
        Name = name;
        Directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "reference.json"))).RootElement.Clone();
        _tensors = SafeTensorsFile.Open(Path.Combine(Directory, "reference.safetensors"));
    }

    public string Name { get; }
    public string Directory { get; }
    public JsonElement Json { get; }

    public Tensor Tensor(string name, Device? device = null) => _tensors.Read(name, null, device ?? Device.Cpu);
    public bool Has(string name) => _tensors.Contains(name);

    public long[] Ints(params string[] path)
    {
        var e = Json;
        foreach (var p in path) e = e.GetProperty(p);
        return e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
    }

    public double Double(params string[] path)
    {
        var e = Json;
        foreach (var p in path) e = e.GetProperty(p);
        return e.GetDouble();
    }

    public void Dispose() => _tensors.Dispose();

    /// <summary>Max |a - b| over all elements, computed on the host in float64.</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(b.Shape, a.Shape);
        var x = a.To(Device.Cpu).ToArray<double>();
        var y = b.To(Device.Cpu).ToArray<double>();
        double m = 0;
        for (int i = 0; i < x.Length; i++) m = Math.Max(m, Math.Abs(x[i] - y[i]));
        return m;
    }
}
