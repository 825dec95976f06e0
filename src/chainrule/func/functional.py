"""torch.autograd.functional with its signatures and return conventions: vjp, jvp, jacobian,
hessian, vhp, hvp. Users reach it as `chainrule.autograd.functional` (PyTorch's path), which
re-exports these names; it lives here, in the transform layer, because it differentiates
whole functions as chainrule.func does.

`inputs` is a Tensor or a tuple of Tensors, and so is what `func` returns; each result comes
back in the same form (a tuple where the argument was a tuple). Results are cut from the graph
unless `create_graph=True`, in which case they are differentiable with respect to the inputs
(and to `v`). With `strict=True`, an output independent of an input is an error instead of a
zero.

Unlike PyTorch, which computes `jvp` and `hvp` with the "double backward trick", chainrule has
forward mode: `jvp` is one forward pass with dual tensors, `hvp` is forward over reverse (the
tangent of the gradient), each about the cost of one gradient. `vhp` (v^T H) is reverse over
reverse, as PyTorch. `vectorize` is accepted; it changes nothing here.

    >>> import chainrule
    >>> from chainrule.autograd.functional import hvp
    >>> x = chainrule.tensor([1.0, 2.0])
    >>> hvp(lambda x: (x ** 3).sum(), x, chainrule.ones(2))[1]    # 6 x
    tensor([ 6., 12.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd import api, forward_ad, grad_mode
from chainrule.errors import ArgumentAssertionError, GradError, ShapeError
from chainrule.func._inputs import with_tangent_of
from chainrule.ops.creation import ones_like, zeros, zeros_like
from chainrule.ops.shape import stack

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


# ---- the shared steps (PyTorch's helper names, so the two files read side by side) ---------


def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether `value` was a tuple, value as a tuple of Tensors)."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for index, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = f"the value at index {index}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(element).__name__}."
            )
    return is_tuple, values


def _tuple_postprocess(result: Any, to_unpack: Any) -> Any:
    """Undo `_as_tuple`: unwrap one level per False in `to_unpack` ((outer, inner) or one)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            result = tuple(element[0] for element in result)
        if not to_unpack[0]:
            result = result[0]
    elif not to_unpack:
        result = result[0]
    return result


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New Tensor objects for the inputs: in the caller's graph when create_graph and they
    require grad, else detached leaves (requiring grad when `need_graph`). Always new objects,
    so the inputs are told apart from the same tensors captured inside func."""
    result = []
    for tensor in inputs:
        if create_graph and tensor.requires_grad:
            result.append(tensor.view_as(tensor))
        else:
            alias = tensor.detach().requires_grad_(need_graph)
            result.append(with_tangent_of(tensor, alias))
    return tuple(result)


def _grad_postprocess(values: tuple, create_graph: bool) -> tuple:
    if values and isinstance(values[0], Tensor):
        if create_graph:
            return values
        return tuple(with_tangent_of(value, value.detach()) for value in values)
    return tuple(_grad_postprocess(value, create_graph) for value in values)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise ShapeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise ShapeError("The given v should contain a single Tensor.")
    for index, (element, reference) in enumerate(zip(v, other)):
        if tuple(element.shape) != tuple(reference.shape):
            prefix = f"Entry {index} in " if is_other_tuple else ""
            raise ShapeError(
                f"{prefix}v has invalid size: should be {tuple(reference.shape)} but got "
                f"{tuple(element.shape)}."
            )


def _check_requires_grad(values: tuple, kind: str, strict: bool) -> None:
    """In strict mode, refuse values computed without the inputs (PyTorch's messages)."""
    if not strict:
        return
    for index, value in enumerate(values):
        if value is None:
            raise GradError(
                f"The output of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode."
            )
        if value.requires_grad:
            continue
        if kind == "hessian":
            raise GradError(
                f"The hessian of the user-provided function with respect to input {index} is "
                "independent of the input. This is not allowed in strict mode."
            )
        if kind == "jacobian":
            raise GradError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {index} is independent of the input. This is "
                "not allowed in strict mode (a linear function, for example)."
            )
        raise GradError(
            f"Output {index} of the user-provided function does not require gradients. The "
            "outputs must be computed in a differentiable manner from the input when running "
            "in strict mode."
        )


