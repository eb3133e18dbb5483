#!/usr/bin/env bash
# The trainer end to end: images/s of a real training run reading petal.train (index, fetch, decode,
# preprocess, train step) against `./petal bench train` (the model alone on synthetic input), same
# arch, batch and size. Issue #9's bar: the Kafka run within 10% of the synthetic one.
#   bench/trainer_from_kafka.sh [DATASET_DIR] [--batch-size 32] [--image-size 224] [--precision fp32|bf16]
# Uses its own state directory (a fresh embedded Kafka and S3), so a running ./petal up is not touched.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$ROOT/../shared/datasets/flowers"
[[ $# -gt 0 && "$1" != --* ]] && { DATA="$1"; shift; }
BATCH=32; SIZE=224; PRECISION=fp32
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch-size) BATCH="$2"; shift 2 ;;
    --image-size) SIZE="$2"; shift 2 ;;
    --precision) PRECISION="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PETAL_STATE_DIR="$(mktemp -d)/petal-state"
trap './petal down >/dev/null 2>&1 || true; rm -rf "$(dirname "$PETAL_STATE_DIR")"' EXIT
./petal up >&2
# Exit 3: published, with some files rejected or conflicting (the flower photos have a few).
./petal ingest dataset "$DATA" >&2 || [[ $? -eq 3 ]]
MODEL="bench-$(date +%s)"
TRAIN_JSON="$(./petal train --model-name "$MODEL" --batch-size "$BATCH" --image-size "$SIZE" --epochs 1 --device cpu --precision "$PRECISION")"
SYNTH_JSON="$(./petal bench train --arch resnet18 --batch-size "$BATCH" --image-size "$SIZE" --steps 10 --precision "$PRECISION")"
python3 - "$TRAIN_JSON" "$SYNTH_JSON" <<'PY'
import json, sys
train, synth = json.loads(sys.argv[1]), json.loads(sys.argv[2].strip().splitlines()[-1])
kafka = train["metrics"]["imagesPerSecond"]
steady = train["metrics"].get("steadyImagesPerSecond")  # absent when the epoch had 3 steps or fewer
print(json.dumps({"fromKafkaImagesPerSec": round(kafka, 2),
                  "fromKafkaSteadyImagesPerSec": None if steady is None else round(steady, 2),
                  "syntheticImagesPerSec": synth["imagesPerSec"], "ratio": round(kafka / synth["imagesPerSec"], 3),
                  "steadyRatio": None if steady is None else round(steady / synth["imagesPerSec"], 3),
                  "trainImages": train["metrics"]["trainImages"],
                  "batchSize": synth["batchSize"], "imageSize": synth["imageSize"], "precision": synth["precision"]}))
PY
