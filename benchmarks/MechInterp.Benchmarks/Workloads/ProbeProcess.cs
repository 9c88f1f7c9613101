using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>What the memory probes share: running this benchmark program again as a fresh child process (so no other
/// case's memory counts) and reading this process's memory counters from <c>/proc/self/status</c>.</summary>
internal static class ProbeProcess
{
    /// <summary>Runs this program with <paramref name="args"/> in a child process; returns the first table line ("| ...")
    /// it printed, or null, and its exit code.</summary>
    public static (string? TableLine, int ExitCode) RunSelf(params string[] args)
    {
        string self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(ProbeProcess).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (output.Split('\n').FirstOrDefault(l => l.StartsWith('|')), p.ExitCode);
    }

    /// <summary>A <c>/proc/self/status</c> field in kB (VmRSS, VmHWM, RssAnon, RssFile), as MB; NaN when absent.</summary>
    public static double StatusMb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
