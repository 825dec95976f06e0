"""`graph`: the backward graph as a Graphviz picture, coloured by gradient norms.

    >>> import chainrule
    >>> from chainrule import viz
    >>> w = chainrule.ones(3, requires_grad=True)
    >>> loss = (w * 2.0).sum()
    >>> with viz.record_gradients():
    ...     loss.backward()
    >>> dot = viz.graph(loss, params={"w": w})   # doctest: +SKIP
    >>> print(dot.source)                        # doctest: +SKIP

Nodes are the recorded op calls (named like PyTorch's `MulBackward0`, with their output's shape
and dtype), the leaves (labelled with parameter names when `params` is given) and the output.
Edges follow `next_functions`, drawn in the direction of the forward computation. After a
backward run inside `record_gradients()`, each node is filled by the norm of the gradient
that flowed through it (its outputs' cotangents): blue for vanishing, red for exploding,
magenta for nan/inf. Leaves without a recorded norm use their `.grad`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from contextlib import ContextDecorator
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import AccumulateGrad, Node
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.autograd.saved import HookedValue, SavedValue
from chainrule.errors import BackendError

# Gradient norms at or below VANISHING are dark blue, at or above EXPLODING red; in between,
# the fill goes from blue through grey (at MIDDLE) to red on a log scale.
VANISHING = 1e-6
MIDDLE = 1.0
EXPLODING = 1e3
_BLUE = (59, 76, 192)
_GREY = (221, 221, 221)
_RED = (180, 4, 38)
_NONFINITE = "#ff00ff"
LEGEND = (
    f"fill: norm of the gradient through each node: blue <= {VANISHING:g} (vanishing), "
    f"grey {MIDDLE:g}, red >= {EXPLODING:g} (exploding), magenta nan/inf"
)

_NODE_STYLE = {
    "style": "filled",
    "shape": "box",
    "align": "left",
    "fontsize": "10",
    "height": "0.2",
    "fontname": "monospace",
    "fillcolor": "lightgrey",
}


# ---- recording gradient norms ----------------------------------------------------------------


class record_gradients(Observer, ContextDecorator):  # noqa: N801 - a mode, like no_grad
    """While active, each backward step stores the norm of the gradient arriving at its node in
    `node.metadata["grad_norm"]` (what `graph` colours by), and appends (node name, norm) to
    `.norms`, in the order backward ran. Costs a reduction per node, so only while asked."""

    def __init__(self) -> None:
        self.norms: list[tuple[str, float]] = []

    def __enter__(self) -> record_gradients:
        add_observer(self)
        return self

    def __exit__(self, *exc: object) -> None:
        remove_observer(self)

    def backward_end(self, node: Node, grads: list, input_grads: Any, state: Any) -> None:
        norm = _norm(grads)
        if norm is None:
            return
        node.metadata["grad_norm"] = norm
        self.norms.append((node.name(), norm))


def _norm(grads: Sequence[Any]) -> float | None:
    """The 2-norm of all the tensors in `grads` together (None when there are none)."""
    total = None
    for grad in grads:
        if grad is None:
            continue
        array = grad._array
        xp = grad._backend.xp
        square = float(xp.sum(xp.square(array.astype(xp.float64))))
        total = square if total is None else total + square
    return None if total is None else math.sqrt(total)


def norm_colour(norm: float) -> str:
    """The fill colour for a gradient norm (see VANISHING, MIDDLE, EXPLODING)."""
    if not math.isfinite(norm):
        return _NONFINITE
    if norm <= VANISHING:
        return _hex(_BLUE)
    if norm >= EXPLODING:
        return _hex(_RED)
    position = math.log10(norm)
    low, middle, high = math.log10(VANISHING), math.log10(MIDDLE), math.log10(EXPLODING)
    if position <= middle:
        return _hex(_mix(_BLUE, _GREY, (position - low) / (middle - low)))
    return _hex(_mix(_GREY, _RED, (position - middle) / (high - middle)))


def _mix(a: tuple, b: tuple, t: float) -> tuple:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _hex(rgb: tuple) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# ---- the picture -----------------------------------------------------------------------------


_picture_class: Any = None


def _graphviz_digraph() -> Any:
    """graphviz.Digraph, extended with an SVG repr for notebooks and a clear error when the
    `dot` program is missing; imported on first use (graphviz is optional)."""
    global _picture_class
    if _picture_class is not None:
        return _picture_class
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "chainrule.viz.graph needs the graphviz package: pip install graphviz (rendering "
            "also needs the Graphviz programs, e.g. apt-get install graphviz)"
        ) from error

    class GraphPicture(graphviz.Digraph):
        """A graphviz.Digraph; `.source` is the DOT text, `.render()` draws it."""

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise _missing_dot(error) from error

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise _missing_dot(error) from error

        def _repr_svg_(self) -> str:
            return self.pipe(format="svg", encoding="utf-8")

    _picture_class = GraphPicture
    return GraphPicture


def _missing_dot(error: Exception) -> BackendError:
    return BackendError(
        "viz: cannot render the graph, the Graphviz `dot` program is not on PATH. Install "
        "Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
        f"conda: conda install graphviz), or use `.source` for the DOT text. ({error})"
    )


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    items = params.items() if isinstance(params, dict) else params
    return {id(tensor): name for name, tensor in items}


def _describe(shape: Sequence[int], dtype: Any) -> str:
    name = getattr(dtype, "name", None) or str(dtype)
    return f"{tuple(shape)} {name}"


def graph(
    tensor: Tensor | Iterable[Tensor],
    params: dict[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_saved: bool = False,
) -> Any:
    """The backward graph of `tensor` (or of several tensors) as a graphviz.Digraph.

    params: a dict or (name, tensor) pairs, e.g. `dict(model.named_parameters())`, to label
    the leaves. show_saved: also draw what each node saved for backward (orange, dashed), and
    its saved non-tensor values in its label; nothing is shown once backward has freed them.
    """
    outputs = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    names = _param_names(params)
    picture = _graphviz_digraph()(
        node_attr=_NODE_STYLE, graph_attr={"size": "12,12", "ranksep": "0.1"}
    )
    ids: dict[int, str] = {}  # id(node) -> its DOT name, n0, n1, ... in walk order
    shapes: dict[int, dict[int, tuple]] = {}  # id(node) -> {output_nr: (shape, dtype)}
    order: list[Node] = []
    stack: list[Node] = []

    def visit(node: Node) -> str:
        key = id(node)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            order.append(node)
            stack.append(node)
        return ids[key]

    coloured = False
    for index, output in enumerate(outputs):
        out_name = f"out{index}"
        label = f"output\n{_describe(output.shape, output.dtype)}"
        picture.node(out_name, label, fillcolor="darkolivegreen1")
        node = output.grad_fn
        if node is None and output.requires_grad:
            node = output._gradient_edge()[0]
        if node is None:
            continue
        shapes.setdefault(id(node), {})[output._output_nr] = (output.shape, output.dtype)
        picture.edge(visit(node), out_name)

    edges = []
    while stack:  # every reachable node once, without recursion (STYLE rule 3)
        node = stack.pop()
        for index, edge in enumerate(node.next_edges):
            if edge is None:
                continue
            parent, output_nr = edge
            shape_dtype = node.input_meta[index] if index < len(node.input_meta) else None
            if shape_dtype is not None:
                shapes.setdefault(id(parent), {})[output_nr] = shape_dtype
            edges.append((visit(parent), ids[id(node)]))

    for node in order:
        name = ids[id(node)]
        lines, attrs = _node_label(node, names, shapes.get(id(node), {}))
        norm = node.metadata.get("grad_norm")
        if norm is None and type(node) is AccumulateGrad:
            leaf = node.variable
            if leaf is not None and leaf.grad is not None:
                norm = _norm([leaf.grad])
        if norm is not None:
            coloured = True
            lines.append(f"|grad| {norm:.2e}")
            attrs["fillcolor"] = norm_colour(norm)
            if norm <= VANISHING * 10 or norm >= EXPLODING / 10 or not math.isfinite(norm):
                attrs["fontcolor"] = "white"
        if show_saved:
            _draw_saved(picture, node, name, lines)
        picture.node(name, "\n".join(lines), **attrs)
    for tail, head in edges:
        picture.edge(tail, head)
    if coloured:
        picture.attr(label=LEGEND, fontsize="10")
    return picture


def _node_label(node: Node, names: dict[int, str], shapes: dict[int, tuple]) -> tuple[list, dict]:
    if type(node) is AccumulateGrad:
        leaf = node.variable
        if leaf is None:
            return ["AccumulateGrad (leaf freed)"], {}
        title = names.get(id(leaf), "leaf")
        return [title, _describe(leaf.shape, leaf.dtype)], {"fillcolor": "lightblue"}
    lines = [node.name()]
    if len(shapes) == 1 and len(node.output_meta) <= 1:
        lines.append(_describe(*next(iter(shapes.values()))))
    else:
        meta = dict(enumerate(node.output_meta))
        meta.update(shapes)
        for output_nr in sorted(meta):
            lines.append(f"{output_nr}: {_describe(*meta[output_nr])}")
    return lines, {}


def _draw_saved(picture: Any, node: Node, name: str, lines: list) -> None:
    saved = node._saved
    if not saved:
        return
    entries = saved.items() if isinstance(saved, dict) else enumerate(saved)
    for key, entry in entries:
        label = f"saved_tensors[{key}]" if isinstance(key, int) else str(key)
        if type(entry) is SavedValue:
            value = entry.value
            shape = value.shape if entry.output_nr is not None else tuple(value.shape)
            text = f"{label}\n{tuple(shape)}"
        elif type(entry) is HookedValue:
            text = f"{label} (packed)\n{tuple(entry.shape)}"
        else:
            lines.append(f"{label} = {_short(entry)}")
            continue
        saved_name = f"{name}_{label}"
        picture.node(saved_name, text, fillcolor="orange")
        picture.edge(saved_name, name, style="dashed", dir="none")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."
