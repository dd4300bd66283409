"""Estimate every lecture's full-profile run time on an H100 and a free Colab T4, from FLOP counts.

Usage: `.venv/bin/python benchmarks/bench_full_estimates.py` from the repository root (CPU only, about a
minute). Exit status 1 if an estimate exceeds its lecture's budget, 2 if a lecture of the plan has no table.

Which lectures: every page in course.yml's `plan[*].lectures`. Budgets: each page's front matter,
`book.budget_seconds.full` (an H100-class GPU) and `.colab_t4`, read with tools/book_ext.py `budgets()`.

How the estimate is made. The full-profile settings are read from the lectures themselves: every
`name = config.choose(quick=..., full=<expr>)` assignment (also `a, b = choose(...), choose(...)`), and every
`choose` passed as an argument of a call (`train(m, num_epochs=config.choose(...))`), whose `full` value needs
no function call to evaluate. The models are built from the lecture's own code: its code cells' top-level
imports, `def`s, `class`es and call-free assignments are executed in a fresh namespace (nothing else runs:
no data is loaded, `book_config()` and `provenance()` are not called; `config` is `BookConfig("full")`);
Weeks 4-6 take theirs from helpers.models, as the lectures do. Per lecture, a small table (`week_*` below)
says which runs it makes: the constructor, one input's shape, and which settings give the epochs and
images, or the steps and batch size, and how many images each evaluation sees. For each run the FLOPs of a
training step (forward + backward of the lecture's loss) and of an evaluation are counted per image with
`torch.utils.flop_counter.FlopCounterMode` on a batch of 2, then scaled by the schedule.

Time = FLOPs / sustained throughput + steps x per-step overhead + host-CPU work + a fixed per-lecture
overhead. FlopCounterMode counts matrix products and convolutions only; the memory-bound operations
(activations, pooling, normalization, augmentation, the optimizer, elementwise flow/ELBO arithmetic) are
folded into the "sustained" throughput and the per-step overhead, which is why both are set well below the
hardware's peak. Loops of a few small tensor operations (Weeks 1-2's hand-written GD/SGD) are charged a
quarter of a training step each. No GPU was used to make these numbers: they are estimates under the
assumptions printed with them, to be replaced by the execution report of a real full build.
"""

from __future__ import annotations

import ast
import functools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
import yaml
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from book_ext import budgets  # noqa: E402

from helpers.config import BookConfig  # noqa: E402
from helpers.gan import mnist_classifier  # noqa: E402
from helpers.models import VGG_CIFAR, lenet5, small_cnn, vgg  # noqa: E402


@dataclass(frozen=True)
class Device:
    """A GPU's assumed sustained throughput and per-step overhead, and its host CPU's speed."""

    name: str
    short: str
    tflops: float  # sustained FLOP/s for these small networks, in 1e12
    step_overhead_s: float  # kernel launches, Python, optimizer, per optimizer step
    host_gflops: float  # the host CPU's matmul rate (Week 4 times a CPU product too), in 1e9
    host_slowdown: float  # host-CPU seconds relative to the H100 machine's host (BM3D, pure-Python loops)
    budget: str  # which front-matter budget applies


DEVICES = (
    # H100 SXM: 989 TFLOP/s dense bf16 peak; 200 is about 20% of it, conservative for 32x32 convolutions.
    Device("H100 (bf16, 200 TFLOP/s sustained)", "H100", 200.0, 1.0e-3, 500.0, 1.0, "full"),
    # T4: 65 TFLOP/s fp16 tensor-core peak; 20 is about 30% of it, the best case for small convolutions.
    Device("T4 optimistic (fp16, 20 TFLOP/s)", "T4 opt", 20.0, 2.0e-3, 50.0, 3.0, "colab_t4"),
    # T4 pessimistic: about what ResNet-18-sized CIFAR training sustains on a throttled free Colab T4.
    Device("T4 pessimistic (fp16, 6 TFLOP/s)", "T4 pess", 6.0, 3.0e-3, 50.0, 3.0, "colab_t4"),
)
FIXED_OVERHEAD_S = 10.0  # per lecture: imports, CUDA context, cuDNN kernel selection, data loading to the GPU
SMALL_STEP = 0.25  # a step of a hand-written loop of a few small tensor operations, in training steps
# BM3D (Week 9, on the host CPU): 0.005 Mpixel/s measured on this project's shared 2-core CPU (256x256 in
# 13 s); assumed 3 times as fast on an H100 machine's host, and as slow on Colab's 2 vCPUs.
BM3D_S_PER_MPIXEL = 1 / 0.015


