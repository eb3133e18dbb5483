#!/usr/bin/env python3
"""Camera-sized JPEGs for bench/pipeline.sh: each of the first COUNT photos of a class-folder dataset (sorted by
path, round-robin over the classes) stretched to 4000x3000 (12 MP, bicubic) and saved as JPEG under DEST/<class>/,
at quality 85 or the highest below it (down to 40) that keeps the file under Kafka's default 1 MB record limit;
a photo that does not fit even then is left out.

  /usr/bin/python3 bench/make_12mp.py ../shared/datasets/flowers .petal/bench/flowers-12mp 300
  bench/pipeline.sh .petal/bench/flowers-12mp 3 300
"""
import argparse
import io
import os
import sys

from PIL import Image

# Kafka's default message.max.bytes is 1,048,588; this leaves room for the key and headers.
LIMIT = 1_000_000


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
                big = im.convert("RGB").resize((4000, 3000), Image.BICUBIC)
            for quality in range(85, 39, -5):
                encoded = io.BytesIO()
                big.save(encoded, "JPEG", quality=quality)
                if encoded.tell() <= LIMIT:
                    with open(os.path.join(out_dir, name), "wb") as f:
                        f.write(encoded.getvalue())
                    written += 1
                    break
            else:
                print(f"make_12mp: {c}/{name} is over {LIMIT} bytes even at quality 40; left out", file=sys.stderr)
    print(f"{written} JPEGs of 4000x3000 in {a.dest}")


if __name__ == "__main__":
    main()
