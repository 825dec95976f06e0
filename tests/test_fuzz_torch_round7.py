"""Differential fuzzing against PyTorch, round seven: the training machinery rounds one to six
leave out. Optimizers (every one chainrule has, with random hyperparameters, several param
groups, parameters without a gradient, zero-dim, half-precision and complex parameters,
sparse gradients, Tensor lrs, named parameters, state dict round trips mid-run,
add_param_group, zero_grad, printing, and the refusal of bad hyperparameters); learning
rate schedulers (random schedules, SWALR and chains of them over tens of steps: each step's
learning rates and momenta, state dicts, warnings, and what PyTorch refuses); the autograd
machinery (custom Functions with their ctx methods, tensor hooks, backward and
autograd.grad options and their errors); torch.distributions (densities, moments, cdf and
icdf, shapes, expand, KL divergences, reparameterised gradients and argument validation);
and transformed distributions (chains of transforms, their Jacobians and shapes). Each
case runs one
random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and gradients, or the exception type when PyTorch raises (see
`check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'optimizers-case_17'`), and
`python -m tests.test_fuzz_torch_round7 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_round4 import Raised


def _normal(seed: int, shape: tuple, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _tree(value):
    """A result with dicts as (key, value) pairs in key order, Python floats as float64
    tensors tagged as floats (compared to a tolerance, not bit for bit) and sparse tensors as
    dense ones, for `check_program`."""
    if isinstance(value, dict):
        return tuple((key, _tree(value[key])) for key in sorted(value, key=repr))
    if isinstance(value, (list, tuple)):
        return tuple(_tree(item) for item in value)
    if isinstance(value, float):
        return ("python float", torch.tensor(value, dtype=torch.float64))
    if getattr(value, "is_sparse", False):  # (PyTorch's SGD keeps the momentum buffer of
        return value.to_dense()  # sparse gradients sparse, chainrule's is dense: left as is)
    if callable(value) and not isinstance(value, type):
        return "a callable"
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
NO_COMPLEX = {"SparseAdam"}


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
    ("line_search_fn", "armijo", {"LBFGS"}),  # (refused at the first line search)
    ("lr", "two_element_tensor", set(OPTIMIZERS) - {"LBFGS"}),
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
        curvature = lib.tensor(np.abs(_normal(seed + 50 + i, shape)) + 0.5)
        shift = lib.tensor(_normal(seed + 60 + i, shape), dtype=p.dtype)
        distance = (p - shift).abs() ** 2  # (real, for a complex parameter too)
        total = total + (curvature * distance).sum() + (p.abs() ** 4).sum() * 0.01
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
        # PyTorch's refuses parameters of mixed dtypes: all float64, or all complex128)
        dtypes = [_choice(rng, ["float64", "float64", "complex128"])] * count
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
    # (not LBFGS: with an lr Tensor PyTorch's keeps its step size `t` in the state as a
    # Tensor, chainrule's as a number; the steps agree)
    tensor_lr = bool(rng.random() < 0.15) and name != "LBFGS"
    if rng.random() < 0.1 and name not in ("LBFGS", "SparseAdam"):
        dtypes[0] = _choice(rng, ["float16", "bfloat16"])
    misuse = _choice(rng, [None] * 8 + ["existing_param", "non_leaf", "set_of_params"])
    # sparse gradients (an Embedding's) for the others that take them, and some that refuse
    sparse = bool(rng.random() < 0.3) and name in ("SGD", "Adagrad", "Adam", "RMSprop")
    named = bool(rng.random() < 0.2) and add_group_at == -1 or bool(rng.random() < 0.1)

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
            # (not for a complex parameter: PyTorch's sparse Adagrad squares the complex
            # values, where its dense one steps view_as_real, inconsistent with itself)
            if name == "SparseAdam" or (sparse and p.dim() >= 1 and not p.is_complex()):
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
        if named:  # (name, parameter) pairs: the groups and state dict carry param_names
            names = {id(p): f"layer{i}.weight" for i, p in enumerate(params)}
            for g in grouped:
                g["params"] = [(names[id(p)], p) for p in g["params"]]
        if bad is not None:
            key, value = bad
            if key == "nesterov_without_momentum":
                kwargs.update(nesterov=True, momentum=0.0, dampening=0.0)
            elif key == "empty_params":
                grouped = []
            elif value == "two_element_tensor":
                kwargs["lr"] = lib.tensor([0.1, 0.2])
            elif key == "two_groups":
                extra = lib.zeros(2, dtype=lib.float64, requires_grad=True)
                grouped = [{"params": params}, {"params": [extra]}]
            else:
                kwargs[key] = value
        if tensor_lr:  # (float64: PyTorch's arithmetic with a float32 lr Tensor rounds each
            # expression it enters to float32, an artefact of its kernels left unmatched)
            kwargs["lr"] = lib.tensor(kwargs["lr"], dtype=lib.float64)
        optimizer = cls(grouped, **kwargs)
        record = []
        if misuse == "existing_param":
            record.append(_outcome(lambda: optimizer.add_param_group({"params": params[:1]})))
        elif misuse == "non_leaf":
            made = params[0] * 2
            record.append(_outcome(lambda: optimizer.add_param_group({"params": [made]})))
        elif misuse == "set_of_params":
            extra = {lib.zeros(2, requires_grad=True)}
            record.append(_outcome(lambda: optimizer.add_param_group({"params": extra})))
        for step in range(steps + 1):
            if step == round_trip_at:
                state = optimizer.state_dict()
                fresh_groups = [
                    {"params": list(zip(g["param_names"], g["params"])) if named else g["params"]}
                    for g in optimizer.param_groups
                ]
                optimizer = cls(fresh_groups, **kwargs)
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
        printed = repr(optimizer).replace("torch.", "chainrule.")
        return _tree((tuple(p.detach() for p in params), tuple(record), sd, printed))

    label = (
        f"{name} {options} shapes={shapes} dtypes={dtypes} groups={groups} "
        f"without_grad={without_grad} steps={steps} round_trip_at={round_trip_at} "
        f"add_group_at={add_group_at} zero_grad_at={zero_grad_at}/{set_to_none} bad={bad} "
        f"tensor_lr={tensor_lr} misuse={misuse} sparse={sparse} named={named}"
    )
    return label, program


# ---- family: learning rate schedulers ----------------------------------------------------------
# A random schedule (or a SequentialLR or ChainedScheduler of two or three) over an SGD with
# momentum or an Adam of one or two param groups, stepped 30 to 60 times: each step's
# get_last_lr(), the groups' lr and momentum (or betas), and the warnings given; halfway, the
# state dicts of both go into a fresh optimizer and scheduler. Some draws give an argument
# PyTorch refuses, or step a OneCycleLR past its total_steps.

SCHEDULERS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
              "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "LinearLR", "ConstantLR",
              "PolynomialLR", "LambdaLR", "MultiplicativeLR", "ReduceLROnPlateau",
              "SequentialLR", "ChainedScheduler", "SWALR"]  # fmt: skip
# what a SequentialLR or a ChainedScheduler may hold
CHAINABLE = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
             "ConstantLR", "PolynomialLR", "LambdaLR", "MultiplicativeLR",
             "CosineAnnealingWarmRestarts"]  # fmt: skip


def _scheduler_class(lib, name: str):
    if name == "SWALR":
        return lib.optim.swa_utils.SWALR
    return getattr(lib.optim.lr_scheduler, name)


class _Warmup:
    """A callable object as lr_lambda: a linear warm-up over `steps` epochs."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.calls = 0

    def __call__(self, epoch: int) -> float:
        self.calls += 1
        return min(1.0, (epoch + 1) / self.steps) if self.steps else 0.9


