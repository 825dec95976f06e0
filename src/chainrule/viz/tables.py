"""`summary`: a model's layers, output shapes and parameter counts (like torchsummary).

>>> import chainrule
>>> from chainrule import nn, viz
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> result = viz.summary(model, (4,), print_summary=False)
>>> result.total_params
58
>>> print(result.rows[0])
('0 (Linear)', (-1, 8), 40)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.modules.containers import ModuleDict, ModuleList, Sequential
from chainrule.nn.modules.module import Module
from chainrule.ops.creation import Generator, randn

_CONTAINERS = (Sequential, ModuleList, ModuleDict)
_WIDTHS = (34, 24, 14)


@dataclass
class ModelSummary:
    """The rows (layer, output shape with -1 for the batch, own parameter count), the totals,
    and `str()` as the table."""

    rows: list[tuple[str, Any, int]] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    param_bytes: int = 0

    def __str__(self) -> str:
        rule = "-" * sum(_WIDTHS)
        lines = [
            rule,
            f"{'Layer (type)':<{_WIDTHS[0]}}{'Output Shape':>{_WIDTHS[1]}}"
            f"{'Param #':>{_WIDTHS[2]}}",
            "=" * sum(_WIDTHS),
        ]
        for (layer, shape, count), depth in zip(self.rows, self.depths):
            name = "  " * depth + layer
            lines.append(
                f"{name:<{_WIDTHS[0]}}{_shape_text(shape):>{_WIDTHS[1]}}{count:>{_WIDTHS[2]},}"
            )
        megabytes = 1024.0**2
        lines += [
            "=" * sum(_WIDTHS),
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            rule,
            f"Input size (MB): {self.input_bytes / megabytes:.2f}",
            f"Forward pass outputs size (MB): {self.output_bytes / megabytes:.2f}",
            f"Params size (MB): {self.param_bytes / megabytes:.2f}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(str(list(s)) for s in shape)
    return str(list(shape))


def _output_shapes(output: Any, batch: int) -> tuple[Any, int]:
    """The output's shape(s) with the batch dimension shown as -1, and the bytes it holds."""
    if isinstance(output, Tensor):
        shape = tuple(output.shape)
        if shape and shape[0] == batch:
            shape = (-1, *shape[1:])
        return shape, output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        shapes = []
        nbytes = 0
        for item in output:
            shape, size = _output_shapes(item, batch)
            if shape is not None:
                shapes.extend(shape if isinstance(shape, list) else [shape])
                nbytes += size
        return shapes, nbytes
    return None, 0


def summary(
    model: Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    batch_size: int = 2,
    dtype: Any = None,
    device: Any = None,
    print_summary: bool = True,
) -> ModelSummary:
    """Run `model` once on random inputs of `input_shape` (without the batch dimension, or a
    list of such shapes for several inputs) and tabulate every layer it called, in call order.

    The model runs in eval mode without recording a graph (its mode is restored after), so
    batch-norm statistics are left untouched. Each row counts the layer's own parameters;
    containers (Sequential, ModuleList, ModuleDict) get no row.
    """
    several = len(input_shape) > 0 and isinstance(input_shape[0], (tuple, list))
    shapes = list(input_shape) if several else [input_shape]
    generator = Generator().manual_seed(0)  # leaves the global random state alone
    inputs = [
        randn(batch_size, *shape, generator=generator, dtype=dtype, device=device)
        for shape in shapes
    ]
    result = ModelSummary()
    names = {id(module): name for name, module in model.named_modules()}
    depth = [0]
    open_rows: dict[int, list[int]] = {}  # id(module) -> its calls' rows (a module may nest)
    handles = []

    def before(module: Module, args: Any) -> None:
        result.rows.append(None)  # the row, filled when the call ends: call order, not end order
        result.depths.append(depth[0])
        depth[0] += 1
        open_rows.setdefault(id(module), []).append(len(result.rows) - 1)

    def after(module: Module, args: Any, output: Any) -> None:
        depth[0] -= 1
        row = open_rows[id(module)].pop()
        shape, nbytes = _output_shapes(output, batch_size)
        own = sum(p.numel() for p in module.parameters(recurse=False))
        name = names.get(id(module)) or type(module).__name__
        result.rows[row] = (f"{name} ({type(module).__name__})", shape, own)
        result.output_bytes += nbytes

    for module in model.modules():
        if isinstance(module, _CONTAINERS) or (module is model and _has_children(model)):
            continue
        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    training = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module in model.modules():
            module.training = training[id(module)]
    result.rows = [row for row in result.rows if row is not None]
    for param in model.parameters():
        count = param.numel()
        result.total_params += count
        result.param_bytes += count * param.element_size()
        if param.requires_grad:
            result.trainable_params += count
    result.input_bytes = sum(x.numel() * x.element_size() for x in inputs)
    if print_summary:
        print(result)
    return result


def _has_children(module: Module) -> bool:
    return next(iter(module.children()), None) is not None
