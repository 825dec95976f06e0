# ruff: noqa: A002 - `input` is PyTorch's argument name in the functional cells
"""A recurrent layer's whole sequence as one op: the LSTM's and the GRU's recurrence over T
steps of N rows (fewer as a packed sequence's shorter sequences end), from the input gates
x W_ih^T + b_ih of every step (one matmul before it).

Run step by step as ordinary ops, a sequence records about 20 nodes a step, and each step's
vjp makes its own small weight-gradient product and adds it into W_hh's gradient: an LSTM
language model spends as much time in that Python and those T small products as in its
arithmetic. Here the forward is one loop over raw arrays that keeps each step's activations,
and the backward is one loop back through time that keeps each step's gate gradients, so the
weight and bias gradients are one product and one sum over all T N rows (as PyTorch's CPU
kernel does).

The cell arithmetic is written once (`_lstm_step`, `_gru_step`, and their backwards) over a
namespace of sigmoid, tanh, the hidden product, the gates' chunks and concatenation, with
Python's operators: on raw arrays it is the fast path; on Tensors it is this op's
differentiable vjp (a recompute of the forward, then the same backward in ops), so gradients of
gradients come out right, and it is the step of nn's LSTMCell and GRUCell and of the layers'
step-by-step path (`lstm_gates_step`, `gru_gates_step`; PyTorch's functional `lstm_cell`,
`gru_cell` and the plain RNN cells are here too). The engine runs the array form whenever no graph
of the backward is being built (a plain `backward()`), the Tensor form under
`create_graph=True`.

Gates are in PyTorch's order and layout: LSTM (i, f, g, o), c' = f c + i g, h' = o tanh(c');
GRU (r, z, n), n = tanh(x_n + r (W_hn h + b_hn)), h' = (1 - z) n + z h.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.node import ForwardContext, Node
from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.activation import relu
from chainrule.ops.elementwise import _sigmoid_array, sigmoid, tanh
from chainrule.ops.linear import linear
from chainrule.ops.op import Op, apply
from chainrule.ops.shape import cat, split

__all__ = ["gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]

_grad_enabled = grad_mode._grad_enabled.get


class _ArrayMath:
    """The cell functions' namespace on raw arrays."""

    __slots__ = ("xp",)

    def __init__(self, xp: Any) -> None:
        self.xp = xp

    def sigmoid(self, x: Array) -> Array:
        return _sigmoid_array(self.xp, x)

    def tanh(self, x: Array) -> Array:
        return self.xp.tanh(x)

    def cat(self, parts: list) -> Array:
        return self.xp.concatenate(parts, axis=-1)

    def rows(self, parts: list) -> Array:
        return self.xp.concatenate(parts, axis=0)

    def weight(self, w: Array) -> Array:
        """W_hh as `hidden` takes it: W_hh^T in C order, copied once per sequence (at one
        thread OpenBLAS multiplies by it faster than by a transposed view: 211 against 294 us
        for (32, 256) @ (256, 1024))."""
        return self.xp.ascontiguousarray(w.T)

    def hidden(self, h: Array, weight: Array, b: Array | None) -> Array:
        """h W_hh^T + b_hh."""
        product = h @ weight
        if b is not None:
            product += b
        return product

    def chunks(self, x: Array, count: int) -> list:
        """The gates' blocks of the last axis, as views."""
        size = x.shape[-1] // count
        return [x[..., k * size : (k + 1) * size] for k in range(count)]


