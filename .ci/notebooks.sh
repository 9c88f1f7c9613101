#!/usr/bin/env bash
# Runs every samples/notebooks/*.ipynb headless with dotnet-repl (local tool manifest dotnet-tools.json) against
# the locally packed packages, failing on any cell error. Each notebook is run from a copy whose MechInterp.*
# versions are this run's, restored from this run's feed (artifacts/feed, made by .ci/pack.sh; packed here when absent).
# Executed notebooks (with outputs) are kept in artifacts/notebooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FEED=${MECHINTERP_FEED:-$ROOT/artifacts/feed}
[[ -f $FEED/VERSION ]] || MECHINTERP_FEED=$FEED bash .ci/pack.sh
VERSION=$(cat "$FEED/VERSION")
OUT=$ROOT/artifacts/notebooks
mkdir -p "$OUT"
timeout 300 dotnet tool restore

source "$ROOT/.ci/consumer-workdir.sh" notebooks

shopt -s nullglob
notebooks=(samples/notebooks/*.ipynb)
(( ${#notebooks[@]} > 0 )) || { echo "no notebooks in samples/notebooks" >&2; exit 1; }
failed=0
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb")
  copy="$WORK/$name"
  # The notebooks say `#r "nuget: MechInterp.X, 0.1.0"` (a local pack); use this run's version, and let the kernel's
  # restore see the feed through MSBuild's RestoreAdditionalProjectSources (read from the environment).
  sed -e "s|\\(nuget: MechInterp\\.[A-Za-z]*\\), 0\\.1\\.0|\\1, $VERSION|g" "$nb" > "$copy"
  grep -q "nuget: MechInterp\.[A-Za-z]*, $VERSION" "$copy" || { echo "$name: no '#r \"nuget: MechInterp.<package>, 0.1.0\"' line" >&2; failed=1; continue; }
  echo "running $name"
  start=$SECONDS
  rc=0
  RestoreAdditionalProjectSources=$FEED MECHINTERP_REPO=$ROOT timeout 600 dotnet tool run dotnet-repl --run "$copy" --working-dir "$WORK" --exit-after-run \
      --output-format ipynb --output-path "$OUT/$name" < /dev/null > "$OUT/${name%.ipynb}.log" 2>&1 || rc=$?
  if (( rc != 0 )) || grep -q '"output_type": *"error"' "$OUT/$name" 2>/dev/null || [[ ! -s $OUT/$name ]]; then
    echo "$name FAILED (exit $rc); log:" >&2
    tail -n 60 "$OUT/${name%.ipynb}.log" >&2
    grep -o '"evalue": "[^"]*' "$OUT/$name" 2>/dev/null | head -n 10 >&2 || true
    failed=1
  else
    echo "$name ok ($((SECONDS - start)) s)"
  fi
done
exit $failed
