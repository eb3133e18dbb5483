#!/usr/bin/env bash
# The ingest benchmark: the flower photos (read in place) into a fresh embedded broker, with validation.
#   ingest-service/bench.sh [DIR] [--compression none|lz4] [--check-only]
# Prints one JSON line with images/s and MB/s. Builds the test classes and their class path first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MVN=mvn; [[ -x ./mvnw ]] && MVN=./mvnw
$MVN -B -q -pl ingest-service -am -DskipTests package >&2
$MVN -B -q -pl ingest-service dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >&2
CP="ingest-service/target/test-classes:ingest-service/target/classes:$(cat ingest-service/target/bench.classpath)"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
[[ $# -eq 0 || "$1" == --* ]] && set -- "$ROOT/../shared/datasets/flowers" "$@"
exec java -Xmx2g -cp "$CP" dev.petal.ingest.bench.IngestBenchmark "$@"
