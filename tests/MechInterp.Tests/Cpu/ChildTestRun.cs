using System.Diagnostics;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>Reruns a filtered subset of this test assembly in a child <c>dotnet test</c> with extra environment
/// variables (e.g. JIT switches that disable AVX-512), and asserts that it passed.</summary>
internal static class ChildTestRun
{
    public static async Task RunAsync(string filter, string what, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        string assembly = typeof(ChildTestRun).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        foreach (string arg in new[] { "test", assembly, "--filter", filter, "--nologo" }) psi.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) psi.Environment[name] = value;

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start 'dotnet test' for {what}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within {timeout.TotalSeconds} s");
        }
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{what} failed (exit {process.ExitCode}):\n{output}");
        Assert.Contains("Passed!", output);
    }
}
