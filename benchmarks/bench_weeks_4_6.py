"""Estimate the full-profile run time of Weeks 4-6 on an H100 and a free Colab T4, from FLOP counts.

Usage: `.venv/bin/python benchmarks/bench_weeks_4_6.py` from the repository root (CPU only, seconds).
Targets: each lecture <= 90 s on one H100-class GPU (`full`), <= 600 s on a Colab T4.

How the estimate is made. The full-profile settings are read from the lectures themselves: every
`name = config.choose(quick=..., full=...)` assignment whose `full` value is a literal. For each training
run, the FLOPs of one training step (forward + backward) and of one evaluation batch are counted
with `torch.utils.flop_counter.FlopCounterMode` on the run's model (helpers.models), scaled to the
run's number of images, epochs and evaluations. Time = FLOPs / sustained throughput + steps x a
per-step overhead + a fixed per-lecture overhead. FlopCounterMode counts matrix products and
convolutions only; the memory-bound operations (ReLU, pooling, batch norm, augmentation, the
optimizer) are folded into the "sustained" throughput and the per-step overhead, which is why both
are set well below the hardware's peak. No GPU was used to make these numbers: they are estimates
under the assumptions printed with them, to be replaced by the execution report of a real full build.
"""

from __future__ import annotations

import ast
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from helpers.models import VGG_CIFAR, lenet5, small_cnn, vgg  # noqa: E402


@dataclass(frozen=True)
class Device:
    """A GPU's assumed sustained training throughput, per-step overhead, and host CPU matmul rate."""

    name: str
    tflops: float  # sustained FLOP/s for these small convolutional networks, in 1e12
    step_overhead_s: float  # kernel launches, Python, optimizer, per optimizer step
    host_gflops: float  # the host CPU's matmul rate (Week 4 times a CPU product too), in 1e9
    budget_s: float


DEVICES = (
    # H100 SXM: 989 TFLOP/s dense bf16 peak; 200 is about 20% of it, conservative for 32x32 convolutions.
    Device("H100 (bf16, 200 TFLOP/s sustained)", 200.0, 1.0e-3, 500.0, 90.0),
    # T4: 65 TFLOP/s fp16 tensor-core peak; 20 is about 30% of it, the best case for small convolutions.
    Device("T4 optimistic (fp16, 20 TFLOP/s)", 20.0, 2.0e-3, 50.0, 600.0),
    # T4 pessimistic: about what ResNet-18-sized CIFAR training sustains on a throttled free Colab T4.
    Device("T4 pessimistic (fp16, 6 TFLOP/s)", 6.0, 3.0e-3, 50.0, 600.0),
)
FIXED_OVERHEAD_S = 10.0  # per lecture: imports, CUDA context, cuDNN kernel selection, data loading to the GPU


def _is_choose(func: ast.expr) -> bool:
    """`choose(...)` or `config.choose(...)`."""
    return getattr(func, "id", "") == "choose" or getattr(func, "attr", "") == "choose"


def full_settings(lecture: Path) -> dict[str, object]:
    """`{name: full value}` for every `name = choose(quick=..., full=<literal>)` in the lecture's code cells."""
    import jupytext

    settings = {}
    for cell in jupytext.read(lecture).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Call) and _is_choose(node.value.func)):
                full = {k.arg: k.value for k in node.value.keywords}.get("full")
                try:
                    settings[node.targets[0].id] = ast.literal_eval(full)
                except ValueError:
                    continue  # not a literal (it depends on the data): not a size we need
    return settings


def flops_per_image(model: nn.Module, shape: tuple[int, ...], train: bool, batch: int = 2) -> float:
    """FLOPs per image of a training step (forward + backward) or of an evaluation (forward)."""
    model.train(train)
    X = torch.zeros(batch, *shape)
    with FlopCounterMode(display=False) as counter:
        if train:
            model(X).float().logsumexp(1).sum().backward()
        else:
            with torch.no_grad():
                model(X)
    return counter.get_total_flops() / batch


@dataclass(frozen=True)
class Run:
    lecture: str
    name: str
    train_flops: float
    eval_flops: float
    steps: int

    def seconds(self, device: Device) -> float:
        return (self.train_flops + self.eval_flops) / (device.tflops * 1e12) + self.steps * device.step_overhead_s


def training_run(lecture: str, name: str, model: nn.Module, shape: tuple[int, ...], num_train: int, num_epochs: int,
                 batch_size: int, num_eval: int, copies: int = 1, drop_last: bool = False) -> Run:
    steps_per_epoch = num_train // batch_size if drop_last else math.ceil(num_train / batch_size)
    images = steps_per_epoch * batch_size if drop_last else num_train
    train = flops_per_image(model, shape, True) * images * num_epochs * copies
    evals = flops_per_image(model, shape, False) * num_eval * num_epochs * copies
    return Run(lecture, name, train, evals, steps_per_epoch * num_epochs * copies)


