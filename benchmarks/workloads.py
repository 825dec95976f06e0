"""The workloads, each written once and run on either framework, timed in the process that
runs them.

    python -m benchmarks.workloads W3 chainrule|compiled|torch|torch-compiled|numpy [--quick]

prints one JSON line: {"W3": {"value": ..., "unit": "steps/s", "better": "higher"}, ...}, one
entry per figure (W3 also reports "W3 peak RSS"). `numpy` runs the hand-written floor of
benchmarks/numpy_floor.py (W3 and W4 only); `compiled` runs chainrule with the step wrapped in
`chainrule.compile` (W1-W4, W7), and also reports the first call (the capture) in seconds as
"<W> first call"; `torch-compiled` the same with `torch.compile` (or {"unavailable": why}
when it cannot run here). Every time is the median of several timed
repeats after a warm-up; `--quick` cuts them to a smoke run whose figures mean nothing.

The models are the same code for both libraries (`lib` is `chainrule` or `torch`), get the
same float32 initial parameters (benchmarks/common.py) and train on the same data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import common, numpy_floor
from benchmarks.common import median_seconds, row


def _framework(name: str):
    if name in ("torch", TORCH_COMPILED):
        import torch

        return torch
    import chainrule

    return chainrule


COMPILED = "compiled"  # the framework name of chainrule with chainrule.compile
TORCH_COMPILED = "torch-compiled"  # PyTorch with torch.compile (TorchInductor), the anchor


class UnavailableError(Exception):
    """torch.compile cannot run here (no C compiler, an unsupported platform): reported as a
    note, not as a failed measurement."""


def _compiled(framework: str, name: str, step: Callable) -> tuple[Callable, dict]:
    """`step` itself, or for "compiled" (chainrule.compile) and "torch-compiled"
    (torch.compile) the compiled step after its first call (the capture, and for PyTorch the
    code generation and C compilation), timed, with that figure."""
    if framework not in (COMPILED, TORCH_COMPILED):
        return step, {}
    if framework == TORCH_COMPILED:
        import torch

        compiled = torch.compile(step)
        start = time.perf_counter()
        try:
            compiled()
        except Exception as error:  # Inductor's errors have no common base class
            raise UnavailableError(f"{type(error).__name__}: {str(error)[:200]}") from None
        return compiled, {f"{name} first call": row(time.perf_counter() - start, "s", "lower")}
    import chainrule

    compiled = chainrule.compile(step)
    start = time.perf_counter()
    compiled()
    seconds = time.perf_counter() - start
    if compiled.program is None:
        raise RuntimeError(f"{name}: chainrule.compile could not capture the step")
    return compiled, {f"{name} first call": row(seconds, "s", "lower")}


def _load_initial_parameters(lib, model) -> None:
    """Overwrite the model's parameters with common.initial_parameters, by name."""
    shapes = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    arrays = common.initial_parameters(shapes)
    model.load_state_dict({name: lib.from_numpy(array) for name, array in arrays.items()})


def _train_step(
    lib, model, optimizer, inputs: np.ndarray, labels: np.ndarray, device: str = "cpu"
) -> Callable:
    """One zero_grad / forward / cross-entropy / backward / optimizer step; returns the loss.
    The model and its optimizer are already on `device`; the data is copied there once."""
    x = lib.from_numpy(inputs).to(device)
    y = lib.from_numpy(labels).to(device)
    cross_entropy = lib.nn.functional.cross_entropy

    def step():
        optimizer.zero_grad()
        logits = model(x)
        loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss

    return step


# ---- W1: per-op overhead -------------------------------------------------------------------

W1_OPS = 200


def w1(framework: str, quick: bool = False) -> dict:
    """(8,) tensor with grad; 200 ops alternating y*1.0001, y+0.001, tanh(y); sum; backward."""
    step, first = _compiled(framework, "W1", w1_setup(_framework(framework)))
    repeats, warmup = common.budget(200, 20, quick)
    seconds = median_seconds(step, repeats, warmup)
    return {"W1": row(seconds / W1_OPS * 1e6, "us/op", "lower"), **first}


