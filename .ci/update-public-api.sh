#!/usr/bin/env bash
# Regenerates each package's PublicAPI.Unshipped.txt from what the PublicApiAnalyzers report as undeclared (RS0016)
# and drops what they report as removed (RS0017). Run after a deliberate change of the public surface, then review the
# diff of the PublicAPI files: it is the list of public API changes. CI does not run this; the build fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/MechInterp.*/MechInterp.*.csproj; do
  dir=$(dirname "$project")
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done
log=$(mktemp)
dotnet build MechInterp.sln -c Release --no-incremental -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= > "$log" 2>&1 || true
for project in src/MechInterp.*/MechInterp.*.csproj; do
  dir=$(dirname "$project")
  {
    printf '#nullable enable\n'
    grep -F "[$PWD/$project]" "$log" | grep -oP "warning RS0016: Symbol '\K.*(?=' is not part of the declared public API)" | sort -u
  } > "$dir/PublicAPI.Unshipped.txt"
  echo "$dir: $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) public symbols"
done
rm -f "$log"
