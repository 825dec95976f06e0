"""Specs for the functions of chainrule.ops.composites (index_fill, index_copy, masked_scatter,
put, cov, corrcoef), each against torch: composed of differentiable ops, their derivatives
are checked here to second order all the same."""

import numpy as np
import torch

import chainrule
from chainrule.testing import OpSpec

MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
WEIGHTS = np.array([1, 3, 2, 1, 2])


def _segments(reduce, initial):
    """Segment lengths with an empty segment, but where that would hold NaN or an infinity,
    which finite differences cannot check (tests/test_reduction_semantics.py checks those)."""
    return [2, 0, 3, 1] if initial is not None or reduce in ("sum", "prod") else [2, 1, 2, 1]


def _spec(name, fn, torch_fn, make_inputs, **options):
    return OpSpec(name, fn, torch_fn, shapes=[()], make_inputs=make_inputs, **options)


def _index(rng):
    return rng.standard_normal((3, 4)), np.array([3, 0])


SPECS = [
    _spec(
        "index_fill",
        lambda x, i: x.index_fill(1, i, -1.5),
        lambda x, i: x.index_fill(1, i, -1.5),
        _index,
    ),
    _spec(
        "index_fill_tensor_value",
        lambda x, i, v: chainrule.index_fill(x, -1, i, v),
        lambda x, i, v: torch.index_fill(x, -1, i, v),
        lambda rng: (*_index(rng), rng.standard_normal(())),
    ),
    _spec(
        "index_copy",
        lambda x, i, s: x.index_copy(1, i, s),
        lambda x, i, s: x.index_copy(1, i, s),
        lambda rng: (*_index(rng), rng.standard_normal((3, 2))),
    ),
    _spec(
        "masked_scatter",
        lambda x, s: x.masked_scatter(chainrule.tensor(MASK, device=x.device), s),
        lambda x, s: x.masked_scatter(torch.tensor(MASK), s),
        lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal((2, 5))),
    ),
    _spec(
        "masked_scatter_broadcast_mask",
        lambda x, s: x.masked_scatter(chainrule.tensor(MASK[0], device=x.device), s),
        lambda x, s: x.masked_scatter(torch.tensor(MASK[0]), s),
        lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal(9)),
    ),
    _spec(
        "put",
        lambda x, i, s: x.put(i, s),
        lambda x, i, s: x.put(i, s),
        lambda rng: (
            rng.standard_normal((3, 4)),
            np.array([[5, -1], [0, 7]]),
            rng.standard_normal((2, 2)),
        ),
    ),
    _spec(
        "put_accumulate",
        lambda x, i, s: chainrule.put(x, i, s, accumulate=True),
        lambda x, i, s: torch.put(x, i, s, accumulate=True),
        lambda rng: (rng.standard_normal((3, 4)), np.array([5, 5, 0]), rng.standard_normal(3)),
    ),
    _spec("cov", chainrule.cov, torch.cov, lambda rng: (rng.standard_normal((3, 5)),)),
    _spec("cov_vector", chainrule.cov, torch.cov, lambda rng: (rng.standard_normal(5),)),
    _spec(
        "cov_weights",
        lambda x, a: chainrule.cov(
            x, correction=2, fweights=chainrule.tensor(WEIGHTS, device=x.device), aweights=a
        ),
        lambda x, a: torch.cov(x, correction=2, fweights=torch.tensor(WEIGHTS), aweights=a),
        lambda rng: (rng.standard_normal((2, 5)), rng.uniform(0.5, 2.0, size=5)),
    ),
    _spec(
        "corrcoef", chainrule.corrcoef, torch.corrcoef, lambda rng: (rng.standard_normal((3, 6)),)
    ),
    *(
        _spec(
            f"segment_reduce_{reduce}" + ("" if initial is None else "_initial"),
            lambda x, r=reduce, i=initial: chainrule.segment_reduce(
                x, r, lengths=chainrule.tensor(_segments(r, i), device=x.device), initial=i
            ),
            lambda x, r=reduce, i=initial: torch.segment_reduce(
                x, r, lengths=torch.tensor(_segments(r, i)), initial=i
            ),
            lambda rng: (rng.standard_normal((6, 3)),),
            second_order=False,  # torch has no derivative of segment_reduce's backward
        )
        for reduce in ("sum", "mean", "prod", "max", "min")
        for initial in (None, 0.25)
    ),
    _spec(
        "segment_reduce_offsets_batched",
        lambda x: chainrule.segment_reduce(
            x,
            "mean",
            offsets=chainrule.tensor([[0, 2, 3, 5], [0, 1, 4, 5]], device=x.device),
            axis=1,
        ),
        lambda x: torch.segment_reduce(
            x, "mean", offsets=torch.tensor([[0, 2, 3, 5], [0, 1, 4, 5]]), axis=1
        ),
        lambda rng: (rng.standard_normal((2, 5)),),
        second_order=False,
    ),
]

STFT_WINDOW = np.random.default_rng(8).uniform(0.5, 1.5, size=6)


def _stft(lib, **options):
    def transform(signal):
        window = lib.tensor(STFT_WINDOW, dtype=signal.dtype)
        if lib is chainrule:
            window = window.to(signal.device)
        spectrum = lib.stft(signal, 8, window=window, return_complex=True, **options)
        return lib.view_as_real(spectrum)

    return transform


def _istft(lib, **options):
    def invert(pairs):
        window = lib.tensor(STFT_WINDOW, dtype=pairs.dtype)
        if lib is chainrule:
            window = window.to(pairs.device)
        return lib.istft(lib.view_as_complex(pairs.contiguous()), 8, window=window, **options)

    return invert


SPECS += [
    OpSpec(
        "stft",
        _stft(chainrule, hop_length=3, win_length=6),
        _stft(torch, hop_length=3, win_length=6),
        shapes=[((2, 20),), ((17,),)],
    ),
    OpSpec(
        "stft_uncentred_normalized_twosided",
        _stft(chainrule, hop_length=2, win_length=6, center=False, normalized=True, onesided=False),
        _stft(torch, hop_length=2, win_length=6, center=False, normalized=True, onesided=False),
        shapes=[((2, 14),)],
    ),
    OpSpec(
        "istft",
        _istft(chainrule, hop_length=2, win_length=6, length=14),
        _istft(torch, hop_length=2, win_length=6, length=14),
        shapes=[((2, 5, 8, 2),)],
    ),
]

SPECS += [
    OpSpec(  # the input's own memory block: a strided copy would give torch another block
        "as_strided",
        lambda x: x.as_strided((3, 2), (1, 3), 1),
        lambda x: x.as_strided((3, 2), (1, 3), 1),
        shapes=[((2, 5),)],
        noncontiguous=False,
    ),
    OpSpec(
        "as_strided_windows",
        lambda x: chainrule.as_strided(x, (2, 2, 3), (6, 1, 2)),
        lambda x: torch.as_strided(x, (2, 2, 3), (6, 1, 2)),
        shapes=[((12,),)],
        noncontiguous=False,
    ),
]
