#!/usr/bin/env bash
# Live collection at fleet scale: three environments served by the API
# stand-in (examples/apiserver_standin.rs, one server per environment, real
# HTTP on 127.0.0.1, `limit`/`continue` pagination), audited together and
# one at a time, and all three with --jobs 1. Prints the median wall time and peak RSS of each, and the
# ratio of all three together to the slowest one alone.
#
# usage: benches/live.sh [PODS_PER_ENV] [RUNS] [LATENCY_MS]   (defaults: 10000 5 0)
#
# LATENCY_MS delays every answer of the stand-in, as a remote API server's
# round trip and list time would. With 0, the stand-in serializes pages on
# the same two cores confdrift parses them on, so the three environments
# compete for CPU with each other and with their servers.
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
RUNS=${2:-5}
LATENCY=${3:-0}
VARS=${VARS:-40}
PAGE=${PAGE:-500}
PER_WORKLOAD=10
WORKLOADS=$((PODS / PER_WORKLOAD))
OUT=${OUT:-$(mktemp -d)}
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin confdrift --example gen_fleet --example apiserver_standin
BIN=${CARGO_TARGET_DIR:-target}/release
$BIN/examples/gen_fleet --out "$OUT/fleet" --envs 3 --workloads "$WORKLOADS" --pods $PER_WORKLOAD --vars "$VARS" --drift 0.02 --seed 7
rm -f "$OUT/kubeconfig"
$BIN/examples/apiserver_standin --kubeconfig "$OUT/kubeconfig" --latency-ms "$LATENCY" \
  dev="$OUT/fleet/dev" staging="$OUT/fleet/staging" prod="$OUT/fleet/prod" 2>"$OUT/standin.log" &
STANDIN=$!
trap 'kill $STANDIN 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$OUT/kubeconfig" ] && break; sleep 0.1; done
[ -s "$OUT/kubeconfig" ] || { echo "the stand-in did not start:" >&2; cat "$OUT/standin.log" >&2; exit 2; }
export KUBECONFIG=$OUT/kubeconfig

# The shipped policy, as `audit` from the repository root uses it.
cat > "$OUT/confdrift.yaml" <<YAML
policies: [$PWD/policies]
environments:
  dev: {context: dev, page_size: $PAGE}
  staging: {context: staging, page_size: $PAGE}
  prod: {context: prod, page_size: $PAGE}
YAML
for env in dev staging prod; do
  printf 'policies: [%s]\nenvironments:\n  %s: {context: %s, page_size: %s}\n' "$PWD/policies" "$env" "$env" "$PAGE" > "$OUT/$env.yaml"
done

. benches/measure.sh

{
  for env in dev staging prod; do
    measure "$env" $BIN/confdrift audit --config "$OUT/$env.yaml" --format json --fail-on never
  done
  measure all-3 $BIN/confdrift audit --config "$OUT/confdrift.yaml" --format json --fail-on never
  measure all-3-j1 $BIN/confdrift audit --jobs 1 --config "$OUT/confdrift.yaml" --format json --fail-on never
} > "$OUT/results"

echo "live: 3 environments x $PODS pods x $VARS vars, page size $PAGE, latency ${LATENCY} ms per answer, median of $RUNS runs, $(nproc) cores"
awk '
  { name[NR]=$1; t[NR]=$2; m[NR]=$3; if (NR<=3 && $2>slow) slow=$2 }
  END {
    printf "%-8s %10s %12s\n", "what", "wall s", "peak RSS MB"
    for (i=1;i<=NR;i++) printf "%-8s %10.2f %12.1f\n", name[i], t[i], m[i]/1024
    printf "all 3 / slowest alone: %.2fx wall\n", t[4]/slow
  }' "$OUT/results"
