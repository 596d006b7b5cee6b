#!/usr/bin/env bash
# The fleet's central job at scale: three environments' snapshots pushed to
# a real S3-compatible server (s3s-fs on 127.0.0.1) by `snapshot --output
# s3://…/ENV/`, then audited from the bucket, all at once and with --jobs 1.
# Prints the median wall time and peak RSS of each.
#
# usage: benches/objstore.sh [PODS_PER_ENV] [RUNS]     (defaults: 10000 3)
# needs: s3s-fs on PATH (cargo install s3s-fs@0.14.1 --locked --features binary)
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
RUNS=${2:-3}
VARS=${VARS:-40}
PER_WORKLOAD=10
WORKLOADS=$((PODS / PER_WORKLOAD))
OUT=${OUT:-$(mktemp -d)}
command -v s3s-fs >/dev/null || { echo "needs s3s-fs (cargo install s3s-fs@0.14.1 --locked --features binary)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin confdrift --example gen_fleet
BIN=${CARGO_TARGET_DIR:-target}/release
$BIN/examples/gen_fleet --out "$OUT/fleet" --envs 3 --workloads "$WORKLOADS" --pods $PER_WORKLOAD --vars "$VARS" --drift 0.02 --seed 7

mkdir -p "$OUT/s3/fleet"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
s3s-fs --host 127.0.0.1 --port "$PORT" --access-key bench --secret-key benchsecret "$OUT/s3" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchsecret \
  AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true CONFDRIFT_FINGERPRINT_KEY=bench

. benches/measure.sh

ENVS=()
for env in dev staging prod; do
  $BIN/confdrift snapshot --env $env="$OUT/fleet/$env" --output "s3://fleet/confdrift/$env/" 2>/dev/null
  ENVS+=(--env "$env=s3://fleet/confdrift/$env/")
done
{
  measure bucket $BIN/confdrift audit "${ENVS[@]}" --format json --fail-on never
  measure bucket-j1 $BIN/confdrift audit --jobs 1 "${ENVS[@]}" --format json --fail-on never
} > "$OUT/results"

echo "object storage: 3 environments x $PODS pods x $VARS vars, snapshots in s3s-fs, median of $RUNS runs, $(nproc) cores"
awk '{ printf "%-9s %8.2f s %8.1f MB peak RSS\n", $1, $2, $3/1024 }' "$OUT/results"
