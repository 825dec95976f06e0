"""`backward` and `grad`: the two ways into the engine, with PyTorch's checks and messages.

Part of the autograd core, so it knows no Tensor class: the tensors it is given make whatever
it needs (`output._from_array(ones)` for an implicit seed). Its signatures name `Tensor` for
static tools through the stub chainrule/_typing.pyi, which Python never imports, so the core
still imports nothing above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.autograd import engine
from chainrule.errors import GradError, ShapeError

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule._typing import Tensor  # a stub: Tensor sits above the autograd core


def _as_tuple(values: Any) -> tuple:
    if values is None:
        return ()
    if isinstance(values, (list, tuple)):
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
            requiring grad (leaves or intermediate results).
        grad_outputs (Tensor or sequence, optional): the gradient of each output, shaped as
            it; None means ones, allowed only for a one-element output.
        retain_graph (bool, optional): keep the graph for another backward; defaults to
            `create_graph`.
        create_graph (bool): record the backward pass, so the results can be differentiated
            again.
        only_inputs (bool): accepted for PyTorch's signature (deprecated there); ignored.
        allow_unused (bool, optional): an input the outputs do not depend on gets None
            instead of an error; defaults to `materialize_grads`.
        is_grads_batched (bool): not supported (NotImplementedError); use `func.vmap`.
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
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched is not supported yet; use func.vmap")
    if materialize_grads and allow_unused is False:
        raise GradError(
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
            if materialize_grads:
                zeros = tensor._backend.xp.zeros(tensor.shape, tensor._array.dtype)
                gradient = tensor._from_array(zeros, tensor._backend)
        result.append(gradient)
    return tuple(result)
