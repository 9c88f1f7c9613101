# Sourced by .ci/pack-smoke.sh and .ci/notebooks.sh: a scratch folder for a consumer of the packed packages, kept
# away from the repository's Directory.Build.props / .targets / Packages.props, and removed on exit together with
# this run's prerelease packages from the NuGet cache (only the version made for this run: *-ci.*).
# Needs VERSION; sets WORK (the folder) and GLOBAL (the NuGet global-packages folder).
WORK=$(mktemp -d "/tmp/mechinterp-${1:-consumer}.XXXXXX")
GLOBAL=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
cleanup() {
  rm -rf "$WORK"
  if [[ $VERSION == *-ci.* ]]; then
    for p in mechinterp.core mechinterp.hooks mechinterp.saes mechinterp.interactive; do
      rm -rf "${GLOBAL%/}/$p/$VERSION"
      rmdir "${GLOBAL%/}/$p" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo '<Project />' > "$WORK/$f"; done