def _fresh_lambdas(options: dict) -> dict:
    """`options` with a ("warmup", steps) lr_lambda made a new _Warmup object."""
    lr_lambda = options.get("lr_lambda")
    if isinstance(lr_lambda, tuple):
        return {**options, "lr_lambda": _Warmup(lr_lambda[1])}
    return dict(options)


def _halving(x: float) -> float:
    return 0.5 ** (x // 3)


def _decay(epoch: int) -> float:
    return 0.97**epoch


def _shrink(epoch: int) -> float:
    return 0.9 if epoch % 3 else 1.0


def _scheduler_options(rng, name: str, steps: int, groups: int) -> dict:
    """Random arguments for scheduler `name` (the optimizer aside), within what PyTorch takes."""
    flag = lambda: bool(rng.random() < 0.5)  # noqa: E731
    per_group = lambda values: values if groups == 1 or flag() else values[:1] * groups  # noqa: E731
    if name == "StepLR":
        return {"step_size": int(rng.integers(1, 6)), "gamma": _choice(rng, [0.1, 0.5, 0.9])}
    if name == "MultiStepLR":
        milestones = sorted(int(m) for m in rng.integers(0, steps, int(rng.integers(1, 5))))
        return {"milestones": milestones, "gamma": _choice(rng, [0.1, 0.5])}
    if name == "ExponentialLR":
        return {"gamma": _choice(rng, [0.9, 0.5, 1.0])}
    if name == "CosineAnnealingLR":
        return {"T_max": int(rng.integers(1, 20)), "eta_min": _choice(rng, [0.0, 1e-3])}
    if name == "CosineAnnealingWarmRestarts":
        options = {"T_0": int(rng.integers(1, 10)), "T_mult": int(rng.integers(1, 4))}
        return {**options, "eta_min": _choice(rng, [0.0, 1e-3])}
    if name == "CyclicLR":
        options = {
            "base_lr": per_group([0.01, 0.02][:groups]),
            "max_lr": per_group([0.1, 0.3][:groups]),
            "step_size_up": int(rng.integers(1, 8)),
            "mode": _choice(rng, ["triangular", "triangular2", "exp_range"]),
            "cycle_momentum": flag(),
        }
        if flag():
            options["step_size_down"] = int(rng.integers(1, 8))
        if options["mode"] == "exp_range":
            options["gamma"] = _choice(rng, [0.99, 0.9])
        if flag():  # a scale function of its own, of the cycle or of the iteration
            options.update(scale_fn=_halving, scale_mode=_choice(rng, ["cycle", "iterations"]))
        if flag():
            options.update(base_momentum=0.7, max_momentum=_choice(rng, [0.9, 0.95]))
        return options
    if name == "OneCycleLR":
        options = {
            "max_lr": per_group([0.1, 0.5][:groups]),
            "pct_start": _choice(rng, [0.3, 0.5, 0.1]),
            "anneal_strategy": _choice(rng, ["cos", "linear"]),
            "three_phase": flag(),
            "cycle_momentum": flag(),
            "div_factor": _choice(rng, [25.0, 10.0]),
            "final_div_factor": _choice(rng, [1e4, 10.0]),
        }
        if flag():
            options["total_steps"] = steps + int(rng.integers(1, 10))
        else:
            options.update(epochs=int(rng.integers(2, 6)), steps_per_epoch=steps // 2 + 1)
        return options
    if name == "LinearLR":
        start = _choice(rng, [1 / 3, 0.1, 1.0])
        options = {"start_factor": start, "total_iters": int(rng.integers(1, 10))}
        return {**options, "end_factor": _choice(rng, [1.0, 0.5, 0.0])}
    if name == "ConstantLR":
        return {"factor": _choice(rng, [1 / 3, 0.5, 1.0]), "total_iters": int(rng.integers(0, 10))}
    if name == "PolynomialLR":
        return {"total_iters": int(rng.integers(1, 20)), "power": _choice(rng, [1.0, 2.0, 0.5])}
    if name in ("LambdaLR", "MultiplicativeLR"):
        if flag():  # a callable object: state_dict keeps its __dict__
            return {"lr_lambda": ("warmup", int(rng.integers(1, 8)))}  # (one for each run)
        return {"lr_lambda": _decay if name == "LambdaLR" else _shrink}
    if name == "SWALR":
        swa_lr = per_group([0.05, 0.02][:groups])
        options = {"swa_lr": swa_lr, "anneal_epochs": int(rng.integers(1, 10))}
        return {**options, "anneal_strategy": _choice(rng, ["cos", "linear"])}
    options = {
        "mode": _choice(rng, ["min", "max"]),
        "factor": _choice(rng, [0.1, 0.5]),
        "patience": int(rng.integers(0, 4)),
        "threshold": _choice(rng, [1e-4, 0.1, 0.0]),
        "threshold_mode": _choice(rng, ["rel", "abs"]),
        "cooldown": int(rng.integers(0, 3)),
        "min_lr": _choice(rng, [0.0, 1e-3, [1e-3, 0.02][:groups]]),
    }
    if flag():
        options["eps"] = _choice(rng, [1e-8, 1e-2])
    return options


# A bad argument for one scheduler, and the exception PyTorch gives it.
BAD_SCHEDULES = [
    ("CosineAnnealingWarmRestarts", {"T_0": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 2, "T_mult": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 2.5}),
    ("LinearLR", {"start_factor": 0.0}),
    ("LinearLR", {"start_factor": 1.5}),
    ("LinearLR", {"end_factor": 1.5}),
    ("ConstantLR", {"factor": 1.5}),
    ("ReduceLROnPlateau", {"factor": 1.0}),
    ("ReduceLROnPlateau", {"mode": "middle"}),
    ("ReduceLROnPlateau", {"threshold_mode": "relative"}),
    ("ReduceLROnPlateau", {"min_lr": [0.1, 0.1, 0.1]}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "mode": "sawtooth"}),
    ("CyclicLR", {"base_lr": [0.01] * 3, "max_lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 0}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "cubic"}),
    ("OneCycleLR", {"max_lr": 0.1, "epochs": 0, "steps_per_epoch": 3}),
    ("LambdaLR", {"lr_lambda": [_decay] * 3}),
    ("SequentialLR", {"milestones": [3, 5, 7]}),
    ("StepLR", {"step_size": 2, "last_epoch": 3}),
]


def _draw_schedulers(seed: int):
    rng = np.random.default_rng(seed)
    name = _choice(rng, SCHEDULERS)
    steps = int(rng.integers(30, 61))
    groups = int(rng.integers(1, 3))
    use_adam = bool(rng.random() < 0.3)
    lrs = [0.1, 0.05][:groups]
    if name in ("SequentialLR", "ChainedScheduler"):
        parts = [_choice(rng, CHAINABLE) for _ in range(int(rng.integers(2, 4)))]
        options = [_scheduler_options(rng, part, steps, groups) for part in parts]
        milestones = sorted(int(m) for m in rng.integers(1, steps, len(parts) - 1))
    else:
        parts, options = [name], [_scheduler_options(rng, name, steps, groups)]
        milestones = []
    if name == "OneCycleLR" and rng.random() < 0.1:  # past total_steps: PyTorch refuses
        options[0].pop("epochs", None)
        options[0].pop("steps_per_epoch", None)
        options[0]["total_steps"] = steps - 5
    bad = None
    if rng.random() < 0.08:
        bad = BAD_SCHEDULES[int(rng.integers(0, len(BAD_SCHEDULES)))]
        name, parts = bad[0], [bad[0]] if bad[0] != "SequentialLR" else ["StepLR", "StepLR"]
        options = [{**_scheduler_options(rng, part, steps, groups), **bad[1]} for part in parts]
        if bad[0] == "SequentialLR":
            options = [{"step_size": 2}, {"step_size": 3}]
            milestones = bad[1]["milestones"]
        if bad[0] == "OneCycleLR":
            options = [bad[1]]
    metrics = np.round(np.cumsum(rng.standard_normal(steps) * 0.3) + 5, 1)
    if rng.random() < 0.2:
        metrics[int(rng.integers(0, steps))] = _choice(rng, [np.nan, np.inf, -np.inf])
    round_trip_at = int(rng.integers(1, steps))
    # an epoch given to step() (deprecated, and closed-form where the schedule has one; a
    # fractional one for warm restarts), or a call of get_lr() outside step (which warns)
    explicit_at = int(rng.integers(0, steps)) if rng.random() < 0.3 else -1
    epochs = [0, 3, 10, 2.5] if name == "CosineAnnealingWarmRestarts" else [0, 3, 10]
    explicit_epoch = _choice(rng, epochs)
    as_tensor_metric = bool(rng.random() < 0.3)

    def make(lib):
        params = [lib.zeros(2, requires_grad=True) for _ in lrs]
        grouped = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
        if use_adam:
            return lib.optim.Adam(grouped, lr=0.1, betas=(0.9, 0.99))
        return lib.optim.SGD(grouped, lr=0.1, momentum=0.9)

    def build(lib, optimizer):
        made = [
            _scheduler_class(lib, part)(optimizer, **_fresh_lambdas(part_options))
            for part, part_options in zip(parts, options)
        ]
        if name == "SequentialLR":
            return lib.optim.lr_scheduler.SequentialLR(optimizer, made, milestones=milestones)
        if name == "ChainedScheduler":
            return lib.optim.lr_scheduler.ChainedScheduler(made, optimizer=optimizer)
        return made[0]

    def momenta(optimizer) -> tuple:
        return tuple(g["betas"] if use_adam else g["momentum"] for g in optimizer.param_groups)

    def program(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            optimizer = make(lib)
            scheduler = build(lib, optimizer)
            record = [(scheduler.get_last_lr(), momenta(optimizer))]
            for epoch in range(steps):
                if epoch == round_trip_at:
                    saved = (optimizer.state_dict(), scheduler.state_dict())
                    record.append(_tree(saved[1]))
                    optimizer = make(lib)
                    optimizer.load_state_dict(saved[0])
                    scheduler = build(lib, optimizer)
                    scheduler.load_state_dict(saved[1])
                optimizer.step()
                if name == "ReduceLROnPlateau":
                    metric = float(metrics[epoch])
                    scheduler.step(lib.tensor(metric) if as_tensor_metric else metric)
                elif epoch == explicit_at and name not in ("SequentialLR", "ChainedScheduler"):
                    record.append(("get_lr", _outcome(scheduler.get_lr)))
                    scheduler.step(explicit_epoch)
                else:
                    scheduler.step()
                lrs_now = tuple(g["lr"] for g in optimizer.param_groups)
                record.append((scheduler.get_last_lr(), lrs_now, momenta(optimizer)))
        warned = sorted({f"{w.category.__name__}: {str(w.message)[:40]}" for w in caught})
        return _tree((record, warned))

    label = (
        f"{name} parts={parts} options={options} milestones={milestones} steps={steps} "
        f"groups={groups} adam={use_adam} round_trip_at={round_trip_at} bad={bad}"
    )
    return label, program


# ---- family: the autograd machinery -------------------------------------------------------------
# Two leaves x and y (y broadcast against x, or not requiring grad), an intermediate h from them,
# a custom autograd.Function of a drawn kind applied to h (and y), hooks on h and x, then a
# drawn way to differentiate (backward, backward(inputs=...), autograd.grad with its options,
# create_graph and a second derivative), a second call (accumulating, or refused once the
# graph is freed), and each gradient, what the Function's backward and the hooks saw, and
# every exception's type (the program goes on after one).

FUNCTIONS = ["exp_saves_output", "mul_saves_inputs", "dirty_in_place", "argmax_beside",
             "non_differentiable_float", "unmaterialized", "once_differentiable",
             "setup_context", "none_for_y", "scalar_arguments", "too_few_grads",
             "wrong_shape_grad", "expanded_grad", "float32_grad", "view_of_input",
             "returns_input", "none_output_grad", "saves_a_number", "dirty_not_returned",
             "integer_output", "too_many_grads", "nested", "number_output"]  # fmt: skip
# (A float32 cotangent for a float64 output is left out: PyTorch's engine hands it to the
# first backward uncast, so a Function's g * b with a 0-dim b computes in float32, where
# chainrule's casts it to the output's dtype first; a difference of rounding only.)
DRIVERS = ["backward", "backward_inputs", "grad", "grad_unused", "grad_materialize",
           "grad_not_scalar", "grad_outputs_shape", "create_graph", "backward_twice",
           "backward_twice_retained", "no_grad_output", "grads_batched",
           "int_requires_grad", "grad_of_a_leaf", "backward_inputs_unreached",
           "grad_inputs_empty"]  # fmt: skip


def _custom_function(lib, kind: str, seen: list):
    """A subclass of lib.autograd.Function of the drawn kind; its backward notes in `seen`
    what it was given (None or a shape) and ctx.needs_input_grad."""
    Function = lib.autograd.Function

    def note(ctx, *grads):
        shapes = tuple(None if g is None else tuple(g.shape) for g in grads)
        seen.append((kind, shapes, tuple(ctx.needs_input_grad)))

    if kind == "setup_context":

        class Custom(Function):
            @staticmethod
            def forward(a, b, power):
                return a * b**power

            @staticmethod
            def setup_context(ctx, inputs, output):
                a, b, power = inputs
                ctx.save_for_backward(a, b)
                ctx.power = power

            @staticmethod
            def backward(ctx, g):
                note(ctx, g)
                a, b = ctx.saved_tensors
                return g * b**ctx.power, g * a * ctx.power * b ** (ctx.power - 1), None

        return Custom

    class Custom(Function):
        @staticmethod
        def forward(ctx, a, b):
            if kind == "exp_saves_output":
                out = a.exp()
                ctx.save_for_backward(out)
                return out
            if kind in ("mul_saves_inputs", "none_for_y", "too_few_grads", "wrong_shape_grad",
                        "expanded_grad", "float32_grad", "once_differentiable"):  # fmt: skip
                ctx.save_for_backward(a, b)
                return a * b
            if kind == "dirty_in_place":
                a.mul_(2)
                ctx.mark_dirty(a)
                return a
            if kind == "argmax_beside":
                index = a.reshape(-1).argmax()
                ctx.mark_non_differentiable(index)
                return a.sin(), index
            if kind == "non_differentiable_float":
                doubled = a * 2
                ctx.mark_non_differentiable(doubled)
                ctx.save_for_backward(a)
                return a.cos(), doubled
            if kind == "unmaterialized":
                ctx.set_materialize_grads(False)
                return a * 3, a * b
            if kind == "view_of_input":
                return a.view(-1)
            if kind == "returns_input":
                return a
            if kind == "none_output_grad":
                return a * 2, a.sum()
            if kind == "saves_a_number":
                ctx.save_for_backward(a, 3)
                return a * 2
            if kind == "dirty_not_returned":
                fresh = a.clone()
                fresh.add_(1)
                ctx.mark_dirty(fresh)
                return a * 2
            if kind == "integer_output":
                return a * 2, (a > 0).long()
            if kind == "too_many_grads":
                return a * 2
            if kind == "nested":
                inner = _custom_function(lib, "exp_saves_output", seen)
                return inner.apply(a, b) * 2
            if kind == "number_output":
                return a * 2, 7
            return a * 0.5  # scalar_arguments (b is a float there)

        @staticmethod
        def backward(ctx, *grads):
            note(ctx, *grads)
            g = grads[0]
            if kind == "exp_saves_output":
                (out,) = ctx.saved_tensors
                return g * out, None
            if kind in ("mul_saves_inputs", "once_differentiable"):
                a, b = ctx.saved_tensors
                return g * b, g * a
            if kind == "none_for_y":
                a, b = ctx.saved_tensors
                return g * b, None
            if kind == "too_few_grads":
                return (g,)
            if kind == "wrong_shape_grad":
                return g.reshape(-1)[:1], None
            if kind == "expanded_grad":
                a, b = ctx.saved_tensors
                return (g * b).expand(2, *g.shape), None
            if kind == "float32_grad":
                a, b = ctx.saved_tensors
                return (g * b).float(), (g * a).float()
            if kind == "dirty_in_place":
                return g * 2, None
            if kind == "argmax_beside":
                return g * 0.5, None  # (a stand-in for cos: what matters is what flows)
            if kind == "non_differentiable_float":
                (a,) = ctx.saved_tensors
                return -g * a.sin(), None
            if kind == "unmaterialized":
                g_first, g_second = grads
                total = None if g_first is None else g_first * 3
                return total, (None if g_second is None else g_second.sum() * 0 + g_second)
            if kind == "view_of_input":
                return g.reshape(ctx.shape if hasattr(ctx, "shape") else g.shape), None
            passing = ("none_output_grad", "saves_a_number", "dirty_not_returned",
                       "integer_output", "nested", "number_output")  # fmt: skip
            if kind == "returns_input" or kind in passing:
                return g if kind == "returns_input" else g * 2, None
            if kind == "too_many_grads":
                return g * 2, None, g
            return g * 0.5, None

    if kind == "once_differentiable":
        Custom.backward = staticmethod(lib.autograd.function.once_differentiable(Custom.backward))
    return Custom


def _draw_autograd(seed: int):
    rng = np.random.default_rng(seed)
    kind = _choice(rng, FUNCTIONS)
    driver = _choice(rng, DRIVERS)
    shape = _shape(rng, 1, 4, 2)
    y_shape = shape if rng.random() < 0.6 else shape[1:]
    y_grad = bool(rng.random() < 0.8)
    h_kind = _choice(rng, ["mul", "clone", "leaf_x", "x_sin"])
    hook_names = ("h_replace", "h_observe", "x_replace", "x_post", "retain_h", "y_no_grad_hook")
    hooks = {name: bool(rng.random() < 0.3) for name in hook_names}
    weights = _normal(seed, shape)

    def program(lib):
        seen: list = []
        x = lib.tensor(_normal(seed + 1, shape), requires_grad=True)
        y = lib.tensor(_normal(seed + 2, y_shape), requires_grad=y_grad)
        h = {"mul": lambda: x * 1.5, "clone": x.clone, "leaf_x": lambda: x,
             "x_sin": x.sin}[h_kind]()  # fmt: skip
        # (The hooks pass None by: where a Function's backward gives None, PyTorch's engine
        # still runs the nodes behind it and calls their tensors' hooks with None; chainrule's
        # does not run them. An artefact of PyTorch's engine, left unmatched.)
        if hooks["h_replace"] and h.requires_grad:
            h.register_hook(lambda g: None if g is None else g * 2)
        if hooks["h_observe"] and h.requires_grad:
            h.register_hook(lambda g: None if g is None else seen.append(("h", tuple(g.shape))))
        if hooks["retain_h"]:
            h.retain_grad()
        if hooks["x_replace"]:
            x.register_hook(lambda g: None if g is None else g + 1)
        if hooks["x_post"]:
            x.register_post_accumulate_grad_hook(
                lambda p: None if p.grad is None else seen.append(("post", p.grad.clone()))
            )
        if hooks["y_no_grad_hook"]:
            seen.append(("y hook", _outcome(lambda: y.register_hook(lambda g: g) and None)))
        Custom = _custom_function(lib, kind, seen)
        if kind == "setup_context":
            out = Custom.apply(h, y, 2)
        elif kind == "scalar_arguments":
            out = Custom.apply(h, 0.25)
        else:
            out = Custom.apply(h, y)
        outputs = out if isinstance(out, tuple) else (out,)
        first = outputs[0]
        info = [(tuple(o.shape), o.dtype, o.requires_grad) for o in outputs]
        if kind == "none_output_grad":
            loss = (first * lib.tensor(weights)).sum()
        elif kind == "unmaterialized":
            loss = (outputs[int(seed % 2)] * lib.tensor(weights)).sum()
        else:
            loss = (first.reshape(shape) * lib.tensor(weights)).sum()
        wrt = [t for t in (x, y) if t.requires_grad]

        def run():
            if driver == "backward":
                loss.backward()
            elif driver == "backward_inputs":
                loss.backward(inputs=[y] if y.requires_grad else [x])
            elif driver in ("grad", "grad_unused", "grad_materialize"):
                unused = lib.ones(2, requires_grad=True)
                targets = wrt + ([unused] if driver != "grad" else [])
                options = {"allow_unused": True} if driver == "grad_unused" else {}
                if driver == "grad_materialize":
                    options = {"materialize_grads": True}
                return lib.autograd.grad(loss, targets, **options)
            elif driver == "grad_not_scalar":
                return lib.autograd.grad(first, wrt)
            elif driver == "grad_outputs_shape":
                return lib.autograd.grad(first, wrt, grad_outputs=lib.ones(7))
            elif driver == "create_graph":
                (gx,) = lib.autograd.grad(loss, [x], create_graph=True)
                seen.append(("gx requires grad", gx.requires_grad))
                return lib.autograd.grad((gx * gx).sum(), wrt, allow_unused=True)
            elif driver in ("backward_twice", "backward_twice_retained"):
                loss.backward(retain_graph=driver.endswith("retained"))
                loss.backward()
            elif driver == "grads_batched":
                cotangents = lib.tensor(_normal(seed + 5, (3, *tuple(first.shape))))
                return lib.autograd.grad(first, wrt, cotangents, is_grads_batched=True,
                                         allow_unused=True)  # fmt: skip
            elif driver == "int_requires_grad":
                return lib.ones(2, dtype=lib.int64).requires_grad_()
            elif driver == "grad_of_a_leaf":
                return lib.autograd.grad(x.sum() if x.dim() else x, [x])
            elif driver == "backward_inputs_unreached":
                loss.backward(inputs=[lib.ones(2, requires_grad=True)])
            elif driver == "grad_inputs_empty":
                return lib.autograd.grad(loss, [])
            else:
                lib.ones(2).sum().backward()
            return None

        result = _outcome(run)
        if driver == "grads_batched":  # (PyTorch vmaps the backward, where chainrule runs a
            # Function's once per cotangent, and what a hook keeps may escape its vmap)
            return _tree((info, result))
        grads = (x.grad, y.grad, h.grad if hooks["retain_h"] and h is not x else None)
        return _tree((info, result, grads, seen))

    label = (
        f"{kind} {driver} shape={shape} y_shape={y_shape} y_grad={y_grad} h={h_kind} "
        f"hooks={[name for name, on in hooks.items() if on]}"
    )
    return label, program


# ---- family: torch.distributions -------------------------------------------------------------
# A distribution with random parameters (each broadcast against a random batch shape, float64
# or float32, requiring grad), and: its shapes and flags, mean, variance, stddev, mode,
# entropy, log_prob and cdf of a value PyTorch sampled, icdf of random levels, the shapes of
# sample and rsample, expand, the gradient of log_prob + entropy with respect to the
# parameters, KL divergence to another of its family (or of another family), and, for some
# draws, a parameter or a value outside the support (PyTorch validates by default).


def _positive(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)


def _simplex(rng, shape):
    raw = rng.uniform(0.2, 1.0, shape)
    return raw / raw.sum(-1, keepdims=True)


def _spd(rng, batch, k):
    a = rng.standard_normal((*batch, k, k))
    return a @ np.swapaxes(a, -1, -2) + k * np.eye(k)


def _distribution_parameters(rng, name: str, batch: tuple) -> dict:
    """Random parameters of `name` (arrays broadcast against `batch`; some of them of a
    trailing part of it only), within the support of each."""
    part = lambda: batch[int(rng.integers(0, len(batch) + 1)) :]  # noqa: E731
    normal = lambda: rng.standard_normal(part())  # noqa: E731
    positive = lambda low=0.5, high=2.0: _positive(rng, part(), low, high)  # noqa: E731
    probs_or_logits = lambda: (  # noqa: E731
        {"probs": positive(0.1, 0.9)} if rng.random() < 0.5 else {"logits": normal()}
    )
    k = int(rng.integers(2, 4))
    if name in ("Normal", "LogNormal", "Laplace", "Cauchy", "Gumbel"):
        return {"loc": normal(), "scale": positive()}
    if name in ("HalfNormal", "HalfCauchy"):
        return {"scale": positive()}
    if name in ("Exponential", "Poisson"):
        return {"rate": positive()}
    if name in ("Gamma", "InverseGamma"):
        return {"concentration": positive(0.5, 3.0), "rate": positive()}
    if name == "Chi2":
        return {"df": positive(1.0, 5.0)}
    if name in ("Beta", "Kumaraswamy"):
        return {"concentration1": positive(0.5, 3.0), "concentration0": positive(0.5, 3.0)}
    if name == "Uniform":
        low = rng.standard_normal(batch)
        return {"low": low, "high": low + _positive(rng, batch)}
    if name == "Pareto":
        return {"scale": positive(), "alpha": positive(1.0, 3.0)}
    if name == "Weibull":
        return {"scale": positive(), "concentration": positive()}
    if name == "StudentT":
        return {"df": positive(1.0, 5.0), "loc": normal(), "scale": positive()}
    if name == "FisherSnedecor":
        return {"df1": positive(1.0, 5.0), "df2": positive(1.0, 5.0)}
    if name == "VonMises":
        return {"loc": rng.uniform(-3, 3, part()), "concentration": positive(0.5, 3.0)}
    if name == "GeneralizedPareto":
        concentration = rng.uniform(-0.3, 0.5, part())
        return {"loc": normal(), "scale": positive(), "concentration": concentration}
    if name in ("Bernoulli", "Geometric", "ContinuousBernoulli"):
        return probs_or_logits()
    if name == "Binomial":
        return {"total_count": _choice(rng, [5, 1, 10]), **probs_or_logits()}
    if name == "NegativeBinomial":
        return {"total_count": positive(1.0, 5.0), **probs_or_logits()}
    if name in ("Categorical", "OneHotCategorical"):
        if rng.random() < 0.5:
            return {"probs": _simplex(rng, (*batch, k))}
        return {"logits": rng.standard_normal((*batch, k))}
    if name == "Multinomial":
        return {"total_count": _choice(rng, [5, 1, 3]), "probs": _simplex(rng, (*batch, k))}
    if name == "Dirichlet":
        return {"concentration": _positive(rng, (*batch, k), 0.5, 3.0)}
    if name == "MultivariateNormal":
        matrix = _choice(rng, ["scale_tril", "covariance_matrix", "precision_matrix"])
        spd = _spd(rng, part(), k)
        value = np.linalg.cholesky(spd) if matrix == "scale_tril" else spd
        return {"loc": rng.standard_normal((*batch, k)), matrix: value}
    if name == "LowRankMultivariateNormal":
        rank = int(rng.integers(1, 3))
        loc = rng.standard_normal((*batch, k))
        factor = rng.standard_normal((k, rank))
        return {"loc": loc, "cov_factor": factor, "cov_diag": _positive(rng, (k,))}
    if name == "RelaxedBernoulli":
        return {"temperature": _positive(rng, ()), **probs_or_logits()}
    if name == "RelaxedOneHotCategorical":
        return {"temperature": _positive(rng, ()), "probs": _simplex(rng, (*batch, k))}
    if name == "LogisticNormal":
        return {"loc": rng.standard_normal((*batch, k)), "scale": _positive(rng, (*batch, k))}
    if name == "LKJCholesky":
        return {"dim": k, "concentration": positive()}
    if name == "Wishart":
        return {
            "df": _positive(rng, batch, k + 0.5, k + 3.0),
            "covariance_matrix": _spd(rng, (), k),
        }
    if name == "Independent":
        return {"loc": rng.standard_normal((*batch, k)), "scale": _positive(rng, (*batch, k))}
    # MixtureSameFamily: a Categorical over k Normals
    return {"logits": rng.standard_normal((*batch, k)), "loc": rng.standard_normal((*batch, k)),
            "scale": _positive(rng, (*batch, k))}  # fmt: skip


DISTRIBUTIONS = ["Normal", "LogNormal", "Laplace", "Cauchy", "Gumbel", "HalfNormal",
                 "HalfCauchy", "Exponential", "Poisson", "Gamma", "InverseGamma", "Chi2", "Beta",
                 "Kumaraswamy", "Uniform", "Pareto", "Weibull", "StudentT", "FisherSnedecor",
                 "VonMises", "GeneralizedPareto", "Bernoulli", "Geometric",
                 "ContinuousBernoulli", "Binomial", "NegativeBinomial", "Categorical",
                 "OneHotCategorical", "Multinomial", "Dirichlet", "MultivariateNormal",
                 "LowRankMultivariateNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical",
                 "LogisticNormal", "LKJCholesky", "Wishart", "Independent",
                 "MixtureSameFamily"]  # fmt: skip
# positive parameters whose negation PyTorch's validation refuses
POSITIVE = {"scale", "rate", "concentration", "concentration1", "concentration0", "df", "alpha",
            "df1", "df2", "cov_diag", "temperature"}  # fmt: skip


def _build_distribution(lib, name: str, params: dict, validate: bool | None):
    D = lib.distributions
    options = {} if validate is None else {"validate_args": validate}
    if name == "Independent":
        return D.Independent(D.Normal(params["loc"], params["scale"]), 1, **options)
    if name == "MixtureSameFamily":
        mixture = D.Categorical(logits=params["logits"])
        return D.MixtureSameFamily(mixture, D.Normal(params["loc"], params["scale"]), **options)
    return getattr(D, name)(**params, **options)


def _draw_distributions(seed: int):
    rng = np.random.default_rng(seed)
    name = _choice(rng, DISTRIBUTIONS)
    batch = _shape(rng, 1, 4, 2)
    dtype = "float64" if rng.random() < 0.8 else "float32"
    if name in ("GeneralizedPareto", "Multinomial"):
        # (PyTorch 2.13's GeneralizedPareto log_prob and cdf fail in float64, 'Double did not
        # match Float'; its Multinomial entropy is 2e-8 off in float64, chainrule's is exact)
        dtype = "float32"
    params = _distribution_parameters(rng, name, batch)
    other_name = name if rng.random() < 0.8 else _choice(rng, DISTRIBUTIONS)
    other_params = _distribution_parameters(rng, other_name, batch)
    sample_shape = _shape(rng, 1, 3, 2)
    new_batch = (int(rng.integers(1, 3)), *batch)
    mutation = None
    validate = _choice(rng, [None, None, True, False])
    # (a parameter or value outside the support only where validation is on: without it
    # PyTorch defines no result, and gives whatever its formulas make of it)
    if rng.random() < 0.15 and validate is not False:
        positive = [key for key in params if key in POSITIVE]
        mutation = _choice(rng, positive + ["value"])
    levels = rng.uniform(0.05, 0.95, (*sample_shape, *batch))
    # a value PyTorch samples (out of its support for a "value" mutation)
    torch.manual_seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (a Wishart's "Singular sample detected")
            sampled = _build_distribution(torch, name, _as_parameters(torch, params, dtype), None)
            value = sampled.sample(sample_shape)
    except (ValueError, NotImplementedError, RuntimeError):
        return f"{name} {params}: PyTorch cannot sample it", None
    value = value.numpy().copy()
    if mutation == "value" and sampled.support is torch.distributions.constraints.real:
        mutation = None  # (nothing is outside; PyTorch's float32 transforms may underflow)
    if mutation == "value":
        value = -np.abs(value) - 0.5 if value.dtype.kind == "f" else value + 100

    def program(lib):
        parameters = _as_parameters(lib, params, dtype)
        if mutation not in (None, "value"):
            parameters[mutation] = -parameters[mutation].detach()
        d = _build_distribution(lib, name, parameters, validate)
        x = lib.tensor(value)
        result = [tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample,
                  d.has_enumerate_support]  # fmt: skip
        for attribute in ("mean", "variance", "stddev", "mode"):
            result.append(_outcome(lambda attribute=attribute: getattr(d, attribute)))
        entropy = _outcome(d.entropy)
        log_prob = _outcome(lambda: d.log_prob(x))
        result += [entropy, log_prob, _outcome(lambda: d.cdf(x))]
        result.append(_outcome(lambda: d.icdf(lib.tensor(levels, dtype=getattr(lib, dtype)))))
        for method in (d.sample, d.rsample):
            drawn = _outcome(lambda method=method: method(sample_shape))
            if not isinstance(drawn, Raised):
                drawn = (tuple(drawn.shape), drawn.dtype, drawn.requires_grad)
            result.append(drawn)
        if name in LOCATION_SCALE:  # the reparameterised gradient, given the sample drawn
            loc, scale = parameters["loc"], parameters["scale"]
            drawn = d.rsample(sample_shape)
            noise = ((drawn.log() if name == "LogNormal" else drawn) - loc) / scale
            grad_loc, grad_scale = lib.autograd.grad(drawn.sum(), [loc, scale])
            expected = noise * (drawn if name == "LogNormal" else 1)
            residual = grad_scale - expected.sum_to_size(scale.shape)
            result.append((tuple(grad_loc.shape), bool(residual.abs().max() < 1e-4)))
        result += [_outcome(d.perplexity), sorted(d.arg_constraints), type(d.support).__name__]
        # a value broadcast against the batch (or cut through the event), a number, an int
        # sample shape
        result.append(_outcome(lambda: d.log_prob(x[..., :1])))
        if validate is not False:  # (unvalidated, PyTorch's families differ on numbers)
            result.append(_outcome(lambda: d.log_prob(0.5)))
        result.append(_outcome(lambda: tuple(d.sample(2).shape)))
        if dtype == "float64":  # (a 0-dim parameter prints all its digits: in float32, a
            # one-ulp difference of a sigmoid would show)
            result.append(repr(d).replace("torch.", "chainrule."))
        expanded = _outcome(lambda: d.expand(new_batch))
        if not isinstance(expanded, Raised):
            result.append(tuple(expanded.batch_shape))
            result.append(_outcome(lambda: expanded.log_prob(x)))
        if d.has_enumerate_support:
            result.append(_outcome(lambda: d.enumerate_support(expand=False)))
        leaves = [p for p in parameters.values() if isinstance(p, lib.Tensor) and p.requires_grad]
        terms = [
            t.sum() for t in (entropy, log_prob) if not isinstance(t, Raised) and t.requires_grad
        ]
        if terms and leaves:
            # (the graph kept: which lazily made parameter, probs or logits, a density
            # differentiates through is the implementation's choice, not a semantic)
            grads = lib.autograd.grad(sum(terms), leaves, allow_unused=True, retain_graph=True)
            result.append(_trigamma_rounded(name, grads))
        other = _outcome(
            lambda: _build_distribution(
                lib, other_name, _as_parameters(lib, other_params, dtype), None
            )  # fmt: skip
        )
        # (PyTorch's Bernoulli, Uniform and Pareto KLs index with a mask of one side's shape,
        # and fail where the batch shapes differ; Wishart has no KL of its own in PyTorch,
        # and its exponential-family fallback gives negative divergences)
        masked = {"Bernoulli", "Uniform", "Pareto"} & {name, other_name}
        if masked and not isinstance(other, Raised) and other.batch_shape != d.batch_shape:
            other = None
        if "Wishart" in (name, other_name):
            other = None
        if other is not None and not isinstance(other, Raised):
            kl = _outcome(lambda: lib.distributions.kl_divergence(d, other))
            result.append(kl)
            if not isinstance(kl, Raised) and kl.requires_grad:
                grads = lib.autograd.grad(kl.sum(), leaves, allow_unused=True)
                result.append(_trigamma_rounded(name, grads))
        return _tree(result)

    label = (
        f"{name} {params} batch={batch} {dtype} other={other_name} sample_shape={sample_shape} "
        f"new_batch={new_batch} mutation={mutation} validate={validate}"
    )
    return label, program


# families whose gradients take trigamma (through digamma in the entropy or the KL)
TRIGAMMA = {"Gamma", "InverseGamma", "Chi2", "Beta", "Dirichlet", "StudentT", "Kumaraswamy",
            "FisherSnedecor", "Wishart", "LKJCholesky"}  # fmt: skip


def _trigamma_rounded(name: str, grads: tuple) -> tuple:
    """`grads` rounded to float32 for a family whose gradients take trigamma: PyTorch's
    float64 trigamma is up to 5e-10 off (chainrule's agrees with mpmath to 1e-15), more
    than the float64 tolerance."""
    if name not in TRIGAMMA:
        return grads
    return tuple(g if g is None else g.float() for g in grads)


# families whose rsample is loc + scale * noise (of log(x) for LogNormal)
LOCATION_SCALE = {"Normal", "LogNormal", "Laplace", "Cauchy", "Gumbel"}


def _as_parameters(lib, params: dict, dtype: str) -> dict:
    """numpy parameters as lib tensors of `dtype` requiring grad (ints stay numbers)."""
    return {
        key: lib.tensor(value, dtype=getattr(lib, dtype), requires_grad=True)
        if isinstance(value, np.ndarray)
        else value
        for key, value in params.items()
    }


# ---- family: transformed distributions ------------------------------------------------------
# A base distribution (Normal, Uniform, Gamma or a Dirichlet-free Independent Normal) through a
# chain of one to three transforms drawn from torch.distributions.transforms (with
# cache_size, inverses and compositions): log_prob of values pushed through the chain,
# sample and rsample shapes, cdf and icdf where the chain is monotone, support and shapes;
# then each transform on its own: forward, inverse, log_abs_det_jacobian, sign, bijective,
# event dims and forward_shape / inverse_shape, with the gradient of a density.

ELEMENTWISE_TRANSFORMS = ["exp", "affine", "sigmoid", "tanh", "power", "softplus", "affine_neg",
                          "inverse_exp", "compose", "cdf_normal", "abs"]  # fmt: skip
EVENT_TRANSFORMS = ["stick_breaking", "softmax", "reshape", "independent_affine"]


def _transform(lib, name: str, rng_values: dict, k: int):
    T = lib.distributions.transforms
    cache = rng_values["cache"]
    if name == "exp":
        return T.ExpTransform(cache_size=cache)
    if name == "affine":
        return T.AffineTransform(rng_values["loc"], rng_values["scale"], cache_size=cache)
    if name == "affine_neg":
        return T.AffineTransform(lib.tensor(rng_values["loc"]), -rng_values["scale"])
    if name == "sigmoid":
        return T.SigmoidTransform(cache_size=cache)
    if name == "tanh":
        return T.TanhTransform(cache_size=cache)
    if name == "power":
        return T.PowerTransform(lib.tensor(rng_values["exponent"]), cache_size=cache)
    if name == "softplus":
        return T.SoftplusTransform(cache_size=cache)
    if name == "inverse_exp":
        return T.ExpTransform().inv
    if name == "compose":
        parts = [T.AffineTransform(0.5, 2.0), T.ExpTransform()]
        return T.ComposeTransform(parts, cache_size=cache)
    if name == "cdf_normal":
        return T.CumulativeDistributionTransform(lib.distributions.Normal(0.0, 1.0))
    if name == "abs":
        return T.AbsTransform()
    if name == "stick_breaking":
        return T.StickBreakingTransform(cache_size=cache)
    if name == "softmax":
        return T.SoftmaxTransform(cache_size=cache)
    if name == "reshape":
        return T.ReshapeTransform((k,), (k, 1))
    return T.IndependentTransform(T.AffineTransform(rng_values["loc"], rng_values["scale"]), 1)


def _draw_transformed(seed: int):
    rng = np.random.default_rng(seed)
    event = bool(rng.random() < 0.3)
    batch = _shape(rng, 1, 3, 1)
    k = int(rng.integers(2, 4))
    names = [_choice(rng, ELEMENTWISE_TRANSFORMS) for _ in range(int(rng.integers(1, 3)))]
    if event:  # a vector event: an Independent Normal through one event transform (last)
        # (and none that grows its input without bound: stick breaking's inverse of a
        # simplex near a vertex cancels catastrophically, an ulp apart becoming 1e-8)
        names = [n for n in names if n in ("affine", "sigmoid", "tanh", "affine_neg")]
        names.append(_choice(rng, EVENT_TRANSFORMS))
    if "power" in names:  # (a power of a negative number has no real value)
        names.insert(0, "exp")
    values = {
        "loc": float(rng.uniform(-1, 1)),
        "scale": float(rng.uniform(0.5, 2)),
        "exponent": float(_choice(rng, [2.0, 0.5, 3.0])),
        "cache": int(rng.integers(0, 2)),
    }
    base_name = _choice(rng, ["Normal", "Uniform", "Gamma"]) if not event else "Independent"
    loc = rng.standard_normal((*batch, k) if event else batch) * 0.5
    scale = _positive(rng, loc.shape, 0.3, 1.0)
    sample_shape = _shape(rng, 1, 3, 1)
    x_probe = rng.standard_normal((*sample_shape, *loc.shape)) * 0.5

    def program(lib):
        D = lib.distributions
        params = [lib.tensor(loc, requires_grad=True), lib.tensor(scale, requires_grad=True)]
        if base_name == "Normal":
            base = D.Normal(*params)
        elif base_name == "Uniform":
            base = D.Uniform(params[0], params[0] + params[1] * 2)
        elif base_name == "Gamma":
            base = D.Gamma(params[1] + 1, params[1])
        else:
            base = D.Independent(D.Normal(*params), 1)
        chain = [_transform(lib, name, values, k) for name in names]
        d = D.TransformedDistribution(base, chain)
        result = [tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample, repr(d.support)]
        probe = lib.tensor(x_probe)  # a point of the base's support
        if base_name == "Uniform":
            probe = base.icdf(lib.tensor(np.full(x_probe.shape, 0.3)))
        elif base_name == "Gamma":
            probe = probe.abs() + 0.5
        y = probe
        for t in chain:
            y = t(y)
        log_prob = _outcome(lambda: d.log_prob(y.detach()))
        result.append(log_prob)
        result += [_outcome(lambda: d.cdf(y.detach())), _outcome(lambda: d.icdf(lib.tensor(0.25)))]
        drawn = _outcome(lambda: d.rsample(sample_shape))
        if not isinstance(drawn, Raised):
            drawn = (tuple(drawn.shape), drawn.requires_grad)
        result.append(drawn)
        result.append(_outcome(lambda: d.mean))
        if not isinstance(log_prob, Raised) and log_prob.requires_grad:
            result.append(lib.autograd.grad(log_prob.sum(), params, allow_unused=True))
        for t in chain:
            z = t.inv(t(probe))
            result.append((
                repr(type(t).__name__), t.bijective, _outcome(lambda t=t: t.sign),
                t.domain.event_dim, t.codomain.event_dim,
                _outcome(lambda t=t: tuple(t.forward_shape((*sample_shape, *loc.shape)))),
                _outcome(lambda t=t: tuple(t.inverse_shape((*sample_shape, *loc.shape)))),
                _outcome(lambda t=t, x=probe: t.log_abs_det_jacobian(x, t(x))),
                z if t.bijective else None, t == t, t.inv.inv is t,
            ))  # fmt: skip
            probe = t(probe)
        return _tree(result)

    label = f"{base_name} batch={batch} k={k} chain={names} {values} sample_shape={sample_shape}"
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


def _lbfgs_armijo_step(lib):
    return _lbfgs_run(lib, line_search_fn="armijo")


def _lbfgs_run(lib, **options):
    x = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.LBFGS([x], max_iter=4, **options)

    def closure():
        optimizer.zero_grad()
        loss = ((x - 1) ** 2).sum() + (x**4).sum() * 0.1
        loss.backward()
        return loss

    optimizer.step(closure)
    return (optimizer.step(closure), x.detach())


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


def _doubled_in_place(lib, start):
    """A Function that doubles its input in place (ctx.mark_dirty), applied to `start(x)`:
    the gradients of x and of the retained result, or PyTorch's refusal of a leaf."""

    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = lib.tensor([1.0, -2.0], requires_grad=True)
    h = start(x)
    h.retain_grad()
    out = Double.apply(h)
    (out * lib.tensor([1.0, 3.0])).sum().backward()
    return (out is h, x.grad, h.grad)


def _gamma_mixture(lib):
    D = lib.distributions
    mixture = D.MixtureSameFamily(
        D.Categorical(logits=lib.zeros(3)), D.Gamma(lib.ones(3), lib.tensor([1.0, 2.0, 3.0]))
    )
    support = mixture.support
    return (
        type(support).__name__,
        support.event_dim,
        support.check(lib.tensor([[1.0], [-1.0], [0.0]]).squeeze(-1)),
        _outcome(lambda: mixture.log_prob(lib.tensor([-1.0]))),
        mixture.log_prob(lib.tensor([0.5, 2.0])),
    )


def _expanded_to_its_own_shape(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.ones(1, requires_grad=True)
    same = x.expand(2)
    kept, stretched = lib.broadcast_tensors(x, y)
    df = lib.tensor([4.5], requires_grad=True)
    wishart = lib.distributions.Wishart(df, covariance_matrix=lib.eye(2).expand(1, 2, 2))
    return (
        same is x,
        type(same.grad_fn).__name__,
        same._base is x,
        kept is x,
        type(stretched.grad_fn).__name__,
        type(lib.broadcast_to(x, (2,)).grad_fn).__name__,
        type(wishart.df.grad_fn).__name__,
    )


def _function_misuse(lib, kind: str):
    """A Function that saves a number, or marks dirty a tensor it does not return, applied
    while recording, to an input that requires no grad, and under no_grad."""

    class Misused(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            if kind == "saves_a_number":
                ctx.save_for_backward(a, 3)
            else:
                fresh = a.clone()
                fresh.add_(1)
                ctx.mark_dirty(fresh)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    def under_no_grad():
        with lib.no_grad():
            return Misused.apply(lib.ones(2, requires_grad=True))

    return (
        _outcome(lambda: Misused.apply(lib.ones(2, requires_grad=True))),
        _outcome(lambda: Misused.apply(lib.ones(2))),
        _outcome(under_no_grad),
    )


def _numbers_and_int_sample_shapes(lib):
    D = lib.distributions
    gamma = D.Gamma(lib.tensor([2.0]), lib.tensor([1.5]))  # float32 parameters
    families = [D.Normal(0.0, 1.0), D.Categorical(logits=lib.zeros(3)), gamma,
                D.Multinomial(3, logits=lib.zeros(2)), D.Dirichlet(lib.ones(3))]  # fmt: skip
    return (
        gamma.log_prob(0.5),  # a number, validated after it becomes a Tensor
        gamma.log_prob(lib.tensor([0.5], dtype=lib.float64)).dtype,  # rate's dtype
        _outcome(lambda: D.HalfCauchy(1.0).log_prob(0.5)),
        D.HalfCauchy(1.0, validate_args=False).log_prob(0.5),
        tuple(_outcome(lambda d=d: d.sample(2)) for d in families),
    )


def _backward_twice_through(lib, make):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = make(x).sum()
    y.backward()
    return (_outcome(y.backward), x.grad)


def _accumulated_after_create_graph(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x**2).sum().backward(create_graph=True)
    first = x.grad
    (x**2).sum().backward()
    return (x.grad, x.grad is first, first.requires_grad)


def _post_accumulate_hook_returning(lib, value):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda p: value(lib))
    return _outcome(lambda: (x * 2).sum().backward())


REGRESSIONS = {
    # a second backward through x * c or x / c (c a number) raises, as PyTorch's, which
    # saves c as a wrapped tensor (chainrule kept it as a plain attribute); through x + c
    # it does not (neither saves anything)
    **{
        f"backward_twice_through_{name}": (
            lambda lib, make=make: _backward_twice_through(lib, make)
        )
        for name, make in [
            ("mul_by_a_number", lambda x: x * 2),
            ("div_by_a_number", lambda x: x / 2),
            ("add_of_a_number", lambda x: x + 2),
            ("pow_of_a_number", lambda x: x**2),
        ]
    },
    # outside create_graph a leaf's .grad accumulates in place, so the .grad a create_graph
    # backward left (which requires grad) stays that tensor (chainrule made a new one that
    # did not require grad)
    "accumulation_into_a_grad_that_requires_grad_is_in_place": _accumulated_after_create_graph,
    # a post-accumulate hook returning a Tensor raises RuntimeError, anything else TypeError
    "post_accumulate_hook_returning_a_value": lambda lib: (
        _post_accumulate_hook_returning(lib, lambda lib: lib.ones(2)),
        _post_accumulate_hook_returning(lib, lambda lib: 1),
    ),
    # materialize_grads=True with allow_unused=False is a ValueError
    "materialize_grads_refuses_allow_unused_false": lambda lib: _outcome(
        lambda: lib.autograd.grad(
            (lib.ones(2, requires_grad=True) * 2).sum(),
            [lib.ones(2, requires_grad=True)],
            allow_unused=False,
            materialize_grads=True,
        )
    ),
    # an int sample_shape is refused with TypeError, as torch.Size(3) refuses it (chainrule
    # took it as (3,)); Gamma's log_prob takes a number, and a value of another dtype, as a
    # Tensor of rate's dtype (validated after); HalfCauchy's, unvalidated, a number
    "distributions_take_numbers_and_refuse_int_sample_shapes": _numbers_and_int_sample_shapes,
    # save_for_backward of a number raises TypeError once the Function records; marking dirty
    # a tensor forward does not return raises RuntimeError always (both were accepted)
    "save_for_backward_refuses_a_number": lambda lib: _function_misuse(lib, "saves_a_number"),
    "mark_dirty_refuses_a_tensor_not_returned": lambda lib: _function_misuse(lib, "dirty"),
    # calling a Function instance (PyTorch's legacy style) raises RuntimeError (chainrule's
    # instances were not callable: TypeError)
    "calling_a_function_instance_is_refused": lambda lib: _outcome(
        lambda: _custom_function(lib, "exp_saves_output", [])()(lib.ones(2), lib.ones(2))
    ),
    # a MixtureSameFamily's support is a MixtureSameFamilyConstraint of its components' (it
    # was their support itself)
    "mixture_support_puts_the_component_dimension_back": _gamma_mixture,
    # x.expand(x.shape) is a new view with its own ExpandBackward0 (it was x itself), while
    # broadcast_tensors gives back a tensor already of the broadcast shape (as a Wishart's df)
    "expand_to_the_same_shape_is_a_new_view": _expanded_to_its_own_shape,
    # a tensor a Function marks dirty takes its retain_grad() along to its new node, as an
    # in-place op's does: h.grad is the gradient of h's new value (it was twice that)
    "mark_dirty_moves_retain_grad_to_the_new_value": lambda lib: _doubled_in_place(
        lib, lambda x: x * 1.5
    ),
    # ...and a leaf that requires grad may not be marked dirty while recording
    "mark_dirty_refuses_a_leaf_that_requires_grad": lambda lib: _doubled_in_place(lib, lambda x: x),
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
    # an lr given as a Tensor is read as its number (every optimizer raised a TypeError from
    # NumPy), and stays a Tensor in the param group and the state dict
    **{
        f"{name}_takes_a_tensor_lr": (
            lambda lib, name=name: _stepped(
                lib, name, _normal(3, (2,)), lr=lib.tensor(0.05, dtype=lib.float64)
            )
        )
        for name in (
            "SGD",
            "Adam",
            "AdamW",
            "RMSprop",
            "Adagrad",
            "Adadelta",
            "Adamax",
            "NAdam",
            "RAdam",
            "ASGD",
            "Rprop",
        )  # fmt: skip
    },
    "LBFGS_takes_a_tensor_lr": lambda lib: _lbfgs_run(lib, lr=lib.tensor(0.5, dtype=lib.float64)),
    # SparseAdam counts steps in a Python int (which load_state_dict keeps) and refuses lr
    # and eps of 0; a group added after load_state_dict has `differentiable` (Optimizer's
    # __setstate__ puts it in the defaults)
    "sparse_adam_keeps_an_int_step_across_a_round_trip": _sparse_adam_run,
    # Adafactor and Muon take a complex parameter and refuse it at the step (RuntimeError);
    # SparseAdam refuses one at construction (ValueError naming [group, index]); both raised
    # chainrule's DTypeError, and SparseAdam took it
    "complex_parameters_refused_as_pytorch": lambda lib: tuple(
        _outcome(lambda name=name: _stepped(lib, name, np.ones((2, 2)) * (1 + 1j), steps=1))
        for name in ("Adafactor", "Muon", "SparseAdam")
    ),
    # LBFGS takes any line_search_fn and refuses one but strong_wolfe at its first line
    # search (RuntimeError; ValueError at construction before); an lr Tensor of two elements
    # is refused with "Tensor lr must be 1-element"
    "lbfgs_refuses_another_line_search_at_the_step": lambda lib: (
        _outcome(lambda: lib.optim.LBFGS([lib.ones(2)], line_search_fn="armijo").defaults),
        _outcome(lambda: _lbfgs_armijo_step(lib)),
        _outcome(lambda: lib.optim.SGD([lib.ones(2)], lr=lib.tensor([0.1, 0.2])).defaults),
    ),
    "sparse_adam_refuses_a_zero_lr_or_eps": lambda lib: tuple(
        _outcome(lambda options=options: lib.optim.SparseAdam([lib.zeros(2)], **options).defaults)
        for options in ({"lr": 0.0}, {"eps": 0.0}, {"lr": -1.0}, {"betas": (1.0, 0.5)})
    ),
}

FAMILIES = {
    "optimizers": (_draw_optimizers, 120),
    "schedulers": (_draw_schedulers, 80),
    "autograd": (_draw_autograd, 200),
    "distributions": (_draw_distributions, 150),
    "transformed": (_draw_transformed, 100),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
