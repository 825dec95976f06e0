"""Differential fuzzing against PyTorch, round seven: the training machinery rounds one to six
leave out. Optimizers (every one chainrule has, with random hyperparameters, several param
groups, parameters without a gradient, zero-dim and complex parameters, state dict round
trips mid-run, add_param_group, zero_grad, and the refusal of bad hyperparameters); learning
rate schedulers (random schedules and chains of them over tens of steps: each step's
learning rates and momenta, state dicts, and what PyTorch refuses); the autograd machinery
(custom Functions with their ctx methods, tensor hooks, backward and autograd.grad options and
their errors); and torch.distributions (densities, moments, cdf and icdf, shapes, expand,
KL divergences, reparameterised gradients and argument validation). Each case runs one
random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and gradients, or the exception type when PyTorch raises (see
`check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'optimizers-case_17'`), and
`python -m tests.test_fuzz_torch_round7 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_round4 import Raised


def _normal(seed: int, shape: tuple, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _tree(value):
    """A result with dicts as (key, value) pairs in key order and Python floats as float64
    tensors tagged as floats (compared to a tolerance, not bit for bit), for `check_program`."""
    if isinstance(value, dict):
        return tuple((key, _tree(value[key])) for key in sorted(value, key=repr))
    if isinstance(value, (list, tuple)):
        return tuple(_tree(item) for item in value)
    if isinstance(value, float):
        return ("python float", torch.tensor(value, dtype=torch.float64))
    return value


def _outcome(thunk):
    """What `thunk()` returned, or the exception it raised, as a comparable value."""
    try:
        return thunk()
    except Exception as error:  # noqa: BLE001 - compared by type
        return Raised(error)


# ---- family: optimizers ------------------------------------------------------------------------
# Parameters (float64, float32, zero-dim, complex where PyTorch takes it) in two param groups
# with options of their own, some never given a gradient; a few steps on fixed random
# gradients, with a state dict round trip into a fresh optimizer, an added param group and
# zero_grad along the way; then the parameters, the gradients and the whole state dict.

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam", "ASGD", "Rprop", "LBFGS", "SparseAdam"]  # fmt: skip
NO_COMPLEX = {"LBFGS", "SparseAdam"}


def _shape(rng, low: int = 1, high: int = 4, most_dims: int = 2) -> tuple:
    return tuple(int(s) for s in rng.integers(low, high, int(rng.integers(0, most_dims + 1))))


def _choice(rng, values: list):
    return values[int(rng.integers(0, len(values)))]


def _optimizer_options(rng, name: str) -> dict:
    """Random hyperparameters for `name`, each within what PyTorch accepts."""
    options: dict = {"lr": _choice(rng, [0.1, 0.01, 0.5, 1e-3])}
    flag = lambda: bool(rng.random() < 0.5)  # noqa: E731
    if name != "LBFGS" and flag():
        options["maximize"] = flag()
    if name not in ("LBFGS", "SparseAdam", "Rprop") and flag():
        options["weight_decay"] = _choice(rng, [0.0, 0.1, 0.01])
    if name in ("Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"):
        if flag():
            options["betas"] = (_choice(rng, [0.9, 0.5, 0.0]), _choice(rng, [0.999, 0.9, 0.3]))
        if flag():
            options["eps"] = _choice(rng, [1e-8, 1e-3, 0.0])
    if name in ("Adam", "AdamW") and flag():
        options["amsgrad"] = True
    if name == "Adam" and flag():
        options["decoupled_weight_decay"] = flag()
    if name == "SGD":
        options["momentum"] = _choice(rng, [0.0, 0.5, 0.9])
        if options["momentum"] and flag():
            options["nesterov"] = True
        elif flag():
            options["dampening"] = _choice(rng, [0.0, 0.3])
    if name == "RMSprop":
        options.update(alpha=_choice(rng, [0.99, 0.5]), centered=flag())
        options["momentum"] = _choice(rng, [0.0, 0.9])
    if name == "Adagrad":
        options.update(lr_decay=_choice(rng, [0.0, 0.1]), eps=_choice(rng, [1e-10, 1e-3]))
        options["initial_accumulator_value"] = _choice(rng, [0.0, 0.5])
    if name == "Adadelta":
        options.update(rho=_choice(rng, [0.9, 0.5, 0.0]), eps=_choice(rng, [1e-6, 1e-3]))
    if name == "NAdam":
        options.update(momentum_decay=_choice(rng, [0.004, 0.1]), decoupled_weight_decay=flag())
    if name == "RAdam" and flag():
        options["decoupled_weight_decay"] = True
    if name == "ASGD":
        options.update(lambd=_choice(rng, [1e-4, 0.1]), alpha=_choice(rng, [0.75, 0.5]))
        options["t0"] = _choice(rng, [1e6, 1.0, 2.0])
    if name == "Rprop":
        options["etas"] = (_choice(rng, [0.5, 0.3]), _choice(rng, [1.2, 2.0]))
        options["step_sizes"] = (_choice(rng, [1e-6, 1e-3]), _choice(rng, [50.0, 0.05]))
    if name == "LBFGS":
        options.update(lr=_choice(rng, [1.0, 0.5]), max_iter=_choice(rng, [1, 3, 5]))
        options.update(history_size=_choice(rng, [2, 10]))
        options["line_search_fn"] = _choice(rng, [None, "strong_wolfe"])
        if flag():
            options["tolerance_change"] = _choice(rng, [1e-9, 1e-3])
    return options


# A bad value for one option, and the optimizers whose constructor reads that option.
BAD_OPTIONS = [
    ("lr", -0.1, set(OPTIMIZERS)),
    ("eps", -1e-8, {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta",
                    "RMSprop", "SparseAdam"}),
    ("weight_decay", -0.1, {"SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad",
                            "Adadelta", "RMSprop", "ASGD"}),
    ("betas", (1.0, 0.999), {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"}),
    ("betas", (0.9, -0.1), {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"}),
    ("momentum", -0.5, {"SGD", "RMSprop"}),
    ("nesterov_without_momentum", True, {"SGD"}),
    ("rho", 1.5, {"Adadelta"}),
    ("alpha", -0.1, {"RMSprop"}),
    ("etas", (1.5, 1.2), {"Rprop"}),
    ("etas", (0.5, 0.9), {"Rprop"}),
    ("lr_decay", -0.1, {"Adagrad"}),
    ("initial_accumulator_value", -1.0, {"Adagrad"}),
    ("momentum_decay", -0.1, {"NAdam"}),
    ("empty_params", None, set(OPTIMIZERS)),
    ("two_groups", None, {"LBFGS"}),
]  # fmt: skip
# (A parameter given twice is left out: PyTorch deprecates it, "in future, this will cause
# an error", and meanwhile steps it once per appearance; chainrule warns the same.)


def _dense_grad(grad):
    return grad.to_dense() if grad is not None and grad.is_sparse else grad


def _closure_loss(lib, params: list, seed: int):
    """A quadratic with a different curvature per entry, for LBFGS's closure."""
    total = 0
    for i, p in enumerate(params):
        if i % 3 == 2:
            continue  # a parameter the loss never reaches: its gradient stays None
        shape = tuple(p.shape)
        curvature = lib.tensor(np.abs(_normal(seed + 50 + i, shape)) + 0.5, dtype=p.dtype)
        shift = lib.tensor(_normal(seed + 60 + i, shape), dtype=p.dtype)
        total = total + (curvature * (p - shift) ** 2).sum() + (p**4).sum() * 0.01
    return total


