#!/usr/bin/env python3
"""Camera-sized JPEGs for bench/pipeline.sh: each of the first COUNT photos of a class-folder dataset (sorted by
path, round-robin over the classes) upscaled to 4000x3000 (12 MP, bicubic) and saved as JPEG quality 85, the
size a phone camera writes, under DEST/<class>/. Under Kafka's default 1 MB record limit (each is 0.4-0.9 MB).

  /usr/bin/python3 bench/make_12mp.py ../shared/datasets/flowers .petal/bench/flowers-12mp 300
  bench/pipeline.sh .petal/bench/flowers-12mp 3 300
"""
import argparse
import os
import sys

from PIL import Image


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("dest")
    p.add_argument("count", type=int, nargs="?", default=300)
    a = p.parse_args()
    classes = sorted(d for d in os.listdir(a.source) if os.path.isdir(os.path.join(a.source, d)))
    if not classes:
        sys.exit(f"make_12mp: no class folders under {a.source}")
    files = {c: sorted(f for f in os.listdir(os.path.join(a.source, c)) if f.lower().endswith((".jpg", ".jpeg")))
             for c in classes}
    written = 0
    while written < a.count and any(files.values()):
        for c in classes:
            if written >= a.count or not files[c]:
                continue
            name = files[c].pop(0)
            out_dir = os.path.join(a.dest, c)
            os.makedirs(out_dir, exist_ok=True)
            with Image.open(os.path.join(a.source, c, name)) as im:
                im.convert("RGB").resize((4000, 3000), Image.BICUBIC).save(os.path.join(out_dir, name), "JPEG", quality=85)
            written += 1
    print(f"{written} JPEGs of 4000x3000 in {a.dest}")


if __name__ == "__main__":
    main()
