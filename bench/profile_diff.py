#!/usr/bin/env python3
"""Which libtorch ops take the time, Petal against PyTorch: reads two Chrome traces written with
`--profile` (./petal bench ... --profile A.json, bench/pytorch_reference.py ... --profile B.json) and
prints, per op name, the total milliseconds per step in each and the difference, largest first.
Times are inclusive (an op's time contains the ops it calls), so compare rows, do not add them.

  bench/profile_diff.py petal.json torch.json --steps 10
"""
import argparse
import collections
import json


def totals(path, steps):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    out, count = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            out[e["name"]] += e["dur"] / 1000.0 / steps
            count[e["name"]] += 1
    return out, count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("petal")
    p.add_argument("pytorch")
    p.add_argument("--steps", type=int, required=True, help="the timed steps both traces cover")
    p.add_argument("--top", type=int, default=40)
    a = p.parse_args()
    petal, petal_n = totals(a.petal, a.steps)
    ref, ref_n = totals(a.pytorch, a.steps)
    names = sorted(set(petal) | set(ref), key=lambda n: -max(petal[n], ref[n]))[: a.top]
    print(f"{'op':48} {'petal ms':>10} {'calls':>7} {'torch ms':>10} {'calls':>7} {'diff ms':>9}")
    for n in names:
        print(f"{n[:48]:48} {petal[n]:10.2f} {petal_n[n] // a.steps:7d} {ref[n]:10.2f} {ref_n[n] // a.steps:7d} "
              f"{petal[n] - ref[n]:9.2f}")


if __name__ == "__main__":
    main()
