#!/usr/bin/env bash
# Issue 16's measurements, ours beside the PyTorch peer in one run, printed as one table.
#   benchmarks/scripts/perf16.sh [REPS]          (default 15 timed runs per case; run from the repository root)
# Cases: workload A 1x128 quiet and with a competing single-threaded busy loop pinned to one core (taskset),
# A 8x128 and 1x1024, RunWithCache vs forward at each shape, fwd+bwd 8x128, cached generation of 32 tokens,
# 1024^3 GEMM (% of the 2-core FMA peak), the first five forwards after load (default runtime settings and with
# DOTNET_TieredCompilation=0). The peer is ../shared/bench/gpt2_tl_bench.py (needs
#   apt-get install -y python3-torch python3-numpy libopenblas0-openmp).
# Ours runs without waiting for a quiet machine (the point is the machine as it is); the peer is run with
# BENCH_QUIET=0 for the same reason. Log: /tmp/perf16-<time>.log.
set -uo pipefail
REPS=${1:-15}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ART=${PERF16_ARTIFACTS:-/tmp/art-perf16}
LOG=/tmp/perf16-$(date -u +%Y%m%dT%H%M%S).log
PEER_DIR=${PEER_DIR:-$ROOT/../shared/bench}
[ -d "$PEER_DIR" ] || PEER_DIR=/work/shared/bench
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736
dotnet build "$ROOT/benchmarks/MechInterp.Benchmarks" -c Release --artifacts-path "$ART" -v quiet --nologo >/dev/null || exit 1
B=$ART/bin/MechInterp.Benchmarks/release/MechInterp.Benchmarks.dll
HAVE_TORCH=0
/usr/bin/python3 -c "import torch" 2>/dev/null && HAVE_TORCH=1
[ $HAVE_TORCH = 1 ] || echo "python3-torch missing: the PyTorch column stays empty (apt-get install -y python3-torch python3-numpy libopenblas0-openmp)" | tee -a "$LOG"

BUSY_PID=
busy_on() { taskset -c "${BUSY_CORE:-1}" bash -c 'while :; do :; done' & BUSY_PID=$!; sleep 1; }
busy_off() { [ -n "$BUSY_PID" ] && kill "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null; BUSY_PID=; }
trap busy_off EXIT

ours() { # CASE SHAPE -> "median min max"
  local out; out=$(timeout 1200 dotnet "$B" --issue16 "$1" "$2" "$REPS" 2>&1); echo "$out" >>"$LOG"
  echo "$out" | grep '^RESULT' | sed -E 's/.*median ([0-9.]+) ms \| min ([0-9.]+) \| max ([0-9.]+).*/\1 \2 \3/'
}
peer() { # CASE BATCH SEQ -> "median min max"
  [ $HAVE_TORCH = 1 ] || { echo "- - -"; return; }
  local out; out=$(cd "$PEER_DIR" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 BENCH_QUIET=0 \
    timeout 1200 /usr/bin/python3 gpt2_tl_bench.py --case "$1" --batch "$2" --seq "$3" --reps "$REPS" --warmup 1 2>&1); echo "$out" >>"$LOG"
  echo "$out" | tail -1 | /usr/bin/python3 -c 'import json,sys
d=json.loads(sys.stdin.read())
print(*(f"{d[k]:.1f}" for k in ("ms_median", "ms_min", "ms_max")))' 2>/dev/null || echo "- - -"
}
row() { # LABEL OURS PEER
  read -r om omin omax <<<"$2"; read -r pm pmin pmax <<<"$3"
  local ratio=-; [[ "$pm" =~ ^[0-9.]+$ && "$om" =~ ^[0-9.]+$ ]] && ratio=$(/usr/bin/python3 -c "print(f'{$om/$pm:.2f}')")
  printf '| %s | %s (%s–%s) | %s (%s–%s) | %s |\n' "$1" "$om" "$omin" "$omax" "$pm" "$pmin" "$pmax" "$ratio" | tee -a "$LOG.table"
}

echo "perf16 $(date -u) build $(git -C "$ROOT" rev-parse --short HEAD) nproc $(nproc) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$LOG.table"
echo "| case | ours median ms (min–max) | PyTorch median ms (min–max) | ours / PyTorch |" | tee -a "$LOG.table"
echo "|---|---:|---:|---:|" | tee -a "$LOG.table"
row "A fwd 1×128, quiet" "$(ours fwd 1x128)" "$(peer fwd 1 128)"
busy_on; row "A fwd 1×128, busy loop on core ${BUSY_CORE:-1}" "$(ours fwd 1x128)" "$(peer fwd 1 128)"; busy_off
row "A fwd 8×128" "$(ours fwd 8x128)" "$(peer fwd 8 128)"
row "A fwd 1×1024" "$(ours fwd 1x1024)" "$(peer fwd 1 1024)"
for s in 1x128 8x128 1x1024; do
  f=$(ours fwd $s); c=$(ours cache $s)
  row "B RunWithCache $s (ours: vs our forward $(echo "$f" | cut -d' ' -f1) ms)" "$c" "$(peer cache ${s%x*} ${s#*x})"
done
row "C fwd+bwd 8×128" "$(ours fwdbwd 8x128)" "$(peer fwdbwd 8 128)"
row "D generate 32, KV cache (prompt 16)" "$(ours gen 1x16)" "$(peer gen_kv 1 16)"
echo "$(timeout 600 dotnet "$B" --issue16 gemm 0 10 | grep RESULT)" | tee -a "$LOG.table"
taskset -c 0 dotnet "$B" --issue16 gemm 0 3 | grep RESULT | sed 's/^/taskset -c 0 (1 core: pool sized from affinity): /' | tee -a "$LOG.table"
for tc in 1 0; do
  out=$(DOTNET_TieredCompilation=$tc timeout 600 dotnet "$B" --issue16 first5 1x128 "$REPS" 2>&1); echo "$out" >>"$LOG"
  echo "first five after load (DOTNET_TieredCompilation=$tc): $(echo "$out" | grep 'first five') | $(echo "$out" | grep RESULT | sed 's/.*| median/steady median/')" | tee -a "$LOG.table"
done
echo "table: $LOG.table, full log: $LOG"
