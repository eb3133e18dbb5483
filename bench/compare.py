#!/usr/bin/env python3
"""Petal vs PyTorch on this machine, side by side: runs `./petal bench MODE` and
bench/pytorch_reference.py alternately, ROUNDS times each, both in the environment the launcher gives
Petal's JVMs (`./petal env`: the allocator, tcmalloc when installed), and prints the medians and the
ratio Petal/PyTorch as one JSON line per mode.

  bench/compare.py train --batch-size 32 --steps 10 --rounds 3
  bench/compare.py infer --batch-size 32 --steps 10 --rounds 3
  bench/compare.py infer --precision bf16 --batch-size 32 --steps 10   # Petal in bf16 against PyTorch in fp32
  bench/compare.py infer --precision bf16 --reference-precision bf16  # both in bf16
  bench/compare.py infer --references pytorch,pytorch-frozen,onnxruntime --batch-size 1 --steps 50
  bench/compare.py infer --runtime libtorch --references onnxruntime   # Petal's libtorch program only
  bench/compare.py infer --precision int8 --references petal-fp32,pytorch-frozen,onnxruntime   # int8 against fp32
  bench/compare.py infer --device gpu --petal-command "java -cp .gpu/classes:.gpu/lib/* GpuBench" --threads 16   # bench/gpu/run.sh

References (alternating with Petal in each round): pytorch (eager, channels-last), pytorch-frozen
(torch.jit.freeze of a trace, inference only) and onnxruntime (ONNX Runtime's Java API from Maven Central, all
graph optimisations, 2 intra-op threads, the same torchvision network exported to ONNX; inference only, fp32), and
petal-fp32 (Petal itself in fp32 on the same runtime choice: what --precision bf16 or int8 gains; inference only).
The onnxruntime reference fetches its jar through Maven once (explicit, checksummed), then runs offline.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PETAL = os.path.join(ROOT, "petal")


def run(cmd, env):
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def launcher_env():
    """What `./petal env` prints (NAME=value lines), over this process's environment."""
    out = subprocess.run([PETAL, "env"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"./petal env failed ({out.returncode}): {out.stderr.strip()}")
    sys.stderr.write(out.stderr)
    return dict(os.environ, **dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line))


def onnxruntime_command(a, env):
    """The java command line of the ONNX Runtime reference: its jar (the parent pom's version, fetched once through
    Maven with strict checksums) and the network exported from torchvision by pytorch_reference.py."""
    with open(os.path.join(ROOT, "pom.xml")) as pom:
        version = re.search(r"<onnxruntime.version>([^<]+)</onnxruntime.version>", pom.read()).group(1)
    jar = os.path.expanduser(f"~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/{version}/onnxruntime-{version}.jar")
    if not os.path.exists(jar):
        got = subprocess.run([os.path.join(ROOT, "mvnw"), "-q", "-B", "-C", "dependency:get", "-Dtransitive=false",
                              f"-Dartifact=com.microsoft.onnxruntime:onnxruntime:{version}"], cwd=ROOT, capture_output=True, text=True)
        if got.returncode != 0 or not os.path.exists(jar):
            sys.exit(f"the onnxruntime reference needs ONNX Runtime {version} from Maven Central once, and it could not be "
                     f"fetched (offline?); run without it: --references pytorch,pytorch-frozen")
    model = os.path.join(ROOT, ".petal", "bench", f"{a.arch}-{a.image_size}.onnx")
    if not os.path.exists(model):
        os.makedirs(os.path.dirname(model), exist_ok=True)
        export = subprocess.run([a.python, os.path.join(ROOT, "bench", "pytorch_reference.py"), "infer", "--arch", a.arch,
                                 "--image-size", str(a.image_size), "--export-onnx", model], env=env, cwd=ROOT,
                                capture_output=True, text=True)
        if export.returncode != 0:
            sys.exit(f"exporting {a.arch} to ONNX failed:\n{export.stderr[-2000:]}")
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    return [java, "-cp", jar, os.path.join(ROOT, "bench", "OnnxRuntimeReference.java"), "--model", model]


def bench_arguments(p):
    """The arguments every bench script shares with `./petal bench MODE`: what to run and for how long."""
    p.add_argument("mode", choices=["train", "infer"])
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--steps", type=int, default=10)
    return p