# --- reading a lecture ---------------------------------------------------------------------------------

def _is_choose(node: ast.AST) -> bool:
    """`choose(...)` or `config.choose(...)`."""
    return isinstance(node, ast.Call) and (getattr(node.func, "id", "") == "choose"
                                           or getattr(node.func, "attr", "") == "choose")


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


@functools.cache
def _code_cells(lecture: Path) -> list[ast.Module]:
    import jupytext

    out = []
    for cell in jupytext.read(lecture).cells:
        if cell.cell_type == "code":
            try:
                out.append(ast.parse(cell.source))
            except SyntaxError:  # IPython magics: nothing we need
                continue
    return out


def _is_definition(stmt: ast.stmt) -> bool:
    """Imports, defs, classes, and assignments whose value calls nothing (constants, tuples of names)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    return isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and not _has_call(stmt.value)


def lecture_namespace(lecture: Path, **extra: object) -> SimpleNamespace:
    """The lecture's definitions, executed in a fresh namespace; `extra` supplies globals its code needs."""
    ns: dict[str, object] = {"__name__": f"lecture_{lecture.stem.replace('-', '_')}"}
    ns["config"] = BookConfig(profile="full")
    for tree in _code_cells(lecture):
        for stmt in tree.body:
            if not _is_definition(stmt) or (isinstance(stmt, ast.Assign) and any(
                    getattr(t, "id", None) == "config" for t in stmt.targets)):
                continue
            try:
                exec(compile(ast.Module([stmt], []), str(lecture), "exec"), ns)
            except Exception:  # noqa: BLE001 - e.g. a constant computed from data: not a definition we need
                continue
    ns["config"] = BookConfig(profile="full")
    ns.update(extra)
    return SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


def _full_value(call: ast.Call, ns: dict) -> object:
    full = {k.arg: k.value for k in call.keywords}.get("full")
    if full is None and len(call.args) == 2:
        full = call.args[1]
    if full is None or _has_call(full):
        raise ValueError("not evaluable without running the lecture")
    return eval(compile(ast.Expression(full), "<full>", "eval"), dict(ns))  # noqa: S307 - the lecture's code


def full_settings(lecture: Path, ns: SimpleNamespace | None = None) -> dict:
    """The lecture's full-profile settings.

    `{name: value}` for `name = choose(...)` and `a, b = choose(...), choose(...)`; and, for a `choose`
    passed to a call, `{(callee, keyword or position): [values in source order]}`, e.g.
    `("train", "num_epochs"): [20, 30]`; for a `choose` in a tuple that starts with a string (a table
    row such as `("ill-conditioned", 1e3, choose(...))`), `{("row", that string): [values]}`.
    Values that need a function call (data) are left out.
    """
    env = vars(ns) if ns is not None else {}
    settings: dict = {}
    for tree in _code_cells(lecture):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                pairs = []
                if isinstance(target, ast.Name) and _is_choose(value):
                    pairs = [(target.id, value)]
                elif (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                      and len(target.elts) == len(value.elts)):
                    pairs = [(t.id, v) for t, v in zip(target.elts, value.elts, strict=True)
                             if isinstance(t, ast.Name) and _is_choose(v)]
                for name, call in pairs:
                    try:
                        settings[name] = _full_value(call, env)
                    except Exception:  # noqa: BLE001
                        continue
            elif isinstance(node, ast.Tuple) and node.elts and isinstance(getattr(node.elts[0], "value", None), str):
                for arg in node.elts:
                    if _is_choose(arg):
                        try:
                            settings.setdefault(("row", node.elts[0].value), []).append(_full_value(arg, env))
                        except Exception:  # noqa: BLE001
                            continue
            elif isinstance(node, ast.Call) and not _is_choose(node):
                callee = getattr(node.func, "id", None) or getattr(node.func, "attr", "?")
                args = [(i, a) for i, a in enumerate(node.args)] + [(k.arg, k.value) for k in node.keywords]
                for key, arg in args:
                    if _is_choose(arg):
                        try:
                            settings.setdefault((callee, key), []).append(_full_value(arg, env))
                        except Exception:  # noqa: BLE001
                            continue
    return settings


