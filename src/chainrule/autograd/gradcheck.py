"""gradcheck and gradgradcheck: analytical derivatives against central finite differences.

As in PyTorch, inputs should be float64 tensors with requires_grad=True. The analytical
Jacobian is built one output element at a time with `autograd.grad`; the numerical one by
perturbing one input element at a time by +-eps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.autograd import api
from chainrule.errors import GradError

if TYPE_CHECKING:  # annotations only
    from chainrule._tensor import Tensor


def _as_tuple(values: Any) -> tuple:
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


def _differentiable_outputs(outputs: Any) -> list:
    return [o for o in _as_tuple(outputs) if hasattr(o, "_array") and o._array.dtype.kind in "fV"]


def _numerical_jacobians(func: Callable, inputs: tuple, index: int, eps: float) -> list:
    """d(output k)/d(input index) for every output, as (numel_out, numel_in) arrays.

    Each perturbed input keeps the dtype and requires_grad of the original, and `func` runs in
    the caller's grad mode, so a `func` that differentiates inside (gradgradcheck's) still can.
    """
    tensor = inputs[index]
    host = tensor._backend.to_numpy(tensor._array)
    base = host.astype(np.float64)
    columns: list[list] = []
    for element in range(base.size):
        values = []
        for step in (eps, -eps):
            perturbed = base.copy()
            perturbed.flat[element] += step
            array = tensor._backend.from_numpy(perturbed.astype(host.dtype))
            replacement = type(tensor)._from_array(array).requires_grad_(tensor.requires_grad)
            trial = inputs[:index] + (replacement,) + inputs[index + 1 :]
            outs = _differentiable_outputs(func(*trial))
            values.append([o._backend.to_numpy(o._array).astype(np.float64).ravel() for o in outs])
        columns.append([(plus - minus) / (2 * eps) for plus, minus in zip(*values)])
    n_outputs = len(columns[0]) if columns else 0
    return [
        np.stack([column[k] for column in columns], axis=1) if columns else np.zeros((0, 0))
        for k in range(n_outputs)
    ]


def _analytical_jacobians(outputs: list, inputs: tuple, index: int) -> list:
    tensor = inputs[index]
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
            if not output.requires_grad:
                rows.append(np.zeros(tensor._array.size))
                continue
            (grad,) = api.grad(output, tensor, grad_output, retain_graph=True, allow_unused=True)
            if grad is None:
                rows.append(np.zeros(tensor._array.size))
            else:
                rows.append(grad._backend.to_numpy(grad._array).astype(np.float64).ravel())
        jacobians.append(np.stack(rows) if rows else np.zeros((0, tensor._array.size)))
    return jacobians


def gradcheck(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **unused: object,
) -> bool:
    """Check `func`'s gradients against central finite differences (PyTorch's default
    tolerances): the Jacobian from `autograd.grad`, one output element at a time, against the
    one from perturbing each input element by +-eps.

    Args:
        func (Callable): takes the inputs and returns a Tensor or a tuple of Tensors; its
            outputs that are not real floating point (integer, bool, complex) are skipped.
        inputs (Tensor or tuple): the point; Tensors with requires_grad=True are checked,
            and should be float64 (float32 is too coarse for these tolerances).
        eps (float): the finite-difference step.
        atol (float): absolute tolerance of the comparison.
        rtol (float): relative tolerance of the comparison.
        raise_exception (bool): raise GradError naming the output, the input and both
            Jacobians on a mismatch; with False, return False instead.
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
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(func(*inputs))
    for index, tensor in enumerate(inputs):
        if not (hasattr(tensor, "_array") and tensor.requires_grad):
            continue
        numerical = _numerical_jacobians(func, inputs, index, eps)
        analytical = _analytical_jacobians(outputs, inputs, index)
        for output_index, (a, n) in enumerate(zip(analytical, numerical)):
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradError(
                    f"Jacobian mismatch for output {output_index} with respect to input {index},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                )
    return True


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
        raise_exception (bool): raise GradError naming the output, the input and both
            Jacobians on a mismatch; with False, return False instead.
        seed (int): seeds the random `grad_outputs`.
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
            values = rng.standard_normal(output.shape).astype(output._array.dtype)
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
        return True
    return gradcheck(
        vjp_function,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
