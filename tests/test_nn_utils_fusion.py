"""torch.nn.utils' fusion of eval-mode BatchNorm into the layer before it, and skip_init:
the fused parameters equal PyTorch's for the same modules, and the fused layer computes what
the pair did."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn


def _pair(lib, kind: str):
    """The same layer and BatchNorm (seeded statistics and affine parameters) in `lib`."""
    generator = np.random.default_rng(3)
    layer, norm = {
        "conv2d": lambda: (lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4)),
        "conv1d_nobias": lambda: (lib.nn.Conv1d(2, 5, 3, bias=False), lib.nn.BatchNorm1d(5)),
        "convt2d": lambda: (lib.nn.ConvTranspose2d(3, 2, 3), lib.nn.BatchNorm2d(2)),
        "linear": lambda: (lib.nn.Linear(6, 4), lib.nn.BatchNorm1d(4)),
        "linear_one": lambda: (lib.nn.Linear(6, 4), lib.nn.BatchNorm1d(1)),
    }[kind]()
    modules = (layer, norm)
    for module in modules:
        for _, value in sorted(module.state_dict().items()):
            if value.dtype.is_floating_point:
                data = generator.uniform(0.5, 1.5, tuple(value.shape)).astype(np.float32)
                value.copy_(lib.tensor(data))
    return layer.eval(), norm.eval()


@pytest.mark.parametrize("kind", ["conv2d", "conv1d_nobias", "convt2d", "linear", "linear_one"])
def test_fused_parameters_equal_pytorchs(kind):
    fused = {}
    for lib in (chainrule, torch):
        layer, norm = _pair(lib, kind)
        utils = lib.nn.utils
        if kind.startswith("linear"):
            fused[lib.__name__] = utils.fuse_linear_bn_eval(layer, norm)
        else:
            fused[lib.__name__] = utils.fuse_conv_bn_eval(layer, norm, transpose=kind == "convt2d")
    ours, theirs = fused["chainrule"], fused["torch"]
    assert isinstance(ours.weight, nn.Parameter) and isinstance(ours.bias, nn.Parameter)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(
            getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy(), rtol=1e-6
        )


def test_the_fused_layer_computes_what_the_pair_did():
    conv, norm = _pair(chainrule, "conv2d")
    x = chainrule.randn(2, 3, 6, 6)
    fused = nn.utils.fuse_conv_bn_eval(conv, norm)
    assert chainrule.allclose(fused(x), norm(conv(x)), atol=1e-5)
    assert fused is not conv and conv.weight is not fused.weight  # conv itself is unchanged


def test_fusion_refuses_what_pytorch_refuses():
    conv, norm = _pair(chainrule, "conv2d")
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(conv.train(), norm)
    linear, norm = _pair(chainrule, "linear")
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(linear, nn.BatchNorm1d(3).eval())


def test_skip_init_builds_without_initialising():
    layer = nn.utils.skip_init(nn.Linear, 6, 1)
    assert tuple(layer.weight.shape) == (1, 6) and layer.weight.device.type == "cpu"
    assert layer.weight.requires_grad and isinstance(layer.weight, nn.Parameter)

    class NoDevice(nn.Module):
        def __init__(self, size):
            super().__init__()

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int, 3)
