#!/usr/bin/env bash
# Builds DJL's PyTorch JNI (libdjl_torch.so) from the source bench/gpu/bundle.sh put in djl/ beside this script,
# against the libtorch in TORCH_DIR (a Python torch's folder: include/ and lib/). Built without USE_CUDA: CUDA still
# works, since DJL loads libtorch_cuda and CUDA tensors dispatch there; only emptying the CUDA cache and a separate
# inference stream are left out. ABI: 1 for PyTorch's wheels since 2.7 (torch._C._GLIBCXX_USE_CXX11_ABI).
# Usage: build-jni.sh TORCH_DIR JAVA_HOME OUT_SO [JOBS]
set -u
[[ $# -ge 3 ]] || { echo "usage: build-jni.sh TORCH_DIR JAVA_HOME OUT_SO [JOBS]" >&2; exit 2; }
TL=$1 JH=$2 OUT_SO=$3 JOBS=${4:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
ABI=${ABI:-1}
OBJ=$(mktemp -d)
export TL JH ABI OBJ HERE
compile() {
  n=$(basename "$1" .cc)
  g++ -c -O2 -fPIC -std=c++17 -w -D_GLIBCXX_USE_CXX11_ABI=$ABI -I"$HERE/djl/include" -I"$HERE/djl/utils" \
      -I"$TL/include" -I"$TL/include/torch/csrc/api/include" -I"$JH/include" -I"$JH/include/linux" \
      "$1" -o "$OBJ/$n.o" 2> "$OBJ/$n.err" || { echo "FAILED $n"; head -c 4000 "$OBJ/$n.err"; }
}
export -f compile
ls "$HERE"/djl/native/*.cc | xargs -P "$JOBS" -I{} bash -c 'compile {}'
n_src=$(ls "$HERE"/djl/native/*.cc | wc -l); n_obj=$(ls "$OBJ"/*.o 2>/dev/null | wc -l)
echo "compiled $n_obj of $n_src"
[[ $n_obj == "$n_src" ]] || exit 1
mkdir -p "$(dirname "$OUT_SO")"
g++ -shared -o "$OUT_SO" "$OBJ"/*.o -L"$TL/lib" -ltorch -ltorch_cpu -lc10 -Wl,-rpath,"$TL/lib" && ls -la "$OUT_SO"