class _TensorMath:
    """The same on Tensors: differentiable ops, one node each for the hidden product (with its
    bias) and for the gates' split (whose vjp is one cat: slices' would each fill zeros)."""

    __slots__ = ()
    sigmoid = staticmethod(sigmoid)
    tanh = staticmethod(tanh)
    hidden = staticmethod(linear)

    @staticmethod
    def cat(parts: list) -> Any:
        return cat(parts, -1)

    @staticmethod
    def rows(parts: list) -> Any:
        return cat(parts, 0)

    @staticmethod
    def weight(w: Any) -> Any:
        return w

    @staticmethod
    def chunks(x: Any, count: int) -> Any:
        return split(x, x.shape[-1] // count, -1)


_TENSOR_MATH = _TensorMath()


# ---- the cells ---------------------------------------------------------------------------------


def _lstm_step(math: Any, x_gates: Any, state: tuple, w_hh: Any, b_hh: Any) -> tuple:
    """One LSTM step (w_hh as `math.weight` gives it): the new state (h, c) and what its
    backward reads."""
    h, c = state
    gates = x_gates + math.hidden(h, w_hh, b_hh)
    i, f, g, o = math.chunks(gates, 4)
    i, f, g, o = math.sigmoid(i), math.sigmoid(f), math.tanh(g), math.sigmoid(o)
    c_next = f * c + i * g
    tanh_c = math.tanh(c_next)
    return (o * tanh_c, c_next), (i, f, g, o, tanh_c, c, h)


def _lstm_step_backward(math: Any, grads: tuple, saved: tuple) -> tuple:
    """From the gradients of the new (h, c): the input gates' gradient (which is also the
    hidden product's), and the gradients of the old (h, c) apart from the product's part (None:
    the old h has no other)."""
    dh, dc = grads
    i, f, g, o, tanh_c, c, _ = saved
    dc = dc + dh * o * (1 - tanh_c * tanh_c)
    d_gates = math.cat(
        [
            dc * g * i * (1 - i),
            dc * c * f * (1 - f),
            dc * i * (1 - g * g),
            dh * tanh_c * o * (1 - o),
        ]
    )
    return d_gates, d_gates, (None, dc * f)


def _gru_step(math: Any, x_gates: Any, h: Any, w_hh: Any, b_hh: Any) -> tuple:
    """One GRU step (w_hh as `math.weight` gives it): the new h and what its backward reads."""
    x_r, x_z, x_n = math.chunks(x_gates, 3)
    h_r, h_z, h_n = math.chunks(math.hidden(h, w_hh, b_hh), 3)
    r = math.sigmoid(x_r + h_r)
    z = math.sigmoid(x_z + h_z)
    n = math.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h, (r, z, n, h_n, h)


def _gru_step_backward(math: Any, grads: tuple, saved: tuple) -> tuple:
    """From the new h's gradient: the input gates', the hidden product's, and the old h's
    gradient apart from the product's part."""
    (dh,) = grads
    r, z, n, h_n, h = saved
    d_n = dh * (1 - z) * (1 - n * n)
    d_r = d_n * h_n * r * (1 - r)
    d_z = dh * (h - n) * z * (1 - z)
    return math.cat([d_r, d_z, d_n]), math.cat([d_r, d_z, d_n * r]), (dh * z,)


def lstm_gates_step(x_gates: Any, state: tuple, w_hh: Any, b_hh: Any) -> tuple:
    """One LSTM step in differentiable ops, from the input gates x W_ih^T + b_ih: the new
    (h, c)."""
    return _lstm_step(_TENSOR_MATH, x_gates, state, w_hh, b_hh)[0]


def gru_gates_step(x_gates: Any, h: Any, w_hh: Any, b_hh: Any) -> Any:
    """One GRU step in differentiable ops, from the input gates x W_ih^T + b_ih: the new h."""
    return _gru_step(_TENSOR_MATH, x_gates, h, w_hh, b_hh)[0]


def _check_cell(name: str, input: Any, h: Any, w_ih: Any, w_hh: Any, gates: int) -> None:
    """PyTorch's checks of a functional cell's operands, before any work."""
    if input.ndim != 2:
        raise IndexError(
            f"{name}: Dimension out of range (expected a 2-D input (batch, input_size), got "
            f"shape {tuple(input.shape)})"
        )
    hidden = h.shape[-1]
    for label, weight in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if weight.shape[0] != gates * hidden:
            raise ShapeError(
                f"{name}: {label} first dim must be {gates} * hidden_size = {gates * hidden}, "
                f"but got {weight.shape[0]}"
            )


def lstm_cell(
    input: Tensor,
    hx: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, PyTorch's functional `torch.lstm_cell` (nn.LSTMCell's arithmetic).

    Args:
        input (Tensor): (batch, input_size).
        hx (sequence of two Tensors): h and c, each (batch, hidden_size).
        w_ih (Tensor): (4 * hidden_size, input_size), gates i, f, g, o.
        w_hh (Tensor): (4 * hidden_size, hidden_size).
        b_ih (Tensor, optional): (4 * hidden_size,).
        b_hh (Tensor, optional): (4 * hidden_size,).

    Returns:
        tuple: the new (h, c).

    Example:
        >>> import chainrule
        >>> h, c = chainrule.lstm_cell(
        ...     chainrule.ones(2, 3), (chainrule.zeros(2, 4), chainrule.zeros(2, 4)),
        ...     chainrule.zeros(16, 3), chainrule.zeros(16, 4))
        >>> h
        tensor([[0., 0., 0., 0.],
                [0., 0., 0., 0.]])
    """
    h, c = hx
    _check_cell("lstm_cell", input, h, w_ih, w_hh, 4)
    return lstm_gates_step(linear(input, w_ih, b_ih), (h, c), w_hh, b_hh)


def gru_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, PyTorch's functional `torch.gru_cell` (nn.GRUCell's arithmetic).

    Args:
        input (Tensor): (batch, input_size).
        hx (Tensor): h, (batch, hidden_size).
        w_ih (Tensor): (3 * hidden_size, input_size), gates r, z, n.
        w_hh (Tensor): (3 * hidden_size, hidden_size).
        b_ih (Tensor, optional): (3 * hidden_size,).
        b_hh (Tensor, optional): (3 * hidden_size,).

    Returns:
        Tensor: the new h.

    Example:
        >>> import chainrule
        >>> chainrule.gru_cell(chainrule.ones(1, 3), chainrule.ones(1, 2),
        ...                    chainrule.zeros(6, 3), chainrule.zeros(6, 2))
        tensor([[0.5000, 0.5000]])
    """
    _check_cell("gru_cell", input, hx, w_ih, w_hh, 3)
    return gru_gates_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def rnn_tanh_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step with tanh, PyTorch's functional `torch.rnn_tanh_cell`:
    tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input (Tensor): (batch, input_size).
        hx (Tensor): h, (batch, hidden_size).
        w_ih (Tensor): (hidden_size, input_size).
        w_hh (Tensor): (hidden_size, hidden_size).
        b_ih (Tensor, optional): (hidden_size,).
        b_hh (Tensor, optional): (hidden_size,).

    Returns:
        Tensor: the new h.

    Example:
        >>> import chainrule
        >>> chainrule.rnn_tanh_cell(chainrule.ones(1, 2), chainrule.zeros(1, 1),
        ...                         chainrule.zeros(1, 2), chainrule.zeros(1, 1))
        tensor([[0.]])
    """
    _check_cell("rnn_tanh_cell", input, hx, w_ih, w_hh, 1)
    return tanh(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def rnn_relu_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step with ReLU, PyTorch's functional `torch.rnn_relu_cell`:
    relu(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input (Tensor): (batch, input_size).
        hx (Tensor): h, (batch, hidden_size).
        w_ih (Tensor): (hidden_size, input_size).
        w_hh (Tensor): (hidden_size, hidden_size).
        b_ih (Tensor, optional): (hidden_size,).
        b_hh (Tensor, optional): (hidden_size,).

    Returns:
        Tensor: the new h.

    Example:
        >>> import chainrule
        >>> chainrule.rnn_relu_cell(chainrule.ones(1, 2), chainrule.zeros(1, 1),
        ...                         chainrule.ones(1, 2), chainrule.zeros(1, 1))
        tensor([[2.]])
    """
    _check_cell("rnn_relu_cell", input, hx, w_ih, w_hh, 1)
    return relu(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


_CELLS = {
    "LSTM": (_lstm_step, _lstm_step_backward),
    "GRU": (_gru_step, _gru_step_backward),
}


# ---- the sequence, forward and back ------------------------------------------------------------


def _starts(sizes: tuple) -> list[int]:
    """Where each step's rows begin in the packed rows."""
    starts, start = [], 0
    for size in sizes:
        starts.append(start)
        start += size
    return starts


def _run(
    math: Any,
    mode: str,
    x_gates: Any,
    state: tuple,
    w_hh: Any,
    b_hh: Any,
    sizes: tuple,
    reverse: bool,
) -> tuple:
    """The recurrence over x_gates' rows, packed: sizes[t] rows at step t, the longest
    sequences first (a packed sequence's batch sizes; a padded one's are all equal). At step t
    the first sizes[t] rows of the state step and the others keep theirs; with `reverse` the
    steps run from the last back and a sequence joins, from its initial state, at its own last
    step. Returns the outputs (rows as x_gates'), the final state's parts (each sequence's at
    its own end) and each step's saved values (the h it started from last)."""
    step = _CELLS[mode][0]
    starts = _starts(sizes)
    steps = len(sizes)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    outputs: list = [None] * steps
    saved: list = [None] * steps
    parts = list(state)
    if reverse and sizes[-1] < state[0].shape[0]:
        parts = [part[: sizes[-1]] for part in state]
    weight = math.weight(w_hh)
    for t in order:
        size, count = sizes[t], parts[0].shape[0]
        if count < size:  # (reverse) sequences whose last step this is join
            parts = [math.rows([part, first[count:size]]) for part, first in zip(parts, state)]
            count = size
        active = [part[:size] for part in parts] if size < count else parts
        rows = x_gates[starts[t] : starts[t] + size]
        current = tuple(active) if mode == "LSTM" else active[0]
        new, saved[t] = step(math, rows, current, weight, b_hh)
        new = list(new) if mode == "LSTM" else [new]
        outputs[t] = new[0]
        if size < count:  # finished sequences keep their state
            new = [math.rows([fresh, part[size:]]) for fresh, part in zip(new, parts)]
        parts = new
    return math.rows(outputs), tuple(parts), saved


def _run_backward(
    math: Any,
    mode: str,
    grads: tuple,
    saved: list,
    w_hh: Any,
    sizes: tuple,
    reverse: bool,
    bias: bool,
) -> tuple:
    """Back through time (`_run`'s steps in the opposite order) from the gradients of the
    outputs and of the final state's parts: the gradients of x_gates, of the initial state's
    parts, of W_hh and of b_hh (None without a bias)."""
    step_backward = _CELLS[mode][1]
    g_outputs, parts = grads[0], list(grads[1:])
    starts = _starts(sizes)
    steps = len(sizes)
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    d_inputs: list = [None] * steps
    d_products: list = [None] * steps
    joined: list = []  # (reverse) the initial state's gradient, piece by piece, last rows first
    for t in order:
        size, count = sizes[t], parts[0].shape[0]
        carried = [part[size:] for part in parts] if size < count else None
        d_new = [part[:size] for part in parts] if size < count else parts
        dh = d_new[0] + g_outputs[starts[t] : starts[t] + size]
        d_inputs[t], d_products[t], d_old = step_backward(math, (dh, *d_new[1:]), saved[t])
        product = d_products[t] @ w_hh
        parts = [product if d_old[0] is None else d_old[0] + product, *d_old[1:]]
        if carried is not None:
            parts = [math.rows([part, rest]) for part, rest in zip(parts, carried)]
        if reverse:  # undo the join before this step: rows from `before` on came from the start
            before = sizes[t + 1] if t + 1 < steps else sizes[-1]
            if before < size:
                joined.append([part[before:size] for part in parts])
                parts = [part[:before] for part in parts]
    if joined:
        pieces = [parts, *reversed(joined)]
        parts = [math.rows([piece[k] for piece in pieces]) for k in range(len(parts))]
    d_products_rows = math.rows(d_products)
    d_w_hh = d_products_rows.T @ math.rows([kept[-1] for kept in saved])
    d_b_hh = d_products_rows.sum(0) if bias else None
    return (math.rows(d_inputs), *parts, d_w_hh, d_b_hh)


# ---- the ops -----------------------------------------------------------------------------------

# How many values each step keeps for its backward (the cells' second results).
_KEPT = {"LSTM": 7, "GRU": 5}


def _layout(mode: str, bias: bool) -> tuple[int, int]:
    """Where the operands sit after x_gates: the state's part count, then W_hh (and b_hh)."""
    parts = 2 if mode == "LSTM" else 1
    return parts, parts + 1 + bias


class RecurrentSequence(Op):
    """The outputs (T N, H), rows in time order, and the final state's parts (N, H) of an LSTM
    (h, c) or GRU (h) over x_gates (T N, G H), from the initial state's parts, with W_hh
    (G H, H) and b_hh (G H,) if `bias`; `reverse` runs from the last step back. Operands:
    x_gates, the state's parts, W_hh, b_hh if `bias`; `sizes`, the rows of each step (`_run`).
    Derivatives: back through time (module docstring); the steps' kept values are saved as
    rows, each in x_gates' row order."""

    @classmethod
    def node_name(cls) -> str:
        return "MkldnnRnnLayerBackward0"  # PyTorch's CPU LSTM and GRU layer node

    @staticmethod
    def forward(ctx: Node, x_gates: Array, *rest: Any) -> tuple:
        *arrays, mode, bias, sizes, reverse = rest
        parts = _layout(mode, bias)[0]
        state, w_hh = tuple(arrays[:parts]), arrays[parts]
        b_hh = arrays[parts + 1] if bias else None
        math = _ArrayMath(ctx.xp)
        outputs, final, saved = _run(math, mode, x_gates, state, w_hh, b_hh, sizes, reverse)
        if type(ctx) is ForwardContext:  # nothing will differentiate it: keep nothing
            return (outputs, *final)
        kept = {f"kept{k}": math.rows([step[k] for step in saved]) for k in range(_KEPT[mode])}
        operands = {f"operand{index}": a for index, a in enumerate((x_gates, *arrays))}
        ctx.save(mode=mode, bias=bias, sizes=sizes, reverse=reverse, **kept, **operands)
        return (outputs, *final)

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> tuple:
        """In differentiable ops: the forward recomputed from the operands, then the same
        backward, so the result's own derivatives are right."""
        mode, bias = ctx.mode, ctx.bias
        parts, count = _layout(mode, bias)
        operands = [getattr(ctx, f"operand{index}") for index in range(count + 1)]
        x_gates, state, w_hh = operands[0], tuple(operands[1 : parts + 1]), operands[parts + 1]
        b_hh = operands[parts + 2] if bias else None
        sizes, reverse = ctx.sizes, ctx.reverse
        _, _, saved = _run(_TENSOR_MATH, mode, x_gates, state, w_hh, b_hh, sizes, reverse)
        result = _run_backward(_TENSOR_MATH, mode, grads, saved, w_hh, sizes, reverse, bias)
        return result if bias else result[:-1]

    @staticmethod
    def fast_vjp(ctx: Node, *grads: Any) -> tuple:
        """Without a graph of the backward (a plain backward()): one op on the values the
        forward kept."""
        if _grad_enabled():
            return RecurrentSequence.vjp(ctx, *grads)
        mode, bias = ctx.mode, ctx.bias
        w_hh = getattr(ctx, f"operand{_layout(mode, bias)[0] + 1}")
        kept = tuple(getattr(ctx, f"kept{k}") for k in range(_KEPT[mode]))
        operands = (*grads, w_hh, *kept)
        return apply(RecurrentSequenceBackward, operands, mode, bias, ctx.sizes, ctx.reverse)


class RecurrentSequenceBackward(Op):
    """RecurrentSequence's backward on arrays: from the gradients of its outputs, W_hh and the
    stacked kept values, the gradients of its operands. Run only where no graph is recorded
    (RecurrentSequence.fast_vjp), so it has no derivatives of its own: the differentiable form
    is RecurrentSequence.vjp."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, *rest: Any) -> tuple:
        *arrays, mode, bias, sizes, reverse = rest
        parts = _layout(mode, bias)[0]
        grads, w_hh, kept = arrays[: parts + 1], arrays[parts + 1], arrays[parts + 2 :]
        starts = _starts(sizes)
        saved = [
            tuple(rows[start : start + size] for rows in kept) for start, size in zip(starts, sizes)
        ]
        math = _ArrayMath(ctx.xp)
        result = _run_backward(math, mode, tuple(grads), saved, w_hh, sizes, reverse, bias)
        return result if bias else result[:-1]


def recurrent_sequence(
    mode: str, x_gates: Any, state: tuple, w_hh: Any, b_hh: Any, sizes: tuple, reverse: bool
) -> tuple:
    """An LSTM's or GRU's outputs and final state over x_gates, sizes[t] rows at step t
    (RecurrentSequence)."""
    operands = (x_gates, *state, w_hh) + ((b_hh,) if b_hh is not None else ())
    results = apply(RecurrentSequence, operands, mode, b_hh is not None, tuple(sizes), reverse)
    return results[0], results[1:]
