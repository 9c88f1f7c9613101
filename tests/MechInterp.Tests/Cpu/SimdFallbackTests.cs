using System.Runtime.Intrinsics;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// Reruns the SIMD-heavy CPU backend tests (softmax, norms, unary kernels, broadcasting, reductions) in child test
/// processes with AVX-512 and then AVX2 disabled in the JIT, so the Vector256 and Vector128/scalar paths of our
/// kernels and of TensorPrimitives are exercised on an AVX-512 machine too. Each child asserts through
/// <see cref="CpuSimdIsaTests"/> that it really ran with the intended instruction set.
/// </summary>
public sealed class SimdFallbackTests
{
    /// <summary>Set in a child to the ISA it must run with ("avx2" or "sse").</summary>
    public const string ExpectedIsaVariable = "MECHINTERP_EXPECT_SIMD_ISA";

    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(300);

    private static readonly string[] Subset =
    [
        nameof(CpuSimdIsaTests), nameof(CpuNeuralNetTests), nameof(CpuUnaryTests), nameof(CpuReductionTests),
        nameof(CpuBinaryTests) + "." + nameof(CpuBinaryTests.ArithmeticBroadcastsBothWays),
    ];

    [Fact]
    public async Task CpuKernelTestsPassOnVector256AndVector128Paths()
    {
        if (Environment.GetEnvironmentVariable(ExpectedIsaVariable) is not null) return; // already a child
        // .NET 10 reads DOTNET_EnableAVX512 (grouped); DOTNET_EnableAVX512F is the older name. Set both.
        var avx2 = RunChildAsync("avx2", ("DOTNET_EnableAVX512F", "0"), ("DOTNET_EnableAVX512", "0"));
        var sse = RunChildAsync("sse", ("DOTNET_EnableAVX2", "0"));
        await Task.WhenAll(avx2, sse);
    }

    private static Task RunChildAsync(string expectedIsa, params (string Name, string Value)[] environment) =>
        ChildTestRun.RunAsync(string.Join("|", Subset.Select(s => $"FullyQualifiedName~{typeof(SimdFallbackTests).Namespace}.{s}")), $"CPU kernel tests with {expectedIsa} only", ChildTimeout, [.. environment, (ExpectedIsaVariable, expectedIsa)]);
}

/// <summary>Checks, in a <see cref="SimdFallbackTests"/> child, that the JIT really runs the intended instruction set.</summary>
public sealed class CpuSimdIsaTests
{
    [Fact]
    public void RunsWithTheExpectedInstructionSet()
    {
        switch (Environment.GetEnvironmentVariable(SimdFallbackTests.ExpectedIsaVariable))
        {
            case "avx2":
                Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should be disabled in this child");
                Assert.True(Vector256.IsHardwareAccelerated, "AVX2 should still be enabled in this child");
                break;
            case "sse":
                Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should be disabled in this child");
                Assert.False(Vector256.IsHardwareAccelerated, "AVX2 should be disabled in this child");
                break;
        }
    }
}
