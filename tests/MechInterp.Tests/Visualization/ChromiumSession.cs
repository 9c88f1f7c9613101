using PuppeteerSharp;
using Xunit;

namespace MechInterp.Tests.Visualization;

/// <summary>
/// One headless Chromium shared by the browser tests of a class, started on first use (PuppeteerSharp driving the
/// system's Chromium; nothing is downloaded). <see cref="Render"/> loads a page from a file, collects script errors,
/// console errors (CSP violations included) and requests, and saves the page and its screenshot under
/// <see cref="ArtifactsDir"/>: $MECHINTERP_SCREENSHOTS, or bin/.../artifacts/screenshots.
/// </summary>
public sealed class ChromiumSession : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IBrowser? _browser;
    private string? _profile;

    /// <summary>$MECHINTERP_CHROMIUM, else the first of chromium / chromium-browser / google-chrome found.</summary>
    public static string? ExecutablePath { get; } = Find();

    public static string ArtifactsDir { get; } = Environment.GetEnvironmentVariable("MECHINTERP_SCREENSHOTS") is { Length: > 0 } dir
        ? Path.GetFullPath(dir)
        : Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        if (_profile is not null) try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A loaded page and what happened while loading and using it.</summary>
    public sealed record RenderedPage(IPage Page, List<string> Errors, List<string> Requests, string Name) : IAsyncDisposable
    {
        /// <summary>Saves the screenshot (full page) as <c>{Name}.png</c> and returns its path.</summary>
        public async Task<string> ScreenshotAsync(string? suffix = null)
        {
            string path = Path.Combine(ArtifactsDir, Name + (suffix is null ? "" : "-" + suffix) + ".png");
            await Page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
            Assert.True(new FileInfo(path).Length > 1000, $"screenshot {path} is (nearly) empty");
            return path;
        }

        public void AssertNoErrors() =>
            Assert.True(Errors.Count == 0, $"{Name}: the page reported script or console errors:\n  " + string.Join("\n  ", Errors));

        public Task<T> Eval<T>(string script) => Page.EvaluateExpressionAsync<T>(script);

        public ValueTask DisposeAsync() => new(Page.CloseAsync());
    }

    /// <summary>Writes <paramref name="html"/> to {ArtifactsDir}/{name}.html, opens it and waits for the load event.</summary>
    public async Task<RenderedPage> Render(string name, string html)
    {
        Directory.CreateDirectory(ArtifactsDir);
        string file = Path.Combine(ArtifactsDir, name + ".html");
        await File.WriteAllTextAsync(file, html);
        var browser = await Browser();
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1200, Height = 800 });
        var rendered = new RenderedPage(page, [], [], name);
        page.PageError += (_, e) => { lock (rendered.Errors) rendered.Errors.Add("page error: " + e.Message); };
        page.Console += (_, e) =>
        {
            if (e.Message.Type is ConsoleType.Error or ConsoleType.Warning)
                lock (rendered.Errors) rendered.Errors.Add($"console {e.Message.Type}: {e.Message.Text}");
        };
        page.Request += (_, e) => { lock (rendered.Requests) rendered.Requests.Add(e.Request.Url); };
        var response = await page.GoToAsync(new Uri(file).AbsoluteUri, new NavigationOptions { Timeout = 30_000 });
        Assert.NotNull(response);
        rendered.AssertNoErrors();
        return rendered;
    }

    private async Task<IBrowser> Browser()
    {
        await _gate.WaitAsync();
        try
        {
            if (_browser is not null) return _browser;
            string exe = ExecutablePath ?? throw new InvalidOperationException("no Chromium executable (the test should have been skipped)");
            _profile = Path.Combine(Path.GetTempPath(), "mechinterp-chromium-" + Guid.NewGuid().ToString("N"));
            _browser = await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = exe,
                Headless = true,
                UserDataDir = _profile,
                Timeout = 60_000,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run",
                        "--disable-extensions", "--mute-audio"],
            });
            return _browser;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("MECHINTERP_CHROMIUM") is { Length: > 0 } configured)
            return File.Exists(configured) ? configured : null;
        string[] names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin");
        foreach (var dir in dirs)
            foreach (var n in names)
            {
                string p = Path.Combine(dir, n);
                if (File.Exists(p)) return p;
            }
        return null;
    }
}
