"""The backend seam's own numerics: what NumPy lacks and chainrule computes itself."""

import numpy as np
import pytest
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


# ---- the exact GELU's gate, Phi(x) -------------------------------------------------------------


def test_float32_normal_cdf_keeps_float32_accuracy_into_the_tails():
    from scipy.special import ndtr

    backend = chainrule.backend.numpy_backend
    grid = np.linspace(-12.0, 12.0, 100_001).astype(np.float32)
    exact = ndtr(grid.astype(np.float64))
    approx = backend.normal_cdf(grid)
    assert approx.dtype == np.float32
    relative = np.abs(approx - exact) / exact
    assert relative[np.abs(grid) <= 5].max() < 2e-6
    assert relative.max() < 1e-5  # relative, also where Phi is ~1e-33


def test_normal_cdf_special_values_and_float64():
    backend = chainrule.backend.numpy_backend
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 40.0, -40.0])
    expected = [0.5, 0.5, 1.0, 0.0, np.nan, 1.0, 0.0]
    for dtype in (np.float32, np.float64):
        got = backend.normal_cdf(special.astype(dtype))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, np.array(expected, dtype))
    assert backend.normal_cdf(np.float32(1.0).reshape(())).shape == ()
    x = np.linspace(-8, 8, 1001)
    torch_phi = 0.5 * (1 + torch.erf(torch.from_numpy(x) / np.sqrt(2.0))).numpy()
    np.testing.assert_allclose(backend.normal_cdf(x), torch_phi, rtol=1e-13, atol=0)


# ---- scatter-add ------------------------------------------------------------------------------


def _scatter_both(target, index, values):
    ours, expected = target.copy(), target.copy()
    chainrule.backend.numpy_backend.scatter_add(ours, index, values)
    np.add.at(expected, index, values)
    return ours, expected


def test_scatter_add_sums_repeated_and_negative_row_indices_as_np_add_at():
    rng = np.random.default_rng(0)
    index = rng.integers(-6, 6, size=(4, 9))  # -1 and 5 are the same row
    for width in (3, 40):  # NumPy's loop for narrow rows, sorted segments for wide ones
        values = rng.standard_normal((4, 9, width))
        ours, expected = _scatter_both(rng.standard_normal((6, width)), index, values)
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    scalar_index = np.array(2)
    ours, expected = _scatter_both(np.zeros((4, 2)), scalar_index, np.ones(2))
    np.testing.assert_array_equal(ours, expected)


def test_scatter_add_into_a_strided_target_and_bad_indices_behave_as_np_add_at():
    rng = np.random.default_rng(1)
    index = rng.integers(0, 6, size=10)
    values = rng.standard_normal((10, 40))
    strided = np.zeros((6, 80))[:, ::2]
    chainrule.backend.numpy_backend.scatter_add(strided, index, values)
    expected = np.zeros((6, 40))
    np.add.at(expected, index, values)
    np.testing.assert_allclose(strided, expected)
    for bad in (6, -7):
        try:
            chainrule.backend.numpy_backend.scatter_add(
                np.zeros((6, 4)), np.array([0, bad]), values[:2]
            )
        except IndexError:
            continue
        raise AssertionError(f"index {bad} into 6 rows was accepted")


# ---- the allocator setting ---------------------------------------------------------------------


def _tuned_in_fresh_process(environment_value):
    import os
    import subprocess
    import sys

    environment = dict(os.environ)
    environment.pop("CHAINRULE_MALLOC_TUNING", None)
    if environment_value is not None:
        environment["CHAINRULE_MALLOC_TUNING"] = environment_value
    code = "import chainrule.backend.allocator as a, chainrule; print(a._tuned)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "True"


def test_importing_keeps_freed_memory_for_reuse_on_glibc_unless_told_not_to():
    import os
    import sys

    on_glibc = sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    assert _tuned_in_fresh_process(None) == on_glibc
    assert _tuned_in_fresh_process("0") is False


