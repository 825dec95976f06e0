"""`backward` and `grad`: the two ways into the engine, with PyTorch's checks and messages.

Part of the autograd core, so it knows no Tensor class: the tensors it is given make whatever
it needs (`output._from_array(ones)` for an implicit seed). Its signatures name `Tensor` for
static tools through the stub chainrule/_typing.pyi, which Python never imports, so the core
still imports nothing above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.autograd import engine, grad_mode
from chainrule.errors import GradError, ShapeError

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule._typing import Tensor  # a stub: Tensor sits above the autograd core


def _is_gradient_edge(value: Any) -> bool:
    """Whether `value` is a `graph.GradientEdge` (a named (node, output_nr) pair)."""
    return (
        isinstance(value, tuple)
        and type(value) is not tuple
        and len(value) == 2
        and hasattr(value[0], "next_edges")
    )


def _as_tuple(values: Any) -> tuple:
    if values is None:
        return ()
    if isinstance(values, (list, tuple)) and not _is_gradient_edge(values):
        return tuple(values)
    return (values,)


def _seed_gradients(outputs: tuple, grad_outputs: tuple, caller: str) -> list:
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise GradError(
            f"{caller}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    seeds = []
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise GradError(
                f"{caller}: element {index} of tensors does not require grad and does not have "
                "a grad_fn"
            )
        grad = grad_outputs[index] if grad_outputs else None
        if grad is None:
            if output.numel() != 1:
                raise GradError(
                    f"{caller}: grad can be implicitly created only for scalar outputs "
                    f"(output {index} has shape {tuple(output.shape)}); pass gradient=..."
                )
            if output._array.dtype.kind == "c":
                raise GradError(
                    f"{caller}: grad can be implicitly created only for real scalar outputs "
                    f"but got {output.dtype}"
                )
            xp = output._backend.xp
            grad = output._from_array(xp.ones(output.shape, output._array.dtype), output._backend)
        elif not hasattr(grad, "_array"):
            array = output._backend.xp.asarray(grad, dtype=output._array.dtype)
            grad = output._from_array(array, output._backend)
        if grad.shape != output.shape:
            raise ShapeError(
                f"{caller}: Mismatch in shape: grad_output[{index}] has a shape of "
                f"{tuple(grad.shape)} and output[{index}] has a shape of {tuple(output.shape)}"
            )
        seeds.append(grad)
    return seeds


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves they depend on (or
    only of `inputs`), as `torch.autograd.backward`; `t.backward()` calls it.

    Args:
        tensors (Tensor or sequence of Tensors): the roots, each requiring grad.
        grad_tensors (Tensor or sequence, optional): the gradient of each root, shaped as it;
            None (for the whole or one entry) means ones, allowed only for a one-element root.
        retain_graph (bool, optional): keep the graph's saved values so it can be
            differentiated again; defaults to `create_graph`.
        create_graph (bool): record the backward pass, so the accumulated gradients are
            themselves differentiable (higher-order derivatives).
        inputs (Tensor or sequence of Tensors, optional): accumulate into these only, leaves
            or not; an empty sequence is an error.

    Returns:
        None: the gradients are added to each target's `.grad`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        >>> chainrule.autograd.backward((x ** 2).sum())
        >>> x.grad
        tensor([2., 4.])
    """
    outputs = _as_tuple(tensors)
    seeds = _seed_gradients(outputs, _as_tuple(grad_tensors), "backward")
    if retain_graph is None:
        retain_graph = create_graph
    roots = [output._gradient_edge() for output in outputs]
    targets = _as_tuple(inputs)
    if inputs is not None and not targets:
        raise GradError("backward: `inputs` argument to `backward()` cannot be empty.")
    if not targets:
        engine.with_final_callbacks(
            lambda: engine.run_backward(roots, seeds, retain_graph, create_graph)
        )
        return
    edges = [_input_edge(target, "backward") for target in targets]
    engine.with_final_callbacks(
        lambda: _accumulate_into(targets, roots, seeds, retain_graph, create_graph, edges)
    )


def _accumulate_into(
    targets: tuple, roots: list, seeds: list, retain_graph: bool, create_graph: bool, edges: list
) -> None:
    """backward(inputs=...): the gradients at `edges`, accumulated into those `targets`."""
    grads = engine.run_backward(roots, seeds, retain_graph, create_graph, capture=edges)
    for index, target in enumerate(targets):
        if grads[index] is not None:
            owned = not create_graph and engine.engine_owns(grads, index)
            target._accumulate_grad(grads[index], create_graph, owned)


