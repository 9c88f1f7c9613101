using System.Globalization;

namespace QuickStart;

/// <summary>Command line of the QuickStart sample.</summary>
internal sealed record QuickStartOptions(string OutputDirectory, bool Retrain, int TrainingSteps, string? ModelPath)
{
    public static QuickStartOptions Parse(string[] args)
    {
        string output = "quickstart-output";
        bool retrain = false;
        int steps = 1500;
        string? model = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": output = Value(); break;
                case "--retrain": retrain = true; break;
                case "--steps": steps = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--model": model = Value(); break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}': use --out <dir>, --retrain, --steps <n> or --model <dir or model id>");
            }
        }
        return new QuickStartOptions(output, retrain, steps, model);
    }

    /// <summary>Where the trained induction model is kept (a Hugging Face-style folder).</summary>
    public string ModelDirectory => Path.Combine(OutputDirectory, "attn-only-2l");
}
