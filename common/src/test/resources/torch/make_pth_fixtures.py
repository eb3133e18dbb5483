"""Writes the .pth fixtures TorchSaveReaderTest reads, with real torch.save.

Run from the repository root with Debian's PyTorch (1.13; the `python3` on PATH may lack torch):

    /usr/bin/python3 common/src/test/resources/torch/make_pth_fixtures.py

With `--resnet18 DIR` it writes instead a real torchvision resnet18(num_classes=5) state_dict (45 MB, too
big to commit) and PyTorch's view of each tensor (name, dtype, shape, sum, sum of absolute values) to DIR,
for TorchvisionPthTest:

    /usr/bin/python3 common/src/test/resources/torch/make_pth_fixtures.py --resnet18 /tmp/petal-pth
    ./mvnw -B -q -o -pl common -Dtest=TorchvisionPthTest -Dpetal.test.torchvision-pth=/tmp/petal-pth verify

Every value follows a closed formula, so the Java test checks them without this script:
tensor number t (0-based, in state_dict order) holds t - 0.125 * j at flat index j, in its own dtype
(all exactly representable in float16 and bfloat16). Two extra entries are views of one shared
storage `base`, where base[k] = 0.5 * k: view_a = base[2:8] as 2x3, view_b = base[8:12].
bn1.num_batches_tracked (int64) is 7.
"""
import collections
import os
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
# The marker the malicious fixtures would create if a reader executed them; the test checks it never appears.
PWNED_MARKER = "/tmp/petal-pth-fixture-pwned"


class TinyNet(torch.nn.Module):
    """torchvision's ResNet naming in miniature: conv1, bn1 (with num_batches_tracked), fc."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, kernel_size=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("scale", torch.zeros(2, dtype=torch.float64))


def state_dict():
    net = TinyNet()
    net.bn1.to(torch.bfloat16)  # num_batches_tracked stays int64
    net.fc.half()
    sd = net.state_dict()  # an OrderedDict carrying _metadata, as torchvision's files do
    with torch.no_grad():
        for t, (name, tensor) in enumerate(sd.items()):
            if name.endswith("num_batches_tracked"):
                tensor.fill_(7)
                continue
            j = torch.arange(tensor.numel(), dtype=torch.float64)
            tensor.copy_((t - 0.125 * j).reshape(tensor.shape))
    base = torch.arange(12, dtype=torch.float32) * 0.5
    sd["extra.view_a"] = base[2:8].view(2, 3)  # storage offset 2, shares base's storage
    sd["extra.view_b"] = base[8:12]
    return sd


class RunsAShellCommand:
    """What a hostile file carries: unpickling it calls os.system."""

    def __reduce__(self):
        return (os.system, ("touch " + PWNED_MARKER,))


class EvaluatesCode:
    """The same through builtins.eval, reached with protocol 4's STACK_GLOBAL."""

    def __reduce__(self):
        return (eval, ("__import__('os').system('touch " + PWNED_MARKER + "')",))


SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                      torch.int64: "I64"}


def write_resnet18(out_dir):
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=5)
    with torch.no_grad():  # running statistics away from their 0/1 start, so a swap would show
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    out_dir.mkdir(parents=True, exist_ok=True)
    sd = net.state_dict()
    torch.save(sd, out_dir / "resnet18_5.pth")
    with open(out_dir / "resnet18_5.tensors", "w") as out:
        for name, tensor in sd.items():
            shape = ",".join(str(d) for d in tensor.shape) or "-"
            values = tensor.double()
            out.write("%s %s %s %r %r\n" % (name, SAFETENSORS_DTYPES[tensor.dtype], shape, values.sum().item(),
                                            values.abs().sum().item()))
    print("wrote", out_dir / "resnet18_5.pth", "and", out_dir / "resnet18_5.tensors")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--resnet18":
        write_resnet18(pathlib.Path(sys.argv[2]))
        return
    torch.manual_seed(0)
    sd = state_dict()
    torch.save(sd, HERE / "state_dict.pth")
    torch.save(sd, HERE / "state_dict_protocol4.pth", pickle_protocol=4)
    torch.save(sd, HERE / "legacy_format.pth", _use_new_zipfile_serialization=False)
    transposed = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    torch.save(collections.OrderedDict(weight=transposed), HERE / "noncontiguous.pth")
    evil = collections.OrderedDict()
    evil["conv1.weight"] = torch.ones(2, 2)
    evil["payload"] = RunsAShellCommand()
    torch.save(evil, HERE / "malicious_os_system.pth")
    evil["payload"] = EvaluatesCode()
    torch.save(evil, HERE / "malicious_eval.pth", pickle_protocol=4)
    for path in sorted(HERE.glob("*.pth")):
        print(path.name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