def runs() -> tuple[list[Run], list[tuple[str, float]]]:
    """The training runs of the three lectures at their full-profile settings, and the host-CPU FLOPs."""
    w4 = full_settings(ROOT / "lectures" / "convolution-lenet.md")
    w5 = full_settings(ROOT / "lectures" / "augmentation-regularization.md")
    w6 = full_settings(ROOT / "lectures" / "initialization-vgg-backprop.md")
    lenet, reg, vgg_run, bp = w4["lenet_run"], w5["reg_run"], w6["vgg_run"], w6["bp_run"]
    mnist_train, mnist_test, cifar_train, cifar_test = 60_000, 10_000, 50_000, 10_000
    out = [
        training_run("Week 4", "LeNet-5 on MNIST", lenet5(), (1, 28, 28), lenet["num_train"] or mnist_train,
                     lenet["num_epochs"], lenet["batch_size"], mnist_test),
        training_run("Week 5", "small CNN twins on CIFAR-10 (2 runs, no early stop)",
                     small_cnn(width=reg["width"], dropout=reg["dropout"]), (3, 32, 32),
                     (reg["num_train"] or cifar_train) - reg["num_val"], reg["num_epochs"], reg["batch_size"],
                     reg["num_val"], copies=2),
        training_run("Week 6", "VGG on CIFAR-10", vgg(VGG_CIFAR, width=vgg_run["width"]), (3, 32, 32),
                     vgg_run["num_train"] or cifar_train, vgg_run["num_epochs"], vgg_run["batch_size"],
                     vgg_run["num_test"] or cifar_test, drop_last=True),
        training_run("Week 6", "MLP by hand-written backprop on MNIST",
                     nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                   nn.Linear(128, 10)), (1, 28, 28), bp["num_train"] or mnist_train,
                     bp["num_epochs"], bp["batch_size"], 0),
    ]
    # Week 4 also times n x n matrix products on the GPU and on the host CPU (1 warm-up + 3 repeats each),
    # checks the largest against a CPU product, and times a 64 -> 128 channel convolution step (fp32 and
    # mixed precision, 1 + 3 calls each) on the GPU.
    matmul = sum(4 * 2 * n**3 for n in w4["sizes"])
    conv = flops_per_image(nn.Conv2d(64, 128, 3, padding=1), (64, 32, 32), True) * w4["step_batch"] * 8
    out.append(Run("Week 4", "GPU timing demos (matmuls, conv steps)", matmul + conv, 0.0, 4 * len(w4["sizes"]) + 8))
    host = matmul + 2 * w4["sizes"][-1] ** 3  # the same products on the CPU, and the CPU reference product
    return out, [("Week 4", host)]


def main() -> int:
    all_runs, host = runs()
    print(__doc__.split("\n\n")[0])
    print("\nAssumptions: " + "; ".join(f"{d.name}, {d.step_overhead_s * 1e3:.0f} ms per step, host CPU "
                                         f"{d.host_gflops:.0f} GFLOP/s" for d in DEVICES)
          + f"; plus {FIXED_OVERHEAD_S:.0f} s per lecture.\n")
    header = f"{'lecture':7} {'run':52} {'TFLOPs':>8} {'steps':>7}" + "".join(f" {d.name[:14]:>15}" for d in DEVICES)
    print(header)
    print("-" * len(header))
    for run in all_runs:
        print(f"{run.lecture:7} {run.name:52} {(run.train_flops + run.eval_flops) / 1e12:8.1f} {run.steps:7d}"
              + "".join(f" {run.seconds(d):14.1f}s" for d in DEVICES))
    print("-" * len(header))
    ok = True
    for lecture in ("Week 4", "Week 5", "Week 6"):
        cells = []
        for d in DEVICES:
            total = FIXED_OVERHEAD_S + sum(r.seconds(d) for r in all_runs if r.lecture == lecture)
            total += sum(flops for name, flops in host if name == lecture) / (d.host_gflops * 1e9)
            cells.append(f" {total:8.0f}s/{d.budget_s:3.0f}")
            ok &= total <= d.budget_s
        print(f"{lecture:7} {'whole lecture (estimate / budget)':52} {'':8} {'':7}" + "".join(cells))
    print("\nall estimates within budget" if ok else "\nSOME ESTIMATE EXCEEDS ITS BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
