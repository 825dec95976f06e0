"""More differential fuzzing against PyTorch, in four families the op-chain fuzz
(test_fuzz_torch.py) does not reach: autograd semantics (in-place writes on views of what
backward needs, version counters, retain_grad, hooks, detach, `.grad` accumulation,
`autograd.grad` options), type promotion (every dtype pair, 0-dim tensors and Python
numbers on either side), functional nn ops with random options (values and gradients), and
tensor creation and printing (dtype inference, `repr` of random tensors under random print
options). Each case runs the same program on chainrule and on PyTorch and compares the
outcome: values, dtype, shape, requires_grad, gradients, the printed string, or the
exception type when PyTorch raises.

Seeded: a failure names its case (`pytest -k 'promotion and case_17'`), and
`python -m tests.test_fuzz_torch_families FAMILY START COUNT` runs more cases of a family
(autograd, promotion, nn, creation, printing) than the suite does."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch

import chainrule
from tests.test_fuzz_torch import _refused_argument

LIBS = (chainrule, torch)
NUMBERS = (bool, int, float, complex)


# ---- comparing outcomes ----------------------------------------------------------------------


class Outcome:
    """What a program did in one library: its result, or the exception it raised."""

    def __init__(self, lib, program: Callable) -> None:
        self.error: BaseException | None = None
        self.value = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.value = program(lib)
        except Exception as error:  # noqa: BLE001 - compared below
            self.error = error


def _plain(value):
    """A result with its tensors as (dtype, shape, requires_grad, values) and its torch names
    spelt as chainrule's, comparable across the libraries."""
    if isinstance(value, (chainrule.Tensor, torch.Tensor)):
        tensor = value.detach()
        if str(tensor.dtype).endswith("bfloat16"):
            tensor = tensor.float()
        array = np.asarray(tensor.numpy())
        dtype = str(value.dtype).rsplit(".", 1)[-1]
        return ("tensor", dtype, tuple(value.shape), value.requires_grad, array)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    if isinstance(value, (str, torch.dtype, chainrule.dtype)):
        return str(value).replace("torch.", "chainrule.")
    return value


TOLERANCE = {"float16": 2e-3, "bfloat16": 1e-2, "float32": 1e-5, "complex64": 1e-5}


def _assert_same(case: str, ours, theirs, tolerances: dict = TOLERANCE) -> None:
    """ours equals theirs: tensors (as _plain lays them out) within `tolerances` by dtype
    (1e-9 for a dtype it lacks), everything else exactly."""
    if isinstance(theirs, tuple) and theirs[:1] == ("tensor",):
        assert isinstance(ours, tuple) and ours[:1] == ("tensor",), f"{case}: {ours} vs tensor"
        _, dtype, shape, requires_grad, values = theirs
        assert ours[1:4] == (dtype, shape, requires_grad), (
            f"{case}: dtype, shape, requires_grad {ours[1:4]} vs {(dtype, shape, requires_grad)}"
        )
        tolerance = tolerances.get(dtype, 1e-9)
        np.testing.assert_allclose(
            ours[4], values, rtol=tolerance, atol=tolerance, equal_nan=True, err_msg=case
        )
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{case}: {ours} vs {theirs}"
        for mine, expected in zip(ours, theirs):
            _assert_same(case, mine, expected, tolerances)
    else:
        assert ours == theirs, f"{case}: {ours!r} vs {theirs!r}"


def check_program(case: str, program: Callable) -> None:
    """Run `program(lib)` on both libraries: the same result, or an exception chainrule's
    caller catches with the `except` written for PyTorch's."""
    ours, theirs = Outcome(chainrule, program), Outcome(torch, program)
    if theirs.error is not None:
        if _refused_argument(theirs.error):
            return  # an argument PyTorch's binding refuses: chainrule may take it, or raise
        assert ours.error is not None, (
            f"{case}: PyTorch raised {type(theirs.error).__name__}: {theirs.error}; "
            f"chainrule returned {ours.value!r}"
        )
        assert isinstance(ours.error, type(theirs.error)), (
            f"{case}: chainrule raised {type(ours.error).__name__}: {ours.error}; "
            f"PyTorch {type(theirs.error).__name__}: {theirs.error}"
        )
        return
    if _complex_half(theirs.value):
        return
    if ours.error is not None:
        raise AssertionError(
            f"{case}: chainrule raised {type(ours.error).__name__}: {ours.error}; "
            f"PyTorch returned {theirs.value!r}"
        )
    _assert_same(case, _plain(ours.value), _plain(theirs.value))


