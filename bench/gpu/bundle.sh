#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has PyTorch for Python but no Java, and a libtorch other than
# the one DJL ships a JNI for: a jlink'ed JRE with JNI headers, Petal's model jars and ./petal bench's entry point
# (no Quarkus), and DJL's JNI source for build-jni.sh. About 40 MB.
# Usage, after ./mvnw install -DskipTests:  bench/gpu/bundle.sh DJL_SOURCE [BUNDLE_DIR]
#   DJL_SOURCE: a git checkout of github.com/deepjavalibrary/djl (the tag of the parent pom's djl.version is used).
#   BUNDLE_DIR: default .gpu (git ignores it).
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: bench/gpu/bundle.sh DJL_SOURCE [BUNDLE_DIR]" >&2; exit 2; }
DJL=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
B=${2:-.gpu}
VERSION=$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' pom.xml)
JH=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
rm -rf "$B" && mkdir -p "$B"/{lib,classes,djl/native,djl/include,djl/utils/djl}

# The model module's runtime jars, less what a model benchmark never loads (object storage, Kafka, tests, OpenCV),
# and with their native libraries removed: the machine's own libtorch serves.
./mvnw -o -q -B dependency:build-classpath -pl model -Dmdep.includeScope=runtime -Dmdep.outputFile="$B/classpath.txt" > /dev/null
tr ':' '\n' < "$B/classpath.txt" \
  | grep -v -E '/(software/amazon|org/apache/httpcomponents|org/junit|org/opentest4j|org/apiguardian|org/apache/kafka|org/lz4|at/yawk|org/xerial|com/github/luben|org/bytedeco|com/google/protobuf|org/reactivestreams)/|-tests\.jar$' \
  | xargs -I{} cp {} "$B/lib/"
cp model/target/petal-model-*[0-9T].jar tools/target/petal-tools-*[0-9T].jar "$B/lib/"
for jar in "$B"/lib/{onnxruntime,pytorch-native,pytorch-jni}*.jar; do
  zip -q -d "$jar" '*.so' '*.so.*' '*.dylib' '*.dll' '*.pdb' '*.dSYM/*' '*.lib' > /dev/null 2>&1 || true
done
javac -d "$B/classes" -cp "$B/lib/*" bench/gpu/GpuBench.java

# A small JRE (a model benchmark needs no compiler), with the headers build-jni.sh compiles against.
"$JH/bin/jlink" --add-modules java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,java.desktop,jdk.crypto.ec,java.net.http,java.scripting,jdk.zipfs,java.security.jgss,jdk.management \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$B/jre"
cp -r "$JH/include" "$B/jre/include"
tar -C "$B" -cJf "$B/jre.txz" jre && rm -rf "$B/jre"

# DJL's JNI source at the tag Petal uses, and its JNI header.
git -C "$DJL" archive "v$VERSION" engines/pytorch/pytorch-native/src/main/native api/src/main/native/djl/utils.h \
    engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java | tar -x -C "$B/djl"
mv "$B"/djl/engines/pytorch/pytorch-native/src/main/native/* "$B/djl/native/"
mv "$B/djl/api/src/main/native/djl/utils.h" "$B/djl/utils/djl/"
javac -h "$B/djl/include" -d "$B/djl/classes" -cp "$B/lib/*" "$B"/djl/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java
rm -rf "$B"/djl/{engines,api,classes}
cp bench/gpu/build-jni.sh "$B/"
echo "$VERSION" > "$B/djl-version"
echo "bundle: $(du -sh "$B" | cut -f1) in $B (DJL $VERSION)"
