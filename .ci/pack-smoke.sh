#!/usr/bin/env bash
# Package smoke test: packs the libraries into a local folder feed (.ci/pack.sh), then creates a fresh net10.0
# console project outside the repository that references MechInterp.Hooks and MechInterp.Saes BY PACKAGE VERSION
# (no project reference), restores from that feed plus the machine's normal NuGet sources, and runs the gpt2-tiny
# fixture end to end (.ci/pack-smoke/Program.cs: loss vs the oracle, RunWithCache, an attention view, resid_pre
# activation patching vs the patching oracle and the self-patching identity).
# Every step is bounded by `timeout`. Set MECHINTERP_FEED to reuse a feed that .ci/pack.sh already made.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FEED=${MECHINTERP_FEED:-$ROOT/artifacts/feed}
if [[ -z ${MECHINTERP_FEED:-} || ! -f $FEED/VERSION ]]; then MECHINTERP_FEED=$FEED bash .ci/pack.sh; fi
VERSION=$(cat "$FEED/VERSION")
OUT=$ROOT/artifacts/pack-smoke
mkdir -p "$OUT"

source "$ROOT/.ci/consumer-workdir.sh" pack-smoke

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
