"""`chainrule.signal.windows` gives PyTorch's windows: the same values in float32 and float64,
symmetric and periodic, for lengths 0, 1 and up, and the same argument errors."""

import numpy as np
import pytest
import torch

import chainrule

OPTIONS = {
    "bartlett": {},
    "blackman": {},
    "cosine": {},
    "exponential": {"tau": 2.5},
    "gaussian": {"std": 1.7},
    "general_cosine": {"a": [0.46, 0.23, 0.31]},
    "general_hamming": {"alpha": 0.6},
    "hamming": {},
    "hann": {},
    "kaiser": {"beta": 4.5},
    "nuttall": {},
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_window_equals_pytorchs(name, sym, dtype):
    for length in (0, 1, 2, 5, 8, 17):
        options = dict(OPTIONS[name], sym=sym)
        ours = getattr(chainrule.signal.windows, name)(
            length, dtype=getattr(chainrule, dtype), **options
        )
        theirs = getattr(torch.signal.windows, name)(length, dtype=getattr(torch, dtype), **options)
        assert ours.dtype.name == dtype and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_a_periodic_exponential_window_takes_a_centre():
    ours = chainrule.signal.windows.exponential(6, center=1.5, sym=False)
    theirs = torch.signal.windows.exponential(6, center=1.5, sym=False)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w, lib: w.hann(-1), ValueError, "requires non-negative window length, got M=-1"),
        (lambda w, lib: w.hann(3, dtype=lib.int64), ValueError, "expects float32 or float64"),
        (lambda w, lib: w.gaussian(3, std=0.0), ValueError, "Standard deviation must be positive"),
        (lambda w, lib: w.exponential(3, tau=-1.0), ValueError, "Tau must be positive"),
        (lambda w, lib: w.exponential(3, center=1.0), ValueError, "Center must be None"),
        (lambda w, lib: w.kaiser(3, beta=-1.0), ValueError, "beta must be non-negative"),
        (lambda w, lib: w.general_cosine(3, a=[]), ValueError, "Coefficients cannot be empty"),
    ],
)
def test_bad_arguments_raise_pytorchs_errors(call, error, message):
    for lib in (chainrule, torch):
        with pytest.raises(error, match=message):
            call(lib.signal.windows, lib)


def test_the_default_dtype_and_gradients():
    assert chainrule.signal.windows.hann(4).dtype is chainrule.get_default_dtype()
    assert chainrule.signal.windows.hann(4, requires_grad=True).requires_grad
