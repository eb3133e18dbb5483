#!/usr/bin/env python3
"""Medians of two alternating sides of `inference bench`-shaped JSON lines, and their ratio.

Reads "SIDE<TAB>JSON" lines on stdin; prints one JSON line with, per figure (throughput through Kafka and the
light-load p50), each side's median and the ratio FIRST / SECOND.
    ... | bench/ab_medians.py FIRST SECOND
"""
import json
import statistics
import sys

first, second = sys.argv[1:3]
by = {first: [], second: []}
for row in sys.stdin:
    side, line = row.rstrip("\n").split("\t", 1)
    by[side].append(json.loads(line))
figures = {"kafkaImagesPerSec": lambda r: r["kafkaImagesPerSec"], "lightLoadP50Ms": lambda r: r["lightLoad"]["p50Ms"]}
out = {}
for name, get in figures.items():
    a, b = (statistics.median(get(r) for r in by[s]) for s in (first, second))
    out[name] = {first: a, second: b, "ratio": round(a / b, 3)}
print(json.dumps(out))
