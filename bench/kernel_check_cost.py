#!/usr/bin/env python3
"""What the kernel self-check costs (docs/engine.md, "Hosts that hide their cache sizes"): runs
`./petal bench MODE` with the check (the default) and with PETAL_KERNEL_CHECK=off alternately, ROUNDS
times each, and prints one JSON line: the medians, the ratio checked/unchecked, and how the unchecked runs
ended (on a host whose oneDNN kernels crash, they die; that is the point of the check). The first run
checks into a fresh verdict cache (a temporary PETAL_CACHE_DIR) and its check time is printed; the timed
rounds then use those cached verdicts, the steady state.

  bench/kernel_check_cost.py train --arch resnet18 --batch-size 32 --steps 10 --rounds 3
  bench/kernel_check_cost.py infer --arch resnet50 --batch-size 8 --steps 5 --rounds 3
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

from compare import PETAL, ROOT, bench_arguments, launcher_env


def bench(args, env):
    cmd = [PETAL, "bench", args.mode, "--arch", args.arch, "--batch-size", str(args.batch_size),
           "--image-size", str(args.image_size), "--steps", str(args.steps), "--precision", args.precision]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        reason = "signal " + str(-out.returncode) if out.returncode < 0 else "exit " + str(out.returncode)
        crash = re.search(r"SIG[A-Z]+", out.stdout + out.stderr)
        return None, (crash.group(0) if crash else reason), out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["imagesPerSec"], "ok", out.stderr


def cpu():
    """The CPU's model name and family, as lscpu gives them, and the CPUs this process sees."""
    fields = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                  if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, family {fields.get('CPU family', '?').strip()}, {os.cpu_count()} CPUs"


def main():
    p = bench_arguments(argparse.ArgumentParser())
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()

    checked = dict(launcher_env(), PETAL_CACHE_DIR=tempfile.mkdtemp(prefix="petal-kernel-check-cost-"))
    checked.pop("PETAL_KERNEL_CHECK", None)
    unchecked = dict(checked, PETAL_KERNEL_CHECK="off")

    # First use: the verdicts get computed and cached here, outside the timed rounds.
    _, status, log = bench(args, checked)
    if status != "ok":
        sys.exit(f"the checked run failed ({status}):\n{log[-2000:]}")
    first = re.search(r"kernel check done in ([0-9.]+) s", log)
    routed = re.search(r"wrong on this CPU for (\d+ of \d+ [a-z]+ shapes)", log)

    with_check, without, endings = [], [], []
    for _ in range(args.rounds):
        value, _, _ = bench(args, checked)
        with_check.append(value)
        value, status, _ = bench(args, unchecked)
        endings.append(status)
        if value is not None:
            without.append(value)
    result = {
        "mode": args.mode, "arch": args.arch, "batchSize": args.batch_size, "imageSize": args.image_size,
        "precision": args.precision, "rounds": args.rounds,
        "checkedImagesPerSecond": with_check, "uncheckedImagesPerSecond": without, "uncheckedEndings": endings,
        "checkedMedian": statistics.median(with_check),
        "uncheckedMedian": statistics.median(without) if without else None,
        "ratio": round(statistics.median(with_check) / statistics.median(without), 3) if without else None,
        "firstUseCheckSeconds": float(first.group(1)) if first else None,
        "routedToGemm": routed.group(1) if routed else "none",
        "cpu": cpu(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
