"""Specs for the Tensor methods composed in chainrule.ops.method_extras (renorm, fill_diagonal_)
and for in-place methods of existing ops (addcmul_, addcdiv_, addmm_, baddbmm_, float_power_,
the in-place shape changes), each against torch's method: in-place forms run on a clone, so
their derivatives reach the inputs through the write, as PyTorch's. Also fractional max
pooling (chainrule.ops.fractional_pooling), composed of gather and max, with its random window
starts fixed by `_random_samples`."""

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule.testing import OpSpec

SAMPLES_2D = np.array([[[0.3, 0.9], [0.6, 0.1]]])  # (N=1, C=2, 2): one draw per plane and dim
SAMPLES_3D = np.array([[[0.2, 0.5, 0.9]]])


def _spec(name, fn, torch_fn, make_inputs, **options):
    return OpSpec(name, fn, torch_fn, shapes=[()], make_inputs=make_inputs, **options)


def _rows_of_norm_near_one(rng):
    """Rows whose 2-norms lie on both sides of maxnorm 1, away from the kink at 1."""
    rows = rng.standard_normal((4, 3))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows * np.array([[0.5], [1.6], [0.8], [2.5]]),)


def _addc(rng):
    return (
        rng.standard_normal((3, 4)),
        rng.standard_normal((3, 4)),
        rng.uniform(0.5, 2.0, size=(4,)),
    )


SPECS = [
    _spec(
        "renorm",
        lambda x: x.renorm(2, 0, 1.0),
        lambda x: x.renorm(2, 0, 1.0),
        _rows_of_norm_near_one,
    ),
    _spec(
        "renorm_p1_dim1",
        lambda x: x.renorm(1, 1, 1.5),
        lambda x: x.renorm(1, 1, 1.5),
        lambda rng: (rng.standard_normal((3, 4)),),
    ),
    _spec(
        "renorm_",
        lambda x: x.clone().renorm_(2, 0, 1.0),
        lambda x: x.clone().renorm_(2, 0, 1.0),
        _rows_of_norm_near_one,
    ),
    _spec(
        "fill_diagonal_",
        lambda x: x.clone().fill_diagonal_(-2.0),
        lambda x: x.clone().fill_diagonal_(-2.0),
        lambda rng: (rng.standard_normal((3, 4)),),
    ),
    _spec(
        "fill_diagonal_wrap",
        lambda x: x.clone().fill_diagonal_(0.5, wrap=True),
        lambda x: x.clone().fill_diagonal_(0.5, wrap=True),
        lambda rng: (rng.standard_normal((7, 2)),),
    ),
    _spec(
        "fill_diagonal_cube",
        lambda x: x.clone().fill_diagonal_(3.0),
        lambda x: x.clone().fill_diagonal_(3.0),
        lambda rng: (rng.standard_normal((2, 2, 2)),),
    ),
    _spec(
        "addcmul_",
        lambda x, a, b: x.clone().addcmul_(a, b, value=0.5),
        lambda x, a, b: x.clone().addcmul_(a, b, value=0.5),
        _addc,
    ),
    _spec(
        "addcdiv_",
        lambda x, a, b: x.clone().addcdiv_(a, b, value=-0.3),
        lambda x, a, b: x.clone().addcdiv_(a, b, value=-0.3),
        _addc,
    ),
    _spec(
        "addmm_",
        lambda x, a, b: x.clone().addmm_(a, b, beta=0.5, alpha=2.0),
        lambda x, a, b: x.clone().addmm_(a, b, beta=0.5, alpha=2.0),
        lambda rng: (
            rng.standard_normal((2, 4)),
            rng.standard_normal((2, 3)),
            rng.standard_normal((3, 4)),
        ),
    ),
    _spec(
        "baddbmm_",
        lambda x, a, b: x.clone().baddbmm_(a, b),
        lambda x, a, b: x.clone().baddbmm_(a, b),
        lambda rng: (
            rng.standard_normal((2, 2, 4)),
            rng.standard_normal((2, 2, 3)),
            rng.standard_normal((2, 3, 4)),
        ),
    ),
    _spec(
        "float_power_",
        lambda x, y: x.double().clone().float_power_(y),
        lambda x, y: x.double().clone().float_power_(y),
        lambda rng: (rng.uniform(0.5, 2.0, size=(3,)), rng.uniform(-1.0, 2.0, size=(3,))),
    ),
    _spec(
        "squeeze_unsqueeze_t_",
        lambda x: (x * 1).unsqueeze_(0).squeeze_(0).t_().transpose_(0, 1).swapaxes_(0, 1),
        lambda x: (x * 1).unsqueeze_(0).squeeze_(0).t_().transpose_(0, 1).swapaxes_(0, 1),
        lambda rng: (rng.standard_normal((2, 3)),),
    ),
    _spec(
        "pinverse",
        lambda x: x.pinverse(),
        lambda x: x.pinverse(),
        lambda rng: (rng.standard_normal((3, 2)),),
    ),
    _spec(
        "fractional_max_pool2d",
        lambda x: F.fractional_max_pool2d(
            x, 2, output_size=(3, 4), _random_samples=chainrule.tensor(SAMPLES_2D, device=x.device)
        ),
        lambda x: TF.fractional_max_pool2d(
            x, 2, output_size=(3, 4), _random_samples=torch.tensor(SAMPLES_2D, dtype=x.dtype)
        ),
        lambda rng: (rng.standard_normal((1, 2, 7, 6)),),
    ),
    _spec(
        "fractional_max_pool3d_unbatched",
        lambda x: F.fractional_max_pool3d(
            x,
            (2, 2, 3),
            output_size=3,
            _random_samples=chainrule.tensor(SAMPLES_3D, device=x.device),
        ),
        lambda x: TF.fractional_max_pool3d(
            x, (2, 2, 3), output_size=3, _random_samples=torch.tensor(SAMPLES_3D, dtype=x.dtype)
        ),
        lambda rng: (rng.standard_normal((1, 5, 5, 6)),),
    ),
]
