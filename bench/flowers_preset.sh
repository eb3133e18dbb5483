#!/usr/bin/env bash
# The flowers-cpu training preset from scratch on the flower photos, through the real pipeline: the
# local stack, ingest to petal.train, ./petal train. Prints one JSON line per seed: held-out accuracy,
# the accuracy of the epoch the promotion gate chose (what serves), minutes of training (the ./petal train call),
# and the CPU it ran on.
#   bench/flowers_preset.sh [DATASET_DIR] [SEED...]     (default: ../shared/datasets/flowers, seeds 100 and 200)
# Extra trainer flags: PRESET_FLAGS="--epochs 50" bench/flowers_preset.sh
# Models are named MODEL_PREFIX-SEED (default flowers-preset); a new prefix times a first version, with no champion to score.
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${1:-../shared/datasets/flowers}"
shift || true
seeds=("$@")
((${#seeds[@]})) || seeds=(100 200)
[[ -d "$dataset" ]] || { echo "flowers_preset: no dataset at $dataset (a folder of class folders)" >&2; exit 2; }

./petal up >/dev/null
# Exit code 3: some photos conflict (identical bytes under two labels) and were left out, as the demo accepts.
./petal ingest dataset "$dataset" --dataset flowers >/dev/null || [[ $? == 3 ]]

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1), family $(lscpu | sed -n 's/^CPU family: *//p' | head -1), $(nproc) CPUs"
for seed in "${seeds[@]}"; do
  started=$(date +%s.%N)
  # shellcheck disable=SC2086
  summary=$(./petal train --preset flowers-cpu --dataset flowers --seed "$seed" --model-name "${MODEL_PREFIX:-flowers-preset}-$seed" ${PRESET_FLAGS:-} | tail -1)
  ended=$(date +%s.%N)
  python3 - "$summary" "$seed" "$started" "$ended" "$cpu" "${PRESET_FLAGS:-}" <<'PY'
import json, sys
summary, seed, started, ended, cpu, flags = sys.argv[1:]
run = json.loads(summary)
m, gate = run["metrics"], run.get("gate") or {}
# validAccuracy: the last epoch's; bestAccuracy: the run's best validated epoch, which the gate then promoted (the version
# that serves) unless an earlier champion scored higher (gateDecision).
print(json.dumps({"preset": "flowers-cpu", "flags": flags, "seed": int(seed), "validAccuracy": round(m["validAccuracy"], 4),
                  "bestAccuracy": gate.get("candidateAccuracy"), "bestVersion": gate.get("version"),
                  "gateDecision": gate.get("decision"),
                  "validImages": m.get("validImages"), "epochs": run["epoch"],
                  "minutes": round((float(ended) - float(started)) / 60, 2), "cpu": cpu}))
PY
done
