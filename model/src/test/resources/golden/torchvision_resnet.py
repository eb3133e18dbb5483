"""Golden values for Petal's torchvision parity test (TorchvisionParityTest), from real torchvision.

Builds torchvision's resnet18, resnet50 and resnext50_32x4d with 5 classes, sets every parameter and
BatchNorm statistic from a closed formula (so the Java test builds the same weights without a large
file), feeds a formula image batch, and records in float64:
  - the state_dict names and shapes (num_batches_tracked left out),
  - evaluation-mode logits,
  - training-mode logits, the cross-entropy loss (labels [1, 3], with and without label smoothing 0.1),
    running statistics after that forward, and gradients of a few parameters (sum and L2 norm).

Run once with Debian's PyTorch (python3-torch 1.13.1, python3-torchvision 0.14.1):
    /usr/bin/python3 model/src/test/resources/golden/torchvision_resnet.py > model/src/test/resources/golden/torchvision_resnet.json

The formulas (mirrored in TorchvisionParityTest.java), for tensor number t in state_dict order and
element i of its flattened values, u = hash(i, t) in [-1, 1) from exact 32-bit integer arithmetic:
    h = (i * 0x9E3779B1 + t * 0x85EBCA77 + 0x165667B1) mod 2^32;  h ^= h >> 15;
    h = (h * 0x2C1B3C6D) mod 2^32;  h ^= h >> 12;  u = h / 2^31 - 1
    conv weight: u sqrt(6 / fan_in)  (He's variance)   BatchNorm weight: 1 + 0.2 u     BatchNorm bias: 0.1 u
    running_mean: 0.1 u                                 running_var: 1 + 0.25 (u + 1)
    fc weight: u / sqrt(in_features)                    fc bias: 0.1 u
and the input x[n, c, h, w] = sin((0.05 + 0.02 n) h (c + 1) + 0.07 w + 0.9 n) for n < 2, c < 3, h, w < 224.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F
import torchvision

SIZE = 224
CLASSES = 5
LABELS = [1, 3]


def formula(t, name, shape):
    n = int(torch.tensor(shape).prod().item()) if len(shape) else 1
    i = torch.arange(n, dtype=torch.int64)
    mask = (1 << 32) - 1
    h = (i * 0x9E3779B1 + t * 0x85EBCA77 + 0x165667B1) & mask
    h = h ^ (h >> 15)
    h = (h * 0x2C1B3C6D) & mask
    h = h ^ (h >> 12)
    u = h.to(torch.float64) / 2 ** 31 - 1
    if name.endswith("running_mean"):
        v = 0.1 * u
    elif name.endswith("running_var"):
        v = 1 + 0.25 * (u + 1)
    elif name.startswith("fc."):
        v = u / math.sqrt(shape[1]) if name.endswith("weight") else 0.1 * u
    elif len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        v = u * math.sqrt(6 / fan_in)
    elif name.endswith("weight"):
        v = 1 + 0.2 * u
    else:
        v = 0.1 * u
    # Rounded to float32 first, as the Java side holds them.
    return v.to(torch.float32).to(torch.float64).reshape(shape)


def image():
    n = torch.arange(2, dtype=torch.float64).view(2, 1, 1, 1)
    c = torch.arange(3, dtype=torch.float64).view(1, 3, 1, 1)
    h = torch.arange(SIZE, dtype=torch.float64).view(1, 1, SIZE, 1)
    w = torch.arange(SIZE, dtype=torch.float64).view(1, 1, 1, SIZE)
    x = torch.sin((0.05 + 0.02 * n) * h * (c + 1) + 0.07 * w + 0.9 * n)
    return x.to(torch.float32).to(torch.float64)


def build(arch):
    model = getattr(torchvision.models, arch)(num_classes=CLASSES).double()
    state = model.state_dict()
    names = [k for k in state if not k.endswith("num_batches_tracked")]
    with torch.no_grad():
        for t, name in enumerate(names):
            state[name].copy_(formula(t, name, list(state[name].shape)))
    return model, names, state


def stats(tensor):
    return {"sum": tensor.sum().item(), "l2": tensor.norm().item(), "first": tensor.flatten()[:4].tolist()}


def golden(arch):
    model, names, state = build(arch)
    x = image()
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    last_norm = [n for n in names if n.endswith("running_mean")][-1][: -len(".running_mean")]
    model.train()
    train_logits = model(x)
    target = torch.tensor(LABELS)
    loss = F.cross_entropy(train_logits, target)
    smoothed = F.cross_entropy(train_logits, target, label_smoothing=0.1)
    loss.backward()
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    watched = ["conv1.weight", "layer1.0.conv1.weight", "layer4.0.downsample.0.weight", last_norm + ".weight", "fc.weight", "fc.bias"]
    return {
        "parameters": [{"name": n, "shape": list(state[n].shape)} for n in names],
        "evalLogits": eval_logits.tolist(),
        "trainLogits": train_logits.tolist(),
        "loss": loss.item(),
        "smoothedLoss": smoothed.item(),
        "runningStatistics": {k: buffers[k].flatten()[:8].tolist() for k in
                              ["bn1.running_mean", "bn1.running_var", last_norm + ".running_mean", last_norm + ".running_var"]},
        "gradients": {k: stats(params[k].grad) for k in watched},
    }


if __name__ == "__main__":
    torch.set_num_threads(2)
    out = {
        "provenance": "torch %s, torchvision %s, float64; %s" % (torch.__version__, torchvision.__version__,
                                                             "model/src/test/resources/golden/torchvision_resnet.py"),
        "imageSize": SIZE, "classes": CLASSES, "labels": LABELS,
        "models": {arch: golden(arch) for arch in ["resnet18", "resnet50", "resnext50_32x4d"]},
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
