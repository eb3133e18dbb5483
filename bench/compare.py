#!/usr/bin/env python3
"""Petal vs PyTorch on this machine, side by side: runs `./petal bench MODE` and
bench/pytorch_reference.py alternately, ROUNDS times each, both in the environment the launcher gives
Petal's JVMs (`./petal env`: the allocator, tcmalloc when installed), and prints the medians and the
ratio Petal/PyTorch as one JSON line per mode.

  bench/compare.py train --batch-size 32 --steps 10 --rounds 3
  bench/compare.py infer --batch-size 32 --steps 10 --rounds 3
  bench/compare.py infer --precision bf16 --batch-size 32 --steps 10   # Petal in bf16 against PyTorch in fp32
  bench/compare.py infer --precision bf16 --reference-precision bf16  # both in bf16
"""
import argparse
import json
import os
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
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="Petal's")
    p.add_argument("--reference-precision", choices=["fp32", "bf16"], default="fp32", help="PyTorch's")
    p.add_argument("--reference-memory-format", choices=["channels_last", "contiguous"], default="channels_last",
                   help="PyTorch's; channels_last is its faster setting here, contiguous the tutorial as written")
    a = p.parse_args()

    probe = subprocess.run([a.python, "-c", "import torch, torchvision"], capture_output=True)
    if not shutil.which(a.python) or probe.returncode != 0:
        print(f"skipped: {a.python} has no torch/torchvision (apt-get install python3-torch python3-torchvision)")
        return

    env = launcher_env()
    common = ["--arch", a.arch, "--batch-size", str(a.batch_size), "--image-size", str(a.image_size),
              "--steps", str(a.steps)]
    petal, torch_runs = [], []
    for r in range(a.rounds):
        petal.append(run([PETAL, "bench", a.mode] + common + ["--precision", a.precision], env))
        torch_runs.append(run([a.python, os.path.join(ROOT, "bench", "pytorch_reference.py"), a.mode] + common
                              + ["--precision", a.reference_precision, "--memory-format", a.reference_memory_format], env))
        if petal[-1]["allocator"] != torch_runs[-1]["allocator"]:
            sys.exit(f"unfair comparison: Petal ran on {petal[-1]['allocator']}, PyTorch on {torch_runs[-1]['allocator']}")
        print(f"round {r + 1}/{a.rounds}: petal {petal[-1]['imagesPerSec']} img/s, "
              f"pytorch {torch_runs[-1]['imagesPerSec']} img/s", file=sys.stderr)
    med = lambda runs, k: statistics.median(x[k] for x in runs)
    print(json.dumps({
        "mode": a.mode, "arch": a.arch, "batchSize": a.batch_size, "imageSize": a.image_size,
        "rounds": a.rounds, "petalPrecision": a.precision, "pytorchPrecision": a.reference_precision,
        "pytorchMemoryFormat": a.reference_memory_format,
        "petalImagesPerSec": med(petal, "imagesPerSec"),
        "pytorchImagesPerSec": med(torch_runs, "imagesPerSec"),
        "ratio": round(med(petal, "imagesPerSec") / med(torch_runs, "imagesPerSec"), 3),
        "petalPeakRssMb": med(petal, "peakRssMb"), "pytorchPeakRssMb": med(torch_runs, "peakRssMb"),
        "memoryRatio": round(med(petal, "peakRssMb") / med(torch_runs, "peakRssMb"), 3),
        "pytorchVersion": torch_runs[0]["version"], "allocator": petal[0]["allocator"],
    }))


if __name__ == "__main__":
    main()