def _complex_half(value) -> bool:
    """float16 with a complex number is complex32 in PyTorch ('ComplexHalf', experimental and
    without most kernels); chainrule has no complex32 and gives complex64."""
    return isinstance(value, torch.Tensor) and value.dtype is torch.complex32


# ---- family: autograd semantics --------------------------------------------------------------
# A program: a leaf x, y = f(x), z = g(y) (z saves y or its own output for backward), then a
# few drawn actions (in-place writes on y, on a view of it or through detach; retain_grad,
# hooks, a second backward, autograd.grad), then backward; the result is every gradient.

FIRST = ["exp", "sin", "mul2", "square", "sigmoid", "tanh", "clone", "view_half"]
SECOND = ["exp", "mul_self", "sin", "sum_sq", "mul3", "relu", "pow3", "log_softmax"]


def _first(lib, name: str, x):
    if name == "mul2":
        return x * 2
    if name == "square":
        return x * x
    if name == "clone":
        return x.clone()
    if name == "view_half":
        return x[: max(x.shape[0] // 2, 1)]
    return getattr(x, name)()


def _second(lib, name: str, y):
    if name == "mul_self":
        return y * y
    if name == "sum_sq":
        return (y**2).sum(0)
    if name == "mul3":
        return y * 3
    if name == "pow3":
        return y.pow(3)
    if name == "log_softmax":
        return y.log_softmax(-1)
    return getattr(y, name)()


def _autograd_action(rng) -> tuple:
    kind = str(
        rng.choice(
            [
                "inplace_y",
                "inplace_view_y",
                "inplace_detached_y",
                "inplace_leaf",
                "inplace_leaf_view_no_grad",
                "retain_grad_y",
                "hook_x",
                "hook_y",
                "bad_hook",
                "requires_grad_y",
                "set_grad_x",
                "detach_y",
            ]
        )
    )
    detail = str(rng.choice(["mul_", "add_", "zero_", "exp_", "sigmoid_", "clamp_", "setitem"]))
    scale = float(rng.integers(-2, 4))
    return kind, detail, scale


def _write_in_place(tensor, detail: str, scale: float):
    if detail == "setitem":
        tensor[0] = scale
    elif detail in ("mul_", "add_"):
        getattr(tensor, detail)(scale)
    elif detail == "clamp_":
        tensor.clamp_(min=-1.0, max=abs(scale))
    else:
        getattr(tensor, detail)()


def _draw_autograd(seed: int):
    rng = np.random.default_rng(seed)
    shape = [(3,), (2, 3), (4, 2)][int(rng.integers(0, 3))]
    dtype = str(rng.choice(["float32", "float64"]))
    values = rng.integers(-4, 5, shape) / 4
    first, second = str(rng.choice(FIRST)), str(rng.choice(SECOND))
    actions = [_autograd_action(rng) for _ in range(int(rng.integers(1, 3)))]
    if first == "view_half" and actions[0][0].startswith("inplace"):
        # PyTorch 2.13 segfaults in register_hook on a view of a leaf written in place
        # through an alias: x[:1].detach().exp_(); x[:1]...register_hook(f)
        actions = [a for a in actions if a[0] not in ("hook_y", "bad_hook")]
    ending = str(
        rng.choice(
            [
                "backward",
                "backward_twice",
                "backward_retain_twice",
                "grad",
                "grad_unused",
                "grad_unused_allowed",
                "grad_materialized",
                "backward_non_scalar",
                "backward_inputs",
            ]
        )
    )

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        other = lib.ones(shape, dtype=getattr(lib, dtype), requires_grad=True)
        y = _first(lib, first, x)
        z = _second(lib, second, y)
        kept = []
        for kind, detail, scale in actions:
            if kind == "inplace_y":
                _write_in_place(y, detail, scale)
            elif kind == "inplace_view_y":
                _write_in_place(y[:1], detail, scale)
            elif kind == "inplace_detached_y":
                _write_in_place(y.detach(), detail, scale)
            elif kind == "inplace_leaf":
                _write_in_place(x, detail, scale)
            elif kind == "inplace_leaf_view_no_grad":
                with lib.no_grad():
                    _write_in_place(x[-1:], detail, scale)
            elif kind == "retain_grad_y":
                y.retain_grad()
                kept.append(y)
            elif kind == "hook_x":
                x.register_hook(lambda g, s=scale: g * s)
            elif kind == "hook_y":
                y.register_hook(lambda g, s=scale: None if s < 0 else g + s)
            elif kind == "bad_hook":
                y.register_hook(lambda g, d=detail: g.sum() if d == "zero_" else g.double())
            elif kind == "requires_grad_y":
                y.requires_grad_(scale > 0)
            elif kind == "set_grad_x":
                x.grad = lib.full(shape, scale, dtype=x.dtype)
            else:
                kept.append(y.detach())
        loss = (z * z).sum()
        if ending == "backward":
            loss.backward()
        elif ending == "backward_twice":
            loss.backward()
            loss.backward()
        elif ending == "backward_retain_twice":
            loss.backward(retain_graph=True)
            loss.backward()
        elif ending == "backward_non_scalar":
            (z * 2).backward()
        elif ending == "backward_inputs":
            (loss + (other * 2).sum()).backward(inputs=[other])
        else:
            allow = ending != "grad_unused"
            inputs = [x] if ending == "grad" else [x, other]
            materialize = ending == "grad_materialized"
            return lib.autograd.grad(
                loss, inputs, allow_unused=allow, materialize_grads=materialize
            )
        return (
            x.grad,
            other.grad,
            [t.grad if t.requires_grad else t for t in kept],
            x.is_leaf,
            y.is_leaf,
            x._version,
        )

    label = f"x {dtype}{shape}; y = {first}(x); z = {second}(y); {actions}; {ending}"
    return label, program


# ---- family: type promotion -----------------------------------------------------------------

PROMOTION_DTYPES = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]
PROMOTION_OPS = [
    "add",
    "sub",
    "mul",
    "div",
    "true_divide",
    "floor_divide",
    "remainder",
    "fmod",
    "pow",
    "maximum",
    "atan2",
    "eq",
    "lt",
    "ne",
    "bitwise_and",
    "bitwise_or",
    "logical_xor",
    "where",
    "cat",
    "add_",
    "mul_",
    "div_",
    "sub_",
    "copysign",
    "lerp",
]


def _operand_spec(rng) -> tuple:
    """('tensor', dtype, 0-dim?) or ('number', a Python bool, int, float or complex)."""
    if rng.random() < 0.3:
        number = [True, False, 2, -3, 0, 2.5, -0.5, 1 + 2j][int(rng.integers(0, 8))]
        return ("number", number)
    return ("tensor", str(rng.choice(PROMOTION_DTYPES)), bool(rng.random() < 0.4))


def _operand(lib, spec, values):
    if spec[0] == "number":
        return spec[1]
    _, dtype, zero_dim = spec
    data = values[0] if zero_dim else values
    if dtype == "bool":
        data = [v > 0 for v in data] if not zero_dim else data > 0
    elif dtype == "uint8":
        data = [abs(v) for v in data] if not zero_dim else abs(data)
    return lib.tensor(data, dtype=getattr(lib, dtype))


def _draw_promotion(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(PROMOTION_OPS))
    left, right = _operand_spec(rng), _operand_spec(rng)
    if left[0] == "number" and (right[0] == "number" or name in ("cat",) or name.endswith("_")):
        left = ("tensor", str(rng.choice(PROMOTION_DTYPES)), False)
    if name == "cat" and right[0] == "number":
        right = ("tensor", str(rng.choice(PROMOTION_DTYPES)), False)
    values = [int(v) for v in rng.integers(-3, 4, 3)]
    values[int(rng.integers(0, 3))] = 2  # never all zeros: a divisor of zeros hides nothing

    def program(lib):
        a, b = _operand(lib, left, values), _operand(lib, right, values[::-1])
        if name == "where":
            return lib.where(lib.tensor([True, False, True]), a, b)
        if name == "cat":
            return lib.cat([a.reshape(-1), b.reshape(-1)])
        if name == "lerp":
            return lib.lerp(a, b, 0.5)
        if name.endswith("_"):
            getattr(a, name)(b)
            return a
        return getattr(lib, name)(a, b)

    return f"{name}({left}, {right}) on {values}", program


# ---- family: functional nn ops with random options ------------------------------------------


def _draw_conv(rng) -> tuple:
    dims = int(rng.integers(1, 3))
    channels, groups = int(rng.choice([2, 4])), int(rng.choice([1, 2]))
    stride, dilation = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    if stride == 1:
        padding = ["same", "valid", 0, 1, 2][int(rng.integers(0, 5))]
    else:
        padding = int(rng.integers(0, 3))
    kernel, out = int(rng.integers(1, 4)), int(rng.choice([2, 4]))
    inputs = [
        (2, channels) + (int(rng.integers(4, 8)),) * dims,
        (out, channels // groups) + (kernel,) * dims,
    ]
    if rng.random() < 0.5:
        inputs.append((out,))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return f"conv{dims}d", inputs, options


def _draw_pool(rng) -> tuple:
    dims = int(rng.integers(1, 3))
    kind = str(rng.choice(["max", "avg"]))
    kernel = int(rng.integers(1, 4))
    options = {
        "kernel_size": kernel,
        "stride": int(rng.integers(1, 3)),
        "padding": int(rng.integers(0, kernel // 2 + 1)),
        "ceil_mode": bool(rng.random() < 0.5),
    }
    if kind == "avg":
        options["count_include_pad"] = bool(rng.random() < 0.5)
    else:
        options["dilation"] = int(rng.integers(1, 3))
        options["return_indices"] = bool(rng.random() < 0.5)
    return f"{kind}_pool{dims}d", [(2, 3) + (int(rng.integers(3, 8)),) * dims], options


def _draw_adaptive_pool(rng) -> tuple:
    kind, dims = str(rng.choice(["avg", "max"])), int(rng.integers(1, 3))
    name = f"adaptive_{kind}_pool{dims}d"
    size = tuple(int(rng.integers(1, 6)) for _ in range(dims))
    options = {"output_size": size if dims > 1 else size[0]}
    if "max" in name:
        options["return_indices"] = bool(rng.random() < 0.5)
    return name, [(2, 3) + (int(rng.integers(3, 8)),) * dims], options


INTERPOLATE_MODES = {
    1: ["nearest", "nearest-exact", "linear", "area"],
    2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
    3: ["nearest", "nearest-exact", "trilinear", "area"],
}


def _draw_interpolate(rng) -> tuple:
    dims = int(rng.integers(1, 4))
    mode = str(rng.choice(INTERPOLATE_MODES[dims]))
    options: dict = {"mode": mode}
    if rng.random() < 0.5:
        options["size"] = tuple(int(rng.integers(1, 9)) for _ in range(dims))
    else:
        options["scale_factor"] = float(rng.choice([0.5, 0.7, 1.5, 2.0, 3.0]))
        if mode != "area" and rng.random() < 0.3:
            options["recompute_scale_factor"] = bool(rng.random() < 0.5)
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        options["align_corners"] = bool(rng.random() < 0.5)
    return "interpolate", [(1, 2) + tuple(int(rng.integers(2, 6)) for _ in range(dims))], options


def _draw_pad(rng) -> tuple:
    mode = str(rng.choice(["constant", "reflect", "replicate", "circular"]))
    dims = int(rng.integers(1, 4))
    low = -1 if mode in ("constant", "circular") else 0
    count = 2 * int(rng.integers(1, dims + 1))
    pad = tuple(int(rng.integers(low, 3)) for _ in range(count))
    options: dict = {"pad": pad, "mode": mode}
    if mode == "constant" and rng.random() < 0.5:
        options["value"] = 1.5
    return "pad", [(2, 2) + tuple(int(rng.integers(3, 6)) for _ in range(dims))], options


def _draw_normalization(rng) -> tuple:
    choice = int(rng.integers(0, 4))
    affine = bool(rng.random() < 0.5)
    if choice == 0:
        shape = (3, 4) + ((5,) if rng.random() < 0.5 else ())
        inputs = [shape, "running_mean(4)", "running_var(4)"]
        options = {"training": bool(rng.random() < 0.5), "momentum": 0.3, "eps": 1e-3}
        if affine:
            options.update(weight="weight(4)", bias="bias(4)")
        return "batch_norm", inputs, options
    if choice == 1:
        normalized = (2, 3, 4)[int(rng.integers(1, 3)) :]
        options = {"normalized_shape": normalized, "eps": 1e-4}
        inputs = [(2, 3, 4)] + ([normalized, normalized] if affine else [])
        return "layer_norm", inputs, options
    if choice == 2:
        options = {"num_groups": int(rng.choice([1, 2, 4]))}
        return "group_norm", [(2, 4, 3)] + ([(4,), (4,)] if affine else []), options
    options = {"use_input_stats": True}
    if affine:
        options.update(weight="weight(3)", bias="bias(3)")
    if rng.random() < 0.5:
        options.update(running_mean="running_mean(3)", running_var="running_var(3)")
    return "instance_norm", [(2, 3, 5)], options


def _draw_class_loss(rng) -> tuple:
    name = str(rng.choice(["cross_entropy", "nll_loss", "multi_margin_loss"]))
    options: dict = {"reduction": str(rng.choice(["none", "mean", "sum"]))}
    inputs = [(4, 5), "target_class(4,5)"]
    if rng.random() < 0.5:
        options["weight"] = "weight(5)"
    if name == "multi_margin_loss":
        options.update(p=int(rng.choice([1, 2])), margin=0.5)
        return name, inputs, options
    if rng.random() < 0.5:
        options["ignore_index"] = int(rng.integers(0, 3))
    if name == "cross_entropy":
        options["label_smoothing"] = float(rng.choice([0.0, 0.1]))
        if rng.random() < 0.3:
            inputs[1] = "target_prob(4,5)"
            options.pop("ignore_index", None)
    return name, inputs, options


def _draw_pointwise_loss(rng) -> tuple:
    name = str(
        rng.choice(
            [
                "mse_loss",
                "l1_loss",
                "smooth_l1_loss",
                "huber_loss",
                "binary_cross_entropy",
                "binary_cross_entropy_with_logits",
                "kl_div",
                "soft_margin_loss",
                "poisson_nll_loss",
                "hinge_embedding_loss",
            ]
        )
    )
    reductions = ["none", "mean", "sum"] + (["batchmean"] if name == "kl_div" else [])
    options: dict = {"reduction": str(rng.choice(reductions))}
    inputs = [(3, 4), (3, 4)]
    if name == "smooth_l1_loss":
        options["beta"] = float(rng.choice([0.0, 0.5, 1.0]))
    elif name == "huber_loss":
        options["delta"] = float(rng.choice([0.5, 1.0]))
    elif name == "kl_div":
        options["log_target"] = bool(rng.random() < 0.5)
    elif name == "binary_cross_entropy":
        inputs = ["prob(3,4)", "prob(3,4)"]
        if rng.random() < 0.5:
            options["weight"] = "weight(4)"
    elif name == "binary_cross_entropy_with_logits":
        inputs[1] = "prob(3,4)"
        if rng.random() < 0.5:
            options["weight"] = "weight(4)"
        if rng.random() < 0.5:
            options["pos_weight"] = "weight(4)"
    elif name in ("soft_margin_loss", "hinge_embedding_loss"):
        inputs[1] = "sign(3,4)"
    return name, inputs, options


def _draw_embedding(rng) -> tuple:
    if rng.random() < 0.3:
        return "one_hot", ["index(3,4)"], {"num_classes": int(rng.choice([-1, 5, 6]))}
    options: dict = {}
    if rng.random() < 0.5:
        options["padding_idx"] = int(rng.integers(-5, 5))
    if rng.random() < 0.5:
        options.update(max_norm=float(rng.choice([0.5, 1.0])), norm_type=float(rng.choice([1, 2])))
    return "embedding", ["index(3,4)", (5, 3)], options


def _draw_activation(rng) -> tuple:
    name = str(
        rng.choice(
            [
                "softmax",
                "log_softmax",
                "softmin",
                "glu",
                "gelu",
                "elu",
                "celu",
                "selu",
                "leaky_relu",
                "hardtanh",
                "softplus",
                "normalize",
                "threshold",
                "hardswish",
                "mish",
                "logsigmoid",
                "prelu",
                "cosine_similarity",
                "pairwise_distance",
                "local_response_norm",
            ]
        )
    )
    inputs: list = [(2, 4, 6)]
    options: dict = {}
    if name in ("softmax", "log_softmax", "softmin", "glu"):
        options["dim"] = int(rng.integers(-3, 3))
    elif name == "gelu":
        options["approximate"] = str(rng.choice(["none", "tanh"]))
    elif name in ("elu", "celu"):
        options["alpha"] = 0.7
    elif name == "leaky_relu":
        options["negative_slope"] = 0.2
    elif name == "hardtanh":
        options.update(min_val=-0.5, max_val=0.7)
    elif name == "softplus":
        options.update(beta=2.0, threshold=1.0)
    elif name == "normalize":
        options.update(p=float(rng.choice([1, 2, 3])), dim=int(rng.integers(-3, 3)))
    elif name == "threshold":
        options.update(threshold=0.1, value=-1.0)
    elif name == "prelu":
        inputs.append((4,) if rng.random() < 0.5 else (1,))
    elif name == "cosine_similarity":
        inputs.append((2, 4, 6))
        options["dim"] = int(rng.integers(0, 3))
    elif name == "pairwise_distance":
        inputs.append((2, 4, 6))
        options["p"] = float(rng.choice([1, 2]))
    elif name == "local_response_norm":
        options["size"] = 3
    return name, inputs, options


def _draw_bad_option(rng) -> tuple:
    """An option value PyTorch refuses: the exception types must agree."""
    choice = int(rng.integers(0, 9))
    x, w = (1, 2, 6), (2, 2, 3)
    if choice == 0:
        return "conv1d", [x, w], {"padding": ["full", -1, (1, 1)][int(rng.integers(0, 3))]}
    if choice == 1:
        return "conv1d", [x, w], {"padding": "same", "stride": 2}
    if choice == 2:
        key = str(rng.choice(["stride", "dilation", "groups"]))
        return "conv1d", [x, w], {key: int(rng.integers(-1, 1))}
    if choice == 3:
        return "conv_transpose1d", [x, w], {"stride": 2, "output_padding": 2}
    if choice == 4:
        name = str(rng.choice(["max_pool1d", "avg_pool1d"]))
        options = {"kernel_size": int(rng.integers(0, 3)), "padding": int(rng.integers(0, 3))}
        options["stride"] = int(rng.integers(0, 2))
        return name, [x], options
    if choice == 5:
        return "adaptive_avg_pool2d", [(1, 2, 4, 4)], {"output_size": (2, 2, 2)}
    if choice == 6:
        name = str(rng.choice(["smooth_l1_loss", "huber_loss"]))
        key = "beta" if name == "smooth_l1_loss" else "delta"
        return name, [(3,), (3,)], {key: float(rng.choice([-1.0, 0.0]))}
    if choice == 7:
        smoothing = float(rng.choice([-0.5, 1.5]))
        return "cross_entropy", [(2, 3), "target_class(2,3)"], {"label_smoothing": smoothing}
    mode = str(rng.choice(["reflect", "replicate", "circular", "wrap"]))
    return "pad", [(2, 2, 4, 4)], {"pad": (1, 1), "mode": mode}


NN_DRAWS = [
    _draw_bad_option,
    _draw_conv,
    _draw_conv,
    _draw_pool,
    _draw_pool,
    _draw_adaptive_pool,
    _draw_interpolate,
    _draw_interpolate,
    _draw_pad,
    _draw_normalization,
    _draw_normalization,
    _draw_class_loss,
    _draw_pointwise_loss,
    _draw_embedding,
    _draw_activation,
]


def _nn_argument(lib, spec, rng, differentiable: list):
    """A tensor for `spec`: a shape (a float64 input that requires grad) or 'kind(shape)'."""
    if isinstance(spec, tuple):
        x = lib.tensor(rng.standard_normal(spec), dtype=lib.float64, requires_grad=True)
        differentiable.append(x)
        return x
    if not isinstance(spec, str) or "(" not in spec:
        return spec
    kind, sizes = spec[:-1].split("(")
    shape = tuple(int(s) for s in sizes.split(","))
    if kind in ("running_mean", "bias"):
        return lib.tensor(rng.standard_normal(shape), dtype=lib.float64)
    if kind in ("running_var", "weight"):
        return lib.tensor(rng.random(shape) + 0.5, dtype=lib.float64)
    if kind == "target_class":
        return lib.tensor(rng.integers(0, shape[-1], shape[:-1]))
    if kind == "index":
        return lib.tensor(rng.integers(0, 5, shape))
    if kind == "target_prob":
        p = rng.random(shape)
        return lib.tensor(p / p.sum(-1, keepdims=True), dtype=lib.float64)
    if kind == "prob":
        p = lib.tensor(rng.random(shape) * 0.8 + 0.1, dtype=lib.float64, requires_grad=True)
        differentiable.append(p)
        return p
    assert kind == "sign", kind
    return lib.tensor(np.where(rng.random(shape) < 0.5, -1.0, 1.0), dtype=lib.float64)


def _draw_nn(seed: int):
    rng = np.random.default_rng(seed)
    name, inputs, options = NN_DRAWS[int(rng.integers(0, len(NN_DRAWS)))](rng)
    values_seed = int(rng.integers(0, 2**31))

    def program(lib):
        rng = np.random.default_rng(values_seed)
        differentiable: list = []
        args = [_nn_argument(lib, spec, rng, differentiable) for spec in inputs]
        kwargs = {
            k: _nn_argument(lib, v, rng, []) if isinstance(v, str) else v
            for k, v in options.items()
        }
        result = getattr(lib.nn.functional, name)(*args, **kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        first = outputs[0]
        gradients: tuple = ()
        if first.requires_grad:
            weights = np.random.default_rng(1).standard_normal(tuple(first.shape))
            loss = (first * lib.tensor(weights, dtype=first.dtype)).sum()
            gradients = lib.autograd.grad(loss, differentiable, allow_unused=True)
        state = [v for v in kwargs.values() if isinstance(v, lib.Tensor)]  # running stats
        return outputs, gradients, state

    return f"F.{name}({inputs}, {options})", program


# ---- family: creation ----------------------------------------------------------------------

CREATION_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"]


def _python_number(rng):
    return [0, 1, 3, -2, 2.5, -0.5, True, 7.0, 1e3][int(rng.integers(0, 9))]


def _nested(rng):
    """A rectangular nested list (up to 2 levels, maybe empty) of mixed Python numbers."""
    shape = tuple(int(n) for n in rng.integers(0, 4, int(rng.integers(0, 3))))
    numbers = [_python_number(rng) for _ in range(int(np.prod(shape)))]

    def build(level: int, offset: int):
        if level == len(shape):
            return numbers[offset]
        stride = int(np.prod(shape[level + 1 :]))
        return [build(level + 1, offset + i * stride) for i in range(shape[level])]

    return build(0, 0)


def _draw_creation(seed: int):
    rng = np.random.default_rng(seed)
    dtype = str(rng.choice(CREATION_DTYPES)) if rng.random() < 0.4 else None
    a, b = _python_number(rng), _python_number(rng)
    step = [1, 2, 0.5, -1, 3][int(rng.integers(0, 5))]
    count = int(rng.integers(0, 6))
    choice = int(rng.integers(0, 11))
    if choice == 0:
        label, call = f"arange({a}, {b}, {step})", lambda lib, **k: lib.arange(a, b, step, **k)
    elif choice == 1:
        label, call = f"arange({b})", lambda lib, **k: lib.arange(b, **k)
    elif choice == 2:
        label, call = (
            f"linspace({a}, {b}, {count})",
            lambda lib, **k: lib.linspace(a, b, count, **k),
        )
    elif choice == 3:
        label, call = (
            f"logspace({a}, {b}, {count})",
            lambda lib, **k: lib.logspace(a, b, count, **k),
        )
    elif choice == 4:
        label, call = f"full(({count},), {a})", lambda lib, **k: lib.full((count,), a, **k)
    elif choice == 5:
        data = _nested(rng)
        label, call = f"tensor({data})", lambda lib, **k: lib.tensor(data, **k)
    elif choice == 6:
        label, call = f"eye({count}, {step})", lambda lib, **k: lib.eye(count, abs(int(step)), **k)
    elif choice == 7:
        offset = int(rng.integers(-3, 4))
        name = str(rng.choice(["tril_indices", "triu_indices"]))
        label = f"{name}({count}, {count + 1}, {offset})"
        dtype = str(rng.choice(["int64", "int32"])) if dtype else None
        call = lambda lib, **k: getattr(lib, name)(count, count + 1, offset, **k)  # noqa: E731
    elif choice == 8:
        label, call = f"scalar_tensor({a})", lambda lib, **k: lib.scalar_tensor(a, **k)
    elif choice == 9:
        name = str(rng.choice(["zeros_like", "ones_like", "full_like", "empty_like"]))
        base = str(rng.choice(CREATION_DTYPES))

        def call(lib, **k):
            like = lib.ones((2, 3), dtype=getattr(lib, base)).t()
            made = getattr(lib, name)(like, a, **k) if name == "full_like" else None
            made = made if made is not None else getattr(lib, name)(like, **k)
            result = (made.stride(), made.dtype)
            return result if name == "empty_like" else (*result, made)

        label = f"{name}(<{base} (3, 2) transposed>)"
    else:
        values = [_python_number(rng) for _ in range(count)]
        label, call = f"as_tensor({values})", lambda lib, **k: lib.as_tensor(values, **k)

    def program(lib):
        kwargs = {"dtype": getattr(lib, dtype)} if dtype else {}
        return call(lib, **kwargs)

    return f"{label} dtype={dtype}", program


# ---- family: printing ----------------------------------------------------------------------

PRINT_DTYPES = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "uint8",
    "bool",
    "complex64",
    "complex128",
]
PRINT_SHAPES = [(), (0,), (3,), (2, 3), (1, 1, 2), (7,), (2, 0, 3), (1001,), (40, 40), (3, 1001)]


def _print_values(rng, shape: tuple, dtype: str) -> np.ndarray:
    """Values that exercise the formatter: integers, wide ranges needing sci mode, inf/nan."""
    n = int(np.prod(shape))
    kind = int(rng.integers(0, 7))
    if kind == 0:
        v = rng.integers(-5, 6, n).astype(float)
    elif kind == 1:
        v = rng.standard_normal(n)
    elif kind == 2:
        v = rng.standard_normal(n) * 10.0 ** float(rng.integers(-12, 12))
    elif kind == 3:
        v = rng.standard_normal(n)
        v[rng.random(n) < 0.3] = np.inf
        v[rng.random(n) < 0.2] = np.nan
        v[rng.random(n) < 0.2] = -np.inf
    elif kind == 4:
        v = np.round(rng.standard_normal(n) * 1000)
    elif kind == 5:
        v = rng.random(n) * 1e-5
    else:
        v = np.full(n, 123456789.0)
    if dtype.startswith("complex"):
        with np.errstate(invalid="ignore"):  # inf * 1j has a nan real part: fine here
            return (v + np.roll(v, 1) * 1j).reshape(shape)
    if dtype == "bool":
        return (v > 0).reshape(shape)
    if dtype in ("int64", "int32", "uint8"):
        v = np.nan_to_num(v, nan=0, posinf=7, neginf=-7).clip(-100, 100).astype(np.int64)
        return (np.abs(v) if dtype == "uint8" else v).reshape(shape)
    return v.reshape(shape)


def _print_options(rng) -> dict | None:
    if rng.random() < 0.6:
        return None
    if rng.random() < 0.15:
        return {"profile": str(rng.choice(["default", "short", "full"]))}
    options: dict = {}
    if rng.random() < 0.5:
        options["precision"] = int(rng.integers(1, 8))
    if rng.random() < 0.3:
        options["sci_mode"] = bool(rng.random() < 0.5)
    if rng.random() < 0.3:
        options["threshold"] = int(rng.choice([5, 10, 100]))
    if rng.random() < 0.3:
        options["edgeitems"] = int(rng.choice([1, 2, 4]))
    if rng.random() < 0.3:
        options["linewidth"] = int(rng.choice([20, 40, 120]))
    return options


# The suffix (", dtype=..., grad_fn=...") goes on a line of its own when it does not fit the
# last one; chainrule's names are longer than torch's ("chainrule.float16"), so where the
# break falls may differ: compared with it joined.
_SUFFIX_BREAK = re.compile(r",\n\s+(dtype=|grad_fn=|requires_grad=|device=)")


def _draw_printing(seed: int):
    rng = np.random.default_rng(seed)
    dtype = str(rng.choice(PRINT_DTYPES))
    shape = PRINT_SHAPES[int(rng.integers(0, len(PRINT_SHAPES)))]
    values = _print_values(rng, shape, dtype)
    floating = dtype.startswith(("float", "bfloat", "complex"))
    history = int(rng.integers(0, 3)) if floating and rng.random() < 0.4 else None
    options = _print_options(rng)
    as_str = bool(rng.random() < 0.5)

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        if history is not None:
            x.requires_grad_(True)
            x = [x, x * 2, x.unsqueeze(0)][history]
        if options:
            lib.set_printoptions(**options)
        try:
            text = str(x) if as_str else repr(x)
        finally:
            if options:
                lib.set_printoptions(profile="default")
        return _SUFFIX_BREAK.sub(r", \1", text.replace("torch.", "chainrule."))

    label = f"{'str' if as_str else 'repr'}(<{dtype} {shape} history={history}>) {options}"
    return label, program


# ---- the tests -------------------------------------------------------------------------------


FAMILIES = {
    "autograd": (_draw_autograd, 300),
    "promotion": (_draw_promotion, 500),
    "nn": (_draw_nn, 200),
    "creation": (_draw_creation, 400),
    "printing": (_draw_printing, 300),
}


def run_family_case(families: dict, family: str, seed: int) -> None:
    """Draw case `seed` of `family` (a family's draw may decline a seed with program None)
    and compare the program under both libraries."""
    draw, _ = families[family]
    label, program = draw(seed)
    if program is not None:
        check_program(f"{family} case_{seed}: {label}", program)


def family_cases(families: dict) -> dict:
    """pytest.mark.parametrize's arguments for every (family, seed) of `families`."""
    pairs = [(family, seed) for family, (_, count) in families.items() for seed in range(count)]
    return {"argvalues": pairs, "ids": [f"{family}-case_{seed}" for family, seed in pairs]}


def main(families: dict, argv: list[str]) -> None:
    """`python -m tests.<module> FAMILY START COUNT`: run more seeds of one family, printing
    each disagreement instead of stopping at the first."""
    family, start, count = argv[1], int(argv[2]), int(argv[3])
    failures = 0
    for seed in range(start, start + count):
        try:
            run_family_case(families, family, seed)
        except AssertionError as error:
            failures += 1
            print(f"case_{seed}: {str(error)[:800]}\n")
    print(f"{failures} of {count} cases differ")


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