def _input_edge(tensor: Any, caller: str) -> tuple:
    if _is_gradient_edge(tensor):
        node, output_nr = tensor
        return (node, output_nr)
    if not tensor.requires_grad:
        raise GradError(f"{caller}: One of the differentiated Tensors does not require grad")
    return tensor._gradient_edge()


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned instead of accumulated
    into `.grad` (torch.autograd.grad).

    Args:
        outputs (Tensor or sequence of Tensors): the roots, each requiring grad.
        inputs (Tensor or sequence of Tensors): what to differentiate with respect to, each
            requiring grad (leaves or intermediate results), or `graph.GradientEdge`s (the
            gradient flowing into that node's output, as PyTorch).
        grad_outputs (Tensor or sequence, optional): the gradient of each output, shaped as
            it; None means ones, allowed only for a one-element output.
        retain_graph (bool, optional): keep the graph for another backward; defaults to
            `create_graph`.
        create_graph (bool): record the backward pass, so the results can be differentiated
            again.
        only_inputs (bool): accepted for PyTorch's signature (deprecated there); ignored.
        allow_unused (bool, optional): an input the outputs do not depend on gets None
            instead of an error; defaults to `materialize_grads`.
        is_grads_batched (bool): the first dimension of every grad_output is a batch: one
            backward per entry, the results stacked along a new first dimension (PyTorch
            vmaps; the values are the same). Not with create_graph (use `func.vmap`).
        materialize_grads (bool): give zeros instead of None for unused inputs.

    Returns:
        tuple: one gradient (or None) per input.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor(3.0, requires_grad=True)
        >>> (dy,) = chainrule.autograd.grad(x ** 3, x, create_graph=True)
        >>> chainrule.autograd.grad(dy, x)[0]   # d2/dx2 x^3 = 6x
        tensor(18.)
    """
    if not _as_tuple(inputs):  # PyTorch's check, before the graph is run (and freed)
        raise GradError("grad: `inputs` argument to `grad()` cannot be empty.")
    if is_grads_batched:
        return _batched_grad(
            outputs,
            inputs,
            grad_outputs,
            retain_graph,
            create_graph,
            allow_unused,
            materialize_grads,
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(  # (PyTorch's type)
            "grad: Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs_tuple = _as_tuple(outputs)
    inputs_tuple = _as_tuple(inputs)
    seeds = _seed_gradients(outputs_tuple, _as_tuple(grad_outputs), "grad")
    if retain_graph is None:
        retain_graph = create_graph
    edges = [_input_edge(tensor, "grad") for tensor in inputs_tuple]
    roots = [output._gradient_edge() for output in outputs_tuple]
    grads = engine.with_final_callbacks(
        lambda: engine.run_backward(roots, seeds, retain_graph, create_graph, capture=edges)
    )
    result = []
    for index, (tensor, gradient) in enumerate(zip(inputs_tuple, grads)):
        if gradient is None:
            if not allow_unused:
                raise GradError(
                    f"grad: The differentiated Tensor at index {index} appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads and not hasattr(tensor, "_array"):
                raise GradError("grad: materialize_grads needs tensors, not GradientEdges")
            if materialize_grads:
                zeros = tensor._backend.xp.zeros(tensor.shape, tensor._array.dtype)
                gradient = tensor._from_array(zeros, tensor._backend)
        result.append(gradient)
    return tuple(result)


def _batched_grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any,
    retain_graph: bool | None,
    create_graph: bool,
    allow_unused: bool | None,
    materialize_grads: bool,
) -> tuple:
    """grad(is_grads_batched=True): one grad call per entry of the grad_outputs' first
    dimension (the graph kept until the last), each input's results stacked; with
    create_graph, stacked by writes into a new tensor, which records them (a Hessian's rows,
    still differentiable)."""
    seeds = _as_tuple(grad_outputs)
    if not seeds or any(seed is None or not hasattr(seed, "_array") for seed in seeds):
        raise GradError("grad: is_grads_batched=True needs a batched tensor for every output")
    sizes = {seed.shape[0] if seed.ndim else None for seed in seeds}
    if len(sizes) != 1 or None in sizes:
        raise ShapeError(
            "grad: with is_grads_batched=True every grad_output needs the same first (batch) "
            f"dimension; got shapes {[tuple(seed.shape) for seed in seeds]}"
        )
    (batch,) = sizes
    if materialize_grads and allow_unused is False:
        raise ValueError(  # (PyTorch's type)
            "grad: Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    unused_allowed = bool(allow_unused) or materialize_grads
    rows = []
    for index in range(batch):
        keep = True if index < batch - 1 else retain_graph
        row_seeds = [seed[index] for seed in seeds]
        rows.append(
            grad(outputs, inputs, row_seeds, keep, create_graph, allow_unused=unused_allowed)
        )
    stacked = []
    for position, target in enumerate(_as_tuple(inputs)):
        column = [row[position] for row in rows]
        present = [g for g in column if g is not None]
        if not present:  # no gradient reached it: None, or (as PyTorch) unbatched zeros
            if materialize_grads:
                zeros = target._backend.xp.zeros(target.shape, target._array.dtype)
                stacked.append(target._from_array(zeros, target._backend))
            else:
                stacked.append(None)
            continue
        like = present[0]
        xp = like._backend.xp
        if create_graph:
            with grad_mode.enable_grad():
                rows_tensor = like.new_zeros((batch, *like.shape))
                for index, g in enumerate(column):
                    if g is not None:
                        rows_tensor[index] = g
            stacked.append(rows_tensor)
            continue
        arrays = [g._array if g is not None else xp.zeros_like(like._array) for g in column]
        stacked.append(like._from_array(xp.stack(arrays), like._backend))
    return tuple(stacked)
