"""check_op: the one gradient checker every op is tested with (chainrule.testing).

For each input shape set, `check_op` draws float64 inputs inside the spec's domains and checks:
  1. the value against a reference (PyTorch, when the spec names a torch function), and
     that an output torch gives contiguous is contiguous here too (`.view` needs it);
  2. the vjp with a *random* cotangent c against the reference's, and against central finite
     differences through the inner-product identity <t, vjp(c)> = d/de <f(x + e t), c>;
  3. the second derivative: d/dx <vjp(x, c), w> against the reference's double backward and
     against finite differences of the vjp in a random direction;
  4. the same in float32 (value and dtype), and on non-contiguous (transposed) inputs;
  5. forward mode (unless `forward_mode=False`): with the random directions t of 2 as tangents
     of dual inputs (chainrule.autograd.forward_ad), the output tangents must satisfy
     <jvp(t), c> = <t, vjp(c)> with the same c, match the finite difference of <f(x + e t), c>,
     and match torch.func.jvp elementwise; with and without inputs that require grad (the two
     paths of `apply`). Where PyTorch's own jvp is not the transpose of its vjp (tie
     conventions), either of the two conventions is accepted;
  6. fast paths: for every recorded op with a `fast_vjp` hook (the form the engine runs), the
     plain `vjp` (the definition) gives the same gradients, and the same second derivatives
     with respect to the cotangent and every input;
  7. with 3 and 5: forward over reverse (the tangent of the vjp on dual inputs) and forward
     over forward (the tangent at an outer dual level of the tangent at an inner one, nested
     jvps) against reverse over reverse, the second derivative of 3.
Complex inputs (`OpSpec.complex`) and outputs take complex directions, cotangents and
weights, and every inner product is the real one, Re <a, b> = Re sum(a * conj(b)), under which
PyTorch's complex vjp (grad = dL/da + i dL/db for z = a + ib) is the adjoint of the jvp; the
finite-difference checks run once along real and once along imaginary directions.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy as np

from chainrule.autograd import api
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.errors import GradError
from chainrule.ops.creation import from_numpy
from chainrule.testing.op_spec import OpSpec

__all__ = ["check_op"]

# The device check_op's tensors are made on, for the run of one check_op call.
_device: ContextVar[str] = ContextVar("check_op_device", default="cpu")


def _tensor(array: np.ndarray) -> Any:
    """A chainrule tensor of the host array on the device under test."""
    tensor = from_numpy(array)
    device = _device.get()
    return tensor if device == "cpu" else tensor.to(device)


def _torch() -> Any:
    """PyTorch, the reference the checks compare against: an optional, test-only dependency,
    loaded only when a spec names a torch function."""
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError(
            "chainrule.testing.check_op compares against PyTorch (the spec names a torch_fn): "
            "pip install torch",
            name="torch",
        ) from error
    return torch


def _draw_inputs(spec: OpSpec, shapes: tuple, rng: np.random.Generator) -> tuple:
    if spec.make_inputs is not None:
        return tuple(np.asarray(a) for a in spec.make_inputs(rng))
    domains = spec.domains or [(-2.0, 2.0)] * len(shapes)
    flags = spec.complex
    if isinstance(flags, bool):
        flags = [flags] * len(shapes)
    arrays = []
    for shape, (low, high), is_complex in zip(shapes, domains, flags):
        array = np.asarray(rng.uniform(low, high, size=shape), dtype=np.float64)
        if is_complex:
            array = array + 1j * rng.uniform(low, high, size=shape)
        arrays.append(np.asarray(array))
    return tuple(arrays)


def _differentiable(array: np.ndarray) -> bool:
    return array.dtype.kind in "fcV"


def _precision(array: np.ndarray, dtype: str) -> np.ndarray:
    """A floating or complex array in precision `dtype` ('float64' or 'float32')."""
    if array.dtype.kind == "c":
        return array.astype("complex128" if dtype == "float64" else "complex64")
    return array.astype(dtype)


def _random(rng: np.random.Generator, shape: tuple, is_complex: bool) -> np.ndarray:
    """A standard normal draw; complex (both parts standard normal) where `is_complex`."""
    value = rng.standard_normal(shape)
    if is_complex:
        value = value + 1j * rng.standard_normal(shape)
    return np.asarray(value)


def _flatten_outputs(outputs: Any) -> list:
    if isinstance(outputs, (tuple, list)):
        flat = []
        for item in outputs:
            flat.extend(_flatten_outputs(item))
        return flat
    return [outputs]


def _float_outputs(outputs: list) -> list:
    """The outputs a gradient flows through: floating and complex ones."""
    return [
        o for o in outputs if o is not None and (o.dtype.is_floating_point or o.dtype.is_complex)
    ]


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach()
    if type(value).__module__.startswith("torch"):
        return np.asarray(value.numpy(force=True))  # force: torch's ZeroTensor has no storage
    if hasattr(value, "numpy"):
        return np.asarray(value.cpu().numpy())
    return np.asarray(value)


def _assert_close(
    name: str, what: str, actual: Any, expected: Any, atol: float, rtol: float
) -> None:
    actual, expected = _as_compared(actual), _as_compared(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: {what}: shape {actual.shape} != expected {expected.shape}")
    if not np.allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True):
        worst = np.nanmax(np.abs(actual - expected)) if actual.size else 0.0
        raise AssertionError(
            f"{name}: {what} differs (max abs error {worst:.3g})\nactual:\n{actual}\n"
            f"expected:\n{expected}"
        )


def _assert_contiguous_where_torch_is(name: str, index: int, mine: Any, theirs: Any) -> None:
    """An output PyTorch gives contiguous must be contiguous here too: a program may call
    `.view` on it, which needs contiguous memory (more contiguous than torch is harmless)."""
    if not (hasattr(theirs, "is_contiguous") and hasattr(mine, "is_contiguous")):
        return
    if theirs.is_contiguous() and not mine.is_contiguous():
        raise AssertionError(
            f"{name}: output {index} has strides {mine.stride()}, not contiguous; torch's is "
            f"contiguous, {theirs.stride()}"
        )


def _as_compared(value: Any) -> np.ndarray:
    """float64, or complex128 for complex values (their imaginary parts compared too)."""
    value = np.asarray(value)
    return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)


def _chainrule_inputs(arrays: tuple, dtype: str = "float64", transpose: bool = False) -> list:
    tensors = []
    for array in arrays:
        if _differentiable(array):
            array = _precision(array, dtype)
            if transpose and array.ndim >= 2:
                array = np.ascontiguousarray(np.swapaxes(array, -1, -2)).swapaxes(-1, -2)
            tensors.append(_tensor(array).requires_grad_(True))
        else:
            tensors.append(_tensor(array.copy()))
    return tensors


def _torch_inputs(arrays: tuple, dtype: str = "float64") -> list:
    torch = _torch()
    tensors = []
    for array in arrays:
        if _differentiable(array):
            tensors.append(torch.from_numpy(_precision(array, dtype).copy()).requires_grad_(True))
        else:
            tensors.append(torch.from_numpy(array.copy()))
    return tensors


def _vjp(outputs: list, inputs: list, cotangents: list, create_graph: bool) -> list:
    wanted = [t for t in inputs if t.requires_grad]
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs or not wanted:
        return [None] * len(wanted)
    grads = api.grad(
        [o for o, _ in pairs],
        wanted,
        [c for _, c in pairs],
        create_graph=create_graph,
        allow_unused=True,
    )
    return list(grads)


def _torch_vjp(outputs: list, inputs: list, cotangents: list, create_graph: bool) -> list:
    torch = _torch()
    wanted = [t for t in inputs if t.requires_grad]
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs or not wanted:
        return [None] * len(wanted)
    return list(
        torch.autograd.grad(
            [o for o, _ in pairs],
            wanted,
            [c for _, c in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    )


def _inner(values: list, others: list) -> float:
    """The real inner product Re sum(a * conj(b)), summed over the pairs."""
    total = 0.0
    for value, other in zip(values, others):
        if value is not None and other is not None:
            total += _real_inner(_to_numpy(value), _to_numpy(other))
    return total


def _real_inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.real(np.sum(a * np.conj(b))))


def _assert_same_grad_fn(label: str, outputs: list, torch_outputs: list) -> None:
    """Each output's grad_fn is named as PyTorch's (what `print(tensor)` shows), where both
    have one: a program ported from PyTorch prints the same."""
    for index, (mine, theirs) in enumerate(zip(outputs, torch_outputs)):
        node, torch_node = getattr(mine, "grad_fn", None), getattr(theirs, "grad_fn", None)
        if node is None or torch_node is None:
            continue
        if node.name() != torch_node.name():
            raise AssertionError(
                f"{label}: output {index} has grad_fn {node.name()}, torch's is "
                f"{torch_node.name()} (OpSpec.torch_grad_fn=False opts out, with a reason)"
            )


def check_op(spec: OpSpec, seed: int = 0, device: str = "cpu") -> None:
    """Run every check in the module docstring for every shape case; raise AssertionError.

    `device` runs the op on another device ('cuda', or 'fake': CuPy's behaviour on the CPU)
    against the same host references.

    Args:
        spec (OpSpec): the op and how to test it.
        seed (int): seeds the inputs, cotangents and directions drawn.
        device (str): the device the op runs on ('cpu', 'cuda', 'fake').

    Example:
        >>> import chainrule
        >>> from chainrule.testing import OpSpec, check_op
        >>> check_op(OpSpec("exp", chainrule.exp, domains=[(-1.0, 1.0)]), seed=1)
    """
    token = _device.set(device)
    try:
        _check_op(spec, seed)
    finally:
        _device.reset(token)


def _check_op(spec: OpSpec, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases = spec.shapes if spec.make_inputs is None else spec.shapes[:1] or [()]
    for case_number, case in enumerate(cases):
        arrays = _draw_inputs(spec, case, rng)
        label = f"{spec.name}{tuple(a.shape for a in arrays)}"
        inputs = _chainrule_inputs(arrays)
        all_outputs = _flatten_outputs(spec.fn(*inputs, **spec.kwargs))
        outputs = _float_outputs(all_outputs)

        torch_outputs = torch_inputs = torch_grads = None
        if spec.torch_fn is not None:
            torch_inputs = _torch_inputs(arrays)
            torch_all = _flatten_outputs(spec.torch_fn(*torch_inputs, **spec.kwargs))
            if len(torch_all) != len(all_outputs):
                raise AssertionError(
                    f"{label}: {len(all_outputs)} outputs, torch gives {len(torch_all)}"
                )
            for index, (mine, theirs) in enumerate(zip(all_outputs, torch_all)):
                _assert_close(
                    label,
                    f"value of output {index}",
                    _to_numpy(mine),
                    _to_numpy(theirs),
                    spec.atol,
                    spec.rtol,
                )
                _assert_contiguous_where_torch_is(label, index, mine, theirs)
            torch_outputs = _float_outputs(torch_all)
            if spec.torch_grad_fn:
                _assert_same_grad_fn(label, all_outputs, torch_all)

        cotangents_np = [_random(rng, o.shape, o.dtype.is_complex) for o in outputs]
        cotangents = [_tensor(c.copy()) for c in cotangents_np]
        grads = _vjp(outputs, inputs, cotangents, create_graph=spec.second_order)
        wanted = [t for t in inputs if t.requires_grad]

        if torch_outputs is not None:
            torch = _torch()
            torch_cotangents = [torch.from_numpy(c.copy()) for c in cotangents_np]
            torch_grads = _torch_vjp(
                torch_outputs, torch_inputs, torch_cotangents, spec.second_order
            )
            for index, (mine, theirs) in enumerate(zip(grads, torch_grads)):
                if theirs is None and mine is None:
                    continue
                expected = (
                    _to_numpy(theirs) if theirs is not None else np.zeros(wanted[index].shape)
                )
                actual = _to_numpy(mine) if mine is not None else np.zeros(wanted[index].shape)
                _assert_close(
                    label, f"gradient of input {index}", actual, expected, spec.atol, spec.rtol
                )

        directions = numeric = None
        if spec.finite_differences and wanted:
            directions = [rng.standard_normal(t.shape) for t in wanted]
            analytic = _inner(grads, directions)
            numeric = _directional_difference(spec, arrays, directions, cotangents_np)
            _assert_close(
                label, "vjp vs finite differences", analytic, numeric, spec.fd_atol, spec.fd_rtol
            )
            if any(t.is_complex() for t in wanted):
                # The real directions above moved the real parts; now the imaginary parts.
                imaginary = [
                    1j * rng.standard_normal(t.shape) if t.is_complex() else np.zeros(t.shape)
                    for t in wanted
                ]
                _assert_close(
                    label,
                    "vjp vs finite differences along the imaginary parts",
                    _inner(grads, imaginary),
                    _directional_difference(spec, arrays, imaginary, cotangents_np),
                    spec.fd_atol,
                    spec.fd_rtol,
                )
                # Both at once, for the checks below.
                directions = [np.asarray(d + i) for d, i in zip(directions, imaginary)]
                numeric = _directional_difference(spec, arrays, directions, cotangents_np)

        second_order = None
        if spec.second_order and wanted:
            second_order = _check_second_order(
                spec, label, arrays, inputs, grads, rng, torch_inputs, cotangents_np
            )
        if spec.forward_mode and wanted:
            if directions is None:
                # A stream of its own, so the later cases draw the inputs they always drew.
                own = np.random.default_rng([seed, 5, case_number])
                directions = [_random(own, t.shape, t.is_complex()) for t in wanted]
            first = _check_forward_mode(
                spec, label, arrays, directions, numeric, grads, cotangents_np, torch_grads
            )
            if spec.nested_forward:
                if second_order is not None:
                    _check_forward_over_reverse(
                        spec, label, arrays, directions, cotangents_np, *second_order
                    )
                else:  # outer tangents of its own, and reverse over reverse on its own
                    own = np.random.default_rng([seed, 7, case_number])
                    weights = [own.standard_normal(t.shape) for t in wanted]
                    second_order = (
                        weights,
                        _reverse_over_reverse(spec, arrays, cotangents_np, weights),
                    )
                _check_forward_over_forward(
                    spec, label, arrays, directions, first, cotangents_np, *second_order
                )

        _check_fast_paths(spec, label, arrays, rng)
        if spec.float32 and spec.torch_fn is not None:
            _check_float32(spec, label, arrays)
        if spec.noncontiguous and any(a.ndim >= 2 and _differentiable(a) for a in arrays):
            transposed = _chainrule_inputs(arrays, transpose=True)
            t_outputs = _float_outputs(_flatten_outputs(spec.fn(*transposed, **spec.kwargs)))
            for mine, reference in zip(t_outputs, outputs):
                _assert_close(
                    label,
                    "value on non-contiguous input",
                    _to_numpy(mine),
                    _to_numpy(reference),
                    spec.atol,
                    spec.rtol,
                )
            t_grads = _vjp(t_outputs, transposed, cotangents, create_graph=False)
            for mine, reference in zip(t_grads, grads):
                if mine is not None and reference is not None:
                    _assert_close(
                        label,
                        "gradient on non-contiguous input",
                        _to_numpy(mine),
                        _to_numpy(reference),
                        spec.atol,
                        spec.rtol,
                    )


def _evaluate(spec: OpSpec, arrays: tuple) -> list:
    with no_grad():
        tensors = [_tensor(a.copy()) for a in arrays]
        return [
            _to_numpy(o) for o in _float_outputs(_flatten_outputs(spec.fn(*tensors, **spec.kwargs)))
        ]


def _shifted(arrays: tuple, directions: list, step: float) -> tuple:
    shifted, d = [], iter(directions)
    for array in arrays:
        shifted.append(np.asarray(array + step * next(d)) if _differentiable(array) else array)
    return tuple(shifted)


def _directional_difference(
    spec: OpSpec, arrays: tuple, directions: list, cotangents: list, eps: float = 1e-6
) -> float:
    plus = _evaluate(spec, _shifted(arrays, directions, eps))
    minus = _evaluate(spec, _shifted(arrays, directions, -eps))
    return sum(_real_inner((p - m) / (2 * eps), c) for p, m, c in zip(plus, minus, cotangents))


def _check_second_order(
    spec: OpSpec,
    label: str,
    arrays: tuple,
    inputs: list,
    grads: list,
    rng: np.random.Generator,
    torch_inputs: list | None,
    cotangents_np: list,
) -> tuple[list, list]:
    """Check d/dx <vjp(x, c), w>; return (w, that), for the forward-over-reverse check."""
    wanted = [t for t in inputs if t.requires_grad]
    weights_np = [_random(rng, t.shape, t.is_complex()) for t in wanted]
    pairs = [
        (g, _tensor(w.copy()))
        for g, w in zip(grads, weights_np)
        if g is not None and g.requires_grad
    ]
    second = [None] * len(wanted)  # a first derivative outside the graph: a zero second one
    if pairs:
        second = api.grad([g for g, _ in pairs], wanted, [w for _, w in pairs], allow_unused=True)
    if torch_inputs is not None:
        torch = _torch()
        torch_wanted = [t for t in torch_inputs if t.requires_grad]
        torch_all = _flatten_outputs(spec.torch_fn(*torch_inputs, **spec.kwargs))
        torch_outputs = _float_outputs(torch_all)
        pairs_t = [
            (o, torch.from_numpy(c.copy()))
            for o, c in zip(torch_outputs, cotangents_np)
            if o.requires_grad
        ]
        first = torch.autograd.grad(
            [o for o, _ in pairs_t],
            torch_wanted,
            [c for _, c in pairs_t],
            create_graph=True,
            allow_unused=True,
        )
        weighted = [
            (g, torch.from_numpy(w.copy()))
            for g, w in zip(first, weights_np)
            if g is not None and g.requires_grad
        ]
        if weighted:
            expected = torch.autograd.grad(
                [g for g, _ in weighted], torch_wanted, [w for _, w in weighted], allow_unused=True
            )
            for index, (mine, theirs) in enumerate(zip(second, expected)):
                actual = _to_numpy(mine) if mine is not None else np.zeros(wanted[index].shape)
                reference = (
                    _to_numpy(theirs) if theirs is not None else np.zeros(wanted[index].shape)
                )
                _assert_close(
                    label,
                    f"second derivative of input {index}",
                    actual,
                    reference,
                    spec.atol * 10,
                    spec.rtol * 10,
                )
    if spec.finite_differences:
        directions = [_random(rng, t.shape, t.is_complex()) for t in wanted]
        analytic = _inner(list(second), directions)
        eps = 1e-5

        def weighted_vjp(step: float) -> float:
            shifted = _chainrule_inputs(_shifted(arrays, directions, step))
            outs = _float_outputs(_flatten_outputs(spec.fn(*shifted, **spec.kwargs)))
            cots = [_tensor(c.copy()) for c in cotangents_np]
            return _inner(_vjp(outs, shifted, cots, create_graph=False), weights_np)

        numeric = (weighted_vjp(eps) - weighted_vjp(-eps)) / (2 * eps)
        _assert_close(
            label,
            "second derivative vs finite differences",
            analytic,
            numeric,
            spec.fd_atol * 10,
            spec.fd_rtol * 10,
        )
    return weights_np, list(second)


def _reverse_over_reverse(
    spec: OpSpec, arrays: tuple, cotangents_np: list, weights_np: list
) -> list | None:
    """d/dx <vjp(x, c), w>, for a spec whose second derivative step 3 does not check (against
    finite differences that cannot see it, or a torch without it): the reference of the
    forward-over-forward check. None where a rule refuses to be differentiated twice."""
    inputs = _chainrule_inputs(arrays)
    outputs = _float_outputs(_flatten_outputs(spec.fn(*inputs, **spec.kwargs)))
    cotangents = [_tensor(c.copy()) for c in cotangents_np]
    wanted = [t for t in inputs if t.requires_grad]
    try:
        grads = _vjp(outputs, inputs, cotangents, create_graph=True)
        pairs = [
            (g, _tensor(w.copy()))
            for g, w in zip(grads, weights_np)
            if g is not None and g.requires_grad
        ]
        if not pairs:
            return [None] * len(wanted)
        return list(
            api.grad([g for g, _ in pairs], wanted, [w for _, w in pairs], allow_unused=True)
        )
    except (NotImplementedError, GradError):
        return None


def _check_forward_over_reverse(
    spec: OpSpec,
    label: str,
    arrays: tuple,
    tangents: list,
    cotangents_np: list,
    weights_np: list,
    second: list,
) -> None:
    """The tangent, in direction t, of vjp(x, c) computed on dual inputs (forward over
    reverse, what hessian and hvp use: the jvp rules of the ops every vjp is made of, and
    saved outputs keeping their tangents) must agree with reverse over reverse:
    <d/de vjp(x + e t, c), w> = <t, d/dx <vjp(x, c), w>>."""
    directions = iter(tangents)
    with fwAD.dual_level():
        duals = []
        for array in arrays:
            tensor = _tensor(array.copy())
            if _differentiable(array):
                tensor.requires_grad_(True)
                tangent = _tensor(next(directions).copy())
                tensor = fwAD.make_dual(tensor, tangent)
            duals.append(tensor)
        outputs = _float_outputs(_flatten_outputs(spec.fn(*duals, **spec.kwargs)))
        cotangents = [_tensor(c.copy()) for c in cotangents_np]
        grads = _vjp(outputs, duals, cotangents, create_graph=False)
        grad_tangents = [None if g is None else fwAD.unpack_dual(g).tangent for g in grads]
    _assert_close(
        label,
        "forward over reverse: <jvp(vjp(c))(t), w> vs <t, d/dx <vjp(c), w>>",
        _inner(grad_tangents, weights_np),
        _inner(second, tangents),
        spec.atol * 10,
        spec.rtol * 10,
    )


def _check_forward_over_forward(
    spec: OpSpec,
    label: str,
    arrays: tuple,
    tangents: list,
    first: list,
    cotangents_np: list,
    weights_np: list,
    second: list | None,
) -> None:
    """Nested jvps: the inputs carry w = `weights_np` at an outer dual level and t = `tangents`
    at an inner one. The inner output tangent must be the plain jvp D f(x)[t] (`first`), and
    differentiated at the outer level it is D^2 f(x)[w, t], so (the second derivative being
    symmetric) <D^2 f(x)[w, t], c> = <t, d/dx <vjp(x, c), w>>, reverse over reverse (`second`,
    where the spec checks second order). Each op's jvp rule runs on tensors carrying the
    outer tangents: every rule must be differentiable in forward mode, fused hooks included.
    With and without inputs that require grad (the two paths of `apply`)."""
    for requires_grad in (False, True):
        inner_tangents, mixed = _nested_dual_outputs(
            spec, arrays, weights_np, tangents, requires_grad
        )
        what = " with inputs requiring grad" if requires_grad else ""
        for index, (mine, reference) in enumerate(zip(inner_tangents, first)):
            _assert_close(
                label,
                f"jvp of output {index} at an inner dual level vs the plain jvp{what}",
                mine,
                reference,
                spec.atol,
                spec.rtol,
            )
        if second is not None:
            _assert_close(
                label,
                f"forward over forward: <D^2 f(x)[w, t], c> vs <t, d/dx <vjp(c), w>>{what}",
                _inner(mixed, cotangents_np),
                _inner(second, tangents),
                spec.atol * 10,
                spec.rtol * 10,
            )


def _nested_dual_outputs(
    spec: OpSpec, arrays: tuple, outer_tangents: list, inner_tangents: list, requires_grad: bool
) -> tuple[list, list]:
    """spec.fn on inputs dual at two nested levels: the output tangents at the inner level
    (zeros where none) and their tangents at the outer one (None where none)."""
    outer = iter(outer_tangents)
    inner = iter(inner_tangents)
    with fwAD.dual_level():
        duals = []
        for array in arrays:
            tensor = _tensor(array.copy())
            if _differentiable(array):
                tensor.requires_grad_(requires_grad)
                tensor = fwAD.make_dual(tensor, _tensor(next(outer).copy()))
            duals.append(tensor)
        with fwAD.dual_level():
            duals = [
                fwAD.make_dual(t, _tensor(next(inner).copy())) if _differentiable(a) else t
                for t, a in zip(duals, arrays)
            ]
            outputs = _float_outputs(_flatten_outputs(spec.fn(*duals, **spec.kwargs)))
            tangents = [fwAD.unpack_dual(o).tangent for o in outputs]
        mixed = [None if t is None else fwAD.unpack_dual(t).tangent for t in tangents]
    values = [np.zeros(o.shape) if t is None else _to_numpy(t) for o, t in zip(outputs, tangents)]
    return values, mixed


def _dual_outputs(spec: OpSpec, arrays: tuple, tangents: list, requires_grad: bool) -> list:
    """The output tangents (zeros where an output carries none) of spec.fn on dual inputs; a
    floating input whose tangent is None is passed as a plain tensor."""
    directions = iter(tangents)
    with fwAD.dual_level():
        duals = []
        for array in arrays:
            tensor = _tensor(array.copy())
            if _differentiable(array):
                tensor.requires_grad_(requires_grad)
                tangent = next(directions)
                if tangent is not None:
                    tensor = fwAD.make_dual(tensor, _tensor(tangent.copy()))
            duals.append(tensor)
        outputs = _float_outputs(_flatten_outputs(spec.fn(*duals, **spec.kwargs)))
        result = []
        for output in outputs:
            tangent = fwAD.unpack_dual(output).tangent
            result.append(np.zeros(output.shape) if tangent is None else _to_numpy(tangent))
    return result


def _torch_jvp(spec: OpSpec, arrays: tuple, tangents: list) -> list | None:
    """torch.func.jvp of the reference in the same direction; None where torch has no forward
    rule for one of its ops (the identity and finite-difference checks still run)."""
    torch = _torch()
    floats = [i for i, a in enumerate(arrays) if _differentiable(a)]

    def reference(*float_inputs: Any) -> tuple:
        tensors = [torch.from_numpy(a.copy()) for a in arrays]
        for index, tensor in zip(floats, float_inputs):
            tensors[index] = tensor
        outputs = _flatten_outputs(spec.torch_fn(*tensors, **spec.kwargs))
        return tuple(_float_outputs(outputs))

    primals = tuple(torch.from_numpy(arrays[i].copy()) for i in floats)
    directions = tuple(torch.from_numpy(t.copy()) for t in tangents)
    try:
        _, output_tangents = torch.func.jvp(reference, primals, directions)
    except (NotImplementedError, RuntimeError) as error:
        if "forward" in str(error).lower() or "jvp" in str(error).lower():
            return None
        raise
    return [_to_numpy(t) for t in output_tangents]


def _check_forward_mode(
    spec: OpSpec,
    label: str,
    arrays: tuple,
    tangents: list,
    numeric: float | None,
    grads: list,
    cotangents_np: list,
    torch_grads: list | None,
) -> list:
    """The jvp in direction `tangents` (the vjp check's random directions, whose finite
    difference <(f(x + e t) - f(x - e t)) / 2e, c> is `numeric`); returns the output tangents."""
    output_tangents = _dual_outputs(spec, arrays, tangents, requires_grad=False)
    forward = _inner(output_tangents, cotangents_np)
    backward = _inner(grads, tangents)
    transposes = _close(forward, backward, spec.atol * 10, spec.rtol * 10)
    if numeric is not None:
        _assert_close(
            label, "<jvp(t), c> vs finite differences", forward, numeric, spec.fd_atol, spec.fd_rtol
        )
    expected = _torch_jvp(spec, arrays, tangents) if spec.torch_fn is not None else None
    matches = expected is None or all(
        _close(mine, theirs, spec.atol, spec.rtol)
        for mine, theirs in zip(output_tangents, expected)
    )
    torch_transposes = (
        expected is None
        or torch_grads is None
        or _close(_inner(expected, cotangents_np), _inner(torch_grads, tangents), 1e-5, 1e-4)
    )
    if torch_transposes:
        _assert_close(
            label, "<jvp(t), c> vs <t, vjp(c)>", forward, backward, spec.atol * 10, spec.rtol * 10
        )
        for index, (mine, theirs) in enumerate(zip(output_tangents, expected or [])):
            _assert_close(
                label,
                f"jvp of output {index} vs torch.func.jvp",
                mine,
                theirs,
                spec.atol,
                spec.rtol,
            )
    elif not (transposes or matches):
        # PyTorch's own jvp is not the transpose of its vjp here (tie conventions, embedding's
        # padding_idx), so it pins nothing down: either convention is accepted, but exactly.
        raise AssertionError(
            f"{label}: the jvp is neither the transpose of the vjp (<jvp(t), c> = {forward:.6g}, "
            f"<t, vjp(c)> = {backward:.6g}) nor torch.func.jvp"
        )
    if len(tangents) > 1:
        # One input at a time, the others without tangents (None to the rules): the parts
        # must add up to the whole, and each must be the transpose of its part of the vjp.
        total = [np.zeros_like(t) for t in output_tangents]
        for index, tangent in enumerate(tangents):
            only = [tangent if i == index else None for i in range(len(tangents))]
            part = _dual_outputs(spec, arrays, only, requires_grad=False)
            total = [a + b for a, b in zip(total, part)]
            if transposes:
                _assert_close(
                    label,
                    f"<jvp(t), c> vs <t, vjp(c)> with a tangent on input {index} only",
                    _inner(part, cotangents_np),
                    _inner(grads[index : index + 1], [tangent]),
                    spec.atol * 10,
                    spec.rtol * 10,
                )
        for index, (mine, reference) in enumerate(zip(total, output_tangents)):
            _assert_close(
                label,
                f"jvp of output {index}: the sum over inputs taken one at a time",
                mine,
                reference,
                spec.atol * 10,
                spec.rtol * 10,
            )
    # With inputs that require grad, apply() records a node and takes the other path.
    recorded = _dual_outputs(spec, arrays, tangents, requires_grad=True)
    for index, (mine, reference) in enumerate(zip(recorded, output_tangents)):
        _assert_close(
            label,
            f"jvp of output {index} with inputs requiring grad",
            mine,
            reference,
            spec.atol,
            spec.rtol,
        )
    return output_tangents


def _close(actual: Any, expected: Any, atol: float, rtol: float) -> bool:
    actual, expected = _as_compared(actual), _as_compared(expected)
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
    )


class _FastPathCalls(Observer):
    """Collects each recorded call of an op that has a `fast_vjp`: its node and outputs."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple]] = []

    def forward_end(self, op: type, inputs: Any, outputs: tuple, node: Any, state: Any) -> None:
        if node is not None and getattr(op, "fast_vjp", None) is not None:
            self.calls.append((node, outputs))


def _check_fast_paths(spec: OpSpec, label: str, arrays: tuple, rng: np.random.Generator) -> None:
    """Step 6: each fast_vjp against its op's plain vjp, to first and second order."""
    watcher = _FastPathCalls()
    add_observer(watcher)
    try:
        inputs = _chainrule_inputs(arrays)
        spec.fn(*inputs, **spec.kwargs)
    finally:
        remove_observer(watcher)
    leaves = [t for t in inputs if t.requires_grad]
    for node, outputs in watcher.calls:
        what = f"{node.op.__name__}.fast_vjp against its vjp:"
        grads = [
            _tensor(rng.standard_normal(o.shape)).requires_grad_(True)
            for o in outputs
            if o.is_floating_point()
        ]
        with enable_grad():
            plain = node.op.vjp(node, *grads)
            fast = node.op.fast_vjp(node, *grads)
        weights = []
        for index, (mine, reference) in enumerate(zip(fast, plain)):
            if (mine is None) != (reference is None):
                raise AssertionError(f"{label}: {what} None and not None for input {index}")
            if mine is not None:
                _assert_close(
                    label,
                    f"{what} gradient of input {index}",
                    _to_numpy(mine),
                    _to_numpy(reference),
                    spec.atol,
                    spec.rtol,
                )
                weights.append(_tensor(rng.standard_normal(mine.shape)))
        pairs = [(m, r, w) for m, r, w in zip(fast, plain, iter(weights)) if m is not None]
        if not spec.second_order or not pairs:
            continue
        targets = grads + leaves
        second = []
        for results in ((p[0] for p in pairs), (p[1] for p in pairs)):
            total = sum((r * w).sum() for r, w in zip(results, (p[2] for p in pairs)))
            second.append(
                api.grad(
                    total, targets, retain_graph=True, allow_unused=True, materialize_grads=True
                )
            )
        for index, (mine, reference) in enumerate(zip(*second)):
            _assert_close(
                label,
                f"{what} second derivative (target {index})",
                _to_numpy(mine),
                _to_numpy(reference),
                spec.atol,
                spec.rtol,
            )


def _check_float32(spec: OpSpec, label: str, arrays: tuple) -> None:
    mine = _flatten_outputs(spec.fn(*_chainrule_inputs(arrays, "float32"), **spec.kwargs))
    theirs = _flatten_outputs(spec.torch_fn(*_torch_inputs(arrays, "float32"), **spec.kwargs))
    for index, (a, b) in enumerate(zip(mine, theirs)):
        expected_dtype = str(b.dtype).replace("torch.", "")
        if a.dtype.name != expected_dtype:
            raise AssertionError(
                f"{label}: float32 output {index} has dtype {a.dtype.name}, "
                f"torch gives {expected_dtype}"
            )
        _assert_close(
            label, f"float32 value of output {index}", _to_numpy(a), _to_numpy(b), 1e-4, 1e-4
        )
