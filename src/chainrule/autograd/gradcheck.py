"""gradcheck and gradgradcheck: analytical derivatives against central finite differences.

As in PyTorch, inputs should be float64 (or complex128) tensors with requires_grad=True. The
analytical Jacobian is built one output element at a time with `autograd.grad`; the numerical
one by perturbing one input element at a time by +-eps. Complex functions are checked as
PyTorch's gradcheck checks them, as functions of real pairs: a complex output is its real and
imaginary parts, and a complex input is perturbed along its real and imaginary axes, where
the analytical gradient (PyTorch's convention, dL/dRe + i dL/dIm) has them as its real and
imaginary parts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.autograd import api, forward_ad
from chainrule.errors import GradcheckError

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

if TYPE_CHECKING:  # annotations only
    from chainrule._tensor import Tensor


def _as_tuple(values: Any) -> tuple:
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


def _differentiable_outputs(outputs: Any) -> list:
    """The floating and complex outputs (integer and bool ones have no derivative)."""
    return [o for o in _as_tuple(outputs) if hasattr(o, "_array") and o._array.dtype.kind in "fcV"]


def _real_parts(outputs: list) -> list:
    """Real tensors to compare: a complex output as its real and imaginary parts."""
    parts = []
    for output in outputs:
        if output._array.dtype.kind == "c":
            parts.extend([output.real, output.imag])
        else:
            parts.append(output)
    return parts


def _parts(output: Tensor) -> int:
    """How many real tensors `_real_parts` makes of one output."""
    return 2 if output._array.dtype.kind == "c" else 1


def _numerical_jacobians(func: Callable, inputs: tuple, index: int, eps: float) -> list:
    """d(output k)/d(input index) for every output, as (numel_out, numel_in) arrays.

    Each perturbed input keeps the dtype and requires_grad of the original, and `func` runs in
    the caller's grad mode, so a `func` that differentiates inside (gradgradcheck's) still can.
    """
    tensor = inputs[index]
    host = tensor._backend.to_numpy(tensor._array)
    is_complex = host.dtype.kind == "c"
    base = host.astype(np.complex128 if is_complex else np.float64)
    columns: list[list] = []
    for direction in (1, 1j) if is_complex else (1,):  # the real axis, then the imaginary
        for element in range(base.size):
            values = []
            for step in (eps, -eps):
                perturbed = base.copy()
                perturbed.flat[element] += step * direction
                array = tensor._backend.from_numpy(perturbed.astype(host.dtype))
                replacement = type(tensor)._from_array(array).requires_grad_(tensor.requires_grad)
                trial = inputs[:index] + (replacement,) + inputs[index + 1 :]
                outs = _real_parts(_differentiable_outputs(func(*trial)))
                values.append(
                    [o._backend.to_numpy(o._array).astype(np.float64).ravel() for o in outs]
                )
            columns.append([(plus - minus) / (2 * eps) for plus, minus in zip(*values)])
    n_outputs = len(columns[0]) if columns else 0
    return [
        np.stack([column[k] for column in columns], axis=1) if columns else np.zeros((0, 0))
        for k in range(n_outputs)
    ]


def _analytical_jacobians(outputs: list, inputs: tuple, index: int) -> list:
    """d(output k)/d(input index) from autograd, one row per (real) output element; a complex
    input's columns are its gradients' real parts, then their imaginary parts."""
    tensor = inputs[index]
    is_complex = tensor._array.dtype.kind == "c"
    width = tensor._array.size * (2 if is_complex else 1)
    jacobians = []
    for output in outputs:
        rows = []
        size = int(output._array.size)
        for element in range(size):
            seed = np.zeros(size)
            seed[element] = 1.0
            seed_array = output._backend.from_numpy(
                seed.reshape(output.shape).astype(output._array.dtype)
            )
            grad_output = type(output)._from_array(seed_array)
            (grad,) = api.grad(output, tensor, grad_output, retain_graph=True, allow_unused=True)
            if grad is None:
                rows.append(np.zeros(width))
                continue
            values = grad._backend.to_numpy(grad._array).ravel()
            if is_complex:
                rows.append(np.concatenate([values.real, values.imag]).astype(np.float64))
            else:
                rows.append(values.real.astype(np.float64))
        jacobians.append(np.stack(rows) if rows else np.zeros((0, width)))
    return jacobians


def _forward_jacobians(func: Callable, inputs: tuple, index: int, tracked: list) -> list:
    """d(output k)/d(input index) from forward mode: one dual evaluation per input element
    (and, for a complex input, per axis: the real then the imaginary), the outputs' tangents
    as columns; a complex output's tangent is its real and imaginary parts, as the numerical
    Jacobian's."""
    tensor = inputs[index]
    host = tensor._backend.to_numpy(tensor._array)
    is_complex = host.dtype.kind == "c"
    columns: list[list] = []
    for direction in (1, 1j) if is_complex else (1,):
        for element in range(host.size):
            seed = np.zeros(host.size, dtype=host.dtype)
            seed[element] = direction
            seed_array = tensor._backend.from_numpy(seed.reshape(host.shape))
            tangent = type(tensor)._from_array(seed_array)
            with forward_ad.dual_level():
                dual = forward_ad.make_dual(tensor, tangent)
                outs = _differentiable_outputs(func(*inputs[:index], dual, *inputs[index + 1 :]))
                column = []
                for output in outs:
                    derivative = forward_ad.unpack_dual(output).tangent
                    values = (
                        np.zeros(output._array.size, dtype=output._array.dtype)
                        if derivative is None
                        else derivative._backend.to_numpy(derivative._array).ravel()
                    )
                    parts = [values.real, values.imag] if values.dtype.kind == "c" else [values]
                    column.extend(part.astype(np.float64) for part in parts)
            columns.append([c for c, kept in zip(column, tracked) if kept])
    n_outputs = len(columns[0]) if columns else 0
    return [np.stack([column[k] for column in columns], axis=1) for k in range(n_outputs)]


