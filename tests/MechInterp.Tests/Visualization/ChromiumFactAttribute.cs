using Xunit;

namespace MechInterp.Tests.Visualization;

/// <summary>A fact that needs a Chromium executable: skipped, with a message saying how to install it, when none is
/// found (xunit 2 decides skips at discovery, so the attribute sets <see cref="FactAttribute.Skip"/> itself).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (ChromiumSession.ExecutablePath is null)
            Skip = "Chromium not found, so the HTML views were not checked in a browser: install Debian's chromium " +
                   "(apt-get install -y chromium; .ci/run does this) or set MECHINTERP_CHROMIUM to a Chromium/Chrome executable";
    }
}
