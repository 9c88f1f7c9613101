using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of reductions, scans and flips.</summary>
public class ReductionGradTests
{
    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["sum all"] = new(x => x[0].Sum(), Arg.Of(3, 4)),
        ["sum dim 1"] = new(x => x[0].Sum(1), Arg.Of(3, 4)),
        ["sum dim -1 keepDim"] = new(x => x[0].Sum(-1, keepDim: true), Arg.Of(2, 3, 4)),
        ["sum dims [0,2]"] = new(x => x[0].Sum([0, 2]), Arg.Of(2, 3, 4)),
        ["sum dims [0,2] keepDim"] = new(x => x[0].Sum([0, 2], keepDim: true), Arg.Of(2, 3, 4)),
        ["sum of 0-d tensor"] = new(x => x[0].Sum(), Arg.Of()),
        ["mean all"] = new(x => x[0].Mean(), Arg.Of(3, 4)),
        ["mean dim 0"] = new(x => x[0].Mean(0), Arg.Of(3, 4)),
        ["mean dim 1 keepDim"] = new(x => x[0].Mean(1, keepDim: true), Arg.Of(2, 3, 4)),
        ["mean dims [1,2]"] = new(x => x[0].Mean([1, 2]), Arg.Of(2, 3, 4)),
        ["mean dims [-1,0] keepDim"] = new(x => x[0].Mean([-1, 0], keepDim: true), Arg.Of(2, 3, 4)),
        ["mean of transposed input"] = new(x => x[0].T.Mean(1), Arg.Of(3, 4)),
        ["max dim 1"] = new(x => x[0].Max(1), Arg.Of(3, 5)),
        ["max dim 0 keepDim"] = new(x => x[0].Max(0, keepDim: true), Arg.Of(3, 5)),
        ["max all"] = new(x => x[0].Max(), Arg.Of(3, 5)),
        ["min dim -1"] = new(x => x[0].Min(-1), Arg.Of(2, 3, 4)),
        ["min all"] = new(x => x[0].Min(), Arg.Of(3, 5)),
        ["logsumexp dim 1"] = new(x => x[0].LogSumExp(1), Arg.Of(3, 5)),
        ["logsumexp dim 0 keepDim"] = new(x => x[0].LogSumExp(0, keepDim: true), Arg.Of(3, 5)),
        ["var dim 1 (unbiased)"] = new(x => x[0].Var(1), Arg.Of(3, 5)),
        ["var dim 0 biased keepDim"] = new(x => x[0].Var(0, keepDim: true, unbiased: false), Arg.Of(4, 3)),
        ["std dim 1"] = new(x => x[0].Std(1), Arg.Of(3, 5)),
        ["norm 2 all"] = new(x => x[0].Norm(), Arg.Of(3, 4)),
        ["norm 2 dim 1"] = new(x => x[0].Norm(2, 1), Arg.Of(3, 4)),
        ["norm 1 dim 0 keepDim"] = new(x => x[0].Norm(1, 0, keepDim: true), Arg.AwayFromZero(3, 4)),
        ["norm 3 all"] = new(x => x[0].Norm(3), Arg.AwayFromZero(3, 4)),
        ["norm inf dim 1"] = new(x => x[0].Norm(double.PositiveInfinity, 1), Arg.AwayFromZero(3, 4)),
        ["cumsum dim 0"] = new(x => x[0].CumSum(0), Arg.Of(4, 3)),
        ["cumsum dim -1"] = new(x => x[0].CumSum(-1), Arg.Of(2, 3, 4)),
        ["cumsum on transposed input"] = new(x => x[0].T.CumSum(1), Arg.Of(4, 3)),
        ["flip dim 0"] = new(x => x[0].Flip(0), Arg.Of(4, 3)),
        ["flip dim -1"] = new(x => x[0].Flip(-1), Arg.Of(2, 3, 4)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