def gradcheck(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    **unused: object,
) -> bool:
    """Check `func`'s gradients against central finite differences (PyTorch's default
    tolerances): the Jacobian from `autograd.grad`, one output element at a time, and with
    `check_forward_ad` the one from forward mode, one input element at a time, against the
    one from perturbing each input element by +-eps.

    Args:
        func (Callable): takes the inputs and returns a Tensor or a tuple of Tensors; its
            integer and bool outputs, and those that do not require grad, are skipped (if
            none requires grad, its numerical Jacobian must be zero), a complex one is
            checked as its real and imaginary parts.
        inputs (Tensor or tuple): the point; Tensors with requires_grad=True are checked,
            and should be float64 or complex128 (float32 is too coarse for these tolerances).
        eps (float): the finite-difference step.
        atol (float): absolute tolerance of the comparison.
        rtol (float): relative tolerance of the comparison.
        raise_exception (bool): raise GradcheckError (a RuntimeError) naming the output, the
            input and both Jacobians on a mismatch; with False, return False instead.
        check_forward_ad (bool): also check forward-mode derivatives (a custom Function's
            `jvp`, each op's jvp rule).
        check_backward_ad (bool): check reverse-mode derivatives (one of the two must be on).
        **unused (Any): PyTorch's other options (nondet_tol, check_sparse_nnz, fast_mode...),
            accepted and ignored.

    Returns:
        bool: True when every Jacobian matches.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.5, 1.5], dtype=chainrule.float64, requires_grad=True)
        >>> chainrule.autograd.gradcheck(chainrule.tanh, (x,))
        True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    floating = _differentiable_outputs(func(*inputs))
    # As PyTorch's: the outputs that require grad are checked and the others (detached,
    # marked non-differentiable) skipped; if none requires grad, func must be constant.
    tracked = [part for o in floating for part in [o.requires_grad] * _parts(o)]
    outputs = [o for o, kept in zip(_real_parts(floating), tracked) if kept]
    for index, tensor in enumerate(inputs):
        if not (hasattr(tensor, "_array") and tensor.requires_grad):
            continue
        numerical = _numerical_jacobians(func, inputs, index, eps)
        if not outputs:
            if any(np.any(n != 0) for n in numerical):
                if not raise_exception:
                    return False
                raise GradcheckError("Numerical gradient for function expected to be zero")
            continue
        numerical = [n for n, kept in zip(numerical, tracked) if kept]
        checks = []  # PyTorch's order: reverse mode, then forward mode
        if check_backward_ad:
            checks.append(("", _analytical_jacobians(outputs, inputs, index)))
        if check_forward_ad:
            checks.append(
                ("computed with forward mode ", _forward_jacobians(func, inputs, index, tracked))
            )
        for mode, analytical in checks:
            for output_index, (a, n) in enumerate(zip(analytical, numerical)):
                if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                    if not raise_exception:
                        return False
                    raise GradcheckError(
                        f"Jacobian {mode}mismatch for output {output_index} with respect to "
                        f"input {index},\nnumerical:{_as_printed(n, tensor)}\n"
                        f"analytical:{_as_printed(a, tensor)}\n"
                    )
    return True


def _nothing_to_check() -> ValueError:
    return ValueError(
        "gradcheck expects at least one input tensor to require gradient, but none of them "
        "have requires_grad=True."
    )


def _check_inputs(inputs: tuple) -> None:
    """PyTorch's checks: some input requires grad (ValueError), and a warning for each one
    that does in a precision too coarse for the default tolerances."""
    checked = [hasattr(t, "_array") and t.requires_grad for t in inputs]
    if not any(checked):
        raise _nothing_to_check()
    for index, tensor in enumerate(inputs):
        if checked[index] and tensor._array.dtype.name not in ("float64", "complex128"):
            warnings.warn(
                f"Input #{index} requires gradient and is not a double precision floating point "
                "or complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                UserWarning,
                stacklevel=3,
            )


def _as_printed(jacobian: np.ndarray, like: Tensor) -> Tensor:
    """A Jacobian for the error message, as PyTorch prints it: a float64 tensor with one row
    per input element and one column per output element."""
    array = like._backend.from_numpy(np.ascontiguousarray(jacobian.T, dtype=np.float64))
    return type(like)._from_array(array)


def gradgradcheck(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Sequence[Tensor] | None | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    **unused: object,
) -> bool:
    """Check second derivatives: `gradcheck` of the vjp (x, v) -> v^T J(x), so both the
    backward's dependence on x and its linearity in v are checked.

    Args:
        func (Callable): takes the inputs and returns a Tensor or a tuple of Tensors.
        inputs (Tensor or tuple): the point, float64 Tensors with requires_grad=True.
        grad_outputs (sequence of Tensors, optional): v, one per floating output; random
            normal ones (from `seed`) by default.
        eps (float): the finite-difference step.
        atol (float): absolute tolerance of the comparison.
        rtol (float): relative tolerance of the comparison.
        raise_exception (bool): raise GradcheckError naming the output, the input and both
            Jacobians on a mismatch; with False, return False instead.
        seed (int): seeds the random `grad_outputs`.
        check_fwd_over_rev (bool): also check the vjp's forward-mode derivatives.
        check_rev_over_rev (bool): check the vjp's reverse-mode derivatives.
        **unused (Any): PyTorch's other options, accepted and ignored.

    Returns:
        bool: True when every Jacobian matches.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.5, 1.5], dtype=chainrule.float64, requires_grad=True)
        >>> chainrule.autograd.gradgradcheck(chainrule.tanh, (x,))
        True
    """
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = []
        for output in outputs:
            values = rng.standard_normal(output.shape)
            if output._array.dtype.kind == "c":
                values = values + 1j * rng.standard_normal(output.shape)
            values = values.astype(output._array.dtype)
            seed_tensor = type(output)._from_array(output._backend.from_numpy(np.asarray(values)))
            grad_outputs.append(seed_tensor.requires_grad_(True))
    grad_outputs = tuple(grad_outputs)
    differentiable = [t for t in inputs if hasattr(t, "_array") and t.requires_grad]
    n_inputs = len(inputs)

    def vjp_function(*args: Any) -> tuple:
        primal, cotangents = args[:n_inputs], args[n_inputs:]
        outs = [o for o in _differentiable_outputs(func(*primal)) if o.requires_grad]
        wanted = [t for t in primal if hasattr(t, "_array") and t.requires_grad]
        grads = api.grad(
            outs, wanted, cotangents[: len(outs)], create_graph=True, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    if not differentiable:
        raise _nothing_to_check()
    return gradcheck(
        vjp_function,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
    )
