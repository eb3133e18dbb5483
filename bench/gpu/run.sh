#!/usr/bin/env bash
# On a GPU machine: builds DJL's JNI against the machine's libtorch, then runs Petal's model benchmark (./petal bench's
# command, from the bundle of bench/gpu/bundle.sh) and bench/pytorch_reference.py alternately, each pair on the GPU.
# Usage, from the repository root with the bundle in $BUNDLE (default .gpu):  OUT=DIR bench/gpu/run.sh
# Figures: one JSON line per side and pair in $OUT/results.jsonl. BUDGET (seconds, default 420) stops starting pairs.
# TL (torch's folder), PY, TV, FLAVOR, DEV, RDEV may be set to try it on a CPU-only machine (FLAVOR=cpu DEV=cpu RDEV=cpu).
set -u
: "${OUT:?set OUT to a folder for the results}"
B=${BUNDLE:-.gpu}
T0=$(date +%s)
el() { echo "[+$(( $(date +%s) - T0 ))s] $*"; }
left() { echo $(( T0 + ${BUDGET:-420} - $(date +%s) )); }
TL=${TL:-$(ls -d /opt/torch/.venv/lib/python3*/site-packages/torch 2>/dev/null | head -1)}
PY=${PY:-/opt/torch/.venv/bin/python3}; [[ -x $PY ]] || PY=python3
[[ -n "$TL" ]] || TL=$($PY -c 'import torch,os;print(os.path.dirname(torch.__file__))')
SP=$(dirname "$TL")
TV=${TV:-$($PY -c 'import torch;print(torch.__version__.split("+")[0])')}
FLAVOR=${FLAVOR:-cu130}
el "torch $TV at $TL; $(nvidia-smi -L 2>/dev/null | head -1); $(lscpu | grep -E 'CPU family|^Model:' | tr -s ' ' | tr '\n' ' ')"
tar xJf "$B/jre.txz" -C /tmp
# DJL looks for the JNI in its cache under libtorch's version and flavour.
JNI_DIR=/tmp/djlcache/pytorch/$TV-$FLAVOR-linux-x86_64
JNI=$JNI_DIR/$(cat "$B/djl-version")-libdjl_torch.so
[[ -f "$JNI" ]] || timeout 300 bash "$B/build-jni.sh" "$TL" /tmp/jre "$JNI" "$(nproc)" 2>&1 | tail -40
el "JNI built"
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184
export PYTORCH_LIBRARY_PATH="$TL/lib" PYTORCH_VERSION="$TV" PYTORCH_FLAVOR=$FLAVOR DJL_OFFLINE=true DJL_CACHE_DIR=/tmp/djlcache
CUDART_DIRS="/usr/local/cuda/lib64:$SP/nvidia/cu13/lib:$SP/nvidia/cuda_runtime/lib"
export LD_LIBRARY_PATH="$CUDART_DIRS:${LD_LIBRARY_PATH:-}"
THREADS=$(nproc)
petal() { timeout 100 /tmp/jre/bin/java -Dai.djl.pytorch.num_threads="$THREADS" -Djna.library.path="$CUDART_DIRS" $JOPT \
            -cp "$B/classes:$B/lib/*" GpuBench "$@" --device "${DEV:-gpu}" 2> /tmp/petal.err | tail -1 || true
          grep -E 'ERROR|Exception|Caused|symbol' /tmp/petal.err | head -4 >&2; }
ref() { timeout 100 $PY bench/pytorch_reference.py "$@" --device "${RDEV:-cuda}" --threads "$THREADS" 2> /tmp/ref.err | tail -1 || true
        tail -2 /tmp/ref.err >&2; }
record() { echo "{\"label\":\"$1\",\"side\":\"$2\",\"result\":${3:-null}}" >> "$OUT/results.jsonl"; tail -1 "$OUT/results.jsonl" | cut -c1-300; }
pair() { # label, petal args, reference args[, JVM option]
  (( $(left) > 30 )) || { el "out of time before $1"; return; }
  el "$1"; JOPT=${4:-}; record "$1" petal "$(petal $2 | grep '^{')"; record "$1" pytorch "$(ref $3 | grep '^{')"; }
TRAIN="train --batch-size 32 --steps 40 --warmup 5"
INFER="infer --batch-size 32 --steps 100 --warmup 10"
pair infer-b32-r1 "$INFER --runtime libtorch" "$INFER --jit-freeze"
pair train-b32-r1 "$TRAIN" "$TRAIN"
pair infer-b256 "infer --batch-size 256 --steps 30 --warmup 5 --runtime libtorch" "infer --batch-size 256 --steps 30 --warmup 5 --jit-freeze"
pair train-b256 "train --batch-size 256 --steps 15 --warmup 3" "train --batch-size 256 --steps 15 --warmup 3"
pair infer-b32-r2 "$INFER --runtime libtorch" "$INFER --jit-freeze"
pair train-b32-r2 "$TRAIN" "$TRAIN"
pair infer-b32-r3 "$INFER --runtime libtorch" "$INFER --jit-freeze"
pair infer-b1 "infer --batch-size 1 --steps 200 --warmup 20 --runtime libtorch" "infer --batch-size 1 --steps 200 --warmup 20 --jit-freeze"
pair infer-bf16-b32 "$INFER --precision bf16" "$INFER --jit-freeze --precision bf16"
pair infer-b32-cudnn-benchmark "$INFER --runtime libtorch" "$INFER --jit-freeze --cudnn-benchmark" -Dai.djl.pytorch.cudnn_benchmark=true
el done
