"""torch._foreach_*: each function is its per-tensor op over a list, with PyTorch's overloads
(a number, a list of numbers, a tensor or a list of tensors as the other operand), return
values (a tuple out of place, the given list in place), errors and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

LIBS = (chainrule, torch)


def _lists(lib, requires_grad=False):
    first = [
        lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=requires_grad),
        lib.tensor([[3.0, 0.25]], dtype=lib.float64, requires_grad=requires_grad),
    ]
    second = [
        lib.tensor([1.5, 2.0, -0.5], dtype=lib.float64),
        lib.tensor([[0.5, 4.0]], dtype=lib.float64),
    ]
    return first, second


CALLS = {
    "add scalar": lambda lib, a, b: lib._foreach_add(a, 2.0),
    "add list, alpha": lambda lib, a, b: lib._foreach_add(a, b, alpha=0.5),
    "add scalar list": lambda lib, a, b: lib._foreach_add(a, [1.0, -2.0]),
    "add 0-d tensor": lambda lib, a, b: lib._foreach_add(a, lib.tensor(3.0, dtype=lib.float64)),
    "sub list, alpha": lambda lib, a, b: lib._foreach_sub(a, b, alpha=2),
    "mul list": lambda lib, a, b: lib._foreach_mul(a, b),
    "div scalar": lambda lib, a, b: lib._foreach_div(a, 4),
    "maximum": lambda lib, a, b: lib._foreach_maximum(a, b),
    "minimum scalar": lambda lib, a, b: lib._foreach_minimum(a, 1.0),
    "clamp_min": lambda lib, a, b: lib._foreach_clamp_min(a, 0.3),
    "clamp_max list": lambda lib, a, b: lib._foreach_clamp_max(a, [0.3, 1.0]),
    "pow scalar": lambda lib, a, b: lib._foreach_pow(a, 2.0),
    "number pow list": lambda lib, a, b: lib._foreach_pow(2.0, a),
    "lerp scalar": lambda lib, a, b: lib._foreach_lerp(a, b, 0.25),
    "lerp tensors": lambda lib, a, b: lib._foreach_lerp(a, b, b),
    "addcmul": lambda lib, a, b: lib._foreach_addcmul(a, b, b, value=0.5),
    "addcdiv scalar list": lambda lib, a, b: lib._foreach_addcdiv(a, b, b, [0.5, 2.0]),
    "addcdiv tensor of scalars": lambda lib, a, b: lib._foreach_addcdiv(
        a, b, b, lib.tensor([0.5, 2.0])
    ),
    "exp": lambda lib, a, b: lib._foreach_exp(a),
    "sqrt of abs": lambda lib, a, b: lib._foreach_sqrt(lib._foreach_abs(a)),
    "sigmoid": lambda lib, a, b: lib._foreach_sigmoid(a),
    "neg": lambda lib, a, b: lib._foreach_neg(a),
    "norm": lambda lib, a, b: lib._foreach_norm(a),
    "norm inf": lambda lib, a, b: lib._foreach_norm(a, ord=float("inf")),
    "max": lambda lib, a, b: lib._foreach_max(a),
    "clone": lambda lib, a, b: lib._foreach_clone(a),
}


# PyTorch has no derivative for this overload ("not implemented"): values only
NO_TORCH_DERIVATIVE = {"addcdiv tensor of scalars"}


@pytest.mark.parametrize("name", CALLS)
def test_out_of_place_values_and_gradients_are_torchs(name):
    call = CALLS[name]
    differentiate = name not in NO_TORCH_DERIVATIVE
    results = []
    for lib in LIBS:
        a, b = _lists(lib, requires_grad=differentiate)
        out = call(lib, a, b)
        assert isinstance(out, tuple) and len(out) == 2
        total = sum((o * (i + 1)).sum() for i, o in enumerate(out))
        grads = lib.autograd.grad(total, a, allow_unused=True) if differentiate else ()
        results.append(
            ([o.detach().numpy() for o in out], [None if g is None else g.numpy() for g in grads])
        )
    (ours, our_grads), (theirs, their_grads) = results
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-12)
    for mine, expected in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, expected, rtol=1e-12)


IN_PLACE = {
    "add_ list, alpha": lambda lib, a, b: lib._foreach_add_(a, b, alpha=0.5),
    "mul_ scalar": lambda lib, a, b: lib._foreach_mul_(a, 0.9),
    "maximum_": lambda lib, a, b: lib._foreach_maximum_(a, b),
    "clamp_min_": lambda lib, a, b: lib._foreach_clamp_min_(a, 0.3),
    "lerp_ (an EMA step)": lambda lib, a, b: lib._foreach_lerp_(a, b, 0.1),
    "addcmul_": lambda lib, a, b: lib._foreach_addcmul_(a, b, b, value=-0.5),
    "addcdiv_": lambda lib, a, b: lib._foreach_addcdiv_(a, b, b, [0.5, 2.0]),
    "pow_": lambda lib, a, b: lib._foreach_pow_(a, 3),
    "sqrt_ of abs_": lambda lib, a, b: lib._foreach_sqrt_(lib._foreach_abs_(a)),
    "copy_": lambda lib, a, b: lib._foreach_copy_(a, b),
    "zero_": lambda lib, a, b: lib._foreach_zero_(a),
}


@pytest.mark.parametrize("call", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_in_place_forms_overwrite_and_return_the_list_given(call):
    results = []
    for lib in LIBS:
        a, b = _lists(lib)
        originals = list(a)
        returned = call(lib, a, b)
        assert returned is a and all(x is y for x, y in zip(a, originals))
        results.append([t.numpy() for t in a])
    for mine, expected in zip(*results):
        np.testing.assert_allclose(mine, expected, rtol=1e-12)


ERRORS = {
    "an empty list": lambda lib, a, b: lib._foreach_add([], 1.0),
    "lists of different lengths": lambda lib, a, b: lib._foreach_mul(a, b[:1]),
    "too few scalars": lambda lib, a, b: lib._foreach_add(a, [1.0]),
    "shapes that do not broadcast": lambda lib, a, b: lib._foreach_add(a, b[::-1]),
    "in place on a leaf that requires grad": lambda lib, a, b: lib._foreach_mul_(
        [lib.ones(2, requires_grad=True)], 2.0
    ),
}


@pytest.mark.parametrize("call", ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_torchs(call):
    messages = []
    for lib in LIBS:
        a, b = _lists(lib)
        with pytest.raises(RuntimeError) as info:
            call(lib, a, b)
        messages.append(str(info.value))
    ours, theirs = messages
    if theirs.startswith("Tensor list"):
        assert ours == theirs
