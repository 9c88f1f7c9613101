using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// Runs <see cref="GemmTests"/> and <see cref="PrepackedGemmTests"/> again in child test processes with AVX-512 (then AVX2) disabled in the JIT, so the
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

    private static Task RunChildAsync(string expectedIsa, params (string Name, string Value)[] environment) =>
        ChildTestRun.RunAsync($"FullyQualifiedName~{typeof(GemmTests).FullName}.|FullyQualifiedName~{typeof(PrepackedGemmTests).FullName}.", $"GEMM tests with {expectedIsa} kernels", ChildTimeout, [.. environment, (GemmTests.ExpectedIsaVariable, expectedIsa)]);
}