def w1_setup(lib) -> Callable:
    """W1's step closure: W1_OPS small ops on an (8,) tensor, then backward."""
    x = lib.ones(8, requires_grad=True)

    def step() -> None:
        y = x
        for i in range(W1_OPS):
            kind = i % 3
            if kind == 0:
                y = y * 1.0001
            elif kind == 1:
                y = y + 0.001
            else:
                y = lib.tanh(y)
        y.sum().backward()

    return step


# ---- W2, W3: MLP train steps ---------------------------------------------------------------


def mlp_setup(lib, batch: int, sizes: tuple[int, ...], device: str = "cpu") -> Callable:
    """Linear-ReLU-...-Linear, cross-entropy, SGD(lr=0.01): the train step closure."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [lib.nn.Linear(fan_in, fan_out), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers[:-1])
    _load_initial_parameters(lib, model)
    model = model.to(device)
    optimizer = lib.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)
    inputs, labels = common.classification_data(batch, sizes[:1], sizes[-1])
    return _train_step(lib, model, optimizer, inputs, labels, device)


def w2(framework: str, quick: bool = False) -> dict:
    """Batch 128, 64-256-256-10 MLP train step: steps/s (small: overhead-bound)."""
    step = mlp_setup(_framework(framework), common.W2_BATCH, common.W2_SIZES)
    step, first = _compiled(framework, "W2", step)
    return {**common.train_figures("W2", step, 200, 10, quick, memory=False), **first}


def w3(framework: str, quick: bool = False) -> dict:
    """Batch 256, 784-1024-1024-10 MLP train step: steps/s (matmul-bound), and peak RSS."""
    step = mlp_setup(_framework(framework), common.W3_BATCH, common.W3_SIZES)
    step, first = _compiled(framework, "W3", step)
    return {**common.train_figures("W3", step, 30, 3, quick, memory=True), **first}


# ---- W4: CNN train step --------------------------------------------------------------------


def cnn_setup(lib) -> Callable:
    """conv 1->16 k5 p2, ReLU, maxpool 2; conv 16->32 k5 p2, ReLU, maxpool 2; linear 1568->10;
    cross-entropy, SGD(lr=0.01): the train step closure."""
    nn = lib.nn
    c0, c1, c2 = common.W4_CHANNELS
    k, pad = common.W4_KERNEL, common.W4_PAD
    model = nn.Sequential(
        nn.Conv2d(c0, c1, k, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, k, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, common.W4_CLASSES),
    )
    _load_initial_parameters(lib, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)
    inputs, labels = common.classification_data(common.W4_BATCH, (c0, 28, 28), common.W4_CLASSES)
    return _train_step(lib, model, optimizer, inputs, labels)


def w4(framework: str, quick: bool = False) -> dict:
    """Batch 64 of 1x28x28, the two-conv CNN train step: steps/s, and peak RSS."""
    step, first = _compiled(framework, "W4", cnn_setup(_framework(framework)))
    return {**common.train_figures("W4", step, 20, 3, quick, memory=True), **first}


# ---- W5: matmul gradient over the NumPy floor ----------------------------------------------


def w5(framework: str, quick: bool = False) -> dict:
    """A, B 1024x1024 float32; loss = (A @ B).sum(); grads of both; over 3 raw NumPy matmuls."""
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((1024, 1024)).astype(np.float32)
    b_np = rng.standard_normal((1024, 1024)).astype(np.float32)
    repeats, warmup = common.budget(10, 3, quick)
    floor = median_seconds(lambda: (a_np @ b_np, a_np @ b_np.T, a_np.T @ b_np), repeats, warmup)
    lib = _framework(framework)
    a = lib.tensor(a_np, requires_grad=True)
    b = lib.tensor(b_np, requires_grad=True)

    def step() -> None:
        a.grad = None
        b.grad = None
        (a @ b).sum().backward()

    seconds = median_seconds(step, repeats, warmup)
    return {
        "W5": row(
            seconds / floor, "x 3 NumPy matmuls", "lower", seconds=seconds, floor_seconds=floor
        )
    }


# ---- W6: higher order ----------------------------------------------------------------------

W6_SIZE = 512


def w6_setup(framework: str) -> dict:
    """The W6 computations as closures, each returning a tensor, plus the APIs chosen:
    "f", "grad" (func.grad), "autograd_grad", "hvp_double_backward", "hvp" (jvp of grad where
    func.jvp exists, else the double backward) with "hvp_grad" its matching gradient, "jvp"."""
    lib = _framework(framework)
    rng = np.random.default_rng(0)
    w = lib.from_numpy(rng.standard_normal((W6_SIZE, W6_SIZE)) / np.sqrt(W6_SIZE))
    x = lib.from_numpy(rng.standard_normal(W6_SIZE))
    v = lib.from_numpy(rng.standard_normal(W6_SIZE))

    def f(x):
        return (lib.tanh(w @ x) ** 2).sum()

    if framework == "torch":
        import torch.func as func
    else:
        func = lib.func
    grad_f = func.grad(f)
    has_jvp = hasattr(func, "jvp")

    def jvp_f():
        if has_jvp:
            return func.jvp(f, (x,), (v,))[1]
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            return forward_ad.unpack_dual(f(forward_ad.make_dual(x, v))).tangent

    def hvp_forward_over_reverse():
        return func.jvp(grad_f, (x,), (v,))[1]

    def autograd_grad():
        leaf = x.detach().requires_grad_(True)
        return lib.autograd.grad(f(leaf), leaf)[0]

    def hvp_double_backward():
        leaf = x.detach().requires_grad_(True)
        (g,) = lib.autograd.grad(f(leaf), leaf, create_graph=True)
        return lib.autograd.grad((g * v).sum(), leaf)[0]

    return {
        "f": lambda: f(x),
        "grad": lambda: grad_f(x),
        "autograd_grad": autograd_grad,
        "hvp_double_backward": hvp_double_backward,
        "hvp": hvp_forward_over_reverse if has_jvp else hvp_double_backward,
        "hvp_grad": (lambda: grad_f(x)) if has_jvp else autograd_grad,
        "jvp": jvp_f,
        "hvp_api": "func.jvp(func.grad(f))" if has_jvp else "autograd.grad(create_graph=True) x2",
        "jvp_api": "func.jvp" if has_jvp else "autograd.forward_ad",
    }


def w6(framework: str, quick: bool = False) -> dict:
    """f(x) = sum(tanh(W @ x) ** 2), W 512x512 float64. Hessian-vector product time over
    gradient time, by jvp of grad (forward over reverse) and by double backward; jvp time over
    f time. chainrule uses func.jvp where it exists, else the fallback named in "api"."""
    setup = w6_setup(framework)
    repeats, warmup = common.budget(200, 20, quick)
    seconds = {
        name: median_seconds(setup[name], repeats, warmup)
        for name in ("f", "jvp", "hvp", "hvp_grad", "autograd_grad", "hvp_double_backward")
    }

    def ratio(numerator: str, denominator: str, unit: str, **extra: object) -> dict:
        value = seconds[numerator] / seconds[denominator]
        times = {numerator: seconds[numerator], denominator: seconds[denominator]}
        return row(value, unit, "lower", seconds=times, **extra)

    return {
        "W6 HVP / grad": ratio("hvp", "hvp_grad", "x one gradient", api=setup["hvp_api"]),
        "W6 HVP / grad, double backward": ratio(
            "hvp_double_backward", "autograd_grad", "x one gradient"
        ),
        "W6 jvp / f": ratio("jvp", "f", "x one f(x)", api=setup["jvp_api"]),
    }


# ---- W7: transformer block train step ------------------------------------------------------


def transformer_setup(
    lib,
    batch: int = common.W7_BATCH,
    seq: int = common.W7_SEQ,
    d: int = common.W7_MODEL,
    device: str = "cpu",
) -> Callable:
    """Embedding(65, 128) -> pre-norm block (causal 4-head attention, GELU MLP 4x) -> LayerNorm
    -> Linear(128, 65); cross-entropy on batch 16 x 64 tokens, Adam: the train step closure
    (other sizes for the GPU runs, benchmarks/gpu.py)."""
    nn = lib.nn
    functional = lib.nn.functional
    heads, vocab = common.W7_HEADS, common.W7_VOCAB

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.up = nn.Linear(d, 4 * d)
            self.down = nn.Linear(4 * d, d)
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)

        def split_heads(self, t):
            batch, seq, _ = t.shape
            return t.reshape(batch, seq, heads, d // heads).transpose(1, 2)

        def forward(self, tokens):
            batch, seq = tokens.shape
            x = self.embed(tokens)
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
            attended = functional.scaled_dot_product_attention(
                self.split_heads(q), self.split_heads(k), self.split_heads(v), is_causal=True
            )
            x = x + self.proj(attended.transpose(1, 2).reshape(batch, seq, d))
            x = x + self.down(functional.gelu(self.up(self.ln2(x))))
            return self.head(self.ln_f(x))

    model = Block()
    _load_initial_parameters(lib, model)
    model = model.to(device)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    shape = (batch, seq)
    tokens = rng.integers(0, vocab, size=shape).astype(np.int64)
    targets = rng.integers(0, vocab, size=shape).astype(np.int64)
    return _train_step(lib, model, optimizer, tokens, targets, device)


def w7(framework: str, quick: bool = False) -> dict:
    """Transformer block train step (batch 16, seq 64, d_model 128, 4 heads): steps/s."""
    step, first = _compiled(framework, "W7", transformer_setup(_framework(framework)))
    return {**common.train_figures("W7", step, 20, 3, quick, memory=False), **first}


# ---- W8: LSTM language model train step ----------------------------------------------------


def lstm_setup(lib) -> Callable:
    """Embedding(65, 64) -> LSTM(64, 256, batch_first) -> Linear(256, 65); cross-entropy on
    batch 32 x 50 tokens, Adam: a character-level language model's train step closure, bound
    by the recurrence (50 small dependent steps forward and back)."""
    nn = lib.nn

    class CharLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(common.W8_VOCAB, common.W8_EMBED)
            self.lstm = nn.LSTM(common.W8_EMBED, common.W8_HIDDEN, batch_first=True)
            self.head = nn.Linear(common.W8_HIDDEN, common.W8_VOCAB)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return self.head(hidden)

    model = CharLSTM()
    _load_initial_parameters(lib, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    shape = (common.W8_BATCH, common.W8_SEQ)
    tokens = rng.integers(0, common.W8_VOCAB, size=shape).astype(np.int64)
    targets = rng.integers(0, common.W8_VOCAB, size=shape).astype(np.int64)
    return _train_step(lib, model, optimizer, tokens, targets)


def w8(framework: str, quick: bool = False) -> dict:
    """LSTM language model train step (batch 32, 50 steps, hidden 256): steps/s."""
    step, first = _compiled(framework, "W8", lstm_setup(_framework(framework)))
    return {**common.train_figures("W8", step, 10, 2, quick, memory=False), **first}


# ---- import time ---------------------------------------------------------------------------


def import_time(framework: str, quick: bool = False) -> dict:
    """Wall time of `import chainrule` / `import torch` in a fresh interpreter (start-up of
    Python itself excluded). Both from compiled bytecode, as a pip install leaves them: an
    editable install under PYTHONDONTWRITEBYTECODE=1 (set on these machines) would otherwise
    recompile chainrule's source on every import, which torch's installed .pyc files never do."""
    if framework == "chainrule":
        import chainrule

        package = str(Path(chainrule.__file__).parent)
        subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
    code = (
        "import time; start = time.perf_counter(); "
        f"import {framework}; print(time.perf_counter() - start)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return {"import": row(float(result.stdout.strip()), "s", "lower")}


WORKLOADS = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
    "W7": w7,
    "W8": w8,
    "import": import_time,
}
SETUPS = {
    "W2": lambda lib: mlp_setup(lib, common.W2_BATCH, common.W2_SIZES),
    "W3": lambda lib: mlp_setup(lib, common.W3_BATCH, common.W3_SIZES),
    "W4": cnn_setup,
    "W7": transformer_setup,
    "W8": lstm_setup,
}


def run(name: str, framework: str, quick: bool = False) -> dict:
    """The figures of one workload on one framework ("chainrule", "torch" or "numpy")."""
    if framework == "numpy":
        return numpy_floor.FLOORS[name](quick)
    if framework in ("torch", TORCH_COMPILED):
        import torch

        torch.manual_seed(0)
    return WORKLOADS[name](framework, quick)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    name, framework = [a for a in argv if a != "--quick"]
    try:
        figures = run(name, framework, quick)
    except UnavailableError as error:
        figures = {"unavailable": str(error)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
