"""nn.utils.rnn and packed input to the recurrent layers, against torch 2.13: the same padded
batch and the same weights give the same packed data, padded outputs, final states and
gradients (of the input, the initial state and every parameter)."""

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as torch_rnn

import chainrule
from chainrule.nn.utils import rnn

RNG = np.random.default_rng(2024)


def close(actual, expected):
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    ("lengths", "enforce_sorted"), [([5, 5, 3, 2], True), ([3, 5, 2, 5], False)]
)
def test_pack_and_pad_follow_torch(lengths, enforce_sorted, batch_first):
    x = RNG.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    mine = rnn.pack_padded_sequence(chainrule.tensor(x), lengths, batch_first, enforce_sorted)
    theirs = torch_rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first, enforce_sorted)
    close(mine.data, theirs.data)
    assert mine.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert mine.batch_sizes.dtype == chainrule.int64
    for ours, torchs in [
        (mine.sorted_indices, theirs.sorted_indices),
        (mine.unsorted_indices, theirs.unsorted_indices),
    ]:
        assert (ours is None) == (torchs is None)
        assert ours is None or ours.tolist() == torchs.tolist()
    options = {"batch_first": batch_first, "padding_value": -2.5, "total_length": 7}
    padded, padded_lengths = rnn.pad_packed_sequence(mine, **options)
    expected, expected_lengths = torch_rnn.pad_packed_sequence(theirs, **options)
    close(padded, expected)
    assert padded_lengths.tolist() == expected_lengths.tolist() == lengths


def test_pad_sequence_sides_and_values_follow_torch():
    shapes = [(2, 3), (4, 3), (1, 3)]
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    for batch_first in (False, True):
        for side in ("right", "left"):
            mine = rnn.pad_sequence([chainrule.tensor(a) for a in arrays], batch_first, 7.0, side)
            theirs = torch_rnn.pad_sequence(
                [torch.tensor(a) for a in arrays], batch_first, 7.0, side
            )
            close(mine, theirs)
    stacked = RNG.standard_normal((2, 3, 4))  # a tensor is a batch along its first dimension
    close(
        rnn.pad_sequence(chainrule.tensor(stacked)), torch_rnn.pad_sequence(torch.tensor(stacked))
    )


def test_pack_sequence_and_unpack_and_unpad_round_trip_as_torch():
    arrays = [RNG.standard_normal((n, 2)) for n in (2, 4, 1)]
    mine = rnn.pack_sequence([chainrule.tensor(a) for a in arrays], enforce_sorted=False)
    theirs = torch_rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    close(mine.data, theirs.data)
    for ours, torchs, array in zip(
        rnn.unpack_sequence(mine), torch_rnn.unpack_sequence(theirs), arrays
    ):
        close(ours, torchs)
        np.testing.assert_array_equal(ours.numpy(), array)
    padded = rnn.pad_sequence([chainrule.tensor(a) for a in arrays])
    lengths = chainrule.tensor([2, 4, 1])
    for ours, array in zip(rnn.unpad_sequence(padded, lengths), arrays):
        np.testing.assert_array_equal(ours.numpy(), array)
    assert padded.shape == (4, 3, 2)  # unlike torch's, the argument is not transposed in place


def test_packed_sequence_is_torchs_named_tuple():
    data = chainrule.arange(6.0)
    packed = rnn.PackedSequence(data, chainrule.tensor([3, 2, 1]), chainrule.tensor([2, 0, 1]))
    data_out, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data_out is data
    assert unsorted_indices.tolist() == [1, 2, 0]
    assert packed.to(chainrule.float64).data.dtype == chainrule.float64
    assert packed.double().batch_sizes is batch_sizes
    assert not packed.is_cuda


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: rnn.pack_padded_sequence(x, [2, 3, 1]), RuntimeError, "decreasing order"),
        (lambda x: rnn.pack_padded_sequence(x, [3, 0, 0]), RuntimeError, "greater than 0"),
        (lambda x: rnn.pack_padded_sequence(x, [3, 2]), RuntimeError, "batch_size=3"),
        (lambda x: rnn.pack_padded_sequence(x, [5, 2, 1]), ValueError, "longer than"),
        (
            lambda x: rnn.pad_packed_sequence(
                rnn.pack_padded_sequence(x, [3, 2, 1]), total_length=2
            ),
            ValueError,
            "total_length=2",
        ),
        (
            lambda x: rnn.pad_sequence([x[0], x[1]], padding_side="top"),
            RuntimeError,
            "left or right",
        ),
        (lambda x: rnn.pad_sequence([]), RuntimeError, "empty"),
    ],
)
def test_packing_errors_say_what_is_wrong(call, error, match):
    """The exception types PyTorch raises (chainrule's ShapeError is a RuntimeError too)."""
    with pytest.raises(error, match=match):
        call(chainrule.zeros(4, 3, 2))