def _draw_optimizers(seed: int):
    rng = np.random.default_rng(seed)
    name = _choice(rng, OPTIMIZERS)
    options = _optimizer_options(rng, name)
    count = int(rng.integers(1, 5))
    shapes = [_shape(rng) for _ in range(count)]
    if name == "SparseAdam":
        shapes = [(int(rng.integers(2, 5)), int(rng.integers(1, 4))) for _ in range(count)]
    dtypes = [_choice(rng, ["float64", "float64", "float32", "complex128"]) for _ in shapes]
    if name in NO_COMPLEX:
        dtypes = [d if d != "complex128" else "float64" for d in dtypes]
    if name == "LBFGS":  # (float32 line searches drift apart by summation order alone, and
        dtypes = ["float64"] * count  # PyTorch's refuses parameters of mixed dtypes)
    groups = [int(rng.integers(0, 2)) if name != "LBFGS" else 0 for _ in shapes]
    without_grad = [bool(rng.random() < 0.2) for _ in shapes]
    group_lr = _choice(rng, [0.05, 0.2, 1e-3])
    steps = int(rng.integers(2, 6))
    round_trip_at = int(rng.integers(0, steps + 1))
    add_group_at = int(rng.integers(0, steps + 2)) if name != "LBFGS" else -1
    zero_grad_at = int(rng.integers(0, steps + 1))
    set_to_none = bool(rng.random() < 0.5)
    bad = None
    if rng.random() < 0.15:
        bad = _choice(rng, [b for b in BAD_OPTIONS if name in b[2]])[:2]

    def make_params(lib):
        params = []
        for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
            values = _normal(seed + i, shape)
            if dtype == "complex128":
                values = values + 1j * _normal(seed + 20 + i, shape)
            params.append(lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True))
        return params

    def set_gradients(lib, params: list, step: int) -> None:
        for i, p in enumerate(params):
            if without_grad[i]:
                continue
            shape = tuple(p.shape)
            values = _normal(seed * 31 + step * 7 + i, shape)
            if p.dtype.is_complex:
                values = values + 1j * _normal(seed * 37 + step * 7 + i, shape)
            if name == "SparseAdam":
                drawn = np.random.default_rng(step + i).integers(0, shape[0], 2)
                rows = sorted({int(r) for r in drawn})
                index = lib.tensor([rows], dtype=lib.int64)
                p.grad = lib.sparse_coo_tensor(
                    index, lib.tensor(values[rows], dtype=p.dtype), shape
                )
            else:
                p.grad = lib.tensor(values, dtype=p.dtype)

    def program(lib):
        cls = getattr(lib.optim, name)
        params = make_params(lib)
        kwargs = dict(options)
        grouped = [
            {"params": [p for p, g in zip(params, groups) if g == 0]},
            {"params": [p for p, g in zip(params, groups) if g == 1], "lr": group_lr},
        ]
        grouped = [g for g in grouped if g["params"]]
        if bad is not None:
            key, value = bad
            if key == "nesterov_without_momentum":
                kwargs.update(nesterov=True, momentum=0.0, dampening=0.0)
            elif key == "empty_params":
                grouped = []
            elif key == "two_groups":
                extra = lib.zeros(2, dtype=lib.float64, requires_grad=True)
                grouped = [{"params": params}, {"params": [extra]}]
            else:
                kwargs[key] = value
        optimizer = cls(grouped, **kwargs)
        record = []
        for step in range(steps + 1):
            if step == round_trip_at:
                state = optimizer.state_dict()
                optimizer = cls([{"params": g["params"]} for g in optimizer.param_groups], **kwargs)
                optimizer.load_state_dict(state)
            if step == add_group_at:
                extra = lib.tensor(_normal(seed + 99, (2,)), dtype=lib.float64, requires_grad=True)
                if name == "SparseAdam":
                    extra = lib.zeros((3, 1), dtype=lib.float64, requires_grad=True)
                optimizer.add_param_group({"params": [extra], "lr": 0.3})
                params.append(extra)
                without_grad.append(False)
            if step == zero_grad_at:
                optimizer.zero_grad(set_to_none=set_to_none)
                record.append(tuple(_dense_grad(p.grad) for p in params))
            if step == steps:
                break
            if name == "LBFGS":

                def closure(optimizer=optimizer):
                    optimizer.zero_grad()
                    loss = _closure_loss(lib, params, seed)
                    loss.backward()
                    return loss

                record.append(optimizer.step(closure))
            else:
                set_gradients(lib, params, step)
                optimizer.step()
        sd = optimizer.state_dict()
        return _tree((tuple(p.detach() for p in params), tuple(record), sd))

    label = (
        f"{name} {options} shapes={shapes} dtypes={dtypes} groups={groups} "
        f"without_grad={without_grad} steps={steps} round_trip_at={round_trip_at} "
        f"add_group_at={add_group_at} zero_grad_at={zero_grad_at}/{set_to_none} bad={bad}"
    )
    return label, program


