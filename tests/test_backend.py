"""The backend seam's own numerics: what NumPy lacks and chainrule computes itself."""

import numpy as np
import torch

import chainrule


def test_float32_erf_is_accurate_to_a_few_ulp_everywhere():
    x = np.concatenate(
        [np.linspace(-6, 6, 200001), np.logspace(-30, 0, 500), -np.logspace(-30, 0, 500)]
    ).astype(np.float32)
    ours = chainrule.erf(chainrule.from_numpy(x)).numpy().astype(np.float64)
    exact = torch.erf(torch.from_numpy(x).double()).numpy()
    relative = np.abs(ours - exact) / np.maximum(np.abs(exact), 1e-300)
    assert relative.max() < 1e-6


def test_erf_special_values():
    x = chainrule.tensor([float("nan"), float("inf"), float("-inf"), 0.0, -0.0])
    result = chainrule.erf(x).tolist()
    assert np.isnan(result[0]) and result[1:] == [1.0, -1.0, 0.0, -0.0]
    assert np.signbit(result[-1])


def test_float64_erf_is_exact():
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_allclose(
        chainrule.erf(chainrule.from_numpy(x)).numpy(),
        torch.erf(torch.from_numpy(x)).numpy(),
        rtol=1e-14,
        atol=1e-300,
    )
