#!/usr/bin/env bash
# Package smoke test: packs the libraries into a local folder feed (.ci/pack.sh), then creates a fresh net10.0
# console project outside the repository that references MechInterp.Hooks and MechInterp.Saes BY PACKAGE VERSION
# (no project reference), restores from that feed plus the machine's normal NuGet sources, and runs the gpt2-tiny
# fixture end to end (.ci/pack-smoke/Program.cs: loss vs the oracle, RunWithCache, an attention view).
# Every step is bounded by `timeout`. Set MECHINTERP_FEED to reuse a feed that .ci/pack.sh already made.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FEED=${MECHINTERP_FEED:-$ROOT/artifacts/feed}
if [[ -z ${MECHINTERP_FEED:-} || ! -f $FEED/VERSION ]]; then MECHINTERP_FEED=$FEED bash .ci/pack.sh; fi
VERSION=$(cat "$FEED/VERSION")
OUT=$ROOT/artifacts/pack-smoke
mkdir -p "$OUT"

WORK=$(mktemp -d /tmp/mechinterp-pack-smoke.XXXXXX)
GLOBAL=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
cleanup() {
  rm -rf "$WORK"
  # Drop this run's prerelease packages from the package cache (only the version made for this run).
  if [[ $VERSION == *-ci.* ]]; then
    for p in mechinterp.core mechinterp.hooks mechinterp.saes mechinterp.interactive; do
      rm -rf "${GLOBAL%/}/$p/$VERSION"
      rmdir "${GLOBAL%/}/$p" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT

# Keep the repository's Directory.Build.props / Directory.Packages.props (and anything above /tmp) out of it.
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo '<Project />' > "$WORK/$f"; done
cat > "$WORK/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <!-- Added to the machine's sources (not cleared), so dependencies come from the normal feed. -->
    <add key="mechinterp-local" value="$FEED" />
  </packageSources>
</configuration>
XML
cat > "$WORK/PackSmoke.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <WarningsNotAsErrors>NU1603</WarningsNotAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="MechInterp.Hooks" Version="[$VERSION]" />
    <PackageReference Include="MechInterp.Saes" Version="[$VERSION]" />
  </ItemGroup>
</Project>
XML
cp .ci/pack-smoke/Program.cs "$WORK/Program.cs"

echo "pack smoke: restoring a fresh consumer of MechInterp.* $VERSION in $WORK"
timeout 600 dotnet restore "$WORK/PackSmoke.csproj" --nologo -v quiet
# The project must have resolved our libraries from the local feed, not from project references.
grep -q "\"MechInterp.Core/$VERSION\"" "$WORK/obj/project.assets.json" || { echo "MechInterp.Core $VERSION did not come from the feed" >&2; exit 1; }
timeout 600 dotnet build "$WORK/PackSmoke.csproj" -c Release --no-restore --nologo -v quiet
timeout 300 dotnet "$WORK/bin/Release/net10.0/PackSmoke.dll" "$ROOT/tests/MechInterp.Tests/Fixtures/gpt2-tiny" "$OUT" | tee "$OUT/pack-smoke.txt"
echo "pack smoke passed"