def _twin_layers(kind, **options):
    """torch.nn.<kind> and chainrule.nn.<kind> with the same float64 weights."""
    theirs = getattr(torch.nn, kind)(3, 4, **options).double()
    mine = getattr(chainrule.nn, kind)(3, 4, dtype=chainrule.float64, **options)
    mine.load_state_dict(
        {k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    return mine, theirs


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("bidirectional", "num_layers"), [(False, 1), (True, 2)])
@pytest.mark.parametrize(("enforce_sorted", "batch_first"), [(True, False), (False, True)])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_batches_match_torch(
    kind, bidirectional, num_layers, enforce_sorted, batch_first, with_state
):
    options = {"bidirectional": bidirectional, "num_layers": num_layers, "batch_first": batch_first}
    mine, theirs = _twin_layers(kind, **options)
    lengths = [5, 5, 3, 2] if enforce_sorted else [3, 5, 2, 5]
    x = RNG.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    h0 = RNG.standard_normal(((2 if bidirectional else 1) * num_layers, 4, 4))
    x_mine, x_theirs = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    h_mine, h_theirs = (
        chainrule.tensor(h0, requires_grad=True),
        torch.tensor(h0, requires_grad=True),
    )
    state_mine, state_theirs = None, None
    if with_state:  # LSTM's c0 made from h0 too, so its gradient reaches h0
        state_mine = (h_mine, h_mine.tanh()) if kind == "LSTM" else h_mine
        state_theirs = (h_theirs, h_theirs.tanh()) if kind == "LSTM" else h_theirs

    packed_mine = rnn.pack_padded_sequence(x_mine, lengths, batch_first, enforce_sorted)
    packed_theirs = torch_rnn.pack_padded_sequence(x_theirs, lengths, batch_first, enforce_sorted)
    out_mine, final_mine = mine(packed_mine, state_mine)
    out_theirs, final_theirs = theirs(packed_theirs, state_theirs)

    assert isinstance(out_mine, rnn.PackedSequence)
    assert out_mine.batch_sizes is packed_mine.batch_sizes
    close(out_mine.data, out_theirs.data)
    finals_mine = final_mine if kind == "LSTM" else (final_mine,)
    finals_theirs = final_theirs if kind == "LSTM" else (final_theirs,)
    for ours, torchs in zip(finals_mine, finals_theirs):
        close(ours, torchs)

    padded_mine, _ = rnn.pad_packed_sequence(out_mine, batch_first)
    padded_theirs, _ = torch_rnn.pad_packed_sequence(out_theirs, batch_first)
    weights = [RNG.standard_normal(tuple(t.shape)) for t in (padded_theirs, *finals_theirs)]
    loss_mine = sum(
        (t * chainrule.tensor(w)).sum() for t, w in zip((padded_mine, *finals_mine), weights)
    )
    loss_theirs = sum(
        (t * torch.tensor(w)).sum() for t, w in zip((padded_theirs, *finals_theirs), weights)
    )
    loss_mine.backward()
    loss_theirs.backward()
    close(x_mine.grad, x_theirs.grad)
    if with_state:
        close(h_mine.grad, h_theirs.grad)
    torch_parameters = dict(theirs.named_parameters())
    for name, parameter in mine.named_parameters():
        close(parameter.grad, torch_parameters[name].grad)


def test_lstm_with_projection_on_a_packed_batch_matches_torch():
    mine, theirs = _twin_layers("LSTM", proj_size=2, bidirectional=True)
    x = RNG.standard_normal((6, 3, 3))
    out_mine, (h_mine, c_mine) = mine(
        rnn.pack_padded_sequence(chainrule.tensor(x), [2, 6, 4], enforce_sorted=False)
    )
    out_theirs, (h_theirs, c_theirs) = theirs(
        torch_rnn.pack_padded_sequence(torch.tensor(x), [2, 6, 4], enforce_sorted=False)
    )
    close(out_mine.data, out_theirs.data)
    close(h_mine, h_theirs)
    close(c_mine, c_theirs)


def test_packed_input_checks_the_state_shape():
    gru = chainrule.nn.GRU(3, 4)
    packed = rnn.pack_sequence([chainrule.zeros(3, 3), chainrule.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"Expected hidden size \(1, 2, 4\)"):
        gru(packed, chainrule.zeros(1, 3, 4))


def test_more_than_16_sequences_with_equal_lengths_pack_in_torchs_order():
    """PyTorch sorts the lengths with its unstable CPU sort: past 16 sequences equal lengths
    come in std::sort's order, which sorted_indices and the packed data show."""
    lengths = [3, 5, 3, 2, 5, 3, 1, 4, 3, 2, 5, 3, 3, 2, 4, 1, 3, 2, 5, 3, 3, 4]
    padded = np.arange(len(lengths) * 5, dtype=np.float32).reshape(len(lengths), 5, 1)
    mine = rnn.pack_padded_sequence(
        chainrule.tensor(padded), lengths, batch_first=True, enforce_sorted=False
    )
    theirs = torch_rnn.pack_padded_sequence(
        torch.tensor(padded), lengths, batch_first=True, enforce_sorted=False
    )
    assert mine.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    assert mine.data.tolist() == theirs.data.tolist()
