#!/usr/bin/env bash
# On a GPU machine: builds DJL's JNI against the machine's libtorch, then runs bench/compare.py with Petal's model
# benchmark taken from the bundle of bench/gpu/bundle.sh (./petal bench's command on a JRE, no Quarkus) against
# bench/pytorch_reference.py, alternating, on the GPU.
# Usage, from the repository root with the bundle in $BUNDLE (default .gpu):  OUT=DIR bench/gpu/run.sh
# Figures: compare.py's summary (medians, ratio) per measurement in $OUT/results.jsonl. BUDGET (seconds, default 420)
# stops starting measurements. TL (torch's folder), PY, TV, FLAVOR and DEVICE may be set to try it on a CPU-only
# machine (FLAVOR=cpu DEVICE=cpu).
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
PETAL="/tmp/jre/bin/java -Dai.djl.pytorch.num_threads=$THREADS -Djna.library.path=$CUDART_DIRS -cp $B/classes:$B/lib/* GpuBench"
measure() { # label, compare.py arguments
  (( $(left) > 30 )) || { el "out of time before $1"; return; }
  local label=$1; shift; el "$label"
  local summary
  summary=$(timeout 600 "$PY" bench/compare.py "$@" --device "${DEVICE:-gpu}" --python "$PY" --threads "$THREADS" \
              --petal-command "$PETAL" | tail -1)
  echo "{\"label\":\"$label\",\"summary\":${summary:-null}}" >> "$OUT/results.jsonl"; tail -1 "$OUT/results.jsonl" | cut -c1-400; }
INFER="infer --runtime libtorch --references pytorch-frozen"
measure infer-b32 $INFER --batch-size 32 --steps 100 --warmup 10 --rounds 3
measure train-b32 train --batch-size 32 --steps 40 --warmup 5 --rounds 3
measure infer-b256 $INFER --batch-size 256 --steps 30 --warmup 5 --rounds 1
measure train-b256 train --batch-size 256 --steps 15 --warmup 3 --rounds 1
measure infer-b1 $INFER --batch-size 1 --steps 200 --warmup 20 --rounds 1
measure infer-bf16-b32 $INFER --precision bf16 --reference-precision bf16 --batch-size 32 --steps 100 --warmup 10 --rounds 1
el done