def _autograd_grad(
    outputs: tuple,
    inputs: tuple,
    grad_outputs: tuple | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple:
    """autograd.grad that skips outputs outside the graph (None for every input if none is
    in it) and leaves unused inputs as None."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [
        (output, cotangent)
        for output, cotangent in zip(outputs, grad_outputs)
        if output is not None and output.requires_grad
    ]
    if not pairs:
        return (None,) * len(inputs)
    return api.grad(
        [output for output, _ in pairs],
        inputs,
        [cotangent for _, cotangent in pairs],
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, what: str) -> tuple:
    result = []
    for index, (grad, ref) in enumerate(zip(grads, refs)):
        if grad is None:
            if strict:
                raise GradError(
                    f"The {what} of the user-provided function is independent of input "
                    f"{index}. This is not allowed in strict mode."
                )
            grad = zeros_like(ref)
        elif strict and create_graph and not grad.requires_grad:
            raise GradError(
                f"The {what} of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        result.append(grad)
    return tuple(result)


def _default_v(fn_name: str, values: tuple, what: str) -> tuple:
    if len(values) != 1 or values[0].numel() != 1:
        raise GradError(
            f"{fn_name}: the vector v can only be None if {what} is a single Tensor with a "
            "single element."
        )
    return (ones_like(values[0]),)


def _prepare_v(v: Any, fn_name: str, create_graph: bool, others: tuple, is_tuple: bool) -> tuple:
    _, v = _as_tuple(v, "v", fn_name)
    v = _grad_preprocess(v, create_graph, need_graph=False)
    _validate_v(v, others, is_tuple)
    return v


def _single_scalar_output(fn_name: str, output: Any, strict: bool) -> Tensor:
    is_tuple, outputs = _as_tuple(output, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if is_tuple:
        raise GradError(f"The function given to {fn_name} should return a single Tensor")
    if output.numel() != 1:
        raise GradError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )
    return output


# ---- the public functions -----------------------------------------------------------------


def vjp(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    v: Tensor | Sequence[Tensor] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass.

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        v (Tensor or tuple of Tensors, optional): the vector, shaped as `func`'s output; may be
            None only where that is a single element.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs and `v`; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.

    Returns:
        tuple: `(func(*inputs), vjp)`, the product shaped as `inputs`.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import vjp
        >>> vjp(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]), chainrule.ones(2))[1]
        tensor([2., 6.])
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "vjp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        if v is None:
            v = _default_v("vjp", outputs, "the user-provided function's output")
        else:
            v = _prepare_v(v, "vjp", create_graph, outputs, is_outputs_tuple)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "output")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (
        _tuple_postprocess(outputs, is_outputs_tuple),
        _tuple_postprocess(result, is_inputs_tuple),
    )


def jvp(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    v: Tensor | Sequence[Tensor] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, by one forward pass with dual tensors
    (forward mode; PyTorch uses the double backward trick here).

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        v (Tensor or tuple of Tensors, optional): the vector, shaped as `inputs`; may be
            None only where that is a single element.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs and `v`; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.

    Returns:
        tuple: `(func(*inputs), jvp)`, the product shaped as `func`'s output.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import jvp
        >>> jvp(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]), chainrule.ones(2))[1]
        tensor([2., 6.])
    """
    _refuse_nested("jvp")
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        # (strict mode records the reverse graph too: it tells which inputs reach the outputs)
        inputs = _grad_preprocess(inputs, create_graph, need_graph=strict)
        if v is None:
            v = _default_v("jvp", inputs, "the input to the user-provided function")
        else:
            v = _prepare_v(v, "jvp", create_graph, inputs, is_inputs_tuple)
        with forward_ad.dual_level():
            duals = tuple(forward_ad.make_dual(x, t) for x, t in zip(inputs, v))
            is_outputs_tuple, outputs = _as_tuple(
                func(*duals), "outputs of the user-provided function", "jvp"
            )
            unpacked = [forward_ad.unpack_dual(output) for output in outputs]
        primals = tuple(primal for primal, _ in unpacked)
        tangents = tuple(tangent for _, tangent in unpacked)
        if strict:
            _check_every_input_used(primals, inputs)
            for index, tangent in enumerate(tangents):
                if tangent is None:
                    raise GradError(
                        f"Output {index} of the user-provided function is independent of the "
                        "inputs. This is not allowed in strict mode."
                    )
                if create_graph and not tangent.requires_grad:  # a Jacobian constant in x
                    raise GradError(
                        f"The jacobian of the user-provided function is independent of input "
                        f"{index}. This is not allowed in strict mode when create_graph=True."
                    )
        tangents = _fill_in_zeros(tangents, primals, False, create_graph, "jvp")
    outputs = _grad_postprocess(primals, create_graph)
    tangents = _grad_postprocess(tangents, create_graph)
    return (
        _tuple_postprocess(outputs, is_outputs_tuple),
        _tuple_postprocess(tangents, is_outputs_tuple),
    )


def _check_every_input_used(outputs: tuple, inputs: tuple) -> None:
    """jvp's strict mode, as PyTorch's: every output differentiable, and every input reaching
    some output (PyTorch sees an unused input as a None vjp in its double backward trick)."""
    _check_requires_grad(outputs, "outputs", strict=True)
    cotangents = tuple(zeros_like(output) for output in outputs)
    grads = _autograd_grad(outputs, inputs, cotangents, retain_graph=True)
    for index, grad in enumerate(grads):
        if grad is None:
            raise GradError(
                f"The output of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode."
            )


def _refuse_nested(fn_name: str) -> None:
    if forward_ad.current_level() is not None:
        raise GradError(
            f"{fn_name}: forward mode inside another forward-mode computation (a dual level) "
            "is not supported"
        )


def jacobian(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of func at inputs: for output i and input j, a tensor of shape
    output_i.shape + input_j.shape, nested as (outputs, inputs) where each was a tuple.
    reverse-mode takes one backward per output element; forward-mode one forward pass with
    dual tensors per input element (better when there are more outputs than inputs).

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.
        vectorize (bool): accepted for PyTorch's signature; it changes nothing.
        strategy (str): 'reverse-mode' or 'forward-mode'.

    Returns:
        Tensor or nested tuple of Tensors: one block per (output, input) pair, tuples where
        `func`'s output or `inputs` were tuples.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import jacobian
        >>> jacobian(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]))
        tensor([[2., 0.],
                [0., 6.]])
    """
    if strategy not in _STRATEGIES:  # PyTorch asserts: an AssertionError, a ValueError too
        raise ArgumentAssertionError(
            f'jacobian: strategy must be "forward-mode" or "reverse-mode", got {strategy!r}'
        )
    if strategy == "forward-mode":
        return _jacobian_forward(func, inputs, create_graph, strict)
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict)
        blocks = []
        for output_index, output in enumerate(outputs):
            columns: list[list] = [[] for _ in inputs]
            flat = output.reshape(-1)
            for element in range(output.numel()):
                grads = _autograd_grad(
                    (flat[element],), inputs, retain_graph=True, create_graph=create_graph
                )
                for input_index, (grad, x) in enumerate(zip(grads, inputs)):
                    if grad is None:
                        if strict:
                            raise GradError(
                                f"Output {output_index} of the user-provided function is "
                                f"independent of input {input_index}. This is not allowed in "
                                "strict mode."
                            )
                        grad = zeros_like(x)
                    elif strict and create_graph and not grad.requires_grad:
                        raise GradError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {input_index}. This is not allowed in strict mode when "
                            "create_graph=True."
                        )
                    columns[input_index].append(grad)
            blocks.append(
                tuple(
                    _stack_rows(rows, tuple(output.shape), x, output.dtype)
                    for rows, x in zip(columns, inputs)
                )
            )
    blocks = _grad_postprocess(tuple(blocks), create_graph)
    return _tuple_postprocess(blocks, (is_outputs_tuple, is_inputs_tuple))


def _stack_rows(rows: list, output_shape: tuple, x: Tensor, dtype: Any) -> Tensor:
    shape = output_shape + tuple(x.shape)
    if not rows:
        return zeros(shape, dtype=dtype)
    return stack(rows).reshape(shape)


def _jacobian_forward(func: Callable, inputs: Any, create_graph: bool, strict: bool) -> Any:
    """The Jacobian one input element at a time: the output tangents for a one-hot tangent
    are one column of every output's block."""
    _refuse_nested("jacobian")
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=False)
        zero_tangents = [zeros_like(x) for x in inputs]
        columns: list[list] = []  # columns[j][e]: the output tangents for element e of input j
        outputs: tuple = ()
        is_outputs_tuple = False
        for input_index, x in enumerate(inputs):
            columns.append([])
            for element in range(x.numel()):
                one_hot = zeros(x.numel(), dtype=x.dtype)
                one_hot[element] = 1.0
                tangents = list(zero_tangents)
                tangents[input_index] = one_hot.reshape(x.shape)
                with forward_ad.dual_level():
                    duals = tuple(forward_ad.make_dual(p, t) for p, t in zip(inputs, tangents))
                    is_outputs_tuple, outputs = _as_tuple(
                        func(*duals), "outputs of the user-provided function", "jacobian"
                    )
                    unpacked = [forward_ad.unpack_dual(output) for output in outputs]
                if strict:
                    for output_index, (_, tangent) in enumerate(unpacked):
                        if tangent is None:
                            raise GradError(
                                f"Output {output_index} of the user-provided function is "
                                f"independent of input {input_index}. This is not allowed in "
                                "strict mode."
                            )
                outputs = tuple(primal for primal, _ in unpacked)
                columns[-1].append(
                    [
                        zeros_like(primal) if tangent is None else tangent
                        for primal, tangent in unpacked
                    ]
                )
        if not any(columns):  # no input element at all: evaluate once for the output shapes
            is_outputs_tuple, outputs = _as_tuple(
                func(*inputs), "outputs of the user-provided function", "jacobian"
            )
        blocks = []
        for output_index, output in enumerate(outputs):
            row = []
            for x, column in zip(inputs, columns):
                shape = tuple(output.shape) + tuple(x.shape)
                if column:
                    stacked = stack([tangents[output_index] for tangents in column], -1)
                    row.append(stacked.reshape(shape))
                else:
                    row.append(zeros(shape, dtype=output.dtype))
            blocks.append(tuple(row))
    blocks = _grad_postprocess(tuple(blocks), create_graph)
    return _tuple_postprocess(blocks, (is_outputs_tuple, is_inputs_tuple))


