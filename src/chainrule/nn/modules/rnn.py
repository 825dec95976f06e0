"""Recurrent layers: RNN (tanh / relu), LSTM and GRU, plus their single-step cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a torch state_dict
loads unchanged:
  weight_ih_l{k}[_reverse] (gates * hidden, input), weight_hh_l{k} (gates * hidden, hidden),
  bias_ih_l{k}, bias_hh_l{k}, and weight_hr_l{k} (proj_size, hidden) for a projected LSTM;
  LSTM gates i, f, g, o; GRU gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
The input projection of a whole sequence is one matmul. An LSTM's or GRU's recurrence is then
one op per layer and direction (ops/recurrent.py), which runs the time steps on raw arrays;
projected LSTMs, plain RNNs, half precision and forward-mode AD step through time in ordinary
ops instead, with the same cell arithmetic (ops/recurrent's `lstm_gates_step` and
`gru_gates_step`, also LSTMCell's and GRUCell's).

>>> import chainrule
>>> from chainrule import nn
>>> lstm = nn.LSTM(4, 8, num_layers=2, batch_first=True)
>>> output, (h_n, c_n) = lstm(chainrule.randn(3, 5, 4))
>>> output.shape, h_n.shape, c_n.shape
(chainrule.Size([3, 5, 8]), chainrule.Size([2, 3, 8]), chainrule.Size([2, 3, 8]))
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.forward_ad import current_level
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import DTypeValueError, ShapeError
from chainrule.nn import init
from chainrule.nn._packed_sequence import PackedSequence
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation
from chainrule.ops import elementwise as ew
from chainrule.ops.autocast import LOWER, autocast_active, autocast_operands
from chainrule.ops.op import named
from chainrule.ops.recurrent import gru_gates_step, lstm_gates_step, recurrent_sequence
from chainrule.ops.shape import cat, split, stack

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _lstm_step(x_gates: Tensor, state: tuple, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple:
    """One LSTM step from the precomputed input gates (ops/recurrent's cell), then the
    projection of h where the layer has one."""
    h, c = lstm_gates_step(x_gates, state, w_hh, b_hh)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, (h, c)


def _gru_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple:
    h = gru_gates_step(x_gates, h, w_hh, b_hh)
    return h, h


def _tanh_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple:
    h = ew.tanh(x_gates + F.linear(h, w_hh, b_hh))
    return h, h


def _relu_step(x_gates: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple:
    h = F.relu(x_gates + F.linear(h, w_hh, b_hh))
    return h, h


def _count(state: Any) -> int:
    """The number of sequences a state (h, or (h, c) for LSTM) holds."""
    return (state[0] if isinstance(state, tuple) else state).shape[0]


def _rows(state: Any, start: int, stop: int) -> Any:
    """Sequences start .. stop - 1 of a state."""
    if start == 0 and stop == _count(state):
        return state
    if isinstance(state, tuple):
        return tuple(part[start:stop] for part in state)
    return state[start:stop]


def _join(head: Any, tail: Any) -> Any:
    """The sequences of head, then those of tail."""
    if isinstance(head, tuple):
        return tuple(cat([h, t], 0) for h, t in zip(head, tail))
    return cat([head, tail], 0)


_STEPS = {"LSTM": _lstm_step, "GRU": _gru_step, "RNN_TANH": _tanh_step, "RNN_RELU": _relu_step}


class RNNBase(Module):
    """The machinery shared by RNN, LSTM and GRU: parameters, layers and directions.

    It creates, for each layer and direction, the weights weight_ih_l{k}, weight_hh_l{k} (and biases
    bias_ih_l{k}, bias_hh_l{k}; a `_reverse` suffix for the backward direction) in PyTorch's names
    and layouts, all initialised U(-k, k) with k = 1 / sqrt(hidden_size), and runs the
    layer/direction loop. Use one of its subclasses rather than this class.

    Args:
        mode (str): the cell: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
        input_size (int): the number of features of each input step.
        hidden_size (int): the number of features of the hidden state.
        num_layers (int): stacked layers, each fed the previous layer's outputs (default: 1).
        bias (bool): learn the biases b_ih and b_hh (default: True).
        batch_first (bool): input and output are (N, L, H) instead of (L, N, H); the hidden
            state keeps its (layers, N, H) layout (default: False).
        dropout (float): dropout on the outputs of every layer but the last, in training mode
            only (default: 0).
        bidirectional (bool): also run each layer backwards over the sequence and concatenate
            the two directions' outputs (default: False).
        proj_size (int): LSTM only: project h_t to this size (default: 0, no projection).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Example:
        >>> from chainrule import nn
        >>> gru = nn.GRU(4, 8, num_layers=2)
        >>> isinstance(gru, nn.RNNBase), sorted(gru.state_dict())[:2]
        (True, ['bias_hh_l0', 'bias_hh_l1'])
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}"
            )
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                params = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden_size)),
                ]
                if bias:
                    params.append((f"bias_ih_l{layer}{suffix}", (gate_size,)))
                    params.append((f"bias_hh_l{layer}{suffix}", (gate_size,)))
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(creation.empty(shape, **factory)))
                names = [name for name, _ in params]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (cuDNN weight packing)."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # ---- checks ------------------------------------------------------------------------------
    def _num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def check_input(self, input: Tensor, batch_sizes: Tensor | None = None) -> None:  # noqa: A002
        """Raise if `input` has the wrong rank, dtype or feature size for this layer (a
        PackedSequence's data, rank 2, when batch_sizes is given)."""
        weight = self._flat_weights[0]
        if input.dtype is not weight.dtype:
            raise DTypeValueError(  # (PyTorch's ValueError)
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise ShapeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise ShapeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.size(-1)}"
            )

    def get_expected_hidden_size(
        self,
        input: Tensor,  # noqa: A002
        batch_sizes: Tensor | None = None,
    ) -> tuple[int, int, int]:
        """The shape (layers * directions, batch, hidden) the hidden state must have for `input`
        (or for a PackedSequence's data and batch_sizes)."""
        batch = self._batch(input, batch_sizes)
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * self._num_directions(), batch, size)

    def _batch(self, input: Tensor, batch_sizes: Tensor | None) -> int:  # noqa: A002
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    @staticmethod
    def check_hidden_size(
        hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        """Raise if a given hidden state's shape differs from the expected one."""
        if tuple(hx.shape) != tuple(expected):
            raise ShapeError(msg.format(expected, list(hx.shape)))

    # ---- the computation ----------------------------------------------------------------------
    def _run(self, data: Tensor, batch_sizes: list, states: list) -> tuple[Tensor, list]:
        """data (rows, F) in packed layout: batch_sizes[t] rows for step t, the longest
        sequences first (a padded (L, N, F) input is L steps of N rows). states: one initial
        state per (layer, direction), in torch's order (a Tensor, or (h, c) for LSTM), each with
        batch_sizes[0] rows. Returns the last layer's packed output and the final states, each
        taken at its sequence's own last step."""
        num_directions = self._num_directions()
        layer_input = data
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                names = self._all_weights[layer * num_directions + direction]
                weights = [getattr(self, name) for name in names]
                state = states[layer * num_directions + direction]
                run = self._run_backward if direction == 1 else self._run_forward
                output, final = run(layer_input, batch_sizes, state, weights)
                outputs.append(output)
                finals.append(final)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, finals

    def _unpack_weights(self, weights: list) -> tuple:
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _whole_sequence(self, data: Tensor, batch_sizes: list, w_hr: Any) -> bool:
        """Whether a direction runs as one op (ops/recurrent.py): LSTM (without projections)
        and GRU on float32/float64 sequences, padded or packed, outside forward-mode AD (that
        op has no jvp); otherwise step by step, as ops."""
        return (
            self.mode in ("LSTM", "GRU")
            and w_hr is None
            and data.dtype.is_floating_point
            and data.element_size() >= 4
            and batch_sizes[0] > 0
            and current_level() is None
        )

    def _run_forward(self, data: Tensor, batch_sizes: list, state: Any, weights: list) -> tuple:
        """One direction from the first step on: at step t the first batch_sizes[t] rows step,
        the others (finished sequences) keep their state."""
        step = _STEPS[self.mode]
        w_ih, w_hh, b_ih, b_hh, w_hr = self._unpack_weights(weights)
        if self._whole_sequence(data, batch_sizes, w_hr):
            return self._run_whole(data, batch_sizes, state, weights, False)
        # every time step's input gates in one matmul, split in one op: the gradient is one
        # cat of the steps' gradients, not a zero-filled (rows, gates) array per step
        x_gates = split(F.linear(data, w_ih, b_ih), batch_sizes, 0)
        hidden = []
        for size, gates in zip(batch_sizes, x_gates):
            count = _count(state)
            active = _rows(state, 0, size)
            output, active = step(gates, active, w_hh, b_hh, w_hr)
            state = active if size == count else _join(active, _rows(state, size, count))
            hidden.append(output)
        return cat(hidden, 0), state

    def _run_backward(self, data: Tensor, batch_sizes: list, state: Any, weights: list) -> tuple:
        """One direction from the last step back: a sequence joins, from its initial state,
        at its own last step."""
        step = _STEPS[self.mode]
        w_ih, w_hh, b_ih, b_hh, w_hr = self._unpack_weights(weights)
        if self._whole_sequence(data, batch_sizes, w_hr):
            return self._run_whole(data, batch_sizes, state, weights, True)
        x_gates = split(F.linear(data, w_ih, b_ih), batch_sizes, 0)  # as _run_forward
        hidden = [None] * len(batch_sizes)
        running = None
        for t in reversed(range(len(batch_sizes))):
            size = batch_sizes[t]
            if running is None:
                running = _rows(state, 0, size)
            elif _count(running) < size:
                running = _join(running, _rows(state, _count(running), size))
            output, running = step(x_gates[t], running, w_hh, b_hh, w_hr)
            hidden[t] = output
        return cat(hidden, 0), running

    def _run_whole(
        self, data: Tensor, batch_sizes: list, state: Any, weights: list, reverse: bool
    ) -> tuple:
        """_run_forward or _run_backward (`reverse`) as one op over the whole sequence."""
        w_ih, w_hh, b_ih, b_hh, _ = self._unpack_weights(weights)
        parts = state if isinstance(state, tuple) else (state,)
        x_gates = F.linear(data, w_ih, b_ih)
        if self.mode == "LSTM" and autocast_active() is not None:  # PyTorch's LSTM layer is
            x_gates, *parts, w_hh, b_hh = autocast_operands(  # on autocast's lower list
                LOWER, x_gates, *parts, w_hh, b_hh
            )
        output, final = recurrent_sequence(
            self.mode, x_gates, tuple(parts), w_hh, b_hh, batch_sizes, reverse
        )
        return output, (final if isinstance(state, tuple) else final[0])

    def _prepare_input(self, input: Tensor, name: str) -> tuple[Tensor, bool]:  # noqa: A002
        if input.dim() not in (2, 3):
            noun = " tensor" if name == "RNN" else ""  # PyTorch's wording differs per class
            raise ShapeError(
                f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{noun} instead"
            )
        is_batched = input.dim() == 3
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)  # noqa: A001
        return input, is_batched

    def _zeros(self, input: Tensor, size: int) -> Tensor:  # noqa: A002
        batch = input.size(0) if self.batch_first else input.size(1)
        shape = (self.num_layers * self._num_directions(), batch, size)
        return creation.zeros(shape, dtype=input.dtype, device=input.device)

    def _forward_hidden(
        self,
        name: str,
        input: Tensor,  # noqa: A002
        hx: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        """RNN and GRU forward: one hidden state per layer and direction."""
        if isinstance(input, PackedSequence):
            output, (hidden,) = self._forward_packed(input, None if hx is None else (hx,))
            return output, hidden
        input, is_batched = self._prepare_input(input, name)  # noqa: A001
        if hx is None:
            hx = self._zeros(input, self.hidden_size)
        elif not is_batched:
            if hx.dim() != 2:
                raise ShapeError(
                    f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor"
                )
            hx = hx.unsqueeze(1)
        elif hx.dim() != 3:
            raise ShapeError(
                f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor"
            )
        self.check_input(input)
        self.check_hidden_size(hx, self.get_expected_hidden_size(input))
        sequence = input.transpose(0, 1) if self.batch_first else input
        output, finals = self._run_padded(sequence, list(hx.unbind(0)))
        hidden = stack(finals, 0)
        if not is_batched:
            hidden = hidden.squeeze(1)
        return self._finish(output, is_batched), hidden

    def _run_padded(self, sequence: Tensor, states: list) -> tuple[Tensor, list]:
        """_run on a padded (L, N, F) sequence: L steps of all N rows."""
        steps, batch = sequence.shape[0], sequence.shape[1]
        if steps == 0:
            raise ShapeError("Expected sequence length to be larger than 0 in RNN")
        data = sequence.reshape(steps * batch, sequence.shape[2])
        output, finals = self._run(data, [batch] * steps, states)
        output = output.reshape(steps, batch, output.shape[-1])
        return named(output, self._output_node_name()), finals

    def _output_node_name(self) -> str:
        """PyTorch's grad_fn of the (L, N, H) output, which a printed output shows: its CPU
        kernels join the two directions by cat, run a one-direction LSTM as one oneDNN layer,
        and stack the steps of the rest (RNN, GRU, an LSTM with projections)."""
        if self._num_directions() == 2:
            return "CatBackward0"
        if self.mode == "LSTM" and self.proj_size == 0:
            return "MkldnnRnnLayerBackward0"
        return "StackBackward0"

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        """The shape of each part of the hidden state: h (and c for LSTM)."""
        layers = self.num_layers * self._num_directions()
        shapes = [(layers, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def _forward_packed(self, packed: PackedSequence, hx: tuple | None) -> tuple:
        """The layer over a PackedSequence: (packed output, final state parts), the states in
        the batch's original order, each taken at its sequence's last step, as PyTorch does."""
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        self.check_input(data, batch_sizes)
        shapes = self._state_shapes(int(batch_sizes[0]))
        if hx is None:
            hx = tuple(
                creation.zeros(shape, dtype=data.dtype, device=data.device) for shape in shapes
            )
        else:
            if sorted_indices is not None:  # the given states follow the original order
                hx = tuple(part.index_select(1, sorted_indices) for part in hx)
            for index, (part, shape) in enumerate(zip(hx, shapes)):
                message = f"Expected hidden[{index}] size {{}}, got {{}}"
                if len(shapes) == 1:
                    message = "Expected hidden size {}, got {}"
                self.check_hidden_size(part, shape, message)
        layers = [part.unbind(0) for part in hx]
        states = list(layers[0]) if len(layers) == 1 else list(zip(*layers))
        sizes = [int(size) for size in batch_sizes.tolist()]
        output, finals = self._run(data, sizes, states)
        parts = [finals] if len(layers) == 1 else [list(part) for part in zip(*finals)]
        hidden = tuple(stack(part, 0) for part in parts)
        if unsorted_indices is not None:
            hidden = tuple(part.index_select(1, unsorted_indices) for part in hidden)
        output = named(output, "CatBackward0")  # PyTorch joins a packed output's steps by cat
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), hidden

    def _finish(self, output: Tensor, is_batched: bool) -> Tensor:
        if self.batch_first:
            output = output.transpose(0, 1)
            if self.mode != "LSTM":  # PyTorch's RNN and GRU transpose by another overload
                output = named(output, "TransposeBackward1")
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
        return output


class RNN(RNNBase):
    """A multi-layer Elman recurrent network with a tanh or ReLU nonlinearity.

    Each layer runs h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) over the sequence, act
    being tanh or relu; the weights and their layout are PyTorch's, so a state_dict moves between
    the two. The constructor takes PyTorch's arguments, positionally in the order input_size,
    hidden_size, num_layers, nonlinearity, bias, batch_first, dropout, bidirectional, or by name:
    input_size (int), hidden_size (int), num_layers (int, default 1), nonlinearity ('tanh', the
    default, or 'relu'), bias (bool, default True), batch_first (bool, default False: input is (L,
    N, H)), dropout (float, default 0: dropout between layers, in training), bidirectional (bool,
    default False), device and dtype.

    Args:
        *args (Any): the arguments above, by position.
        **kwargs (Any): the arguments above, by name (proj_size is refused: LSTM only).

    Shape:
        - Input: (L, N, input_size), or (N, L, input_size) with batch_first, or
          (L, input_size) unbatched; optionally h_0 of shape
          (num_layers * directions, N, hidden_size), or (num_layers * directions, hidden_size)
          unbatched (zeros when omitted)
        - Output: (output, h_n): output (L, N, directions * hidden_size) holds the last layer's
          h_t for every t (batch-first or unbatched like the input); h_n, shaped like h_0, the
          final hidden state of every layer and direction

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> rnn = nn.RNN(10, 20, num_layers=2, batch_first=True)
        >>> output, h_n = rnn(chainrule.zeros(3, 5, 10))
        >>> output.shape, h_n.shape
        (chainrule.Size([3, 5, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return self._forward_hidden("RNN", input, hx)


class LSTM(RNNBase):
    """A multi-layer long short-term memory network (Hochreiter and Schmidhuber, 1997), with
    PyTorch's gate order i, f, g, o and weight layout, so a state_dict moves between the two.
    Each layer runs c_t = f * c_{t-1} + i * g and h_t = o * tanh(c_t) over the sequence.

    Args:
        input_size (int): the number of features of each input step.
        hidden_size (int): the number of features of the hidden state.
        num_layers (int): stacked layers, each fed the previous layer's outputs.
        bias (bool): learn the biases b_ih and b_hh.
        batch_first (bool): input and output are (N, L, H) instead of (L, N, H).
        dropout (float): dropout on the outputs of every layer but the last (training only).
        bidirectional (bool): also run each layer backwards and concatenate the two.
        proj_size (int): project h_t to this size (0: no projection).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (L, N, input_size), or (N, L, input_size) with batch_first, or
          (L, input_size) unbatched; optionally (h_0, c_0) of shape
          (num_layers * directions, N, hidden_size) (zeros when omitted)
        - Output: (output, (h_n, c_n)): output (L, N, directions * hidden_size) holds h_t of
          the last layer for every t; h_n and c_n the final states of every layer

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> lstm = nn.LSTM(10, 20, num_layers=2)
        >>> output, (h_n, c_n) = lstm(chainrule.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def get_expected_cell_size(self, input: Tensor) -> tuple[int, int, int]:  # noqa: A002
        """The shape (layers * directions, batch, hidden_size) of the cell state for `input`."""
        batch = input.size(0) if self.batch_first else input.size(1)
        return (self.num_layers * self._num_directions(), batch, self.hidden_size)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, tuple]:  # noqa: A002
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, None if hx is None else tuple(hx))
        input, is_batched = self._prepare_input(input, "LSTM")  # noqa: A001
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            hx = (self._zeros(input, real_hidden), self._zeros(input, self.hidden_size))
        elif is_batched:
            if hx[0].dim() != 3 or hx[1].dim() != 3:
                raise ShapeError(
                    "For batched 3-D input, hx and cx should also be 3-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
        else:
            if hx[0].dim() != 2 or hx[1].dim() != 2:
                raise ShapeError(
                    "For unbatched 2-D input, hx and cx should also be 2-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
            hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_input(input)
        self.check_hidden_size(
            hx[0], self.get_expected_hidden_size(input), "Expected hidden[0] size {}, got {}"
        )
        self.check_hidden_size(
            hx[1], self.get_expected_cell_size(input), "Expected hidden[1] size {}, got {}"
        )
        sequence = input.transpose(0, 1) if self.batch_first else input
        states = list(zip(hx[0].unbind(0), hx[1].unbind(0)))
        output, finals = self._run_padded(sequence, states)
        h_n = stack([h for h, _ in finals], 0)
        c_n = stack([c for _, c in finals], 0)
        if not is_batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, is_batched), (h_n, c_n)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit network (Cho et al., 2014), in PyTorch's variant.

    Each layer updates its hidden state h from the input x with a reset gate r, an update gate z and
    a candidate n: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h +
    b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h' = (1 - z) * n + z * h (note that r
    multiplies W_hn h + b_hn, after the matrix product, as in PyTorch). The constructor takes
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device and
    dtype, by position in that order or by name, with the meanings and defaults of LSTM's.

    Args:
        *args (Any): the arguments above, by position.
        **kwargs (Any): the arguments above, by name (proj_size is refused: LSTM only).

    Shape:
        - Input: (L, N, input_size), or (N, L, input_size) with batch_first, or
          (L, input_size) unbatched; optionally h_0 of shape
          (num_layers * directions, N, hidden_size), or (num_layers * directions, hidden_size)
          unbatched (zeros when omitted)
        - Output: (output, h_n): output (L, N, directions * hidden_size) holds the last layer's
          h_t for every t (batch-first or unbatched like the input); h_n, shaped like h_0, the
          final hidden state of every layer and direction

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> gru = nn.GRU(8, 16, bidirectional=True)
        >>> output, h_n = gru(chainrule.zeros(7, 2, 8))
        >>> output.shape, h_n.shape
        (chainrule.Size([7, 2, 32]), chainrule.Size([2, 2, 16]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return self._forward_hidden("GRU", input, hx)


# ---- cells -------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """The parameters shared by RNNCell, LSTMCell and GRUCell: weight_ih (chunks * hidden,
    input), weight_hh (chunks * hidden, hidden), bias_ih, bias_hh, all ~ U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)). Use one of its subclasses rather than this class.

    Args:
        input_size (int): the number of features of each input.
        hidden_size (int): the number of features of the hidden state.
        bias (bool): learn the biases bias_ih and bias_hh.
        num_chunks (int): gates stacked in the weights: 1 (RNN), 4 (LSTM) or 3 (GRU).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Example:
        >>> from chainrule import nn
        >>> cell = nn.LSTMCell(3, 5)
        >>> isinstance(cell, nn.RNNCellBase), tuple(cell.weight_ih.shape)
        (True, (20, 3))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(
            creation.empty((num_chunks * hidden_size, input_size), **factory)
        )
        self.weight_hh = Parameter(
            creation.empty((num_chunks * hidden_size, hidden_size), **factory)
        )
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            text += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _batched(self, name: str, input: Tensor, hx: Any) -> tuple[Tensor, bool]:  # noqa: A002
        if input.dim() not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        is_batched = input.dim() == 2
        return (input if is_batched else input.unsqueeze(0)), is_batched

    def _check_step(self, input: Tensor, *hiddens: Tensor) -> None:  # noqa: A002
        """PyTorch's cell checks on the batched (N, input_size) input and each (N,
        hidden_size) state, before any math: a state of batch 1 would otherwise broadcast
        against a bigger batch silently."""
        if input.size(1) != self.input_size:
            raise ShapeError(
                f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}"
            )
        for label, hidden in enumerate(hiddens):
            if hidden.size(0) != input.size(0):
                raise ShapeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{label} batch size "
                    f"{hidden.size(0)}"
                )
            if hidden.size(1) != self.hidden_size:
                raise ShapeError(
                    f"hidden{label} has inconsistent hidden_size: got {hidden.size(1)}, "
                    f"expected {self.hidden_size}"
                )

    def _zeros(self, input: Tensor) -> Tensor:  # noqa: A002
        return creation.zeros(
            (input.size(0), self.hidden_size), dtype=input.dtype, device=input.device
        )


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Use it to write the loop over time yourself (e.g. to feed each output back as the next input);
    nn.RNN runs the whole sequence. The parameters weight_ih (hidden_size, input_size), weight_hh
    (hidden_size, hidden_size), bias_ih and bias_hh (hidden_size,) start as U(-k, k), k = 1 /
    sqrt(hidden_size).

    Args:
        input_size (int): the number of features of the input.
        hidden_size (int): the number of features of the hidden state.
        bias (bool): learn the biases b_ih and b_hh (default: True).
        nonlinearity (str): act, 'tanh' (the default) or 'relu'.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, input_size) or (input_size,), and optionally h of shape (N, hidden_size)
          or (hidden_size,) (zeros when omitted)
        - Output: h', of shape (N, hidden_size) or (hidden_size,)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> cell = nn.RNNCell(10, 20)
        >>> h = None
        >>> for x in chainrule.zeros(6, 3, 10):  # six steps of a batch of 3
        ...     h = cell(x, h)
        >>> h.shape
        chainrule.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if hx is not None and hx.dim() not in (1, 2):
            raise ShapeError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, is_batched = self._batched("RNNCell", input, hx)  # noqa: A001
        if hx is None:
            self._check_step(input)
            hx = self._zeros(input)
        else:
            if not is_batched:
                hx = hx.unsqueeze(0)
            self._check_step(input, hx)
        if self.nonlinearity == "tanh":
            step = _tanh_step
        elif self.nonlinearity == "relu":
            step = _relu_step
        else:
            raise ValueError(f"Unknown nonlinearity: {self.nonlinearity}")
        x_gates = F.linear(input, self.weight_ih, self.bias_ih)
        h, _ = step(x_gates, hx, self.weight_hh, self.bias_hh, None)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM: forward(x, (h, c)) returns (h', c').

    With i, f, g, o = the four chunks of x W_ih^T + b_ih + h W_hh^T + b_hh (input, forget, cell and
    output gates, in PyTorch's order), i, f and o go through a sigmoid and g through tanh; then c' =
    f * c + i * g and h' = o * tanh(c'). nn.LSTM runs a whole sequence; the cell is for writing the
    loop yourself. weight_ih has shape (4 hidden_size, input_size), weight_hh (4 hidden_size,
    hidden_size), and everything starts as U(-k, k), k = 1 / sqrt(hidden_size).

    Args:
        input_size (int): the number of features of the input.
        hidden_size (int): the number of features of h and c.
        bias (bool): learn the biases b_ih and b_hh (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, input_size) or (input_size,), and optionally (h, c), each (N, hidden_size)
          or (hidden_size,) (zeros when omitted)
        - Output: (h', c'), each shaped like h

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(chainrule.zeros(3, 10))
        >>> h, c = cell(chainrule.zeros(3, 10), (h, c))
        >>> h.shape, c.shape
        (chainrule.Size([3, 20]), chainrule.Size([3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        if hx is not None:
            if not isinstance(hx, (tuple, list)):
                raise TypeError(
                    f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
                    f"{type(hx).__name__}"
                )
            if len(hx) != 2:
                raise ShapeError(f"lstm_cell expects two hidden states, got {len(hx)}")
            for index, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ShapeError(
                        f"LSTMCell: Expected hx[{index}] to be 1D or 2D, got {value.dim()}D instead"
                    )
        input, is_batched = self._batched("LSTMCell", input, hx)  # noqa: A001
        if hx is None:
            self._check_step(input)
            zeros = self._zeros(input)
            hx = (zeros, zeros)
        else:
            if not is_batched:
                hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
            self._check_step(input, *hx)
        x_gates = F.linear(input, self.weight_ih, self.bias_ih)
        _, (h, c) = _lstm_step(x_gates, tuple(hx), self.weight_hh, self.bias_hh, None)
        if not is_batched:
            h, c = h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(RNNCellBase):
    """One step of a GRU, with the gates and conventions of nn.GRU.

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz), n =
    tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h' = (1 - z) * n + z * h. weight_ih has shape (3
    hidden_size, input_size) and weight_hh (3 hidden_size, hidden_size), the chunks in the order r,
    z, n; everything starts as U(-k, k), k = 1 / sqrt(hidden_size).

    Args:
        input_size (int): the number of features of the input.
        hidden_size (int): the number of features of the hidden state.
        bias (bool): learn the biases b_ih and b_hh (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, input_size) or (input_size,), and optionally h of shape (N, hidden_size)
          or (hidden_size,) (zeros when omitted)
        - Output: h', of shape (N, hidden_size) or (hidden_size,)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.GRUCell(4, 8)(chainrule.zeros(4)).shape
        chainrule.Size([8])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if hx is not None and hx.dim() not in (1, 2):
            raise ShapeError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        input, is_batched = self._batched("GRUCell", input, hx)  # noqa: A001
        if hx is None:
            self._check_step(input)
            hx = self._zeros(input)
        else:
            if not is_batched:
                hx = hx.unsqueeze(0)
            self._check_step(input, hx)
        x_gates = F.linear(input, self.weight_ih, self.bias_ih)
        h, _ = _gru_step(x_gates, hx, self.weight_hh, self.bias_hh, None)
        return h if is_batched else h.squeeze(0)
