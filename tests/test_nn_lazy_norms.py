"""The lazy norm and transposed-convolution layers: each reads its size from the first input,
becomes the eager layer, and from then on is that layer, as PyTorch's; before the first input
its state dict and parameters have PyTorch's names."""

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn

LAZY_NORMS = [
    ("LazyBatchNorm1d", "BatchNorm1d", (4, 3, 5)),
    ("LazyBatchNorm2d", "BatchNorm2d", (2, 3, 4, 4)),
    ("LazyBatchNorm3d", "BatchNorm3d", (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", "InstanceNorm1d", (2, 3, 5)),
    ("LazyInstanceNorm2d", "InstanceNorm2d", (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", "InstanceNorm3d", (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize(("lazy", "eager", "shape"), LAZY_NORMS)
@pytest.mark.parametrize(
    "options", [{}, {"affine": False}, {"track_running_stats": False}, {"momentum": None}], ids=str
)
def test_lazy_norm_becomes_the_eager_layer_and_computes_as_torch(lazy, eager, shape, options):
    ours = getattr(nn, lazy)(**options)
    theirs = getattr(torch.nn, lazy)(**options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(2):  # the second call runs the eager layer
        np.testing.assert_allclose(
            ours(chainrule.tensor(x)).detach().numpy(),
            theirs(torch.tensor(x)).detach().numpy(),
            rtol=1e-5,
            atol=1e-5,
        )
    assert type(ours) is getattr(nn, eager)
    assert ours.num_features == shape[1]
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(reference)
    for key in mine:
        np.testing.assert_allclose(mine[key].numpy(), reference[key].numpy(), rtol=1e-5, atol=1e-6)


def test_lazy_norm_defaults_are_pytorchs():
    """Unlike InstanceNorm's, LazyInstanceNorm's affine and track_running_stats default True."""
    for name in ("LazyBatchNorm1d", "LazyInstanceNorm2d"):
        ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
        assert (ours.affine, ours.track_running_stats) == (
            theirs.affine,
            theirs.track_running_stats,
        )
        assert isinstance(ours.weight, nn.UninitializedParameter)
        assert isinstance(ours.running_mean, nn.UninitializedBuffer)
        assert ours.num_batches_tracked.item() == 0


def test_an_optimizer_made_before_the_first_input_trains_the_materialized_parameters():
    layer = nn.LazyBatchNorm1d()
    optimizer = chainrule.optim.SGD(layer.parameters(), lr=0.5)
    layer(chainrule.randn(4, 3)).pow(2).sum().backward()
    optimizer.step()
    assert layer.weight.shape == (3,)
    assert not chainrule.equal(layer.weight, chainrule.ones(3))  # the step reached it


def test_uninitialized_buffer_materializes_in_place():
    buffer = nn.UninitializedBuffer(dtype=chainrule.float64)
    assert repr(buffer) == "<UninitializedBuffer>"
    same = buffer
    buffer.materialize((2, 3))
    assert same is buffer
    assert type(buffer) is chainrule.Tensor
    assert buffer.shape == (2, 3) and buffer.dtype == chainrule.float64


@pytest.mark.parametrize(
    ("name", "shape", "options"),
    [
        ("LazyConvTranspose1d", (2, 6, 5), {"groups": 2}),
        ("LazyConvTranspose2d", (1, 3, 4, 4), {"stride": 2, "output_padding": 1}),
        ("LazyConvTranspose3d", (1, 2, 3, 3, 3), {"padding": 1, "bias": False}),
    ],
)
def test_lazy_conv_transpose_reads_in_channels_and_computes_as_torch(name, shape, options):
    ours = getattr(nn, name)(4, 3, **options)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    y = ours(chainrule.tensor(x))
    eager = name.replace("Lazy", "")
    assert type(ours) is getattr(nn, eager)
    assert ours.in_channels == shape[1]
    assert ours.weight.shape[0] == shape[1]  # (in, out / groups, *kernel)
    theirs = getattr(torch.nn, eager)(shape[1], 4, 3, **options)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(
        y.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )


def test_lazy_conv_transpose_refuses_channels_its_groups_do_not_divide():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConvTranspose1d(4, 3, groups=2)(chainrule.zeros(1, 3, 5))


def _lazy_stack(lib):
    return lib.nn.Sequential(
        lib.nn.LazyLinear(3),
        lib.nn.ReLU(),
        lib.nn.LazyBatchNorm1d(),
        lib.nn.Unflatten(1, (3, 1)),
        lib.nn.LazyConv1d(2, 1),
    )


def _trained_state(lib):
    eager = lib.nn.Sequential(
        lib.nn.Linear(5, 3),
        lib.nn.ReLU(),
        lib.nn.BatchNorm1d(3),
        lib.nn.Unflatten(1, (3, 1)),
        lib.nn.Conv1d(3, 2, 1),
    )
    with lib.no_grad():
        for i, p in enumerate(eager.parameters()):
            p.copy_(lib.sin(lib.arange(p.numel(), dtype=lib.float32) + i).view_as(p))
        eager[2].running_mean.fill_(0.25)
        eager[2].num_batches_tracked.fill_(7)
    return eager, eager.state_dict()


def test_a_checkpoint_loads_into_lazy_layers_before_their_first_input_as_torch():
    """An inference script builds the lazy model and loads trained weights before any input:
    the waiting parameters take the checkpoint's shapes (PyTorch's _lazy_load_hook), the first
    call keeps the loaded values, and the layers become eager with PyTorch's sizes (LazyLinear
    reads in_features from the input; the conv's in_channels and the norm's num_features stay
    0, as in PyTorch)."""
    results = {}
    for lib in (chainrule, torch):
        eager, state = _trained_state(lib)
        lazy = _lazy_stack(lib)
        report = lazy.load_state_dict(state)
        assert not report.missing_keys and not report.unexpected_keys
        lazy.eval()
        eager.eval()
        x = lib.cos(lib.arange(20, dtype=lib.float32)).view(4, 5)
        with lib.no_grad():
            out = lazy(x)
            assert lib.equal(out, eager(x))
        results[lib.__name__] = (out.tolist(), repr(lazy), lazy[2].num_batches_tracked.item())
    ours, theirs = results["chainrule"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-7)
    assert ours[1] == theirs[1]  # Linear(in_features=5...), BatchNorm1d(0, ...), Conv1d(0, ...)
    assert ours[2] == theirs[2] == 7


def test_a_lazy_linear_loaded_then_called_with_another_width_fails_as_torch():
    for lib in (chainrule, torch):
        layer = lib.nn.LazyLinear(3)
        layer.load_state_dict(lib.nn.Linear(4, 3).state_dict())
        with pytest.raises(AssertionError, match="in_features inferred from input: 6"):
            layer(lib.ones(2, 6))


def test_a_partial_checkpoint_leaves_the_rest_waiting_as_torch():
    for lib in (chainrule, torch):
        layer = lib.nn.LazyLinear(3)
        report = layer.load_state_dict({"weight": lib.zeros(3, 4)}, strict=False)
        assert report.missing_keys == ["bias"]
        assert type(layer.weight).__name__ == "Parameter"
        assert type(layer.bias).__name__ == "UninitializedParameter"
        assert layer.has_uninitialized_params()
