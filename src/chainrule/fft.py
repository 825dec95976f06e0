"""chainrule.fft: PyTorch's `torch.fft` namespace.

The transforms live in chainrule.ops.fft, each linear op with its vjp (another transform of the
cotangent) and jvp beside it; this module gives them their torch.fft names.

>>> import chainrule
>>> import chainrule.fft
>>> chainrule.fft.ifft(chainrule.fft.fft(chainrule.tensor([1.0, 2.0]))).real
tensor([1., 2.])
"""

from chainrule.ops import fft as _transforms
from chainrule.ops.fft import fftfreq, fftshift, ifftshift, rfftfreq
from chainrule.ops.out_arguments import with_out

# The transforms take PyTorch's out= (a complex out for a complex result, a real floating
# one for a real result; "kind" in ops/out_arguments.py).
fft = with_out("fft", _transforms.fft, "kind")
ifft = with_out("ifft", _transforms.ifft, "kind")
fft2 = with_out("fft2", _transforms.fft2, "kind")
ifft2 = with_out("ifft2", _transforms.ifft2, "kind")
fftn = with_out("fftn", _transforms.fftn, "kind")
ifftn = with_out("ifftn", _transforms.ifftn, "kind")
rfft = with_out("rfft", _transforms.rfft, "kind")
irfft = with_out("irfft", _transforms.irfft, "kind")
rfft2 = with_out("rfft2", _transforms.rfft2, "kind")
irfft2 = with_out("irfft2", _transforms.irfft2, "kind")
rfftn = with_out("rfftn", _transforms.rfftn, "kind")
irfftn = with_out("irfftn", _transforms.irfftn, "kind")
hfft = with_out("hfft", _transforms.hfft, "kind")
ihfft = with_out("ihfft", _transforms.ihfft, "kind")
hfft2 = with_out("hfft2", _transforms.hfft2, "kind")
hfftn = with_out("hfftn", _transforms.hfftn, "kind")
ihfft2 = with_out("ihfft2", _transforms.ihfft2, "kind")
ihfftn = with_out("ihfftn", _transforms.ihfftn, "kind")

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
