using System.Text.RegularExpressions;
using Xunit;

namespace MechInterp.Tests.Architecture;

/// <summary>
/// The layers of docs/architecture.md, checked on the source text so that a change that breaks them fails CI:
/// TorchSharp only in Backends/Torch, the managed backend's types only inside Backends, tensor handles and backends
/// reached only from Tensors, Autograd and Backends, Core never depending on the instrument or SAE packages (nor Hooks
/// on Saes), and no source file over 400 lines.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string Root = FindRoot();
    private static string Core => Path.Combine(Root, "src", "MechInterp.Core");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MechInterp.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no MechInterp.sln above {AppContext.BaseDirectory}: run the tests from a checkout");
    }

    private static IEnumerable<string> Sources(params string[] folders) =>
        folders.Select(f => Path.Combine(Root, f)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    /// <summary>Code lines of a file with comments removed (line comments, XML docs and block comments).</summary>
    private static IEnumerable<(int Line, string Code)> CodeLines(string file)
    {
        var text = Regex.Replace(File.ReadAllText(file), @"/\*.*?\*/", m => new string('\n', m.Value.Count(c => c == '\n')), RegexOptions.Singleline);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var code = Regex.Replace(lines[i], @"//.*$", "");
            code = Regex.Replace(code, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\""); // string literals say nothing about dependencies
            if (code.Trim().Length > 0) yield return (i + 1, code);
        }
    }

    private static string Rel(string path) => Path.GetRelativePath(Root, path);

    private static bool Under(string file, params string[] parts) =>
        Rel(file).StartsWith(Path.Combine(parts) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void NoMatches(IEnumerable<string> files, Regex pattern, Func<string, bool> allowed, string rule)
    {
        var hits = files.Where(f => !allowed(f))
            .SelectMany(f => CodeLines(f).Where(l => pattern.IsMatch(l.Code)).Select(l => $"{Rel(f)}:{l.Line}: {l.Code.Trim()}"))
            .ToList();
        Assert.True(hits.Count == 0, $"{rule}:\n{string.Join("\n", hits.Take(20))}");
    }

    [Fact]
    public void TorchSharpIsUsedOnlyInBackendsTorch() =>
        NoMatches(Sources("src"), new Regex(@"\bTorchSharp\b"), f => Under(f, "src", "MechInterp.Core", "Backends", "Torch"),
            "TorchSharp outside src/MechInterp.Core/Backends/Torch (put the call behind IBackend)");

    [Fact]
    public void ManagedBackendTypesStayInsideBackends() =>
        NoMatches(Sources("src"), new Regex(@"\bBackends\.Cpu\b|^\s*global\s+using"), f => Under(f, "src", "MechInterp.Core", "Backends"),
            "a Backends.Cpu type used outside src/MechInterp.Core/Backends (ask through Backends.StorageFacts or a Tensor member)");

    [Fact]
    public void HandlesAndBackendsAreReachedOnlyFromTensorsAutogradAndBackends() =>
        NoMatches(Sources("src"), new Regex(@"\.Handle\b|\.Backend\.|\bBackendRegistry\b|\bBackendOps\b"),
            f => Under(f, "src", "MechInterp.Core", "Tensors") || Under(f, "src", "MechInterp.Core", "Autograd") || Under(f, "src", "MechInterp.Core", "Backends"),
            ".Handle / .Backend used outside Tensors, Autograd and Backends (add an internal Tensor member instead)");

    [Theory]
    [InlineData("MechInterp.Core", new[] { "MechInterp.Hooks", "MechInterp.Saes", "MechInterp.Distributed" })]
    [InlineData("MechInterp.Hooks", new[] { "MechInterp.Saes", "MechInterp.Distributed" })]
    [InlineData("MechInterp.Saes", new[] { "MechInterp.Distributed" })]
    public void LowerLayersDoNotReferenceHigherOnes(string project, string[] higher)
    {
        var csproj = File.ReadAllText(Path.Combine(Root, "src", project, project + ".csproj"));
        foreach (var h in higher)
            Assert.False(csproj.Contains(h + ".csproj", StringComparison.Ordinal), $"{project} references {h}: the layers go Distributed → Saes → Hooks → Core");
        var forbidden = higher.Contains("MechInterp.Hooks")
            ? new[] { "MechInterp.Saes", "MechInterp.Distributed", "MechInterp.Patching", "MechInterp.Analysis", "MechInterp.Visualization" }
            : higher;
        var namespaces = new Regex(@"^\s*using\s+(" + string.Join("|", forbidden.Select(Regex.Escape)) + @")\b");
        NoMatches(Sources(Path.Combine("src", project)), namespaces, _ => false, $"{project} uses a namespace of a higher layer");
    }

    [Fact]
    public void NoSourceFileIsOver400Lines()
    {
        var long_ = Sources("src", "tests", "samples", "benchmarks")
            .Select(f => (File: Rel(f), Lines: File.ReadLines(f).Count()))
            .Where(x => x.Lines > 400).Select(x => $"{x.File}: {x.Lines} lines").ToList();
        Assert.True(long_.Count == 0, "split these files (one concept per file):\n" + string.Join("\n", long_));
    }

    /// <summary>Namespaces follow folders: the project's root namespace (MechInterp; MechInterp.Saes for the SAE
    /// package, MechInterp.Distributed for the cluster package) + the folder path inside the project (Backends/Cpu → MechInterp.Backends.Cpu), except that the surface a TransformerLens user types every day lives in
    /// <c>MechInterp</c> itself whatever its folder (docs/architecture.md states the rule).</summary>
    [Fact]
    public void NamespacesFollowFoldersOrAreTheUserFacingRoot()
    {
        var bad = new List<string>();
        foreach (var f in Sources("src"))
        {
            var m = Regex.Match(File.ReadAllText(f), @"^namespace\s+([A-Za-z0-9_.]+)", RegexOptions.Multiline);
            if (!m.Success) { bad.Add($"{Rel(f)}: no namespace"); continue; }
            var segments = Rel(Path.GetDirectoryName(f)!).Split(Path.DirectorySeparatorChar); // src/<Project>/...
            // A project's root namespace is MechInterp, except the SAE and cluster packages': MechInterp.Saes, MechInterp.Distributed.
            string root = segments[1] is "MechInterp.Saes" or "MechInterp.Distributed" ? segments[1] : "MechInterp";
            string folder = string.Join(".", new[] { root }.Concat(segments.Skip(2)));
            string ns = m.Groups[1].Value;
            if (ns != "MechInterp" && ns != folder) bad.Add($"{Rel(f)}: namespace {ns}, folder says {folder} (or MechInterp for user-facing types)");
        }
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }
}
