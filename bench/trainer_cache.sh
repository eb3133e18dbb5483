#!/usr/bin/env bash
# Training larger than memory: images/s of one epoch on the flower photos with the image cache at a
# tenth of the encoded dataset (the rest read again from Kafka by offset during the epoch) against the
# whole dataset cached, alternating, through the real pipeline. Prints one JSON line per run and the ratio.
#   bench/trainer_cache.sh [DATASET_DIR] [ROUNDS]     (default: ../shared/datasets/flowers, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${1:-../shared/datasets/flowers}"
rounds="${2:-2}"
[[ -d "$dataset" ]] || { echo "trainer_cache: no dataset at $dataset" >&2; exit 2; }
encoded_mb=$(( $(du -sm "$dataset" | cut -f1) ))
tenth_mb=$(( encoded_mb / 10 ))
./petal up >/dev/null
./petal ingest dataset "$dataset" --dataset flowers >/dev/null || [[ $? == 3 ]]
flags=(--dataset flowers --epochs 1 --image-size 128 --batch-size 64 --precision bf16 --lr 2e-3 --warmup-iters 5)
results=()
for round in $(seq "$rounds"); do
  for cache in "$tenth_mb" $(( encoded_mb * 2 )); do
    summary=$(./petal train "${flags[@]}" --cache-mb "$cache" --model-name "cache-bench-$cache" | tail -1)
    rate=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1])["metrics"]; print(m.get("steadyImagesPerSecond", m["imagesPerSecond"]))' "$summary")
    echo "{\"round\": $round, \"cacheMb\": $cache, \"encodedMb\": $encoded_mb, \"imagesPerSecond\": $rate}"
    results+=("$cache:$rate")
  done
done
python3 - "$tenth_mb" "${results[@]}" <<'PY'
import statistics, sys
tenth = sys.argv[1]
rates = {"tenth": [], "full": []}
for r in sys.argv[2:]:
    cache, rate = r.split(":")
    rates["tenth" if cache == tenth else "full"].append(float(rate))
t, f = statistics.median(rates["tenth"]), statistics.median(rates["full"])
print('{"cacheTenthImagesPerSecond": %.2f, "fullyCachedImagesPerSecond": %.2f, "ratio": %.3f}' % (t, f, t / f))
PY
