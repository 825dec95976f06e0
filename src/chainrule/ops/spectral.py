# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""The short-time Fourier transform and its inverse, as torch.stft and torch.istft, composed of
differentiable ops (padding, a gather of overlapping frames, the window product, rfft/fft;
and irfft/ifft, an overlap-add by index_add, the window envelope), so gradients flow through
both to every order.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from chainrule.errors import ShapeError, warn_once
from chainrule.ops.autocast import FLOAT32, autocast_active, autocast_operands
from chainrule.ops.complex import view_as_real
from chainrule.ops.creation import ones, zeros
from chainrule.ops.fft import fft, ifft, irfft, rfft
from chainrule.ops.indexing import index_add, pad
from chainrule.ops.nn_common import shape_constant
from chainrule.ops.shape import reshape, transpose, unsqueeze

if TYPE_CHECKING:  # annotations only
    from chainrule._tensor import Tensor


def _full_window(window: Any, n_fft: int, win_length: int, like: Any) -> Any:
    """The window (ones if None) padded with zeros on both sides to n_fft, centred."""
    if window is None:
        window = ones(
            win_length, dtype=like.dtype if not like.is_complex() else None, device=like.device
        )
    if window.ndim != 1 or window.shape[0] != win_length:
        raise ShapeError(
            f"stft: expected a 1D window tensor of size equal to win_length={win_length}, but "
            f"got window with size {list(window.shape)}"
        )
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left))


def _frame_positions(xp: Any, frames: int, n_fft: int, hop: int) -> Any:
    return xp.arange(frames)[:, None] * hop + xp.arange(n_fft)[None, :]


