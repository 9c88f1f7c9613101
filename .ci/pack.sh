#!/usr/bin/env bash
# Packs MechInterp.Core, MechInterp.Hooks, MechInterp.Saes, MechInterp.Interactive and MechInterp.Distributed (.nupkg + .snupkg) into a local folder feed and checks
# what is inside them: metadata, README, XML docs, symbols, nothing from tests/ or samples/.
#   feed:    $MECHINTERP_FEED (default artifacts/feed), holding VERSION with the packed version
#   version: $MECHINTERP_PACK_VERSION (default 0.1.0-ci.<UTC timestamp>, so a package cache never serves a stale build)
set -euo pipefail
cd "$(dirname "$0")/.."
FEED=${MECHINTERP_FEED:-$PWD/artifacts/feed}
VERSION=${MECHINTERP_PACK_VERSION:-0.1.0-ci.$(date -u +%Y%m%d%H%M%S)}
PACKAGES=(MechInterp.Core MechInterp.Hooks MechInterp.Saes MechInterp.Interactive MechInterp.Distributed)

rm -rf "$FEED" && mkdir -p "$FEED"
# One build of the libraries (a no-op after `dotnet test -c Release`); the packs then only change the package version.
for p in MechInterp.Saes MechInterp.Interactive MechInterp.Distributed; do timeout 900 dotnet build "src/$p" -c Release --nologo -v quiet; done
for p in "${PACKAGES[@]}"; do
  timeout 300 dotnet pack "src/$p" -c Release --no-build --nologo -v quiet -o "$FEED" -p:PackageVersion="$VERSION"
done
echo "$VERSION" > "$FEED/VERSION"

fail() { echo "pack check failed: $*" >&2; exit 1; }
for p in "${PACKAGES[@]}"; do
  nupkg="$FEED/$p.$VERSION.nupkg"; snupkg="$FEED/$p.$VERSION.snupkg"
  [[ -f "$nupkg" ]] || fail "$nupkg was not made"
  [[ -f "$snupkg" ]] || fail "$snupkg (symbols) was not made"
  files=$(unzip -Z1 "$nupkg")
  nuspec=$(unzip -p "$nupkg" "$p.nuspec")
  for f in README.md "lib/net10.0/$p.dll" "lib/net10.0/$p.xml"; do
    grep -qx "$f" <<<"$files" || fail "$p: $f is missing from the package"
  done
  # (listings go through variables: `unzip | grep -q` can fail under pipefail when grep stops reading early)
  symbols=$(unzip -Z1 "$snupkg")
  grep -qx "lib/net10.0/$p.pdb" <<<"$symbols" || fail "$p: the symbols package has no $p.pdb"
  if grep -iE '(^|/)(tests?|samples?|benchmarks?|Fixtures)/|\.(safetensors|ipynb)$|MechInterp\.Tests' <<<"$files"; then
    fail "$p: the package contains files from tests, samples or benchmarks (above)"
  fi
  for tag in "<id>$p</id>" "<version>$VERSION</version>" '<license type="expression">MIT</license>' '<readme>README.md</readme>' \
             '<description>' '<tags>' '<repository type="git" url="' '<projectUrl>'; do
    grep -qF "$tag" <<<"$nuspec" || fail "$p: the nuspec lacks $tag"
  done
  if [[ -n $(find "src/$p" -name '*.cs' -not -path '*/obj/*' -not -path '*/bin/*' -print -quit) ]]; then
    xmldoc=$(unzip -p "$nupkg" "lib/net10.0/$p.xml")
    [[ $(grep -c '<member name=' <<<"$xmldoc") -gt 0 ]] || fail "$p: the XML documentation is empty"
  fi
  echo "packed $p $VERSION: $(wc -l <<<"$files") files"
done
grep -q 'buildTransitive/MechInterp.Core.targets' <<<"$(unzip -Z1 "$FEED/MechInterp.Core.$VERSION.nupkg")" \
  || fail "MechInterp.Core: buildTransitive/MechInterp.Core.targets (the libtorch loader fix for NuGet users) is missing"
grep -qF "<dependency id=\"MechInterp.Core\" version=\"$VERSION\"" <<<"$(unzip -p "$FEED/MechInterp.Hooks.$VERSION.nupkg" MechInterp.Hooks.nuspec)" \
  || fail "MechInterp.Hooks does not depend on MechInterp.Core $VERSION"
grep -qF "<dependency id=\"MechInterp.Saes\" version=\"$VERSION\"" <<<"$(unzip -p "$FEED/MechInterp.Distributed.$VERSION.nupkg" MechInterp.Distributed.nuspec)" \
  || fail "MechInterp.Distributed does not depend on MechInterp.Saes $VERSION"
echo "feed: $FEED (version $VERSION)"