def hessian(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar function: the Jacobian (outer_jacobian_strategy) of its
    reverse-mode gradient; for inputs i and j, a tensor of shape input_i.shape + input_j.shape.
    "forward-mode" is forward over reverse (each column about one gradient's cost).

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors (a single one-element Tensor here).
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.
        vectorize (bool): accepted for PyTorch's signature; it changes nothing.
        outer_jacobian_strategy (str): 'reverse-mode' or 'forward-mode', how the Jacobian of
            the gradient is taken.

    Returns:
        Tensor or nested tuple of Tensors: one block per pair of inputs.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import hessian
        >>> hessian(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ArgumentAssertionError(
            'hessian: outer_jacobian_strategy must be "forward-mode" or "reverse-mode", got '
            f"{outer_jacobian_strategy!r}"
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*args: Any) -> Tensor:
        return _single_scalar_output("hessian", func(*args), strict).reshape(())

    def gradient(*args: Any) -> tuple:
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(arg.requires_grad_(True) for arg in args)
        jac = jacobian(single_output, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))


def vhp(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    v: Tensor | Sequence[Tensor] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), v^T H) for a scalar function, by reverse over reverse (the gradient of
    <gradient, v>), as PyTorch.

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors (a single one-element Tensor here).
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        v (Tensor or tuple of Tensors, optional): the vector, shaped as `inputs`; may be
            None only where that is a single element.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs and `v`; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.

    Returns:
        tuple: `(func(*inputs), vhp)`, the product shaped as `inputs`.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import vhp
        >>> vhp(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]), chainrule.ones(2))[1]
        tensor([ 6., 12.])
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        if v is None:
            v = _default_v("vhp", inputs, "the input to the user-provided function")
        else:
            v = _prepare_v(v, "vhp", create_graph, inputs, is_inputs_tuple)
        output = _single_scalar_output("vhp", func(*inputs), strict)
        jac = _autograd_grad((output,), inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "jacobian")
    outputs = _grad_postprocess((output,), create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(result, is_inputs_tuple)


def hvp(
    func: Callable,
    inputs: Tensor | Sequence[Tensor],
    v: Tensor | Sequence[Tensor] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), H v) for a scalar function, by forward over reverse: the tangent, in
    direction v, of the reverse-mode gradient (about one gradient's cost; PyTorch uses the
    double backward trick).

    Args:
        func (Callable): takes the inputs as positional arguments and returns a Tensor or a
            tuple of Tensors (a single one-element Tensor here).
        inputs (Tensor or tuple of Tensors): the point to differentiate at.
        v (Tensor or tuple of Tensors, optional): the vector, shaped as `inputs`; may be
            None only where that is a single element.
        create_graph (bool): keep the results in the graph, differentiable with respect to
            the inputs and `v`; otherwise they are detached.
        strict (bool): an output independent of an input is an error instead of a zero.

    Returns:
        tuple: `(func(*inputs), hvp)`, the product shaped as `inputs`.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.functional import hvp
        >>> hvp(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]), chainrule.ones(2))[1]
        tensor([ 6., 12.])
    """
    _refuse_nested("hvp")
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        if v is None:
            v = _default_v("hvp", inputs, "the input to the user-provided function")
        else:
            v = _prepare_v(v, "hvp", create_graph, inputs, is_inputs_tuple)
        with forward_ad.dual_level():
            duals = tuple(forward_ad.make_dual(x, t) for x, t in zip(inputs, v))
            output = _single_scalar_output("hvp", func(*duals), strict)
            jac = _autograd_grad((output,), inputs, create_graph=create_graph)
            tangents = tuple(
                None if grad is None else forward_ad.unpack_dual(grad).tangent for grad in jac
            )
            output = forward_ad.unpack_dual(output).primal
        result = _fill_in_zeros(tangents, inputs, strict, create_graph, "hessian")
    outputs = _grad_postprocess((output,), create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, False), _tuple_postprocess(result, is_inputs_tuple)
