using System.Diagnostics;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// Runs <see cref="GemmTests"/> again in child test processes with AVX-512 (then AVX2) disabled in the JIT, so the
/// Vector256 and scalar micro-kernels, packing and GEMV paths are exercised on this AVX-512 machine too.
/// Each child asserts (through <see cref="GemmTests.ExpectedIsaVariable"/>) that it really ran the intended path.
/// </summary>
public sealed class GemmFallbackTests
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task GemmTestsPassOnVector256AndScalarPaths()
    {
        // .NET 10 reads DOTNET_EnableAVX512 (the grouped switch); DOTNET_EnableAVX512F is the older name. Set both.
        var avx2 = RunChildAsync("avx2", ("DOTNET_EnableAVX512F", "0"), ("DOTNET_EnableAVX512", "0"));
        var scalar = RunChildAsync("scalar", ("DOTNET_EnableAVX2", "0"));
        await Task.WhenAll(avx2, scalar);
    }

    private static async Task RunChildAsync(string expectedIsa, params (string Name, string Value)[] environment)
    {
        string assembly = typeof(GemmTests).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        foreach (string arg in new[] { "test", assembly, "--filter", $"FullyQualifiedName~{typeof(GemmTests).FullName}.", "--nologo" })
            psi.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.Environment[GemmTests.ExpectedIsaVariable] = expectedIsa;

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start 'dotnet test' for the GEMM fallback run");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ChildTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"GEMM tests with {expectedIsa} kernels did not finish within {ChildTimeout.TotalSeconds} s.");
        }
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"GEMM tests failed on the {expectedIsa} path (exit {process.ExitCode}):\n{output}");
        Assert.Contains("Passed!", output);
    }
}
