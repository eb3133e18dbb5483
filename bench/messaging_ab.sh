#!/usr/bin/env bash
# Scoring through Kafka on the Quarkus Messaging channels against the plain consumer loop they replaced,
# alternating on one broker: each round runs `inference bench` (a backlog of --count images on fresh
# petal.bench.* topics, then --light-count images at --rate per second) from this checkout and from a
# build of the plain loop at commit BASELINE (the last one before the channels; default 8e0f665).
# Prints each run's JSON line, then the medians and the ratio channels / plain.
#   bench/messaging_ab.sh [DATASET_DIR] [ROUNDS] [COUNT] [BASELINE]
#   (default: ../shared/datasets/flowers, 3 rounds, 2000 images, 8e0f665)
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${1:-../shared/datasets/flowers}"
rounds="${2:-3}"
count="${3:-2000}"
baseline="${4:-8e0f665}"
[[ -d "$dataset" ]] || { echo "messaging_ab: no dataset at $dataset" >&2; exit 2; }
plain=".petal/bench-baseline-$baseline"
if [[ ! -f "$plain/inference-service/target/quarkus-app/quarkus-run.jar" ]]; then
  echo "messaging_ab: building the plain loop at $baseline in $plain (once)" >&2
  rm -rf "$plain"
  git worktree add --force --detach "$plain" "$baseline" >/dev/null
  (cd "$plain" && ./mvnw -B -q -o -DskipTests package -pl inference-service -am >/dev/null)
fi
./petal up >/dev/null
./mvnw -B -q -o -DskipTests package -pl inference-service -am >/dev/null
bootstrap=$(sed -n 's/^kafka.bootstrap.servers=//p' .petal/stack.properties)
run() {  # $1: checkout; prints the bench's JSON line
  (cd "$1" && "${JAVA_HOME:-/usr}/bin/java" ${PETAL_JVM_OPTS:-} -Dquarkus.http.port=0 -Dquarkus.management.port=0 \
      -Dkafka.bootstrap.servers="$bootstrap" \
      -Dpetal.inference.input-topic=petal.bench.images -Dpetal.inference.output-topic=petal.bench.predictions \
      -Dpetal.inference.dead-letter-topic=petal.bench.dlq -Dpetal.inference.group=petal.bench \
      -jar inference-service/target/quarkus-app/quarkus-run.jar bench --images "$(realpath "$dataset")" \
      --count "$count" --light-count 100 --rate 10 | tail -1)
}
results=()
for round in $(seq "$rounds"); do
  for side in plain channels; do
    dir=.; [[ $side == plain ]] && dir="$plain"
    line=$(run "$dir")
    echo "{\"round\": $round, \"side\": \"$side\", \"bench\": $line}"
    results+=("$side	$line")
  done
done
printf '%s\n' "${results[@]}" | python3 bench/ab_medians.py channels plain
