#!/usr/bin/env bash
# Measures, on the same generated fleet, in one run:
#   1. confdrift audit end to end on files (all environments at once, two
#      and one at a time with --jobs 2 and 1), and from snapshots of the same
#      files (all at once and one at a time);
#   2. the floor: parsing the same files into generic JSON values, one thread;
#   3. what people do by hand: jq extracts each container's env as sorted
#      key=value lines per environment, then diff.
# Prints wall time (median of RUNS) and peak RSS, and the ratios.
#
# usage: benches/compare.sh [PODS_PER_ENV] [RUNS]     (defaults: 10000 5)
#        SKIP_BASELINES=1 benches/compare.sh …         (confdrift's rows only)
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
RUNS=${2:-5}
VARS=${VARS:-40}
PER_WORKLOAD=10
WORKLOADS=$((PODS / PER_WORKLOAD))
OUT=${OUT:-$(mktemp -d)}
command -v jq >/dev/null && [ -x /usr/bin/time ] || { echo "needs jq and GNU time (apt-get install jq time)" >&2; exit 2; }

cargo build --release --quiet --bin confdrift --example gen_fleet --example parse_floor
BIN=${CARGO_TARGET_DIR:-target}/release
$BIN/examples/gen_fleet --out "$OUT/fleet" --envs 3 --workloads "$WORKLOADS" --pods $PER_WORKLOAD --vars "$VARS" --drift 0.02 --seed 7
INPUT_KB=$(du -sk "$OUT/fleet" | cut -f1)

. benches/measure.sh

# Snapshots of the same files, for the snapshot path; one key for all.
export CONFDRIFT_FINGERPRINT_KEY=bench
for env in dev staging prod; do
  $BIN/confdrift snapshot --env $env="$OUT/fleet/$env" --output "$OUT/$env.snapshot.json" 2>/dev/null
done

jq_diff() {
  for env in dev staging prod; do
    jq -r '.items[] | select(.kind=="Pod" or .kind==null) | .metadata.name as $p
           | .spec.containers[] | .name as $c | (.env // [])[]
           | "\($p|sub("-[a-z0-9]+-[a-z0-9]+$";""))/\($c) \(.name)=\(.value // (.valueFrom|tostring))"' \
      "$OUT/fleet/$env/pods.json" | sort -u > "$OUT/$env.env"
  done
  diff "$OUT/staging.env" "$OUT/prod.env" >/dev/null || true
  diff "$OUT/dev.env" "$OUT/prod.env" >/dev/null || true
}
export -f jq_diff; export OUT

{
  measure audit $BIN/confdrift audit --env dev="$OUT/fleet/dev" --env staging="$OUT/fleet/staging" --env prod="$OUT/fleet/prod" --format json --output "$OUT/report.json" --fail-on never
  measure audit-j2 $BIN/confdrift audit --jobs 2 --env dev="$OUT/fleet/dev" --env staging="$OUT/fleet/staging" --env prod="$OUT/fleet/prod" --format json --output "$OUT/report.json" --fail-on never
  measure audit-j1 $BIN/confdrift audit --jobs 1 --env dev="$OUT/fleet/dev" --env staging="$OUT/fleet/staging" --env prod="$OUT/fleet/prod" --format json --output "$OUT/report.json" --fail-on never
  measure snapshots $BIN/confdrift audit --env dev="$OUT/dev.snapshot.json" --env staging="$OUT/staging.snapshot.json" --env prod="$OUT/prod.snapshot.json" --format json --output "$OUT/report.json" --fail-on never
  measure snap-j1 $BIN/confdrift audit --jobs 1 --env dev="$OUT/dev.snapshot.json" --env staging="$OUT/staging.snapshot.json" --env prod="$OUT/prod.snapshot.json" --format json --output "$OUT/report.json" --fail-on never
  [ -n "${SKIP_BASELINES:-}" ] || measure floor $BIN/examples/parse_floor "$OUT/fleet/dev" "$OUT/fleet/staging" "$OUT/fleet/prod"
  [ -n "${SKIP_BASELINES:-}" ] || measure jq+diff bash -c jq_diff
} > "$OUT/results"

SNAP_KB=$(du -ck "$OUT"/*.snapshot.json | tail -1 | cut -f1)
echo "fleet: 3 environments x $PODS pods x $VARS vars, input ${INPUT_KB} KB (snapshots ${SNAP_KB} KB), median of $RUNS runs, $(nproc) cores"
awk -v input="$INPUT_KB" '
  { name[NR]=$1; t[NR]=$2; m[NR]=$3; at[$1]=$2 }
  END {
    printf "%-9s %10s %12s %14s\n", "what", "wall s", "peak RSS MB", "RSS / input"
    for (i=1;i<=NR;i++) printf "%-9s %10.2f %12.1f %14.2f\n", name[i], t[i], m[i]/1024, m[i]/input
    if ("floor" in at) {
      printf "audit / floor:   %.2fx wall\n", at["audit"]/at["floor"]
      printf "jq+diff / audit: %.2fx wall\n", at["jq+diff"]/at["audit"]
    }
  }' "$OUT/results"
