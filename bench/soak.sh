#!/usr/bin/env bash
# Soak: the real inference service (the process ./petal up starts) at a steady rate for a long time,
# with a hot reload every so often; counts must reconcile and resident memory stay flat (issue #8).
#   bench/soak.sh [soak options]      default: --images ../shared/datasets/flowers --minutes 10 --rate 10 --reload-every 2m
#   e.g. bench/soak.sh --images ../shared/datasets/flowers --minutes 1 --reload-every 20s
# Starts its own stack (fresh embedded Kafka and S3 in a temporary state directory, so a running
# ./petal up is not touched), runs ./petal soak, stops the stack. The JSON line goes to
# $SOAK_OUT (default .petal/soak/soak-<time>.json), progress and the stack's output to the .log beside
# it, and the service's own log to the -inference.log beside it. Exit code: the soak's (0 good,
# 1 counts do not reconcile, 3 memory grew, 2 set-up).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
SOAK_OUT="${SOAK_OUT:-$ROOT/.petal/soak/soak-$STAMP.json}"
LOG="${SOAK_OUT%.json}.log"
mkdir -p "$(dirname "$SOAK_OUT")"
ARGS=("$@")
if [[ ${#ARGS[@]} -eq 0 ]]; then
  ARGS=(--images "$ROOT/../shared/datasets/flowers" --minutes 10 --rate 10 --reload-every 2m)
fi
export PETAL_STATE_DIR="$(mktemp -d)/petal-state"
cleanup() {
  ./petal down >>"$LOG" 2>&1 || true
  cp "$PETAL_STATE_DIR/logs/inference.log" "${SOAK_OUT%.json}-inference.log" 2>/dev/null || true
  rm -rf "$(dirname "$PETAL_STATE_DIR")"
}
trap cleanup EXIT
echo "soak: ./petal up (state $PETAL_STATE_DIR); log $LOG" >&2
./petal up >>"$LOG" 2>&1
echo "soak: ./petal soak ${ARGS[*]}" | tee -a "$LOG" >&2
set +e
./petal soak "${ARGS[@]}" >"$SOAK_OUT" 2> >(tee -a "$LOG" >&2)
rc=$?
set -e
echo "soak: exit $rc; JSON in $SOAK_OUT" >&2
cat "$SOAK_OUT"
exit $rc
