namespace MechInterp;

/// <summary>
/// Finds models already downloaded by Python tools in the local Hugging Face hub cache. A model id
/// (<c>"gpt2"</c>, <c>"EleutherAI/pythia-70m"</c>) at a revision (branch, tag or commit; default <c>main</c>)
/// resolves to <c>{cache}/models--{org}--{name}/snapshots/{commit}</c>, where <c>refs/{revision}</c> holds the
/// commit hash. Caches are searched in the order huggingface_hub uses: <c>HF_HUB_CACHE</c> (and the legacy
/// <c>HUGGINGFACE_HUB_CACHE</c>), <c>HF_HOME/hub</c>, <c>XDG_CACHE_HOME/huggingface/hub</c>,
/// <c>~/.cache/huggingface/hub</c>. Nothing here uses the network.
/// </summary>
public static class HuggingFaceCache
{
    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary>The hub cache directories to search, in order, from the current environment (duplicates removed;
    /// directories need not exist).</summary>
    public static IReadOnlyList<string> CacheDirectories() =>
        CacheDirectories(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The cache folder name of <paramref name="modelId"/>: <c>models--{org}--{name}</c>.</summary>
    public static string RepoFolderName(string modelId)
    {
        ValidateModelId(modelId);
        return "models--" + modelId.Replace("/", "--", StringComparison.Ordinal);
    }

    /// <summary>The snapshot directory of <paramref name="modelId"/> at <paramref name="revision"/> (default
    /// <c>main</c>). Throws <see cref="ModelNotFoundException"/> listing every directory searched.</summary>
    /// <param name="modelId">A Hugging Face model id, <c>name</c> or <c>org/name</c>.</param>
    /// <param name="revision">A branch or tag (looked up in <c>refs/</c>) or a commit hash.</param>
    public static string ResolveSnapshot(string modelId, string? revision = null)
    {
        var rev = revision ?? DefaultRevision;
        if (TryResolveSnapshot(modelId, rev, CacheDirectories(), out var snapshot, out var searched)) return snapshot;
        throw new ModelNotFoundException(modelId, rev, searched);
    }

    /// <summary>Like <see cref="ResolveSnapshot"/>, returning false instead of throwing when not found.</summary>
    public static bool TryResolveSnapshot(string modelId, string? revision, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? snapshotDirectory) =>
        TryResolveSnapshot(modelId, revision ?? DefaultRevision, CacheDirectories(), out snapshotDirectory, out _);

    /// <summary>Searches <paramref name="cacheDirectories"/> in order; <paramref name="searched"/> lists every
    /// directory looked in (each cache root, and the model folder inside it).</summary>
    internal static bool TryResolveSnapshot(string modelId, string revision, IReadOnlyList<string> cacheDirectories,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? snapshot, out List<string> searched)
    {
        var folder = RepoFolderName(modelId);
        ValidateRevision(revision);
        searched = [];
        snapshot = null;
        foreach (var cache in cacheDirectories)
        {
            var repo = Path.Combine(cache, folder);
            searched.Add(repo);
            if (!Directory.Exists(repo)) continue;
            var snapshots = Path.Combine(repo, "snapshots");
            // A commit hash names its snapshot directly.
            var direct = Path.Combine(snapshots, revision);
            if (!revision.Contains('/') && Directory.Exists(direct)) { snapshot = direct; return true; }
            var refFile = Path.Combine(repo, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
            if (!File.Exists(refFile)) continue;
            var commit = ReadCommit(refFile);
            if (commit is null) continue;
            var resolved = Path.Combine(snapshots, commit);
            searched.Add(resolved);
            if (Directory.Exists(resolved)) { snapshot = resolved; return true; }
        }
        return false;
    }

    /// <summary>The search order, from an environment lookup and a home directory (testable form).</summary>
    internal static IReadOnlyList<string> CacheDirectories(Func<string, string?> env, string? home)
    {
        var dirs = new List<string>();
        void Add(string? dir)
        {
            if (string.IsNullOrWhiteSpace(dir)) return;
            var full = Path.GetFullPath(ExpandHome(dir, home));
            if (!dirs.Contains(full, StringComparer.Ordinal)) dirs.Add(full);
        }
        Add(env("HF_HUB_CACHE"));
        Add(env("HUGGINGFACE_HUB_CACHE"));
        var hfHome = env("HF_HOME");
        if (!string.IsNullOrWhiteSpace(hfHome)) Add(Path.Combine(ExpandHome(hfHome, home), "hub"));
        var xdg = env("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) Add(Path.Combine(ExpandHome(xdg, home), "huggingface", "hub"));
        if (!string.IsNullOrWhiteSpace(home)) Add(Path.Combine(home, ".cache", "huggingface", "hub"));
        return dirs;
    }

    private static string ExpandHome(string path, string? home) =>
        home is not null && (path == "~" || path.StartsWith("~/", StringComparison.Ordinal)) ? home + path[1..] : path;

    private static string? ReadCommit(string refFile)
    {
        var info = new FileInfo(refFile);
        if (info.Length > 1024) return null;
        var commit = File.ReadAllText(refFile).Trim();
        return IsPlainSegment(commit) ? commit : null;
    }

    private static void ValidateModelId(string modelId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        var parts = modelId.Split('/');
        if (parts.Length > 2 || !parts.All(IsPlainSegment))
            throw new ArgumentException($"'{modelId}' is not a Hugging Face model id: use 'name' or 'org/name' (for example 'gpt2' or 'EleutherAI/pythia-70m')", nameof(modelId));
    }

    private static void ValidateRevision(string revision)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(revision);
        if (!revision.Split('/').All(IsPlainSegment))
            throw new ArgumentException($"'{revision}' is not a revision: use a branch, tag or commit hash (for example 'main')", nameof(revision));
    }

    private static bool IsPlainSegment(string s) =>
        s.Length > 0 && s != "." && s != ".." && s.IndexOfAny(['\\', '/', '\0', ':']) < 0 && !s.Any(char.IsControl);
}
