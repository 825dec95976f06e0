"""Specs for the ops that no other family's spec reached (found by tests/test_spec_coverage.py,
issue 17): masks and integer ops whose value is compared with torch (nothing to differentiate),
and scatter(reduce='multiply'), whose derivative torch has as scatter_reduce 'prod'."""

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule.testing import OpSpec


def _special_values(rng):
    """Floats with both zeros, both infinities and nan among finite values."""
    values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0, 3.0])
    return (rng.permutation(values).reshape(2, 4),)


def _integers(rng):
    return (rng.integers(-8, 9, size=(3, 4)), rng.integers(0, 4, size=(4,)))


def _scatter_inputs(rng):
    base = rng.uniform(0.5, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    src = rng.uniform(0.5, 2.0, size=(5, 4)) * rng.choice([-1.0, 1.0], size=(5, 4))
    index = rng.integers(0, 3, size=(5, 4))  # repeated positions: products of several
    return base, src, index


_AT_ZERO = [0.5, 0.25, 0.0, 2.0]  # heaviside's value where x == 0, per column


def _values(name, fn, torch_fn, make_inputs):
    """A spec of values only: nothing here has a derivative to compare."""
    return OpSpec(
        name, fn, torch_fn, shapes=[()], make_inputs=make_inputs, finite_differences=False
    )


def _histograms(lib, x):
    """Counts and edges over x's own range, and weighted densities over a given range."""
    own = lib.histogram(x, 4)
    given = lib.histogram(x, 3, range=(-1.0, 1.0), weight=x.abs(), density=True)
    return own.hist, own.bin_edges, given.hist, given.bin_edges


SPECS = [
    _values(
        "float_class_masks",
        lambda x: (x.isinf(), x.isposinf(), x.isneginf(), x.signbit()),
        lambda x: (x.isinf(), x.isposinf(), x.isneginf(), x.signbit()),
        _special_values,
    ),
    _values(
        "heaviside",
        lambda x: chainrule.heaviside(
            x.detach(), chainrule.tensor(_AT_ZERO, dtype=x.dtype, device=x.device)
        ),
        lambda x: torch.heaviside(x.detach(), torch.tensor(_AT_ZERO, dtype=x.dtype)),
        _special_values,
    ),
    _values(
        "logical_xor",
        lambda x, y: chainrule.logical_xor(x, y),
        lambda x, y: torch.logical_xor(x, y),
        _integers,
    ),
    _values(
        "bitwise_xor_and_shifts",
        lambda x, y: (x ^ y, chainrule.bitwise_left_shift(x, y), x >> y),
        lambda x, y: (x ^ y, torch.bitwise_left_shift(x, y), x >> y),
        _integers,
    ),
    _values(
        "nonzero",
        lambda x: (chainrule.nonzero(x), chainrule.nonzero(x, as_tuple=True)),
        lambda x: (torch.nonzero(x), torch.nonzero(x, as_tuple=True)),
        lambda rng: (rng.integers(-1, 2, size=(3, 4)),),
    ),
    _values(
        "histc",
        lambda x: (chainrule.histc(x, 5, -1.0, 1.0), chainrule.histc(x, 3)),
        lambda x: (torch.histc(x, 5, -1.0, 1.0), torch.histc(x, 3)),
        lambda rng: (rng.standard_normal((3, 4)),),
    ),
    _values(
        "searchsorted_and_bucketize",
        lambda x: (
            chainrule.searchsorted(x.sort().values, x[:, :2]),
            chainrule.searchsorted(x[0].sort().values, x, side="right"),
            chainrule.bucketize(
                x, chainrule.tensor([-0.5, 0.0, 0.5], dtype=x.dtype, device=x.device)
            ),
        ),
        lambda x: (
            torch.searchsorted(x.sort().values, x[:, :2]),
            torch.searchsorted(x[0].sort().values, x, side="right"),
            torch.bucketize(x, torch.tensor([-0.5, 0.0, 0.5], dtype=x.dtype)),
        ),
        lambda rng: (rng.standard_normal((3, 4)),),
    ),
    _values(
        "histogram",
        lambda x: _histograms(chainrule, x.detach()),
        lambda x: _histograms(torch, x.detach()),
        lambda rng: (rng.standard_normal((3, 4)),),
    ),
    _values(
        "isin",
        lambda x: (chainrule.isin(x, x[0]), chainrule.isin(x[:, :2], x[1], invert=True)),
        lambda x: (torch.isin(x, x[0]), torch.isin(x[:, :2], x[1], invert=True)),
        lambda rng: (rng.integers(-2, 3, size=(3, 4)),),
    ),
    _values(
        "one_hot",
        lambda x, y: F.one_hot(y, 5),
        lambda x, y: TF.one_hot(y, 5),
        _integers,
    ),
    OpSpec(
        "view_dtype",
        lambda x: x.view(chainrule.int32),
        lambda x: x.view(torch.int32),
        shapes=[()],
        make_inputs=lambda rng: (rng.standard_normal((2, 3)),),
        noncontiguous=False,  # a view as a smaller dtype needs unit stride (torch: the same)
    ),
    # Neither library differentiates scatter(reduce='multiply'), so only its value is compared,
    # with torch's scatter_reduce 'prod' (the same products; torch's scatter(reduce=) warns once
    # per process, which test_devices.py expects to see).
    _values(
        "scatter_multiply",
        lambda base, src, index: base.detach().scatter(0, index, src.detach(), reduce="multiply"),
        lambda base, src, index: base.detach().scatter_reduce(0, index, src.detach(), "prod"),
        _scatter_inputs,
    ),
]
