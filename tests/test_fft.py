"""chainrule.fft as torch.fft: output dtypes, argument errors and frequencies. Values and
derivatives of every transform are checked by the specs in tests/op_specs/fft.py."""

import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.errors
import chainrule.fft as cfft
from chainrule.errors import DTypeError, ShapeError


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex64", "complex128"])
@pytest.mark.parametrize("name", ["fft", "ifft", "fftn", "hfft"])
def test_complex_transforms_output_dtypes_as_torch(name, dtype):
    data = np.arange(4)
    mine = getattr(cfft, name)(chainrule.tensor(data, dtype=getattr(chainrule, dtype)))
    theirs = getattr(torch.fft, name)(torch.tensor(data, dtype=getattr(torch, dtype)))
    assert mine.dtype.name == str(theirs.dtype).replace("torch.", "")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_real_transforms_output_dtypes_as_torch(dtype):
    mine = cfft.rfft(chainrule.arange(6).to(getattr(chainrule, dtype)))
    theirs = torch.fft.rfft(torch.arange(6).to(getattr(torch, dtype)))
    assert mine.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert cfft.irfft(mine).dtype.name == str(torch.fft.irfft(theirs).dtype).removeprefix("torch.")


def test_errors_as_torch():
    x = chainrule.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="Invalid normalization mode"):
        cfft.fft(x, norm="bad")
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):  # as torch's
        cfft.rfft(x, norm="bad")
    with pytest.raises(ShapeError, match="Invalid number of data points"):
        cfft.fft(x, n=0)
    with pytest.raises(DTypeError, match="rfft expects a real input tensor"):
        cfft.rfft(x * 1j)
    with pytest.raises(DTypeError, match="ihfft expects a real input tensor"):
        cfft.ihfft(x * 1j)
    with pytest.raises(DTypeError, match="Half"):
        cfft.fft(x.half())


@pytest.mark.parametrize("n", [1, 4, 5])
@pytest.mark.parametrize("d", [1.0, 0.25])
def test_frequencies_and_shifts_match_torch(n, d):
    np.testing.assert_allclose(cfft.fftfreq(n, d).numpy(), torch.fft.fftfreq(n, d).numpy())
    np.testing.assert_allclose(cfft.rfftfreq(n, d).numpy(), torch.fft.rfftfreq(n, d).numpy())
    freqs = cfft.fftfreq(n, d, dtype=chainrule.float64)
    assert freqs.dtype is chainrule.float64
    expected = torch.fft.fftshift(torch.fft.fftfreq(n, d, dtype=torch.float64))
    np.testing.assert_allclose(cfft.fftshift(freqs).numpy(), expected.numpy())
    np.testing.assert_allclose(cfft.ifftshift(cfft.fftshift(freqs)).numpy(), freqs.numpy())


def test_a_round_trip_is_the_identity_and_its_gradient_too():
    x = chainrule.tensor([0.5, -1.0, 2.0, 0.25, 3.0], dtype=chainrule.float64, requires_grad=True)
    y = cfft.irfft(cfft.rfft(x), n=5)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy(), atol=1e-12)
    (y * chainrule.arange(5.0, dtype=chainrule.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.arange(5.0), atol=1e-12)


@pytest.mark.parametrize(
    "transform",
    [cfft.fft, cfft.rfft, lambda t: cfft.fft2(t.reshape(2, 2)), lambda t: cfft.irfftn(t * 1j)],
    ids=["fft", "rfft", "fft2", "irfftn"],
)
def test_vmap_batches_the_transforms_without_a_per_example_loop(transform):
    x = chainrule.randn(3, 4, dtype=chainrule.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # vmap warns where an op has no batching rule
        batched = chainrule.func.vmap(transform)(x)
    expected = chainrule.stack([transform(row) for row in x])
    np.testing.assert_allclose(batched.numpy(), expected.numpy(), atol=1e-12)


def test_stft_and_istft_warn_about_a_missing_window_as_torch():
    """Without a window both libraries warn of spectral leakage (a rectangular window); with
    one, neither warns."""
    for lib in (chainrule, torch):
        signal = lib.sin(lib.arange(64.0))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spectrum = lib.stft(signal, 16, return_complex=True)
            lib.istft(spectrum, 16)
        messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert all("window was not provided" in m for m in messages), messages
        # torch warns once per process (an earlier call may have taken its one warning)
        assert messages or lib is torch
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            window = lib.hann_window(16)
            spectrum = lib.stft(signal, 16, window=window, return_complex=True)
            lib.istft(spectrum, 16, window=window)


def test_stft_with_return_complex_false_warns_once_as_pytorch(monkeypatch):
    """Deprecated in PyTorch (TORCH_WARN_ONCE): the real (..., 2) result still comes back."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    signal = np.sin(np.arange(64.0) / 3)
    window = chainrule.hann_window(16, dtype=chainrule.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = chainrule.stft(chainrule.tensor(signal), 16, window=window, return_complex=False)
        chainrule.stft(chainrule.tensor(signal), 16, window=window, return_complex=False)
    assert [w.category for w in caught] == [UserWarning] and caught[0].filename == __file__
    assert str(caught[0].message).startswith("stft with return_complex=False is deprecated.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.stft(
            torch.tensor(signal),
            16,
            window=torch.hann_window(16, dtype=torch.float64),
            return_complex=False,
        )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_ifft_of_a_real_input_is_torchs_conjugated_r2c():
    """-0.0 imaginary parts where PyTorch's conj of an r2c leaves them (the zero frequency and
    the Nyquist term, printed as -0.0000j), and an out= of exactly the result's dtype."""
    signal = [[1.0, 3.0, 0.0, -2.0], [2.0, 0.5, 1.0, 1.0]]
    for norm in (None, "ortho", "forward"):
        mine = cfft.ifft(chainrule.tensor(signal), norm=norm)
        theirs = torch.fft.ifft(torch.tensor(signal), norm=norm)
        assert repr(mine).replace("chainrule", "torch") == repr(theirs)
        np.testing.assert_array_equal(
            np.signbit(mine.numpy().imag), np.signbit(theirs.resolve_conj().numpy().imag)
        )
    for lib, fft in ((torch, torch.fft), (chainrule, cfft)):
        with pytest.raises(RuntimeError, match="Found dtype"):
            fft.ifft(lib.tensor(signal), out=lib.empty(0, dtype=lib.complex128))
        with pytest.raises(RuntimeError, match="Found dtype"):
            fft.ihfft(lib.tensor(signal), out=lib.empty(0, dtype=lib.complex128))
        out = lib.empty(0, dtype=lib.complex128)  # a complex input casts into any complex out
        fft.ifft(lib.tensor(signal, dtype=lib.complex64), out=out)
        assert out.dtype == lib.complex128
    x = chainrule.tensor(signal, requires_grad=True)
    tx = torch.tensor(signal, requires_grad=True)
    weights = np.arange(8.0).reshape(2, 4)
    (cfft.ifft(x).real * chainrule.tensor(weights)).sum().backward()
    (torch.fft.ifft(tx).real * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert cfft.ifft(x).grad_fn.name() == "ConjBackward0"