def _stepped(lib, name: str, values, steps: int = 3, round_trip: bool = False, **options):
    """A parameter of `values` after `steps` steps of optimizer `name` on fixed gradients
    (with a state dict round trip into a fresh optimizer halfway), and the state dict."""
    p = lib.tensor(values, requires_grad=True)
    optimizer = getattr(lib.optim, name)([p], **options)
    for step in range(steps):
        if round_trip and step == steps // 2:
            state = optimizer.state_dict()
            optimizer = getattr(lib.optim, name)([p], **options)
            optimizer.load_state_dict(state)
        gradient = _normal(step, tuple(p.shape)) * (1 + 1j if p.is_complex() else 1)
        p.grad = lib.tensor(gradient, dtype=p.dtype)
        optimizer.step()
    return _tree((p.detach(), optimizer.state_dict()))


def _sparse_adam_run(lib):
    p = lib.zeros((3, 2), dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.SparseAdam([p], lr=0.5)
    for step in range(3):
        if step == 1:
            state = optimizer.state_dict()
            optimizer = lib.optim.SparseAdam([p], lr=0.5)
            optimizer.load_state_dict(state)
        values = lib.tensor(_normal(step, (2, 2)))
        p.grad = lib.sparse_coo_tensor(lib.tensor([[0, 2]]), values, (3, 2))
        optimizer.step()
    optimizer.add_param_group({"params": [lib.zeros(2, requires_grad=True)]})
    return _tree((p.detach(), optimizer.state_dict()))


REGRESSIONS = {
    # ASGD makes each new eta and mu with torch.as_tensor of a Python float: float32 values,
    # even in the float64 state a float64 parameter's load_state_dict gives
    "asgd_rounds_eta_and_mu_to_float32": lambda lib: _stepped(
        lib, "ASGD", _normal(0, (3,)), steps=5, round_trip=True, lr=0.3, t0=1.0, alpha=0.5
    ),
    # RAdam, Adamax, NAdam, Rprop and ASGD step a complex parameter as its view_as_real: each
    # part has its own moments (RAdam and Adamax stepped the complex numbers; the others
    # refused them), and Rprop's step sizes start at complex(lr, lr)
    **{
        f"{name}_steps_a_complex_parameter_as_two_reals": (
            lambda lib, name=name: _stepped(
                lib, name, _normal(1, (3,)) + 1j * _normal(2, (3,)), round_trip=True, lr=0.1
            )
        )
        for name in ("RAdam", "Adamax", "NAdam", "Rprop", "ASGD")
    },
    # SparseAdam counts steps in a Python int (which load_state_dict keeps) and refuses lr
    # and eps of 0; a group added after load_state_dict has `differentiable` (Optimizer's
    # __setstate__ puts it in the defaults)
    "sparse_adam_keeps_an_int_step_across_a_round_trip": _sparse_adam_run,
    "sparse_adam_refuses_a_zero_lr_or_eps": lambda lib: tuple(
        _outcome(lambda options=options: lib.optim.SparseAdam([lib.zeros(2)], **options).defaults)
        for options in ({"lr": 0.0}, {"eps": 0.0}, {"lr": -1.0}, {"betas": (1.0, 0.5)})
    ),
}

FAMILIES = {
    "optimizers": (_draw_optimizers, 120),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
