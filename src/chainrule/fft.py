"""chainrule.fft: PyTorch's `torch.fft` namespace.

The transforms live in chainrule.ops.fft, each linear op with its vjp (another transform of the
cotangent) and jvp beside it; this module gives them their torch.fft names.

>>> import chainrule
>>> import chainrule.fft
>>> chainrule.fft.ifft(chainrule.fft.fft(chainrule.tensor([1.0, 2.0]))).real
tensor([1., 2.])
"""

from chainrule.ops.fft import (
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "hfft2",
    "hfftn",
    "ihfft2",
    "ihfftn",
    "fftshift",
    "ifftshift",
    "fftfreq",
    "rfftfreq",
]
