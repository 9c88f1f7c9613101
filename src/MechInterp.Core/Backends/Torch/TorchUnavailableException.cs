using System.Runtime.InteropServices;
using System.Text;

namespace MechInterp;

/// <summary>
/// Thrown when a Torch device (<see cref="Device.TorchCpu"/> or <see cref="Device.Cuda"/>) is asked for but libtorch
/// cannot be used: the native libtorch package is missing, its native library does not load on this system,
/// or (for CUDA) no CUDA device or CUDA build of libtorch is present. The message names the package to add or the fix.
/// </summary>
public sealed class TorchUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception with a message and the underlying load error.</summary>
    public TorchUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException) { }

    /// <summary>The device that was asked for, when known.</summary>
    public Device? RequestedDevice { get; private init; }

    /// <summary>The dynamic loader's own error text for TorchSharp's native library (e.g. a missing GLIBCXX
    /// symbol version), when it could be obtained.</summary>
    public string? NativeLoadError { get; private init; }

    /// <summary>The libtorch package for this operating system and architecture (CPU build).</summary>
    internal static string CpuPackageForThisPlatform()
    {
        if (OperatingSystem.IsWindows()) return "libtorch-cpu-win-x64";
        if (OperatingSystem.IsMacOS()) return "libtorch-cpu-osx-arm64";
        return "libtorch-cpu-linux-x64";
    }

    /// <summary>The libtorch CUDA package for this operating system.</summary>
    internal static string CudaPackageForThisPlatform() =>
        OperatingSystem.IsWindows() ? "libtorch-cuda-12.8-win-x64" : "libtorch-cuda-12.8-linux-x64";

    /// <summary>Builds the exception for a failure to load TorchSharp's native backend.</summary>
    /// <param name="device">The device that was asked for.</param>
    /// <param name="loadError">What TorchSharp threw (usually a <see cref="TypeInitializationException"/>).</param>
    /// <param name="nativeLoadError">The dynamic loader's error text, when a direct load was attempted.</param>
    internal static TorchUnavailableException ForLoadFailure(Device device, Exception loadError, string? nativeLoadError)
    {
        var details = new StringBuilder();
        for (Exception? e = loadError; e is not null; e = e.InnerException)
            details.Append(e.Message).Append('\n');
        if (nativeLoadError is not null) details.Append(nativeLoadError);
        string all = details.ToString();

        var sb = new StringBuilder();
        sb.Append($"device '{device}' needs libtorch, but TorchSharp's native backend could not be loaded. ");
        if (all.Contains("GLIBCXX", StringComparison.Ordinal))
        {
            sb.Append("The loader reports a missing GLIBCXX symbol version: TorchSharp's libLibTorchSharp.so asks for ")
              .Append("GLIBCXX_3.4.32 (GCC 13's libstdc++), which this system's libstdc++ lacks (e.g. Debian 12). ")
              .Append("MechInterp.Core's build step (target MechInterpPatchLibTorchSharp in buildTransitive/MechInterp.Core.targets) ")
              .Append("marks that requirement weak in the copy of libLibTorchSharp.so in your build and publish output; ")
              .Append("rebuild the application (on Linux, or with a linux RuntimeIdentifier) so the step runs on the copy that is loaded, ")
              .Append("or install a libstdc++ from GCC 13 or newer. ");
        }
        else if (device.Kind == DeviceKind.Cuda)
        {
            sb.Append($"Add the package '{CudaPackageForThisPlatform()}' (or another libtorch-cuda-* package matching your CUDA driver) ")
              .Append("next to TorchSharp in the application project, or use the TorchSharp-cuda-linux / TorchSharp-cuda-windows bundle. ");
        }
        else
        {
            sb.Append($"Add the package '{CpuPackageForThisPlatform()}' (version 2.10.0, matching TorchSharp 0.107.0) to the ")
              .Append("application project, or the TorchSharp-cpu bundle instead of TorchSharp. ")
              .Append("Or use Device.Cpu, the managed backend, which needs no native library. ");
        }
        sb.Append("Loader details: ").Append(FirstLines(all, 6));
        return new TorchUnavailableException(sb.ToString().TrimEnd(), loadError)
        {
            RequestedDevice = device,
            NativeLoadError = nativeLoadError,
        };
    }

    /// <summary>Builds the exception for a CUDA device that is not available.</summary>
    internal static TorchUnavailableException ForMissingCuda(Device device, int visibleDevices)
    {
        string msg = visibleDevices == 0
            ? $"device '{device}' needs CUDA, but libtorch reports no CUDA device: no NVIDIA GPU/driver is visible, or only a CPU " +
              $"build of libtorch is referenced. Add the package '{CudaPackageForThisPlatform()}' (instead of a libtorch-cpu-* package) " +
              "on a machine with an NVIDIA driver, or use Device.TorchCpu / Device.Cpu."
            : $"device '{device}' does not exist: libtorch sees {visibleDevices} CUDA device(s) (cuda:0..cuda:{visibleDevices - 1}).";
        return new TorchUnavailableException(msg) { RequestedDevice = device };
    }

    private static string FirstLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines.Take(count));
    }

    /// <summary>Name of TorchSharp's native library file on this operating system.</summary>
    internal static string NativeLibraryFileName =>
        OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";

    /// <summary>The runtime identifier folder TorchSharp's package uses on this machine.</summary>
    internal static string RuntimeFolder =>
        (OperatingSystem.IsWindows() ? "win-" : OperatingSystem.IsMacOS() ? "osx-" : "linux-") +
        RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
}
