using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MechInterp.Backends.Torch;

/// <summary>
/// Loads TorchSharp's native backend once per process, applies the thread-count setting and turns load failures
/// into <see cref="TorchUnavailableException"/>.
/// </summary>
internal static class TorchRuntime
{
    /// <summary>Environment variable with the number of intra-op threads libtorch should use (unset: libtorch's default).</summary>
    public const string ThreadsVariable = "MECHINTERP_TORCH_THREADS";

    /// <summary>AppContext switch (runtimeconfig property) with the same meaning as <see cref="ThreadsVariable"/>.</summary>
    public const string ThreadsAppContextKey = "MechInterp.TorchThreads";

    private static readonly Lazy<Exception?> s_loadError = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throws <see cref="TorchUnavailableException"/> unless libtorch is usable for <paramref name="device"/>.</summary>
    public static void EnsureAvailable(Device device)
    {
        if (s_loadError.Value is { } error)
            throw TorchUnavailableException.ForLoadFailure(device, error, ProbeNativeLoadError());
        if (device.Kind == DeviceKind.Cuda)
        {
            torch.TryInitializeDeviceType(DeviceType.CUDA);
            int count = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
            if (count == 0 || device.Index < 0 || device.Index >= count)
                throw TorchUnavailableException.ForMissingCuda(device, count);
        }
    }

    private static Exception? Load()
    {
        try
        {
            _ = torch.get_num_threads();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException
                                      or EntryPointNotFoundException or BadImageFormatException)
        {
            return e;
        }
        if (ConfiguredThreads() is { } n) torch.set_num_threads(n);
        return null;
    }

    /// <summary>The configured thread count, or null to keep libtorch's default.</summary>
    internal static int? ConfiguredThreads()
    {
        string? text = Environment.GetEnvironmentVariable(ThreadsVariable);
        string source = ThreadsVariable;
        if (string.IsNullOrWhiteSpace(text))
        {
            text = AppContext.GetData(ThreadsAppContextKey) as string;
            source = ThreadsAppContextKey;
        }
        return ParseThreads(text, source);
    }

    /// <summary>Parses a thread-count setting: empty means unset; otherwise a positive integer.</summary>
    internal static int? ParseThreads(string? text, string source)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0) return n;
        throw new ArgumentException($"{source}='{text}' is not a positive integer: set it to the number of libtorch threads (e.g. 2) or leave it unset for libtorch's default");
    }

    /// <summary>Loads TorchSharp's native library directly to capture the dynamic loader's own error text
    /// (TorchSharp's message hides it); null when nothing was found to load or it loaded.</summary>
    internal static string? ProbeNativeLoadError()
    {
        string file = TorchUnavailableException.NativeLibraryFileName;
        var dirs = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "" }.Distinct();
        foreach (var dir in dirs)
        {
            foreach (var candidate in new[] { Path.Combine(dir, file), Path.Combine(dir, "runtimes", TorchUnavailableException.RuntimeFolder, "native", file) })
            {
                if (!File.Exists(candidate)) continue;
                try
                {
                    NativeLibrary.Load(candidate);
                    return null;
                }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
                {
                    return $"{candidate}: {e.Message}";
                }
            }
        }
        return null;
    }
}
