using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Median number of cores other processes used just before the measured iterations of the whole run
/// (<see cref="QuietMachine"/>), so the report states how contended the machine was.</summary>
public sealed class OtherLoadColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(OtherLoadColumn);
    /// <inheritdoc/>
    public string ColumnName => "OtherCores";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 1;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Median cores used by other processes before measured iterations (whole run; 0.15 = quiet)";
    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => QuietMachine.MedianLoad().ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
}