def main():
    p = bench_arguments(argparse.ArgumentParser())
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32",
                   help="Petal's (int8: inference, calibrated on the benchmark's input)")
    p.add_argument("--reference-precision", choices=["fp32", "bf16"], default="fp32", help="PyTorch's")
    p.add_argument("--reference-memory-format", choices=["channels_last", "contiguous"], default="channels_last",
                   help="PyTorch's; channels_last is its faster setting here, contiguous the tutorial as written")
    p.add_argument("--runtime", choices=["auto", "libtorch", "onnxruntime"], default="auto",
                   help="Petal's serving runtime (infer; auto: the faster on this CPU, as the inference service picks)")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                   help="gpu: both on the GPU (Petal needs a CUDA libtorch, docs/engine.md); pytorch and pytorch-frozen only")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before the timed ones, on every side")
    p.add_argument("--threads", type=int, default=2, help="the references' intra-op threads (Petal's engine sets its own)")
    p.add_argument("--petal-command", metavar="COMMAND",
                   help="what runs Petal's bench instead of ./petal (then in this process's environment, not ./petal env's): "
                        "bench/gpu/run.sh's JRE on a machine without the build")
    p.add_argument("--references", default="pytorch",
                   help="comma-separated, each alternating with Petal: pytorch, pytorch-frozen, onnxruntime, petal-fp32 (see above)")
    a = p.parse_args()
    references = [r.strip() for r in a.references.split(",") if r.strip()]
    unknown = [r for r in references if r not in ("pytorch", "pytorch-frozen", "onnxruntime", "petal-fp32")]
    if unknown or not references:
        sys.exit(f"--references: choose from pytorch, pytorch-frozen, onnxruntime, petal-fp32 (was {a.references})")
    if a.mode == "train" and (references != ["pytorch"] or a.precision == "int8"):
        sys.exit("train compares with pytorch only, in fp32 or bf16: the other references and int8 are for inference")
    if a.device == "gpu" and not set(references) <= {"pytorch", "pytorch-frozen"}:
        sys.exit("--device gpu compares with pytorch and pytorch-frozen only (the onnxruntime reference runs on a CPU)")
    if "onnxruntime" in references and a.reference_precision != "fp32":
        sys.exit("the onnxruntime reference runs fp32 only: leave out --reference-precision bf16")

    probe = subprocess.run([a.python, "-c", "import torch, torchvision"], capture_output=True)
    if not shutil.which(a.python) or probe.returncode != 0:
        print(f"skipped: {a.python} has no torch/torchvision (apt-get install python3-torch python3-torchvision)")
        return

    env = dict(os.environ) if a.petal_command else launcher_env()
    bench = (shlex.split(a.petal_command) if a.petal_command else [PETAL, "bench"]) + [a.mode]
    common = ["--arch", a.arch, "--batch-size", str(a.batch_size), "--image-size", str(a.image_size),
              "--steps", str(a.steps), "--warmup", str(a.warmup)]
    threads = ["--threads", str(a.threads)]
    pytorch = [a.python, os.path.join(ROOT, "bench", "pytorch_reference.py"), a.mode] + common + threads + [
        "--precision", a.reference_precision, "--memory-format", a.reference_memory_format,
        "--device", "cuda" if a.device == "gpu" else "cpu"]
    common += ["--device", "gpu"] if a.device == "gpu" else []
    commands = {"pytorch": pytorch, "pytorch-frozen": pytorch + ["--jit-freeze"],
                "petal-fp32": bench + common + ["--precision", "fp32", "--runtime", a.runtime]}
    if "onnxruntime" in references:
        commands["onnxruntime"] = onnxruntime_command(a, env) + common + threads
    petal, runs = [], {r: [] for r in references}
    for r in range(a.rounds):
        runtime = ["--runtime", a.runtime] if a.mode == "infer" else []
        petal.append(run(bench + common + ["--precision", a.precision] + runtime, env))
        for ref in references:
            runs[ref].append(run(commands[ref], env))
            if petal[-1]["allocator"] != runs[ref][-1]["allocator"]:
                sys.exit(f"unfair comparison: Petal ran on {petal[-1]['allocator']}, {ref} on {runs[ref][-1]['allocator']}")
        print(f"round {r + 1}/{a.rounds}: petal {petal[-1]['imagesPerSec']} img/s, "
              + ", ".join(f"{ref} {runs[ref][-1]['imagesPerSec']} img/s" for ref in references), file=sys.stderr)
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    petal_rate = med(petal, "imagesPerSec")
    summary = {ref: {"imagesPerSec": med(runs[ref], "imagesPerSec"), "ratio": round(petal_rate / med(runs[ref], "imagesPerSec"), 3),
                     "peakRssMb": med(runs[ref], "peakRssMb"), "version": runs[ref][0]["version"]} for ref in references}
    first = runs[references[0]]
    best = max(references, key=lambda ref: summary[ref]["imagesPerSec"])
    print(json.dumps({
        "mode": a.mode, "arch": a.arch, "batchSize": a.batch_size, "imageSize": a.image_size,
        "rounds": a.rounds, "petalPrecision": a.precision, "pytorchPrecision": a.reference_precision,
        "pytorchMemoryFormat": a.reference_memory_format,
        "petalImagesPerSec": petal_rate, "petalRuntime": petal[0].get("runtime", "libtorch"),
        "pytorchImagesPerSec": med(first, "imagesPerSec"),
        "ratio": round(petal_rate / med(first, "imagesPerSec"), 3),
        "petalPeakRssMb": med(petal, "peakRssMb"), "pytorchPeakRssMb": med(first, "peakRssMb"),
        "memoryRatio": round(med(petal, "peakRssMb") / med(first, "peakRssMb"), 3),
        "pytorchVersion": first[0]["version"], "allocator": petal[0]["allocator"],
        "references": summary, "best": best, "ratioToBest": summary[best]["ratio"],
    }))


if __name__ == "__main__":
    main()
