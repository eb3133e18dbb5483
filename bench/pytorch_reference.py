#!/usr/bin/env python3
"""PyTorch reference for Petal's model benchmarks: the tutorial's model, at its best settings.

torchvision's resnet18(num_classes=5), AdamW, cross-entropy, torch.set_num_threads(2) (Debian's
build defaults to 1), channels-last model and input (1.4x the inference images/s of the default
NCHW on the 2-core dev VM; --memory-format contiguous for the tutorial as written), random inputs
with a fixed seed. Run it with the same allocator environment
as Petal (bench/compare.py does). Prints one JSON line, the same fields as `./petal bench`.
"""
import argparse
import json
import resource
import time

import torch
import torchvision

from compare import bench_arguments


def main():
    p = bench_arguments(argparse.ArgumentParser())
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--memory-format", choices=["channels_last", "contiguous"], default="channels_last")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="bf16: inference casts the model and input to bfloat16 (logits back to float32); training runs "
                        "forward and loss under torch.autocast(cpu, bfloat16): both as Petal's bf16 does")
    p.add_argument("--profile", metavar="FILE", help="also write a Chrome trace of the timed steps to FILE")
    p.add_argument("--jit-freeze", action="store_true",
                   help="inference: trace the model and run it under torch.jit.freeze (PyTorch's fastest CPU route here)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: the model on the GPU, the batch copied there from host memory each step and the result read "
                        "back (loss and correct count; top-1), as Petal's bench does")
    p.add_argument("--cudnn-benchmark", action="store_true",
                   help="cuda: let cuDNN time its convolution algorithms on the first batch and keep the fastest "
                        "(Petal's side: -Dai.djl.pytorch.cudnn_benchmark=true)")
    p.add_argument("--export-onnx", metavar="FILE",
                   help="write the same network as ONNX (opset 13, any batch size) for bench/OnnxRuntimeReference.java, and exit")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(100)
    model = getattr(torchvision.models, a.arch)(num_classes=5)
    x = torch.randn(a.batch_size, 3, a.image_size, a.image_size)
    if a.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 5, (a.batch_size,))
    cuda = a.device == "cuda"
    if a.export_onnx:
        torch.onnx.export(model.eval().to(memory_format=torch.contiguous_format), torch.randn(1, 3, a.image_size, a.image_size),
                          a.export_onnx, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
        return

    if cuda:
        torch.backends.cudnn.benchmark = a.cudnn_benchmark
        model = model.to("cuda")
        y = y.to("cuda")
    # On the GPU each step starts from the host batch and ends reading its result back, as Petal's does.
    memory_format = torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format
    batch = (lambda dtype: x.to("cuda", dtype, memory_format=memory_format)) if cuda else (lambda dtype: x.to(dtype))

    if a.mode == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss()

        autocast = a.precision == "bf16"

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(a.device, dtype=torch.bfloat16, enabled=autocast):
                out = model(batch(torch.float32))
            loss = loss_fn(out.float(), y)
            loss.backward()
            opt.step()
            if cuda:
                loss.item(), (out.argmax(1) == y).sum().item()
    else:
        model.eval()
        dtype = torch.bfloat16 if a.precision == "bf16" else torch.float32
        model.to(dtype)
        if a.jit_freeze:
            with torch.no_grad():
                model = torch.jit.freeze(torch.jit.trace(model, batch(dtype)))

        def step():
            with torch.no_grad() if a.jit_freeze else torch.inference_mode():
                logits = model(batch(dtype)).float()
                if cuda:
                    logits.topk(1).indices.cpu()

    for _ in range(a.warmup):
        step()
    profiler = torch.autograd.profiler.profile(record_shapes=True) if a.profile else None
    if profiler:
        profiler.__enter__()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    if profiler:
        profiler.__exit__(None, None, None)
        profiler.export_chrome_trace(a.profile)
    print(json.dumps({
        "engine": "pytorch", "version": torch.__version__, "mode": a.mode, "arch": a.arch,
        "batchSize": a.batch_size, "imageSize": a.image_size, "steps": a.steps, "precision": a.precision,
        "memoryFormat": a.memory_format, "jitFreeze": a.jit_freeze,
        "imagesPerSec": round(a.steps * a.batch_size / seconds, 3),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": torch.get_num_threads(), "device": torch.cuda.get_device_name() if cuda else "cpu",
        "allocator": native_allocator(),
    }))


def native_allocator():
    """The malloc in use, as Petal's bench reports it: the comparison is only fair when both match."""
    try:
        with open("/proc/self/maps") as maps:
            text = maps.read()
    except OSError:
        return "unknown"
    return "tcmalloc" if "libtcmalloc" in text else "jemalloc" if "libjemalloc" in text else "glibc"


if __name__ == "__main__":
    main()