# --- counting ------------------------------------------------------------------------------------------

def _default_loss(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    return model(X).float().flatten(1).logsumexp(1).sum()


def flops_per_image(model: nn.Module, shape: tuple[int, ...], train: bool, loss: Callable | None = None,
                    evaluate: Callable | None = None, batch: int = 2) -> float:
    """FLOPs per image of a training step (forward + backward of `loss`) or of an evaluation (forward)."""
    model.train(train)
    X = torch.zeros(batch, *shape)
    with FlopCounterMode(display=False) as counter:
        if train:
            (loss or _default_loss)(model, X).backward()
        else:
            with torch.no_grad():
                (evaluate or (lambda m, x: m(x)))(model, X)
    return counter.get_total_flops() / batch


@dataclass(frozen=True)
class Spec:
    """One training run of a lecture (a row of its table).

    Epoch-based: `epochs` passes over `images` in batches of `batch` (the last batch dropped with
    `drop_last`). Step-based: `steps` optimizer steps of `batch` images. `evals` evaluations of
    `eval_images` images each (default: one per epoch, or one for a step-based run). `copies`: identical
    runs (other optimizer, seed). `model=None`: a loop of small tensor operations, charged `step_cost`
    training steps of overhead each and no FLOPs. `host_s`: host-CPU seconds on the H100 machine.
    """

    name: str
    model: Callable[[], nn.Module] | None
    shape: tuple[int, ...] = ()
    epochs: int = 1
    images: int = 0
    batch: int = 1
    steps: int = 0
    eval_images: float = 0
    evals: int | None = None
    copies: int = 1
    drop_last: bool = False
    loss: Callable | None = None
    evaluate: Callable | None = None
    step_cost: float = 1.0
    host_s: float = 0.0
    extra_flops: float = 0.0  # FLOPs counted separately (Week 4's timing demos)
    host_flops: float = 0.0  # FLOPs on the host CPU (Week 4's CPU matrix products)


@dataclass
class Run:
    lecture: str
    name: str
    flops: float
    steps: float  # in training-step overheads
    host_s: float = 0.0
    host_flops: float = 0.0

    def seconds(self, device: Device) -> float:
        return (self.flops / (device.tflops * 1e12) + self.steps * device.step_overhead_s
                + self.host_s * device.host_slowdown + self.host_flops / (device.host_gflops * 1e9))


def measure(lecture: str, spec: Spec) -> Run:
    if spec.steps:
        steps, images, evals = spec.steps, spec.steps * spec.batch, 1 if spec.evals is None else spec.evals
    else:
        per_epoch = spec.images // spec.batch if spec.drop_last else math.ceil(spec.images / spec.batch)
        images = (per_epoch * spec.batch if spec.drop_last else spec.images) * spec.epochs
        steps, evals = per_epoch * spec.epochs, spec.epochs if spec.evals is None else spec.evals
    flops = spec.extra_flops
    if spec.model is not None:
        model = spec.model()
        flops += flops_per_image(model, spec.shape, True, spec.loss) * images
        if spec.eval_images and evals:
            flops += flops_per_image(model, spec.shape, False, evaluate=spec.evaluate) * spec.eval_images * evals
    return Run(lecture, spec.name, flops * spec.copies, steps * spec.copies * spec.step_cost,
               spec.host_s * spec.copies, spec.host_flops)


# --- the lectures' tables ------------------------------------------------------------------------------

MNIST_TRAIN, MNIST_TEST, CIFAR_TRAIN, CIFAR_TEST = 60_000, 10_000, 50_000, 10_000
LECTURES = ROOT / "lectures"


def mlp(*sizes: int) -> nn.Sequential:
    layers = [m for a, b in zip(sizes[:-1], sizes[1:], strict=True) for m in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(nn.Flatten(), *layers[:-1])


def week_1(path: Path) -> list[Spec]:
    """optimization-sgd: float64 GD/SGD loops on at most 2000 x 50 data, FLOPs negligible (< 1 GFLOP).

    Steps: GD on the two least-squares problems and at four step sizes; SGD on the logistic problem with
    batch 1 and 16 (64 runs in parallel, `num_epochs` epochs of n_lg examples) and on least squares with two
    schedules (256 runs in parallel). The variance demo and Newton's method are vectorized or short.
    """
    s = full_settings(path)
    gd_steps = s[("row", "well-conditioned")][0] + s[("row", "ill-conditioned")][0]
    return [
        Spec("GD: 2 conditionings + 4 step sizes", None, steps=gd_steps + 4 * s["num_steps_lr"],
             step_cost=SMALL_STEP),
        Spec("SGD logistic, batch 1 and 16", None,
             steps=(s["n_lg"] + s["n_lg"] // 16) * s["num_epochs"], step_cost=SMALL_STEP),
        Spec("SGD least squares, 2 schedules", None, steps=2 * s["num_steps_sgd"], step_cost=SMALL_STEP),
    ]


def week_2(path: Path) -> list[Spec]:
    """logistic-regression: toy loops (blobs 200/20 x 30 epochs; rings 400/50 x 60 epochs, two models) and
    logistic regression + a 64-unit shallow network on MNIST 3 vs 5 (11,552 training images, batch 64)."""
    s = full_settings(path)
    three_vs_five = 6131 + 5421
    return [
        Spec("toy blobs and rings", None, steps=10 * 30 + 2 * 8 * 60, step_cost=SMALL_STEP),
        Spec("logistic regression, MNIST 3 vs 5 (hand gradient)", lambda: mlp(784, 1), (784,),
             epochs=s["num_epochs"], images=three_vs_five, batch=64, eval_images=2000, evals=1,
             step_cost=SMALL_STEP),
        Spec("shallow net 784-64-1, MNIST 3 vs 5", lambda: mlp(784, 64, 1), (784,), epochs=s["num_epochs"],
             images=three_vs_five, batch=64, eval_images=2000, evals=1),
    ]


def week_3(path: Path) -> list[Spec]:
    """softmax-regression-mlp: `train` (fit, batch 128, test set after every epoch) of softmax regression
    and of a two-hidden-layer MLP of `width`; the `num_epochs` of the two calls in source order."""
    s = full_settings(path)
    e_softmax, e_mlp = s[("train", "num_epochs")]
    return [
        Spec("softmax regression", lambda: mlp(784, 10), (1, 28, 28), epochs=e_softmax, images=MNIST_TRAIN,
             batch=128, eval_images=MNIST_TEST),
        Spec("MLP", lambda: mlp(784, s["width"], s["width"], 10), (1, 28, 28), epochs=e_mlp,
             images=MNIST_TRAIN, batch=128, eval_images=MNIST_TEST),
    ]


def week_4(path: Path) -> list[Spec]:
    """convolution-lenet: LeNet-5 on MNIST; the GPU timing demos: n x n matrix products on the GPU and the
    host CPU (1 warm-up + 3 repeats each, the largest checked against a CPU product) and a 64 -> 128 channel
    convolution step (fp32 and mixed precision, 1 + 3 calls each)."""
    s = full_settings(path)
    lenet = s["lenet_run"]
    matmul = sum(4 * 2 * n**3 for n in s["sizes"])
    conv = flops_per_image(nn.Conv2d(64, 128, 3, padding=1), (64, 32, 32), True) * s["step_batch"] * 8
    return [
        Spec("LeNet-5 on MNIST", lenet5, (1, 28, 28), epochs=lenet["num_epochs"],
             images=lenet["num_train"] or MNIST_TRAIN, batch=lenet["batch_size"], eval_images=MNIST_TEST),
        Spec("GPU timing demos (matmuls, conv steps)", None, steps=4 * len(s["sizes"]) + 8,
             extra_flops=matmul + conv, host_flops=matmul + 2 * s["sizes"][-1] ** 3),
    ]


def week_5(path: Path) -> list[Spec]:
    """augmentation-regularization: the small-CNN twins on CIFAR-10 (2 runs, no early stop assumed)."""
    reg = full_settings(path)["reg_run"]
    return [Spec("small CNN twins on CIFAR-10 (2 runs)",
                 lambda: small_cnn(width=reg["width"], dropout=reg["dropout"]), (3, 32, 32),
                 epochs=reg["num_epochs"], images=(reg["num_train"] or CIFAR_TRAIN) - reg["num_val"],
                 batch=reg["batch_size"], eval_images=reg["num_val"], copies=2)]


def week_6(path: Path) -> list[Spec]:
    """initialization-vgg-backprop: VGG on CIFAR-10; the MLP trained by hand-written backprop."""
    s = full_settings(path)
    vgg_run, bp = s["vgg_run"], s["bp_run"]
    return [
        Spec("VGG on CIFAR-10", lambda: vgg(VGG_CIFAR, width=vgg_run["width"]), (3, 32, 32),
             epochs=vgg_run["num_epochs"], images=vgg_run["num_train"] or CIFAR_TRAIN,
             batch=vgg_run["batch_size"], eval_images=vgg_run["num_test"] or CIFAR_TEST, drop_last=True),
        Spec("MLP by hand-written backprop on MNIST", lambda: mlp(784, 256, 128, 10), (1, 28, 28),
             epochs=bp["num_epochs"], images=bp["num_train"] or MNIST_TRAIN, batch=bp["batch_size"]),
    ]


def week_7(path: Path) -> list[Spec]:
    """optimizers-nin-googlenet: six optimizers on one MLP (batch 64, test once); NiN (first stride 2) and
    GoogLeNet on CIFAR-10 (`run`, drop_last, test after every epoch); Reddi's online problem, 2 x
    `num_online` pure-Python steps (about 4 us each on the host)."""
    n = lecture_namespace(path)
    s = full_settings(path, n)
    mlp_run, run = s["mlp_run"], s["run"]
    cifar = dict(images=run["num_train"] or CIFAR_TRAIN, batch=run["batch_size"], drop_last=True,
                 eval_images=run["num_test"] or CIFAR_TEST)
    return [
        Spec("MLP 784-256-10, 6 optimizers", lambda: mlp(784, 256, 10), (784,), epochs=mlp_run["num_epochs"],
             images=mlp_run["num_train"] or MNIST_TRAIN, batch=64, eval_images=MNIST_TEST, evals=1, copies=6),
        Spec("NiN on CIFAR-10", lambda: n.nin(run["nin_width"], first_stride=2), (3, 32, 32),
             epochs=run["nin_epochs"], **cifar),
        Spec("GoogLeNet on CIFAR-10", lambda: n.googlenet(run["modules"], width=run["width"]), (3, 32, 32),
             epochs=run["num_epochs"], **cifar),
        Spec("Adam vs AMSGrad online problem (host)", None, host_s=2 * s["num_online"] * 4e-6),
    ]


def week_8(path: Path) -> list[Spec]:
    """batchnorm-resnet-densenet: `train_mnist` (batch 64, or 128 for the twins; test after every epoch) of
    the sigmoid MLP with and without BN, and of the plain/residual twins of depth 6 and 30; ResNet-18 on
    CIFAR-10 (`res_run`, drop_last)."""
    n = lecture_namespace(path)
    s = full_settings(path, n)
    sig, deg, res = s["sig_run"], s["deg_run"], s["res_run"]
    mnist = dict(images=MNIST_TRAIN, eval_images=MNIST_TEST)
    specs = [Spec(f"sigmoid MLP, BN {bn}", lambda bn=bn: n.sigmoid_mlp(bn), (1, 28, 28),
                  epochs=sig["num_epochs"], batch=64, **mnist) for bn in (False, True)]
    specs += [Spec(f"twin depth {d}, residual {r}", lambda d=d, r=r: n.twin(d, r), (1, 28, 28),
                   epochs=deg["num_epochs"], batch=128, **mnist) for d in (6, 30) for r in (False, True)]
    specs.append(Spec("ResNet-18 on CIFAR-10", lambda: n.resnet18(res["width"]), (3, 32, 32),
                      epochs=res["num_epochs"], images=res["num_train"] or CIFAR_TRAIN,
                      batch=res["batch_size"], drop_last=True, eval_images=res["num_test"] or CIFAR_TEST))
    return specs


def week_9(path: Path) -> list[Spec]:
    """resnext-senet-inverse-problems: DnCNN (`train_restorer`, patch_size^2 patches) and SRCNN + ESPCN
    (`sr_steps` each, low-resolution inputs of (patch_size / 3)^2). Evaluation: the test photographs
    (astronaut 512 x 512 and coffee 400 x 600 in luminance, 0.50 Mpixel; DnCNN once more on the astronaut
    for the figure), counted as patch-sized images since a convolution's cost is linear in the pixels.
    Host: BM3D once on the test photographs. Images under $BOOK_DATA_ROOT/photos/test are not counted."""
    n = lecture_namespace(path)
    s = full_settings(path, n)
    p, batch = s["patch_size"], s["batch_size"]
    depth, channels = s[("dncnn", 0)][0], s[("dncnn", 1)][0]
    test_px, astronaut_px = 512 * 512 + 400 * 600, 512 * 512
    lr_side = p // n.scale
    return [
        Spec("DnCNN denoiser", lambda: n.dncnn(depth, channels), (1, p, p), steps=s[("train_restorer", 2)][0],
             batch=batch, eval_images=(test_px + astronaut_px) / p**2,
             host_s=test_px / 1e6 * BM3D_S_PER_MPIXEL),
        *[Spec(name, lambda cls=cls: cls(*s["widths"]), (1, lr_side, lr_side), steps=s["sr_steps"], batch=batch,
               eval_images=test_px / n.scale**2 / lr_side**2)
          for name, cls in (("SRCNN", n.SRCNN), ("ESPCN", n.ESPCN))],
    ]


def week_10(path: Path) -> list[Spec]:
    """normalizing-flows: RealNVP 2-D (`train_2d`: batch 256, `num_steps[name]` steps) on three data sets,
    evaluated on `num_test` points, a 200 x 200 density grid and 2,000 samples (the mixture's density also
    integrated on a 200 x 200 grid); the MNIST flow (`run`, `batch_size`, all training images per epoch),
    its test set once."""
    n = lecture_namespace(path)
    s = full_settings(path, n)
    run = s["run"]
    flow_2d = dict(loss=lambda m, X: -n.flow_log_prob(m, X).mean(), evaluate=lambda m, X: n.flow_log_prob(m, X))
    specs = [Spec(f"RealNVP 2-D, {name}", lambda: n.realnvp_2d(num_layers=8, hidden=64), (2,), steps=steps,
                  batch=256, eval_images=s["num_test"] + 200 * 200 * (2 if name == "gaussians" else 1) + 2000,
                  **flow_2d) for name, steps in s["num_steps"].items()]
    specs.append(Spec("affine-coupling flow on MNIST",
                      lambda: n.mnist_flow(run["hidden"], run["num_checker"], run["num_channel"]), (1, 28, 28),
                      epochs=run["num_epochs"], images=run["num_train"] or MNIST_TRAIN, batch=s["batch_size"],
                      eval_images=run["num_test"] or MNIST_TEST, evals=1,
                      loss=lambda m, X: n.mnist_nll(m, X).mean(), evaluate=lambda m, X: n.mnist_nll(m, X)))
    return specs


def week_12(path: Path) -> list[Spec]:
    """variational-autoencoders: `train_vae` (batch 128, all training images, the test set at
    initialization and after every epoch) of the VAE (d_z, hidden, depth) and of the 2-D latent one
    (its epochs are `train_vae`'s second argument). The linear-Gaussian and L-BFGS demos are small."""
    n = lecture_namespace(path, noise_generator=torch.Generator())
    s = full_settings(path, n)
    d_z, hidden, depth = s["d_z"], s["hidden"], s["depth"]
    vae = dict(images=MNIST_TRAIN, batch=128, eval_images=MNIST_TEST,
               loss=lambda m, X: -m(X).mean(), evaluate=lambda m, X: m(X))
    return [Spec(name, lambda d=d: n.VAE(d, hidden, depth), (1, 28, 28), epochs=e, evals=e + 1, **vae)
            for name, d, e in (("VAE", d_z, s["num_epochs"]), ("VAE, 2-D latent", 2, s[("train_vae", 1)][0]))]


class _GANStep(nn.Module):
    """The FLOPs of one GAN step: the discriminator on real and on generated (detached) data, then the
    generator's loss through the discriminator."""

    def __init__(self, G: nn.Module, D: nn.Module, real_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.G, self.D, self.real_shape = G, D, real_shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        real = torch.zeros(len(z), *self.real_shape)
        fake = self.G(z)
        return self.D(real).sum() + self.D(fake.detach()).sum() + self.D(fake).sum()


def week_14(path: Path) -> list[Spec]:
    """generative-adversarial-networks: the 1-D discriminator and the linear GAN (`num_steps` small-tensor
    steps each); the ring GAN (`ring_steps` steps of batch 256 per seed, widths `ring_width`); the feature
    classifier (batch 128, all training images, `fit` with the test set each epoch); the DCGAN (`gan_epochs`
    over the training set in batches of 128, drop_last) and 10,000 generated images classified."""
    n = lecture_namespace(path)
    s = full_settings(path, n)
    latent, width = s["latent_dim"], s["gan_width"]
    gan_loss = dict(loss=lambda m, z: m(z), evaluate=lambda m, z: m.G(z))
    return [
        Spec("1-D discriminator and linear GAN", None, steps=2 * s["num_steps"]),
        Spec("GAN on the ring of 8 Gaussians", lambda: _GANStep(n.mlp(2, 2, s["ring_width"]),
                                                              n.mlp(2, 1, s["ring_width"]), (2,)), (2,),
             steps=s["ring_steps"], batch=256, copies=len(s["seeds"]), **gan_loss),
        Spec("feature classifier on MNIST", lambda: mnist_classifier(width=32), (1, 28, 28), epochs=4,
             images=MNIST_TRAIN, batch=128, eval_images=MNIST_TEST),
        Spec("DCGAN on MNIST", lambda: _GANStep(n.dcgan_generator(latent, width), n.dcgan_discriminator(width),
                                              (1, 28, 28)), (latent,), epochs=s["gan_epochs"],
             images=MNIST_TRAIN, batch=128, drop_last=True, eval_images=s["n_eval"], evals=1, **gan_loss),
    ]


TABLES: dict[str, Callable[[Path], list[Spec]]] = {
    "optimization-sgd": week_1,
    "logistic-regression": week_2,
    "softmax-regression-mlp": week_3,
    "convolution-lenet": week_4,
    "augmentation-regularization": week_5,
    "initialization-vgg-backprop": week_6,
    "optimizers-nin-googlenet": week_7,
    "batchnorm-resnet-densenet": week_8,
    "resnext-senet-inverse-problems": week_9,
    "normalizing-flows": week_10,
    "variational-autoencoders": week_12,
    "generative-adversarial-networks": week_14,
}


def plan_lectures() -> list[Path]:
    plan = yaml.safe_load((ROOT / "course.yml").read_text(encoding="utf-8"))["plan"]
    return [ROOT / f"{page}.md" for topic in plan for page in topic.get("lectures") or []]


# --- report --------------------------------------------------------------------------------------------

def main() -> int:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    print(__doc__.split("\n\n")[0])
    print("\nAssumptions: " + "; ".join(f"{d.name}, {d.step_overhead_s * 1e3:.0f} ms per step" for d in DEVICES)
          + f"; a small-tensor loop step = {SMALL_STEP} step; plus {FIXED_OVERHEAD_S:.0f} s per lecture; host"
          f" CPU {DEVICES[0].host_gflops:.0f}/{DEVICES[1].host_gflops:.0f} GFLOP/s (H100 machine/Colab), other"
          f" host work {DEVICES[1].host_slowdown:.0f}x slower on Colab.\n")
    cols = "".join(f" {d.short:>9}" for d in DEVICES)
    header = f"{'lecture / run':48} {'TFLOPs':>8} {'steps':>7}{cols} {'budget':>9}"
    print(header)
    print("-" * len(header))
    verdicts, missing = [], []
    for path in plan_lectures():
        stem = path.stem
        if stem not in TABLES:
            missing.append(stem)
            print(f"{stem:48} NO TABLE: add one to benchmarks/bench_full_estimates.py")
            continue
        budget = budgets(path)
        runs = [measure(stem, spec) for spec in TABLES[stem](path)]
        for run in runs:
            print(f"  {run.name:46} {run.flops / 1e12:8.2f} {run.steps:7.0f}"
                  + "".join(f" {run.seconds(d):8.1f}s" for d in DEVICES))
        totals = [FIXED_OVERHEAD_S + sum(r.seconds(d) for r in runs) for d in DEVICES]
        flops, steps = sum(r.flops for r in runs), sum(r.steps for r in runs)
        over = [(d, t, budget[d.budget]) for d, t in zip(DEVICES, totals, strict=True) if t > budget[d.budget]]
        verdicts.append((stem, over))
        print(f"{stem:48} {flops / 1e12:8.2f} {steps:7.0f}" + "".join(f" {t:8.0f}s" for t in totals)
              + f" {budget['full']:>4.0f}/{budget['colab_t4']:<4.0f}" + ("  OVER" if over else ""))
        print("-" * len(header))
    print()
    for stem, over in verdicts:
        for d, t, b in over:
            print(f"OVER BUDGET: {stem} on {d.short}: {t:.0f} s > {b:.0f} s (by {t - b:.0f} s, {t / b:.1f}x)")
    if missing:
        print(f"NO ESTIMATE (no table): {', '.join(missing)}")
    within = [stem for stem, over in verdicts if not over]
    print(f"within budget ({len(within)}/{len(verdicts) + len(missing)}): {', '.join(within) or 'none'}")
    if any(over for _, over in verdicts):
        return 1
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
