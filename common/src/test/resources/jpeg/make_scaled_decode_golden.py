"""Makes scaled_source.jpg (920 x 690, synthetic) and the golden pixels of its reduced decodes.

The goldens are PIL's Image.draft, which asks libjpeg(-turbo) for a decode at 1/2, 1/4 or 1/8 in the
DCT domain: the reference ScaledJpegDecoderTest checks Petal's decode against. Run with python3-pil:
    python3 make_scaled_decode_golden.py
"""
import numpy as np
from PIL import Image

W, H = 920, 690
y, x = np.mgrid[0:H, 0:W].astype(np.float64)
rng = np.random.RandomState(7)
r = 128 + 100 * np.sin(x / 37.0) * np.cos(y / 53.0)
g = 128 + 90 * np.sin((x + y) / 29.0)
b = 255 * ((x - 460) ** 2 + (y - 345) ** 2 < 180 ** 2) * 0.8 + 20 * np.sin(x / 5.0)
pixels = np.stack([r, g, b], axis=-1) + rng.normal(0, 3, (H, W, 3))
Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save("scaled_source.jpg", quality=90, subsampling=2)

for target in (224, 86):
    with Image.open("scaled_source.jpg") as im:
        im.draft("RGB", (target, target))
        decoded = im.convert("RGB")
        decoded.load()
        decoded.save(f"scaled_source_draft_{target}.png")
        print(target, decoded.size, im.decoderconfig)