def test_scatter_add_with_an_n_dimensional_index_matches_np_add_at():
    rng = np.random.default_rng(2)
    index = rng.integers(0, 7, size=(3, 4, 5))  # repeats, as max pooling's overlapping windows
    for row_shape in ((), (2,)):
        values = rng.standard_normal(index.shape + row_shape)
        ours, expected = _scatter_both(np.zeros((7, *row_shape)), index, values)
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_scatter_add_with_one_index_per_dimension_is_np_add_at_bit_for_bit():
    """A gather's or scatter's key (an integer array per dimension, broadcast together) is
    added through one flat index: the same elements, in the same order, so the same bits."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        target = rng.standard_normal((5, 6, 7)).astype(dtype)
        key = (
            np.arange(5)[:, None, None],
            rng.integers(-6, 6, size=(1, 4, 1)),  # negative and repeated
            rng.integers(0, 7, size=(5, 4, 9)),
        )
        values = rng.standard_normal((5, 4, 9)).astype(dtype)
        ours, expected = _scatter_both(target, key, values)
        np.testing.assert_array_equal(ours, expected)
        broadcast_values = rng.standard_normal((4, 9)).astype(dtype)  # broadcast to the key
        ours, expected = _scatter_both(target, key, broadcast_values)
        np.testing.assert_array_equal(ours, expected)
    for bad in (7, -8):  # out of range: np.add.at's IndexError, nothing written
        target = np.zeros((2, 7))
        with pytest.raises(IndexError):
            chainrule.backend.numpy_backend.scatter_add(
                target, (np.array([0, 1]), np.array([0, bad])), np.ones(2)
            )
        assert not target.any()


def test_scatter_add_with_a_one_element_key_is_the_row_scatter():
    """index_add along the first dimension passes (index,): the same sums as np.add.at, by
    the sorted row scatter for wide rows."""
    rng = np.random.default_rng(4)
    index = rng.integers(-5, 5, size=12)
    values = rng.standard_normal((12, 64))
    ours, expected = _scatter_both(rng.standard_normal((5, 64)), (index,), values)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    ours, expected = _scatter_both(np.zeros((5, 64)), (index,), values)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_relu_against_the_zero_block_gives_the_scalar_maximum_bit_for_bit():
    from chainrule.backend import numpy_backend

    rng = np.random.default_rng(0)
    special = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e-45]
    for dtype in (np.float32, np.float64):
        for size in (8, 4096, 5000, 70000):  # below and above the block's minimum, and growing
            x = rng.standard_normal(size).astype(dtype)
            x[: len(special)] = special
            for view in (x, x.reshape(-1, 1)[::2, 0], x.reshape(size, 1)):
                out = numpy_backend.relu(view)
                expected = np.maximum(0, view)  # -0.0 kept, as PyTorch's relu
                assert out.dtype == view.dtype and out.shape == view.shape
                assert np.array_equal(out.view(np.uint8), expected.view(np.uint8))
    # the shared block stays zeros and cannot be written through an output
    from chainrule.backend import arrays

    blocks = arrays._zero_blocks.values()
    assert all(not block.any() and not block.flags.writeable for block in blocks)


def test_relu_module_keeps_pytorchs_values_at_nan_and_signed_zero():
    values = [float("nan"), -0.0, 0.0, -1.0, 2.0, float("-inf"), float("inf")] * 1000
    ours = chainrule.nn.functional.relu(chainrule.tensor(values))
    theirs = torch.nn.functional.relu(torch.tensor(values))
    assert np.array_equal(ours.numpy(), theirs.numpy(), equal_nan=True)
    assert np.array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


def test_where_on_the_bits_gives_numpys_where_bit_for_bit():
    from chainrule.backend import numpy_backend

    rng = np.random.default_rng(1)
    special = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, -1.0]
    for dtype in (np.float32, np.float64, np.int32, np.int64, np.float16):
        for size in (10, 5000):  # below and above the bit selection's minimum
            x = rng.standard_normal(size) * 100
            y = rng.standard_normal(size) * 100
            if np.dtype(dtype).kind == "f":
                x[: len(special)], y[-len(special) :] = special, special
            x, y = x.astype(dtype), y.astype(dtype)
            condition = rng.random(size) < 0.5
            cases = [(x, y), (x, y[:1].reshape(())), (x[:1].reshape(()), y), (x[::-1], y)]
            for a, b in cases:
                out = numpy_backend.where(condition, a, b)
                expected = np.where(condition, a, b)
                assert out.dtype == expected.dtype and out.shape == expected.shape
                assert np.array_equal(out.view(np.uint8), expected.view(np.uint8))
    # broadcasting that is not a 0-d operand goes to NumPy's where
    out = numpy_backend.where(np.ones((5000, 1), bool), np.zeros((1, 3)), np.ones((5000, 3)))
    assert out.shape == (5000, 3) and not out.any()
