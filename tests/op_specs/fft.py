"""Specs for chainrule.fft (chainrule.ops.fft): every transform, with n=/s=, dim= and each
norm, real and complex inputs, against torch.fft's values and gradients and finite
differences (to second order: every vjp is another transform)."""

import torch

import chainrule.fft as cfft
from chainrule.testing import OpSpec

NORMS = ("backward", "ortho", "forward")


def _spec(name, transform, shapes, complex_input, **kwargs):
    """One spec of chainrule.fft.<transform> against torch.fft.<transform>."""
    return OpSpec(
        f"fft.{name}",
        getattr(cfft, transform),
        getattr(torch.fft, transform),
        shapes=shapes,
        complex=complex_input,
        kwargs=kwargs,
    )


COMPLEX_TO_COMPLEX = [
    *(_spec(f"fft_{norm}", "fft", [((5,),), ((2, 4),)], True, norm=norm) for norm in NORMS),
    _spec("fft_real_input", "fft", [((6,),), ((3, 4),)], False),
    _spec("fft_pad", "fft", [((3, 4),)], True, n=7, dim=0),
    _spec("fft_crop", "fft", [((6,),)], True, n=4),
    *(_spec(f"ifft_{norm}", "ifft", [((5,),), ((2, 4),)], True, norm=norm) for norm in NORMS),
    _spec("fft2", "fft2", [((3, 4),), ((2, 3, 4),)], True),
    _spec("ifft2_ortho", "ifft2", [((3, 4),)], True, norm="ortho"),
    _spec("fftn", "fftn", [((2, 3, 4),)], True),
    _spec("fftn_s_dim", "fftn", [((2, 3, 4),)], True, s=(4, 2), dim=(0, 2)),
    _spec("ifftn_forward", "ifftn", [((2, 3, 4),)], True, norm="forward", dim=(1, 2)),
]

REAL = [
    *(
        _spec(f"rfft_{norm}", "rfft", [((6,),), ((5,),), ((2, 4),)], False, norm=norm)
        for norm in NORMS
    ),  # fmt: skip
    _spec("rfft_n", "rfft", [((3, 5),)], False, n=8, dim=0),
    *(_spec(f"irfft_{norm}", "irfft", [((4,),), ((2, 5),)], True, norm=norm) for norm in NORMS),
    _spec("irfft_odd_n", "irfft", [((4,),)], True, n=7),
    _spec("irfft_crop", "irfft", [((6,),)], True, n=6),
    _spec("rfft2", "rfft2", [((3, 4),), ((2, 3, 5),)], False),
    _spec("irfft2", "irfft2", [((3, 3),), ((2, 4, 3),)], True),
    _spec("rfftn", "rfftn", [((2, 3, 4),)], False, norm="ortho"),
    _spec("irfftn_s", "irfftn", [((2, 3, 4),)], True, s=(3, 5)),
    *(_spec(f"hfft_{norm}", "hfft", [((4,),), ((2, 3),)], True, norm=norm) for norm in NORMS),
    _spec("hfft_n", "hfft", [((4,),)], True, n=5),
    *(
        _spec(f"ihfft_{norm}", "ihfft", [((6,),), ((2, 5),)], False, norm=norm) for norm in NORMS
    ),  # fmt: skip
]

SHIFTS = [
    _spec("fftshift", "fftshift", [((5,),), ((2, 3),)], False),
    _spec("ifftshift", "ifftshift", [((5,),), ((2, 3),)], False),
    _spec("fftshift_complex_dim", "fftshift", [((4, 3),)], True, dim=1),
    OpSpec(
        "fft.power_spectrum",
        lambda x: cfft.rfft(x).abs().pow(2).sum(-1),
        lambda x: torch.fft.rfft(x).abs().pow(2).sum(-1),
        shapes=[((2, 6),)],
    ),
    OpSpec(
        "fft.convolution",  # circular convolution through the transforms
        lambda a, b: cfft.irfft(cfft.rfft(a) * cfft.rfft(b), n=6),
        lambda a, b: torch.fft.irfft(torch.fft.rfft(a) * torch.fft.rfft(b), n=6),
        shapes=[((6,), (6,))],
    ),
]

SPECS = [*COMPLEX_TO_COMPLEX, *REAL, *SHIFTS]
