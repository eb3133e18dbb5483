#!/usr/bin/env bash
# Scoring through Kafka: Petal's inference service against the Python consumer a user would write instead
# (bench/python_consumer.py: confluent-kafka, PIL, torchvision under torch.jit.freeze, channels-last), alternating
# on one broker of the local stack, both under the launcher's environment (`./petal env`: tcmalloc when installed).
# Each side sends a backlog of COUNT images to fresh topics of its own and measures images/s from the first send to
# the last prediction read back, then 100 images at 10/s for latency. Prints each run's JSON line, then the medians
# and the ratio Petal / Python.
#   bench/pipeline.sh [DATASET_DIR] [ROUNDS] [COUNT] [PYTHON]
#   (default: ../shared/datasets/flowers, 3 rounds, 2000 images, /usr/bin/python3)
# PETAL_INFERENCE_PRECISION=bf16 or int8 runs the service in that precision (int8 calibrated on 256 of the images); the
# Python consumer stays in fp32.
# PETAL_INFERENCE_RUNTIME=libtorch or onnxruntime pins the service's serving runtime (default auto: the faster one, timed at load).
# LIGHT_RATE=N sends the light-load images at N/s (default 10; lower it for 12 MP photos, bench/make_12mp.py).
# WARMUP=N scores N images on each side before its backlog (default 2 batches). Set it to the backlog's size to
# measure a running service, whose heap has already grown, rather than a fresh JVM.
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${1:-../shared/datasets/flowers}"
rounds="${2:-3}"
count="${3:-2000}"
python="${4:-/usr/bin/python3}"
rate="${LIGHT_RATE:-10}"
warmup=(); [[ -n "${WARMUP:-}" ]] && warmup=(--warmup-count "$WARMUP")
[[ -d "$dataset" ]] || { echo "pipeline: no dataset at $dataset" >&2; exit 2; }
"$python" -c 'import torch, torchvision, confluent_kafka, PIL' 2>/dev/null || {
  echo "pipeline: $python lacks torch, torchvision, confluent_kafka or PIL" \
       "(apt-get install python3-torch python3-torchvision python3-confluent-kafka python3-pil)" >&2; exit 2; }
./petal up >/dev/null
bootstrap=$(sed -n 's/^kafka.bootstrap.servers=//p' .petal/stack.properties)
while IFS= read -r line; do export "${line?}"; done < <(./petal env)
results=()
for round in $(seq "$rounds"); do
  for side in petal python; do
    if [[ $side == petal ]]; then
      line=$(./petal inference bench --images "$dataset" --count "$count" ${warmup[@]+"${warmup[@]}"} --light-count 100 --rate "$rate" | tail -1)
    else
      line=$("$python" bench/python_consumer.py --bootstrap "$bootstrap" --images "$dataset" --count "$count" \
             ${warmup[@]+"${warmup[@]}"} --light-count 100 --rate "$rate" | tail -1)
    fi
    echo "{\"round\": $round, \"side\": \"$side\", \"bench\": $line}"
    results+=("$side	$line")
  done
done
printf '%s\n' "${results[@]}" | "$python" bench/ab_medians.py petal python
