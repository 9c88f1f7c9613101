using Xunit;

namespace MechInterp.Tests.Loading;

/// <summary>Model ids resolve through a fake Hugging Face hub cache tree built in a temp directory.</summary>
[Collection("HfEnvironment")]
public class HuggingFaceCacheTests
{
    private const string MainCommit = "0123456789abcdef0123456789abcdef01234567";
    private const string OldCommit = "fedcba9876543210fedcba9876543210fedcba98";

    private static string MakeRepo(string cache, string folder, (string Ref, string Commit)[] refs, string[] snapshots)
    {
        var repo = Path.Combine(cache, folder);
        foreach (var (r, c) in refs)
        {
            var refFile = Path.Combine(repo, "refs", r);
            Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
            File.WriteAllText(refFile, c + "\n");
        }
        foreach (var s in snapshots)
        {
            Directory.CreateDirectory(Path.Combine(repo, "snapshots", s));
            File.WriteAllText(Path.Combine(repo, "snapshots", s, "config.json"), "{}");
        }
        return repo;
    }

    [Fact]
    public void SearchOrderFollowsHuggingFaceHub()
    {
        var env = new Dictionary<string, string?>
        {
            ["HF_HUB_CACHE"] = "/a/hub", ["HF_HOME"] = "/b", ["XDG_CACHE_HOME"] = "/c",
        };
        Assert.Equal(new[] { "/a/hub", "/b/hub", "/c/huggingface/hub", "/home/u/.cache/huggingface/hub" },
            HuggingFaceCache.CacheDirectories(k => env.GetValueOrDefault(k), "/home/u"));
        Assert.Equal(new[] { "/home/u/.cache/huggingface/hub" }, HuggingFaceCache.CacheDirectories(_ => null, "/home/u"));
        Assert.Equal(new[] { "/home/u/x/hub", "/home/u/.cache/huggingface/hub" },
            HuggingFaceCache.CacheDirectories(k => k == "HF_HOME" ? "~/x" : null, "/home/u"));
        Assert.Equal("models--EleutherAI--pythia-70m", HuggingFaceCache.RepoFolderName("EleutherAI/pythia-70m"));
        Assert.Equal("models--gpt2", HuggingFaceCache.RepoFolderName("gpt2"));
        Assert.Throws<ArgumentException>(() => HuggingFaceCache.RepoFolderName("../etc"));
        Assert.Throws<ArgumentException>(() => HuggingFaceCache.RepoFolderName("a/b/c"));
    }

    [Fact]
    public void ResolvesIdsAndRevisionsThroughEnvironmentVariables()
    {
        using var root = new TempDir();
        var hubCache = Path.Combine(root.Path, "hubcache");
        var hfHome = Path.Combine(root.Path, "hfhome");
        MakeRepo(hubCache, "models--gpt2", [("main", MainCommit), ("v1.0", OldCommit)], [MainCommit, OldCommit]);
        MakeRepo(Path.Combine(hfHome, "hub"), "models--EleutherAI--pythia-70m", [("main", MainCommit), ("refs/pr/1", OldCommit)], [MainCommit, OldCommit]);
        MakeRepo(hubCache, "models--broken--snapshot", [("main", MainCommit)], []);

        var names = new[] { "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME" };
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", hubCache);
            Environment.SetEnvironmentVariable("HUGGINGFACE_HUB_CACHE", null);
            Environment.SetEnvironmentVariable("HF_HOME", hfHome);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(root.Path, "xdg"));

            Assert.Equal(Path.Combine(hubCache, "models--gpt2", "snapshots", MainCommit), HuggingFaceCache.ResolveSnapshot("gpt2"));
            Assert.Equal(Path.Combine(hubCache, "models--gpt2", "snapshots", OldCommit), HuggingFaceCache.ResolveSnapshot("gpt2", "v1.0"));
            Assert.Equal(Path.Combine(hubCache, "models--gpt2", "snapshots", OldCommit), HuggingFaceCache.ResolveSnapshot("gpt2", OldCommit));
            var pythia = Path.Combine(hfHome, "hub", "models--EleutherAI--pythia-70m", "snapshots");
            Assert.Equal(Path.Combine(pythia, MainCommit), HuggingFaceCache.ResolveSnapshot("EleutherAI/pythia-70m"));
            Assert.Equal(Path.Combine(pythia, OldCommit), HuggingFaceCache.ResolveSnapshot("EleutherAI/pythia-70m", "refs/pr/1"));
            Assert.True(File.Exists(Path.Combine(HuggingFaceCache.ResolveSnapshot("gpt2"), "config.json")));
            Assert.False(HuggingFaceCache.TryResolveSnapshot("gpt2", "nonexistent-branch", out _));

            var e = Assert.Throws<ModelNotFoundException>(() => HuggingFaceCache.ResolveSnapshot("meta-llama/Llama-2-7b", "dev"));
            Assert.Equal("meta-llama/Llama-2-7b", e.ModelId);
            var searched = new[]
            {
                Path.Combine(hubCache, "models--meta-llama--Llama-2-7b"),
                Path.Combine(hfHome, "hub", "models--meta-llama--Llama-2-7b"),
                Path.Combine(root.Path, "xdg", "huggingface", "hub", "models--meta-llama--Llama-2-7b"),
            };
            foreach (var s in searched) Assert.Contains(s, e.Message);
            Assert.Equal(searched, e.SearchedDirectories.Take(3));
            Assert.Contains("huggingface-cli download meta-llama/Llama-2-7b --revision dev", e.Message);

            // A ref whose snapshot folder is missing (interrupted download) is not a hit, and the message says where it looked.
            var broken = Assert.Throws<ModelNotFoundException>(() => HuggingFaceCache.ResolveSnapshot("broken/snapshot"));
            Assert.Contains(Path.Combine(hubCache, "models--broken--snapshot", "snapshots", MainCommit), broken.Message);
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }
}