def _warn_rectangular_window(name: str) -> None:
    """PyTorch's warning when stft / istft get no window: shown once (from this line), as
    PyTorch warns once per process."""
    warnings.warn(
        f"{name}: a window was not provided, so a rectangular window is applied, which is known "
        "to cause spectral leakage; hann_window or hamming_window reduce it. Pass "
        "window=ones(n_fft) to use a rectangular window without this warning.",
        UserWarning,
        stacklevel=1,
    )


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
) -> Tensor:
    """The short-time Fourier transform of a signal (L,) or batch (B, L): frames of n_fft
    samples every hop_length (default n_fft // 4), each times the window (win_length long,
    default n_fft, centred in n_fft; rectangular if None), transformed. `center` pads the
    signal by n_fft // 2 on both sides with `pad_mode` first; `normalized` scales by
    n_fft**-0.5; onesided (the default for real input and window) keeps n_fft // 2 + 1
    frequencies. Output (B?, frequencies, frames), complex (return_complex must be given for
    real inputs, as PyTorch; False returns view_as_real of it).

    Args:
        input (Tensor): (L,) or (B, L), real or complex.
        n_fft (int): the frame length and transform size.
        hop_length (int, optional): samples between frames (n_fft // 4).
        win_length (int, optional): the window's length (n_fft).
        window (Tensor, optional): 1-D of win_length samples (rectangular if None).
        center (bool): pad n_fft // 2 samples at both ends so frames centre on samples.
        pad_mode (str): how `center` pads: 'reflect', 'constant', 'replicate' or 'circular'.
        normalized (bool): scale by n_fft**-0.5.
        onesided (bool, optional): keep only the n_fft // 2 + 1 non-negative frequencies.
        return_complex (bool, optional): a complex result (required for real input).
        align_to_window (bool, optional): accepted for PyTorch's signature (center=False only).

    Returns:
        Tensor: (B?, frequencies, frames), complex (or its view_as_real).

    Example:
        >>> import chainrule
        >>> window = chainrule.hann_window(8)
        >>> chainrule.stft(chainrule.ones(16), 8, window=window, return_complex=True).shape
        chainrule.Size([5, 9])
    """
    if autocast_active() is not None:  # PyTorch's float32 list, inline: warnings blame the caller
        input, window = autocast_operands(FLOAT32, input, window)  # noqa: A001
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if window is None:
        _warn_rectangular_window("stft")
    if return_complex is None and not complex_input:
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will "
            "further require that return_complex=True in a future PyTorch release."
        )
    if input.ndim not in (1, 2):
        raise ShapeError(f"stft: expected a 1D or 2D tensor, got shape {tuple(input.shape)}")
    if return_complex is False:
        warn_once(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft "
            "will return complex tensors for all inputs, and return_complex=False will raise an "
            "error.\nNote: you can still call torch.view_as_real on the complex output to "
            "recover the old return format."
        )
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(
            f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}"
        )
    batched = input if input.ndim == 2 else unsqueeze(input, 0)
    if center:
        half = n_fft // 2
        batched = reshape(
            pad(unsqueeze(batched, 1), (half, half), mode=pad_mode), (batched.shape[0], -1)
        )
    length = batched.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    frames_count = 1 + (length - n_fft) // hop
    xp = input._backend.xp
    positions = shape_constant(_frame_positions(xp, frames_count, n_fft, hop))
    frames = batched[:, positions] * _full_window(window, n_fft, win_length, input)
    onesided = (not complex_input) if onesided is None else onesided
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    spectrum = rfft(frames) if onesided else fft(frames)
    if normalized:
        spectrum = spectrum * n_fft**-0.5
    spectrum = transpose(spectrum, -1, -2)
    if input.ndim == 1:
        spectrum = spectrum[0]
    return spectrum if return_complex or return_complex is None else view_as_real(spectrum)


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    """The inverse of `stft`: each frame inverse-transformed, windowed, overlap-added and
    divided by the overlap-added squared window (which must not vanish, as PyTorch checks);
    `center` trims the n_fft // 2 padding; `length` trims or zero-pads the result.

    Args:
        input (Tensor): complex (B?, frequencies, frames), as stft returns.
        n_fft (int): the frame length and transform size.
        hop_length (int, optional): samples between frames (n_fft // 4).
        win_length (int, optional): the window's length (n_fft).
        window (Tensor, optional): 1-D of win_length samples (rectangular if None).
        center (bool): whether stft padded the signal (then trimmed here).
        normalized (bool): whether stft scaled by n_fft**-0.5.
        onesided (bool, optional): whether `input` holds only the non-negative frequencies.
        length (int, optional): the signal length to trim or zero-pad to.
        return_complex (bool): a complex signal instead of a real one.

    Returns:
        Tensor: the signal, (L,) or (B, L).

    Example:
        >>> import chainrule
        >>> signal = chainrule.arange(16.0)
        >>> window = chainrule.ones(8)
        >>> spectrum = chainrule.stft(signal, 8, window=window, return_complex=True)
        >>> restored = chainrule.istft(spectrum, 8, window=window, length=16)
        >>> bool((restored - signal).abs().max() < 1e-4)
        True
    """
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor")
    if window is None:
        _warn_rectangular_window("istft")
    if input.ndim not in (2, 3):
        raise ShapeError(f"istft: expected a 2D or 3D tensor, got shape {tuple(input.shape)}")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    batched = input if input.ndim == 3 else unsqueeze(input, 0)
    frequencies, frames_count = batched.shape[1], batched.shape[2]
    onesided = frequencies != n_fft if onesided is None else onesided
    if onesided and frequencies != n_fft // 2 + 1:
        raise RuntimeError(
            f"istft: expected the frequency dimension (3rd to the last) of the input tensor to "
            f"match n_fft / 2 + 1 when onesided=True, but got {frequencies}"
        )
    if normalized:
        batched = batched * n_fft**0.5
    spectra = transpose(batched, 1, 2)
    frames = irfft(spectra, n=n_fft) if onesided else ifft(spectra, n=n_fft)
    if not onesided and not return_complex:
        frames = frames.real
    full_window = _full_window(window, n_fft, win_length, frames)
    frames = frames * full_window
    expected = n_fft + hop * (frames_count - 1)
    xp = input._backend.xp
    positions = shape_constant(_frame_positions(xp, frames_count, n_fft, hop).reshape(-1))
    batch = batched.shape[0]
    flat = reshape(frames, (batch, -1))
    signal = index_add(
        zeros(batch, expected, dtype=flat.dtype, device=flat.device), 1, positions, flat
    )
    squares = (full_window * full_window).expand(frames_count, n_fft).reshape(-1)
    envelope = index_add(
        zeros(expected, dtype=squares.dtype, device=squares.device), 0, positions, squares
    )
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    end_kept = min(end, expected)
    signal = signal[:, start:end_kept]
    envelope = envelope[start:end_kept]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft: window overlap add min: the window envelope is (nearly) zero")
    signal = signal / envelope
    if end > expected:
        signal = pad(signal, (0, end - expected))
    return signal[0] if input.ndim == 2 else signal
