using Spectre.Console;

namespace QuickStart;

/// <summary>Progress bars for the long steps (the library reports through IProgress; the sample draws it).</summary>
internal static class ConsoleUi
{
    /// <summary>Runs <paramref name="work"/> with one progress bar that it moves through the given callback (0..1).</summary>
    public static T WithProgress<T>(string description, Func<Action<double, string?>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: 1.0);
                result = work((fraction, note) =>
                {
                    task.Value = Math.Clamp(fraction, 0, 1);
                    if (note is not null) task.Description = Markup.Escape($"{description} {note}");
                });
                task.Value = 1.0;
            });
        return result;
    }

    /// <summary>An IProgress that forwards to a callback synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    public sealed class Callback<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
