"""chainrule.nn.functional beyond what the op specs check: randomness (dropout), state
(running statistics, embedding max_norm), errors that name the op and the shapes, dtypes end
to end, PyTorch's conventions at ties and masks, and each nn op's jvp rule."""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from chainrule.errors import DTypeError, ShapeError

RNG = np.random.default_rng(0)


def mine(array, requires_grad=False):
    return chainrule.tensor(np.asarray(array), requires_grad=requires_grad)


def theirs(array, requires_grad=False):
    return torch.tensor(np.asarray(array), requires_grad=requires_grad)


def close(actual, expected, atol=1e-6):
    actual = actual.detach().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=1e-5)


# ---- dropout -------------------------------------------------------------------------------


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest():
    chainrule.manual_seed(0)
    x = chainrule.ones(200, 500)
    out = F.dropout(x, p=0.3).numpy()
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.01
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.02  # the scaling keeps the expectation


def test_dropout_gradient_is_the_mask():
    chainrule.manual_seed(1)
    x = mine(RNG.standard_normal((50, 40)), requires_grad=True)
    out = F.dropout(x, p=0.5)
    out.sum().backward()
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 2.0, 0.0))


def test_dropout_is_the_identity_in_eval_and_for_p_0():
    x = mine(RNG.standard_normal((3, 4)))
    close(F.dropout(x, 0.5, training=False), x)
    close(F.dropout(x, 0.0), x)
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)


def test_dropout_is_reproducible_with_manual_seed_and_works_in_place():
    x = mine(RNG.standard_normal((4, 5)))
    chainrule.manual_seed(7)
    first = F.dropout(x, 0.4)
    chainrule.manual_seed(7)
    second = F.dropout(x, 0.4)
    close(first, second)
    y = x.clone()
    chainrule.manual_seed(7)
    result = F.dropout(y, 0.4, inplace=True)
    assert result is y
    close(y, first)


def test_dropout2d_zeroes_whole_channels():
    chainrule.manual_seed(3)
    out = F.dropout2d(chainrule.ones(8, 16, 3, 3), p=0.5).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < np.mean(per_channel[..., 0] == 0) < 1


def _mask_constant_dims(out):
    """The dimensions along which a dropout of ones is constant (whole slices kept or not)."""
    return [d for d in range(out.ndim) if bool((out == out.amax(d, keepdim=True)).all())]


@pytest.mark.parametrize(
    ("name", "shape", "warns"),
    [
        ("dropout1d", (9, 8), None),
        ("dropout1d", (8, 9, 7), None),
        ("dropout2d", (8, 9, 7, 6), None),
        ("dropout2d", (8, 9, 7), "assuming that channel-wise 1D dropout"),  # read as (N, C, L)
        ("dropout2d", (9, 8), "Received a 2-D input to dropout2d"),
        ("dropout2d", (6, 7, 5, 4, 3), "Received a 5-D input to dropout2d"),
        ("dropout3d", (6, 7, 5, 4, 3), None),
        ("dropout3d", (8, 9, 7, 6), None),  # read as (C, D, H, W)
        ("dropout3d", (8, 9, 7), "Received a 3-D input to dropout3d"),
        ("dropout3d", (16,), "Received a 1-D input to dropout3d"),
    ],
)
def test_channel_dropouts_read_input_ranks_as_torch(name, shape, warns):
    """Which slices share a mask, by input rank, and PyTorch's deprecation warnings:
    dropout2d drops per (first, second) dimension whatever the rank (a 3-D input is (N, C,
    L), not (C, H, W)); dropout1d and dropout3d drop per first dimension of an unbatched
    input; ranks outside each one's own warn (dropout1d raises)."""
    masks = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        lib.manual_seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(functional, name)(lib.ones(shape), 0.5)
        messages = [str(w.message) for w in caught]
        assert (warns is None and not messages) or any(warns in m for m in messages), messages
        masks.append(_mask_constant_dims(out))
    assert masks[0] == masks[1]
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(chainrule.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(chainrule.ones(5))


def test_alpha_dropout_keeps_mean_and_variance_of_a_standard_normal():
    chainrule.manual_seed(4)
    x = mine(RNG.standard_normal(200_000).astype(np.float32))
    out = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(out.mean()) < 0.02
    assert abs(out.std() - 1) < 0.02
    close(F.alpha_dropout(x, 0.2, training=False), x)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_a_probability_outside_0_1(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(chainrule.ones(3), p)


# ---- running statistics --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_updates_running_stats_like_torch(shape):
    running = [np.zeros(3, np.float32), np.ones(3, np.float32)]
    my_mean, my_var = mine(running[0]), mine(running[1])
    torch_mean, torch_var = theirs(running[0]), theirs(running[1])
    for step in range(3):
        batch = RNG.standard_normal(shape).astype(np.float32) * (step + 1) + step
        out = F.batch_norm(mine(batch), my_mean, my_var, training=True, momentum=0.2)
        expected = TF.batch_norm(theirs(batch), torch_mean, torch_var, training=True, momentum=0.2)
        close(out, expected, atol=1e-5)
    close(my_mean, torch_mean, atol=1e-5)
    close(my_var, torch_var, atol=1e-5)
    assert my_mean.dtype == chainrule.float32 and my_var.dtype == chainrule.float32
    evaluation = RNG.standard_normal(shape).astype(np.float32)
    close(
        F.batch_norm(mine(evaluation), my_mean, my_var, training=False),
        TF.batch_norm(theirs(evaluation), torch_mean, torch_var, training=False),
        atol=1e-5,
    )


def test_batch_norm_update_bumps_the_version_and_records_no_graph():
    running_mean, running_var = chainrule.zeros(3), chainrule.ones(3)
    x = mine(RNG.standard_normal((4, 3)), requires_grad=True)
    F.batch_norm(x.float(), running_mean, running_var, training=True)
    assert running_mean._version == 1 and running_var._version == 1
    assert running_mean.grad_fn is None and not running_mean.requires_grad


def test_instance_norm_updates_running_stats_like_torch():
    batch = RNG.standard_normal((3, 2, 5, 4))
    my_mean, my_var = (
        chainrule.zeros(2, dtype=chainrule.float64),
        chainrule.ones(2, dtype=chainrule.float64),
    )
    torch_mean, torch_var = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    out = F.instance_norm(mine(batch), my_mean, my_var, momentum=0.3)
    expected = TF.instance_norm(theirs(batch), torch_mean, torch_var, momentum=0.3)
    close(out, expected)
    close(my_mean, torch_mean)
    close(my_var, torch_var)
    frozen = F.instance_norm(mine(batch), my_mean, my_var, use_input_stats=False)
    close(frozen, TF.instance_norm(theirs(batch), torch_mean, torch_var, use_input_stats=False))


def test_batch_norm_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ShapeError, match=r"batch_norm.*more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(chainrule.ones(1, 3), None, None, training=True)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0), (0, 3, 2, 2)])
def test_batch_norm_of_an_empty_batch_in_training_is_empty_as_torchs(shape):
    """A detection head given no boxes: PyTorch returns the empty batch, leaves the running
    statistics as they were (no nan from an empty mean), and counts the batch; weight and
    bias get zero gradients."""
    ours = chainrule.nn.BatchNorm1d(3) if len(shape) < 4 else chainrule.nn.BatchNorm2d(3)
    reference = torch.nn.BatchNorm1d(3) if len(shape) < 4 else torch.nn.BatchNorm2d(3)
    x_ours, x_theirs = mine(np.zeros(shape), requires_grad=True), theirs(np.zeros(shape))
    x_theirs.requires_grad_()
    out, expected = ours.double()(x_ours), reference.double()(x_theirs)
    out.sum().backward()
    expected.sum().backward()
    assert tuple(out.shape) == tuple(expected.shape) == shape
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        close(getattr(ours, name), getattr(reference, name))
    close(ours.weight.grad, reference.weight.grad)
    close(ours.bias.grad, reference.bias.grad)
    assert tuple(x_ours.grad.shape) == shape


def test_embedding_max_norm_renormalizes_rows_in_place_like_torch():
    weight = RNG.standard_normal((5, 3)) * 3
    index = np.array([[0, 2], [2, 4]])
    my_weight, torch_weight = mine(weight), theirs(weight)
    out = F.embedding(mine(index), my_weight, max_norm=1.5)
    expected = TF.embedding(theirs(index), torch_weight, max_norm=1.5)
    close(out, expected)
    close(my_weight, torch_weight)


# ---- errors that name the op and the shapes ------------------------------------------------


def test_conv2d_channel_mismatch_names_the_op_and_both_shapes():
    x, w = chainrule.ones(64, 1, 28, 28), chainrule.ones(16, 3, 5, 5)
    with pytest.raises(
        ShapeError, match=r"conv2d.*\(16, 3, 5, 5\).*\(64, 1, 28, 28\).*3 channels.*got 1"
    ):
        F.conv2d(x, w)
    with pytest.raises(ValueError):  # also a ValueError, and a RuntimeError like PyTorch's
        F.conv2d(x, w)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (
            lambda: F.conv2d(chainrule.ones(1, 4, 5, 5), chainrule.ones(3, 2, 3, 3), groups=2),
            ShapeError,
            "divisible by 2",
        ),
        (
            lambda: F.conv2d(chainrule.ones(4, 5, 5), chainrule.ones(3, 4, 3)),
            ShapeError,
            "4D weight",
        ),
        (
            lambda: F.conv2d(chainrule.ones(5, 5), chainrule.ones(3, 1, 3, 3)),
            ShapeError,
            "3D .unbatched. or 4D",
        ),
        (
            lambda: F.conv2d(
                chainrule.ones(1, 1, 5, 5), chainrule.ones(1, 1, 3, 3), stride=2, padding="same"
            ),
            ValueError,
            "strided",
        ),
        (
            lambda: F.conv2d(chainrule.ones(1, 1, 2, 2), chainrule.ones(1, 1, 3, 3)),
            ShapeError,
            r"smaller than the \(dilated\) kernel",
        ),
        (
            lambda: F.conv2d(
                chainrule.ones(1, 1, 5, 5), chainrule.ones(1, 1, 3, 3, dtype=chainrule.float64)
            ),
            DTypeError,
            "same dtype",
        ),
        (
            lambda: F.conv2d(
                chainrule.ones(1, 1, 5, 5), chainrule.ones(2, 1, 3, 3), chainrule.ones(3)
            ),
            ShapeError,
            r"bias of shape \(2,\)",
        ),
        (
            lambda: F.conv_transpose2d(chainrule.ones(1, 3, 4, 4), chainrule.ones(2, 2, 3, 3)),
            ShapeError,
            "conv_transpose2d",
        ),
        (
            lambda: F.conv_transpose2d(
                chainrule.ones(1, 2, 4, 4), chainrule.ones(2, 2, 3, 3), output_padding=1
            ),
            ValueError,
            "output padding",
        ),
        (
            lambda: F.max_pool2d(chainrule.ones(1, 1, 5, 5), 2, padding=2),
            ValueError,
            "at most half",
        ),
        (lambda: F.max_pool2d(chainrule.ones(1, 1, 1, 1), 3), ShapeError, "too small"),
        (
            lambda: F.linear(chainrule.ones(2, 3), chainrule.ones(4, 5)),
            ShapeError,
            r"linear.*\(2, 3\).*\(4, 5\)",
        ),
        (
            lambda: F.layer_norm(chainrule.ones(2, 3), (4,)),
            ShapeError,
            r"normalized_shape=\[4\].*\(2, 3\)",
        ),
        (lambda: F.group_norm(chainrule.ones(2, 6, 4), 4), ShapeError, "divisible by num_groups"),
        (
            lambda: F.cross_entropy(chainrule.ones(3, 4), chainrule.tensor([0, 7, 1])),
            IndexError,
            "Target 7 is out of bounds",
        ),
        (
            lambda: F.cross_entropy(chainrule.ones(3, 4), chainrule.tensor([0, 1])),
            ShapeError,
            r"batch_size \(3\).*batch_size \(2\)",
        ),
        (
            lambda: F.cross_entropy(
                chainrule.ones(3, 4), chainrule.tensor([0, 1, 2]), reduction="avg"
            ),
            ValueError,
            "not a valid value",
        ),
        (
            lambda: F.nll_loss(chainrule.ones(3, 4), chainrule.tensor([0.0, 1.0, 2.0])),
            DTypeError,
            "expected target dtype to be Long or Byte",
        ),
        (
            lambda: F.embedding(chainrule.tensor([0, 5]), chainrule.ones(5, 2)),
            IndexError,
            "index out of range",
        ),
        (lambda: F.one_hot(chainrule.tensor([0, -1])), ValueError, "non-negative"),
        (lambda: F.one_hot(chainrule.tensor([0, 3]), 3), ValueError, "smaller than num_classes"),
        (
            lambda: F.interpolate(chainrule.ones(1, 1, 4), size=2, scale_factor=2.0),
            ValueError,
            "exactly one",
        ),
        (
            lambda: F.interpolate(chainrule.ones(1, 1, 4), size=2, mode="bilinear"),
            NotImplementedError,
            "needs 4D",
        ),
        (
            lambda: F.interpolate(chainrule.ones(1, 1, 4), size=2, mode="bicubic"),
            NotImplementedError,
            "bicubic mode needs 4D",
        ),
        (
            lambda: F.interpolate(chainrule.ones(1, 1, 4, 4), size=2, align_corners=True),
            ValueError,
            "align_corners",
        ),
        (
            lambda: F.binary_cross_entropy(
                chainrule.tensor([0.5, 1.5]), chainrule.tensor([0.0, 1.0])
            ),
            ValueError,
            "between 0 and 1",
        ),
        (lambda: F.glu(chainrule.ones(2, 3)), ShapeError, "even"),
    ],
)
def test_errors_name_the_op_and_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def _one_channel(lib, *spatial):
    return lib.ones(1, 1, *spatial)


# Bad option values that PyTorch's kernels refuse with RuntimeError: ours are DomainErrors,
# a RuntimeError (so a ported `except RuntimeError` catches them) and a ValueError.
REFUSED_OPTIONS = {
    "conv_stride_of_3_for_2_dims": lambda lib: lib.nn.functional.conv2d(
        _one_channel(lib, 5, 5), _one_channel(lib, 3, 3), stride=(1, 1, 1)
    ),
    "conv_padding_string": lambda lib: lib.nn.functional.conv1d(
        _one_channel(lib, 5), _one_channel(lib, 3), padding="full"
    ),
    "conv_same_and_strided": lambda lib: lib.nn.functional.conv1d(
        _one_channel(lib, 5), _one_channel(lib, 3), padding="same", stride=2
    ),
    "conv_negative_padding": lambda lib: lib.nn.functional.conv1d(
        _one_channel(lib, 5), _one_channel(lib, 3), padding=-1
    ),
    "conv_zero_groups": lambda lib: lib.nn.functional.conv1d(
        _one_channel(lib, 5), _one_channel(lib, 3), groups=0
    ),
    "conv_zero_dilation": lambda lib: lib.nn.functional.conv1d(
        _one_channel(lib, 5), _one_channel(lib, 3), dilation=0
    ),
    "conv_transpose_output_padding": lambda lib: lib.nn.functional.conv_transpose1d(
        _one_channel(lib, 5), _one_channel(lib, 3), stride=2, output_padding=2
    ),
    "max_pool_zero_kernel": lambda lib: lib.nn.functional.max_pool1d(_one_channel(lib, 5), 0),
    "avg_pool_zero_stride": lambda lib: lib.nn.functional.avg_pool1d(
        _one_channel(lib, 5), 2, stride=0
    ),
    "pool_padding_past_half_the_kernel": lambda lib: lib.nn.functional.max_pool1d(
        _one_channel(lib, 5), 2, padding=2
    ),
    "adaptive_pool_output_of_3_for_2_dims": lambda lib: lib.nn.functional.adaptive_avg_pool2d(
        _one_channel(lib, 5, 5), (2, 2, 2)
    ),
    "smooth_l1_negative_beta": lambda lib: lib.nn.functional.smooth_l1_loss(
        lib.ones(3), lib.ones(3), beta=-1.0
    ),
    "huber_zero_delta": lambda lib: lib.nn.functional.huber_loss(
        lib.ones(3), lib.ones(3), delta=0.0
    ),
    "label_smoothing_past_1": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=1.5
    ),
}


@pytest.mark.parametrize("call", REFUSED_OPTIONS.values(), ids=REFUSED_OPTIONS.keys())
def test_bad_options_raise_runtime_error_as_pytorchs_kernels_do(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(chainrule)
    with pytest.raises(ValueError):
        call(chainrule)


def test_a_string_padding_of_a_transposed_convolution_is_a_type_error():
    for lib in (torch, chainrule):
        with pytest.raises(TypeError):
            lib.nn.functional.conv_transpose1d(
                _one_channel(lib, 5), _one_channel(lib, 3), padding="same"
            )


# ---- dtypes, conventions, values -----------------------------------------------------------


def test_a_small_cnn_stays_float32_forward_and_backward():
    x = mine(RNG.standard_normal((4, 1, 8, 8)).astype(np.float32))
    w1 = mine(RNG.standard_normal((3, 1, 3, 3)).astype(np.float32), requires_grad=True)
    b1 = mine(np.zeros(3, np.float32), requires_grad=True)
    w2 = mine(RNG.standard_normal((5, 12)).astype(np.float32), requires_grad=True)
    gamma = mine(np.ones(3, np.float32), requires_grad=True)
    hidden = F.conv2d(x, w1, b1, padding=1)
    hidden = F.batch_norm(hidden, None, None, gamma, None, training=True)
    hidden = F.max_pool2d(F.relu(hidden), 2)
    hidden = F.adaptive_avg_pool2d(hidden, 2).flatten(1)
    loss = F.cross_entropy(
        F.linear(hidden, w2), chainrule.tensor([0, 1, 2, 3]), label_smoothing=0.1
    )
    loss.backward()
    assert loss.dtype == chainrule.float32
    for parameter in (w1, b1, w2, gamma):
        assert parameter.grad.dtype == chainrule.float32
        assert np.isfinite(parameter.grad.numpy()).all()


def test_convolution_nodes_are_named_like_torch():
    x = mine(np.ones((1, 1, 3, 3)), requires_grad=True)
    assert F.conv2d(x, mine(np.ones((1, 1, 2, 2)))).grad_fn.name() == "ConvolutionBackward0"


CONVOLUTION_LAYOUTS = [
    # (x shape, w shape, padding, groups): each column layout of ops/convolution.py
    ((2, 16, 14, 14), (8, 16, 5, 5), 2, 1),  # channels last (many channels, narrow image)
    ((2, 1, 28, 28), (4, 1, 5, 5), 2, 1),  # channels first (one channel, wide image)
    ((2, 8, 6, 6, 6), (4, 4, 3, 3, 3), 1, 2),  # 3-d, grouped
    ((2, 12, 9), (6, 4, 3), 0, 3),  # 1-d, grouped
]


@pytest.mark.parametrize("x_shape, w_shape, padding, groups", CONVOLUTION_LAYOUTS)
def test_convolutions_give_contiguous_outputs_and_gradients_as_torch(
    x_shape, w_shape, padding, groups
):
    """PyTorch's convolutions return contiguous tensors (strides as `stride()` reports them),
    and so do their gradients; a program that checks `is_contiguous()` or `stride()` sees the
    same here."""
    rng = np.random.default_rng(0)
    x_array = rng.standard_normal(x_shape).astype(np.float32)
    w_array = rng.standard_normal(w_shape).astype(np.float32)
    dims = len(x_shape) - 2
    results = {}
    for library, functional in (("chainrule", F), ("torch", TF)):
        make = mine if library == "chainrule" else torch.tensor
        x, w = make(x_array, requires_grad=True), make(w_array, requires_grad=True)
        out = getattr(functional, f"conv{dims}d")(x, w, padding=padding, groups=groups)
        back = getattr(functional, f"conv_transpose{dims}d")(out, w, padding=padding, groups=groups)
        back.sum().backward()
        results[library] = [(t.stride(), t.is_contiguous()) for t in (out, back, x.grad, w.grad)]
    assert results["chainrule"] == results["torch"]


EMPTY_ADAPTIVE_POOLS = {
    "avg1d": lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 0),
    "avg1d_unbatched": lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x[0], 0),
    "avg2d": lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x[None], (0, 2)),
    "avg3d": lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x[None, None], (0, 2, 1)),
    "max1d": lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 0, return_indices=True),
    "max2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x[None], (0, 2)),
    "interpolate_area": lambda lib, x: lib.nn.functional.interpolate(x, size=0, mode="area"),
    "interpolate_area_scale": lambda lib, x: lib.nn.functional.interpolate(
        x[None], scale_factor=(0.3, 1.5), mode="area"
    ),
}


@pytest.mark.parametrize("name", EMPTY_ADAPTIVE_POOLS)
def test_adaptive_pools_to_a_size_of_zero_give_empty_results_as_torch(name):
    """Output size 0 (also interpolate's area mode, an adaptive average pool, at a scale that
    floors to 0) is an empty result in the graph, as PyTorch's; the other modes refuse it."""
    results = []
    for lib in (chainrule, torch):
        out = EMPTY_ADAPTIVE_POOLS[name](lib, lib.ones(2, 3, 4, requires_grad=True))
        pieces = out if isinstance(out, tuple) else (out,)
        results.append(
            [(tuple(p.shape), str(p.dtype).split(".")[1], p.requires_grad) for p in pieces]
        )
        results[-1].append(type(pieces[0].grad_fn).__name__)
    assert results[0] == results[1]
    messages = []
    for lib in (chainrule, torch):
        out = EMPTY_ADAPTIVE_POOLS[name](lib, lib.ones(2, 3, 4, requires_grad=True))
        with pytest.raises(
            RuntimeError, match="Expected grad_output to have non-zero size"
        ) as error:
            (out[0] if isinstance(out, tuple) else out).sum().backward()
        messages.append(str(error.value))
        with pytest.raises(RuntimeError, match="greater than 0|must be positive"):
            lib.nn.functional.interpolate(lib.ones(2, 3, 4), size=0, mode="nearest")
    assert messages[0] == messages[1]


POOLS_OF_AN_EMPTY_BATCH = {
    "adaptive_max_pool1d": lambda functional, x: functional.adaptive_max_pool1d(x[..., 0], 2),
    "adaptive_max_pool2d": lambda functional, x: functional.adaptive_max_pool2d(
        x, 1, return_indices=True
    ),
    "adaptive_max_pool3d": lambda functional, x: functional.adaptive_max_pool3d(
        x[:, None], (1, 2, 1)
    ),
    "adaptive_avg_pool2d": lambda functional, x: functional.adaptive_avg_pool2d(x, 3),
    "max_pool2d": lambda functional, x: functional.max_pool2d(x, 2, return_indices=True),
    "avg_pool3d": lambda functional, x: functional.avg_pool3d(x[:, None], 2),
    "lp_pool2d": lambda functional, x: functional.lp_pool2d(x, 2, 2),
    "fractional_max_pool2d": lambda functional, x: functional.fractional_max_pool2d(
        x, 2, output_size=2
    ),
}


@pytest.mark.parametrize("name", POOLS_OF_AN_EMPTY_BATCH)
def test_pools_of_an_empty_batch_are_empty_as_torchs(name):
    """A batch of no samples pools to no samples (a detector's empty crop batch, an empty
    last batch), with an empty gradient: shapes, dtypes and grad_fn as PyTorch's."""
    seen = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.zeros(0, 3, 4, 4, requires_grad=True)
        out = POOLS_OF_AN_EMPTY_BATCH[name](functional, x)
        pieces = out if isinstance(out, tuple) else (out,)
        pieces[0].sum().backward()
        seen.append(
            [(tuple(p.shape), str(p.dtype).split(".")[1]) for p in pieces]
            + [type(pieces[0].grad_fn).__name__, tuple(x.grad.shape)]
        )
    assert seen[0] == seen[1]


def test_max_pool_sends_the_gradient_of_a_tie_to_the_first_maximum_like_torch():
    values = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0], [0.0, 0.0, 5.0, 5.0]]]])
    x, y = mine(values, requires_grad=True), theirs(values, requires_grad=True)
    out, indices = F.max_pool2d(x, (2, 2), stride=1, return_indices=True)
    expected, expected_indices = TF.max_pool2d(y, (2, 2), stride=1, return_indices=True)
    close(indices, expected_indices)
    out.sum().backward()
    expected.sum().backward()
    close(x.grad, y.grad)


def test_max_pool_with_nan_takes_the_nan_and_its_index_like_torch():
    values = RNG.standard_normal((2, 3, 6, 6))
    values[0, 1, 2, 3] = values[1, 2, 0, 0] = values[1, 2, 5, 4] = np.nan
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        out, indices = F.max_pool2d(mine(values), return_indices=True, **kwargs)
        expected, expected_indices = TF.max_pool2d(theirs(values), return_indices=True, **kwargs)
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
        np.testing.assert_array_equal(out.numpy(), expected.numpy())  # NaN where torch has it


def test_max_pool_indices_with_padding_and_dilation_are_torchs():
    values = RNG.standard_normal((2, 2, 9, 8))
    kwargs = {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (2, 3)}
    _, indices = F.max_pool2d(mine(values), return_indices=True, **kwargs)
    _, expected = TF.max_pool2d(theirs(values), return_indices=True, **kwargs)
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


@pytest.mark.parametrize("shape", [(1, 2, 3), (1, 2, 3, 8), (1, 1, 3, 2, 4)])
def test_nearest_interpolation_keeps_torchs_values_when_a_scaled_size_stays(shape):
    x = RNG.standard_normal(shape)
    close(F.interpolate(mine(x), scale_factor=1.3), TF.interpolate(theirs(x), scale_factor=1.3))


@pytest.mark.parametrize("align_corners", [False, True])
def test_bicubic_interpolation_keeps_torchs_values_when_a_scaled_size_stays(align_corners):
    x = RNG.standard_normal((1, 2, 4, 5))
    options = {"scale_factor": 1.1, "mode": "bicubic", "align_corners": align_corners}
    close(F.interpolate(mine(x), **options), TF.interpolate(theirs(x), **options))


def test_one_hot_matches_torch():
    index = np.array([[0, 3], [2, 1]])
    out = F.one_hot(mine(index))
    assert out.dtype == chainrule.int64
    close(out, TF.one_hot(theirs(index)))
    close(F.one_hot(mine(index), 6), TF.one_hot(theirs(index), 6))


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    logits = RNG.standard_normal((2, 3))
    with np.errstate(invalid="ignore"):  # 0 / 0, as in PyTorch
        out = F.cross_entropy(mine(logits), chainrule.tensor([-100, -100]))
    assert np.isnan(out.item()) and np.isnan(
        TF.cross_entropy(theirs(logits), torch.tensor([-100, -100])).item()
    )


@pytest.mark.parametrize(
    "targets, weight",
    [
        ([-100, -100, -100], None),  # a batch of padding only: nan loss, zero gradients
        ([-100, -100, -100], [0.5, 2.0, 1.0]),
        ([2, -100, 0], [0.5, 2.0, 1.0]),  # some kept: the kept rows' gradients only
        ([1, 1, -100], [0.5, 0.0, 1.0]),  # kept with 0 weight: 0/0, nan gradients in both
    ],
)
@pytest.mark.parametrize("spatial", [False, True])
def test_nll_loss_gradients_skip_ignored_targets_as_torchs_backward(targets, weight, spatial):
    """PyTorch's nll_loss backward writes -w/total at kept targets and nothing elsewhere, so
    a mean over targets that are all ignore_index is nan with zero gradients (cross_entropy
    is the same, through its fused op)."""
    logits = RNG.standard_normal((3, 3))
    target = np.array(targets)
    if spatial:  # (N, C, d) with targets (N, d): the NllLoss2d form
        logits, target = logits.T[None], target[None]
    ours_x, theirs_x = mine(logits, requires_grad=True), theirs(logits).requires_grad_()
    w_ours = None if weight is None else mine(np.array(weight))
    w_theirs = None if weight is None else theirs(np.array(weight))
    with np.errstate(invalid="ignore", divide="ignore"):
        ours = F.nll_loss(F.log_softmax(ours_x, 1), mine(target), weight=w_ours)
        ours.backward()
    theirs_loss = TF.nll_loss(TF.log_softmax(theirs_x, 1), torch.tensor(target), weight=w_theirs)
    theirs_loss.backward()
    np.testing.assert_allclose(ours.item(), theirs_loss.item(), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(
        ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6, atol=1e-12, equal_nan=True
    )


def test_attention_rows_with_every_position_masked_give_zero_and_finite_gradients():
    q = mine(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    k, v = mine(RNG.standard_normal((2, 5, 4))), mine(RNG.standard_normal((2, 5, 3)))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, chainrule.tensor(mask))
    expected = TF.scaled_dot_product_attention(
        theirs(q.detach().numpy()), theirs(k.numpy()), theirs(v.numpy()), torch.tensor(mask)
    )
    close(out, expected)
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()
    np.testing.assert_array_equal(q.grad.numpy()[:, 1], 0.0)


@pytest.mark.parametrize("shape", [(1, 2, 4, 8), (2, 4, 64, 32)], ids=["numpy", "compiled"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_causal_attention_ignores_what_the_mask_hides_as_pytorch(shape, bad):
    """A NaN or inf in a later key reaches only the queries that may see it: the masked scores
    take no part in the softmax (PyTorch's CPU attention), rather than making every row NaN
    through NaN + -inf or inf - inf."""
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    k[..., 3, 0] = bad
    out = F.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, v)), is_causal=True)
    expected = TF.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), is_causal=True
    )
    assert np.isfinite(out.numpy()[..., :3, :]).all()
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lengths", [(2, 5), (5, 3), (4, 4)], ids=["L<S", "L>S", "L=S"])
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
def test_causal_bias_masks_attention_as_torch(variant, lengths):
    """torch.nn.attention.bias: the triangle anchored top-left (is_causal's) or bottom-right
    (a cached decoder step's: the last query sees every key). Values, gradients and the
    materialised mask are PyTorch's; a lower-right mask with more queries than keys leaves
    the first rows empty (0 here as there) and warns as PyTorch does."""
    import torch.nn.attention.bias as torch_bias

    import chainrule.nn.attention.bias as our_bias

    length, source = lengths
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 3, n, 4)) for n in (length, source, source))
    results, masks = [], []
    for lib, module in ((chainrule, our_bias), (torch, torch_bias)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bias = getattr(module, variant)(length, source)
        assert len(caught) == (variant == "causal_lower_right" and length > source)
        masks.append(bias._materialize().numpy())
        inputs = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = lib.nn.functional.scaled_dot_product_attention(*inputs, attn_mask=bias, scale=0.7)
        (out * lib.tensor(np.sin(np.arange(out.numel())).reshape(out.shape))).sum().backward()
        results.append([out.detach().numpy(), *(t.grad.numpy() for t in inputs)])
        with pytest.raises(ValueError, match="should not be used with causal=True"):
            lib.nn.functional.scaled_dot_product_attention(*inputs, attn_mask=bias, is_causal=True)
        with pytest.raises(AssertionError, match="only supports 2D"):
            getattr(module, variant)(length)
    np.testing.assert_array_equal(*masks)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "mask_shape", [(5, 6), (2, 1, 5, 6), (1, 1, 1, 6)], ids=["2-D", "4-D", "broadcast row"]
)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_mask_with_is_causal_applies_both_where_torchs_cpu_flash_kernel_runs(mask_shape, kind):
    """PyTorch's documentation says the pair is refused, but its CPU flash kernel (4-D
    operands, a 2-D or 4-D mask without grad, no dropout) takes the mask and the causal
    triangle together: a bool mask AND the triangle, a float mask plus -inf above it. Values
    and gradients are PyTorch's, rows the pair leaves empty included (0, zero gradient)."""
    rng = np.random.default_rng(11)
    q = rng.standard_normal((2, 3, 5, 4))
    k, v = rng.standard_normal((2, 3, 6, 4)), rng.standard_normal((2, 3, 6, 4))
    raw = rng.standard_normal(mask_shape)
    raw[..., 0, :] = np.abs(raw[..., 0, :]) + 1  # the first query's only causal key: masked
    raw[..., 0, 0] = -1.0
    mask = raw > 0 if kind == "bool" else np.where(raw > 0, raw, -np.inf)
    results = []
    for lib in (chainrule, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = lib.nn.functional.scaled_dot_product_attention(
            *inputs, attn_mask=lib.tensor(mask), is_causal=True
        )
        (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum().backward()
        results.append([out.detach().numpy(), *(t.grad.numpy() for t in inputs)])
        assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(results[0][0][..., 0, :], 0.0)


@pytest.mark.parametrize(
    "case",
    ["3-D mask", "mask requires grad", "dropout", "3-D operands", "value head size differs"],
)
def test_a_mask_with_is_causal_is_refused_where_torch_takes_its_math_kernel(case):
    q = k = v = np.ones((1, 2, 3, 4))
    mask, dropout = np.ones((3, 3), bool), 0.0
    if case == "3-D mask":
        mask = np.ones((2, 3, 3), bool)
    elif case == "dropout":
        dropout = 0.5
    elif case == "3-D operands":
        q = k = v = np.ones((2, 3, 4))
    elif case == "value head size differs":
        v = np.ones((1, 2, 3, 2))
    for lib in (chainrule, torch):
        attn_mask = lib.tensor(mask if case != "mask requires grad" else mask.astype(float))
        attn_mask.requires_grad_(case == "mask requires grad")
        with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
            lib.nn.functional.scaled_dot_product_attention(
                lib.tensor(q), lib.tensor(k), lib.tensor(v), attn_mask, dropout, is_causal=True
            )


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
@pytest.mark.parametrize("mask", ["float32", "bool", "causal"])
def test_attention_in_another_precision_takes_a_float32_mask_and_rounds_once_as_torch(dtype, mask):
    """A float32 additive mask serves a query of any floating dtype (the output keeps the
    query's dtype), and half-precision attention is accumulated in float32 and rounded once,
    as PyTorch's CPU kernels: the output within a unit in the last place of PyTorch's (rounding
    every intermediate lands ten times further off), the gradients of q, k and v as close to
    the exact ones (float64 on the same rounded inputs)."""
    rng = np.random.default_rng(3)
    q, k, v = (3 * rng.standard_normal((2, 2, 5, 8)).astype(np.float32) for _ in range(3))
    additive = np.triu(np.full((5, 5), -1e4, np.float32), 1) + rng.uniform(-1, 0, (5, 5))
    kwargs = {
        "float32": lambda lib: {"attn_mask": lib.tensor(additive.astype(np.float32))},
        "bool": lambda lib: {"attn_mask": lib.tensor(additive > -1)},
        "causal": lambda lib: {"is_causal": True},
    }[mask]
    results = {}
    for name, lib, compute in [
        ("ours", chainrule, dtype),
        ("torch", torch, dtype),
        ("exact", torch, "float64"),
    ]:
        rounded = [lib.tensor(a).to(getattr(lib, dtype)) for a in (q, k, v)]
        inputs = [t.to(getattr(lib, compute)).requires_grad_() for t in rounded]
        out = lib.nn.functional.scaled_dot_product_attention(*inputs, **kwargs(lib))
        assert out.dtype == getattr(lib, compute)
        (out.double() * lib.tensor(v[..., :1]).double()).sum().backward()
        results[name] = [t.double().detach().numpy() for t in [out, *(i.grad for i in inputs)]]
    ulp = {"bfloat16": 2**-7, "float16": 2**-10, "float64": 1e-12}[dtype]
    scale = np.abs(results["exact"][0]).max()
    np.testing.assert_allclose(results["ours"][0], results["torch"][0], atol=2 * ulp * scale)
    for ours, exact in zip(results["ours"][1:], results["exact"][1:]):
        np.testing.assert_allclose(ours, exact, atol=4 * ulp * np.abs(exact).max())


def test_attention_under_cpu_autocast_is_bfloat16_attention_as_torch():
    """Under autocast the operands are cast to bfloat16 and the attention then runs as it does
    on bfloat16 tensors (accumulated in float32): autocast must not take the float32 inner
    products back down to bfloat16."""
    rng = np.random.default_rng(4)
    q, k, v = (3 * rng.standard_normal((1, 2, 4, 16)).astype(np.float32) for _ in range(3))
    mask = np.triu(np.full((4, 4), -1e4, np.float32), 1)
    outs = []
    for lib in (chainrule, torch):
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = lib.nn.functional.scaled_dot_product_attention(
                *(lib.tensor(a) for a in (q, k, v)), attn_mask=lib.tensor(mask)
            )
        plain = lib.nn.functional.scaled_dot_product_attention(
            *(lib.tensor(a).bfloat16() for a in (q, k, v)), attn_mask=lib.tensor(mask)
        )
        assert out.dtype == lib.bfloat16 and lib.equal(out, plain)
        outs.append(out.float().numpy())
    np.testing.assert_allclose(*outs, atol=2**-7 * np.abs(outs[1]).max())


@pytest.mark.parametrize(
    ("mask_dtype", "operands"),
    [("float16", "float32"), ("int64", "float32"), ("float64", "float32"), (None, "mixed")],
)
def test_attention_refuses_a_mask_or_operands_of_the_wrong_dtype_as_torch(mask_dtype, operands):
    def call(lib):
        q = lib.ones(1, 2, 3, 4)
        k = q.double() if operands == "mixed" else q
        mask = None if mask_dtype is None else lib.zeros(3, 3, dtype=getattr(lib, mask_dtype))
        return lib.nn.functional.scaled_dot_product_attention(q, k, q, attn_mask=mask)

    with pytest.raises(RuntimeError, match="Expected"):
        call(torch)
    with pytest.raises(DTypeError, match="Expected (attn_mask dtype|query, key, and value)"):
        call(chainrule)


def test_softmax_without_dim_uses_torchs_legacy_choice():
    x = RNG.standard_normal((2, 3))
    with pytest.warns(UserWarning):
        expected = TF.softmax(theirs(x))
    close(F.softmax(mine(x)), expected)


def test_functional_names_match_torch():
    missing = [name for name in F.__all__ if not hasattr(TF, name)]
    assert not missing, missing
    for name in F.__all__:
        assert callable(getattr(F, name))


# ---- jvp rules: <jvp(t), c> == <t, vjp(c)> for every nn op ----------------------------------


def _jvp_case(name):
    x4 = RNG.standard_normal((2, 4, 5, 5))
    w4 = RNG.standard_normal((6, 2, 3, 3))
    index = np.array([[0, 2, 2], [1, 0, 3]])
    cases = {
        "conv2d": (
            lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
            [x4, w4, RNG.standard_normal(6)],
        ),
        "conv_transpose2d": (
            lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
            [RNG.standard_normal((2, 6, 3, 3)), w4],
        ),
        "max_pool2d": (lambda x: F.max_pool2d(x, 2), [x4]),
        "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, 3), [x4]),
        "linear": (
            F.linear,
            [RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4)), RNG.standard_normal(2)],
        ),
        "layer_norm": (lambda x: F.layer_norm(x, (5,)), [RNG.standard_normal((3, 5))]),
        "embedding": (
            lambda w: F.embedding(chainrule.tensor(index), w),
            [RNG.standard_normal((4, 3))],
        ),
        "selu": (F.selu, [RNG.standard_normal(6)]),
        "mish": (F.mish, [RNG.standard_normal(6)]),
        "hardsigmoid": (F.hardsigmoid, [RNG.standard_normal(6) * 4]),
        "hardswish": (F.hardswish, [RNG.standard_normal(6) * 4]),
        "logsigmoid": (F.logsigmoid, [RNG.standard_normal(6)]),
        "cross_entropy": (
            lambda x: F.cross_entropy(x, chainrule.tensor([1, -100, 0]), reduction="none"),
            [RNG.standard_normal((3, 4))],
        ),
    }
    return cases[name]


JVP_CASES = [
    "conv2d", "conv_transpose2d", "max_pool2d", "adaptive_max_pool2d", "linear", "layer_norm",
    "embedding", "selu", "mish", "hardsigmoid", "hardswish", "logsigmoid", "cross_entropy",
]  # fmt: skip


@pytest.mark.parametrize("name", JVP_CASES)
def test_jvp_rule_is_the_transpose_of_the_vjp(name):
    function, arrays = _jvp_case(name)
    inputs = [mine(a, requires_grad=True) for a in arrays]
    out = function(*inputs)
    node = out.grad_fn
    assert node.op.jvp is not None, f"{name}: {node.name()} has no jvp"
    # one tangent per input of the op (None for integer inputs such as indices)
    tangents = [
        RNG.standard_normal(shape) if dtype.is_floating_point else None
        for shape, dtype in node.input_meta
    ]
    cotangent = RNG.standard_normal(out.shape)
    outputs = [mine(cotangent)]
    if len(node.output_meta) > 1:  # (values, indices): no cotangent for the indices
        outputs = node.op.materialize_grads(node, outputs + [None] * (len(node.output_meta) - 1))
    with chainrule.no_grad():
        jvp = node.op.jvp(node, *[None if t is None else mine(t) for t in tangents])
        jvp = jvp[0] if isinstance(jvp, tuple) else jvp  # (values, indices): the values' tangent
        grads = node.op.vjp(node, *outputs)
    left = float(np.sum(jvp.numpy() * cotangent))
    right = sum(
        float(np.sum(g.numpy() * t))
        for g, t in zip(grads, tangents)
        if g is not None and t is not None
    )
    assert np.isclose(left, right, rtol=1e-8, atol=1e-8), (left, right)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16"])
def test_max_pooling_takes_integers_where_torch_does(dtype):
    rng = np.random.default_rng(0)
    for name, shape in (
        ("max_pool1d", (1, 2, 6)),
        ("max_pool2d", (1, 2, 5, 5)),
        ("max_pool3d", (1, 1, 4, 4, 4)),
    ):
        values = rng.integers(0, 120, size=shape)
        for return_indices in (False, True):
            outcomes = []
            for lib, functional in ((torch, TF), (chainrule, F)):
                x = lib.tensor(values).to(getattr(lib, dtype))
                try:
                    result = getattr(functional, name)(
                        x, 2, padding=1, return_indices=return_indices
                    )
                except (RuntimeError, TypeError):  # torch refuses max_pool1d without indices
                    outcomes.append("refused")
                    continue
                out = result[0] if return_indices else result
                outcomes.append((str(out.dtype).split(".")[-1], out.numpy().tolist()))
            assert outcomes[0] == outcomes[1], (name, return_indices)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_resizes_uint8_images_by_nearest_as_torch(mode):
    rng = np.random.default_rng(1)
    for shape, options in (
        ((2, 3, 7, 9), {"scale_factor": 2}),
        ((2, 3, 7, 9), {"size": (13, 17)}),
        ((2, 3, 7), {"scale_factor": 1.7}),
        ((1, 2, 3, 4, 5), {"size": (2, 7, 3)}),
    ):
        image = rng.integers(0, 256, size=shape).astype(np.uint8)
        expected = TF.interpolate(torch.tensor(image), mode=mode, **options)
        actual = F.interpolate(chainrule.tensor(image), mode=mode, **options)
        assert actual.dtype.name == "uint8"
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())


@pytest.mark.parametrize(
    "dims, shape", [(1, (2, 3, 8)), (2, (2, 3, 6, 6)), (2, (3, 4, 4)), (3, (1, 2, 4, 4, 4))]
)
def test_max_unpool_undoes_max_pool_as_torch(dims, shape):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(shape)
    for options in ({}, {"stride": 1}, {"padding": 1}):
        results = []
        for lib, functional in ((torch, TF), (chainrule, F)):
            pooled, indices = getattr(functional, f"max_pool{dims}d")(
                lib.tensor(values), 2, return_indices=True, **options
            )
            pooled.requires_grad_(True)
            out = getattr(functional, f"max_unpool{dims}d")(pooled, indices, 2, **options)
            cotangent = np.random.default_rng(1).standard_normal(tuple(out.shape))
            (out * lib.tensor(cotangent)).sum().backward()
            results.append((out.detach().numpy(), pooled.grad.numpy()))
        np.testing.assert_allclose(results[1][0], results[0][0])
        np.testing.assert_allclose(results[1][1], results[0][1])


def test_max_unpool_output_size_and_module_as_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    p_t, i_t = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    p_c, i_c = F.max_pool2d(chainrule.tensor(x), 2, return_indices=True)
    np.testing.assert_allclose(
        F.max_unpool2d(p_c, i_c, 2, output_size=(5, 5)).numpy(),
        TF.max_unpool2d(p_t, i_t, 2, output_size=(5, 5)).numpy(),
    )
    with pytest.raises(ValueError, match="must be between 2 and 6"):
        F.max_unpool2d(p_c, i_c, 2, output_size=(9, 9))
    module = chainrule.nn.MaxUnpool2d(2)
    np.testing.assert_allclose(module(p_c, i_c).numpy(), torch.nn.MaxUnpool2d(2)(p_t, i_t).numpy())


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("relu_", {}),
        ("elu_", {"alpha": 0.5}),
        ("celu_", {}),
        ("selu_", {}),
        ("leaky_relu_", {"negative_slope": 0.2}),
        ("hardtanh_", {"min_val": -0.5, "max_val": 0.5}),
        ("threshold_", {"threshold": 0.1, "value": 2.0}),
    ],
)
def test_in_place_activations_overwrite_their_input_and_differentiate_as_torch(name, kwargs):
    x = RNG.standard_normal((3, 4))
    leaf_mine, leaf_theirs = mine(x).requires_grad_(), theirs(x).requires_grad_()
    inner_mine, inner_theirs = leaf_mine * 2, leaf_theirs * 2
    result = getattr(F, name)(inner_mine, **kwargs)
    expected = getattr(TF, name)(inner_theirs, **kwargs)
    assert result is inner_mine
    close(result, expected)
    result.sum().backward()
    expected.sum().backward()
    close(leaf_mine.grad, leaf_theirs.grad)


def test_deprecated_upsample_functions_warn_and_interpolate():
    x = RNG.standard_normal((1, 2, 3, 3))
    for name in ("upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match="deprecated"):
            result = getattr(F, name)(mine(x), scale_factor=2)
        close(result, getattr(TF, name)(theirs(x), scale_factor=2))


def test_gaussian_nll_loss_refuses_negative_or_misshapen_variances():
    x = chainrule.zeros(3, 2)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -chainrule.ones(3, 2))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(x, x, chainrule.ones(2, 3))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.5])
def test_pdist_matches_torch(p):
    x = RNG.standard_normal((6, 4))
    close(F.pdist(mine(x), p), TF.pdist(theirs(x), p))


@pytest.mark.parametrize("p", [float("inf"), 0.0, 2.0, 0.5])
def test_pdist_gradients_follow_torchs_cdist_conventions_at_ties_and_zero_distances(p):
    """PyTorch's pdist, like its cdist, gives the whole gradient to every coordinate tied for
    the largest difference under p = inf (vector_norm would split it), and a zero gradient
    (not an unreached input) under p = 0; identical rows contribute 0, never nan."""
    points = np.array([[0.0, 0.0], [0.0, 0.5], [1.0, 1.0], [2.0, 1.5], [0.0, 0.0]])
    weights = np.arange(1.0, 11.0)
    x, tx = mine(points, requires_grad=True), theirs(points, requires_grad=True)
    (F.pdist(x, p) * mine(weights)).sum().backward()
    (TF.pdist(tx, p) * theirs(weights)).sum().backward()
    close(x.grad, tx.grad)


def test_pdist_refuses_negative_orders_and_integer_points_as_torch():
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        F.pdist(chainrule.ones(3, 2), p=-1)
    with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
        F.pdist(chainrule.ones(3, 2, dtype=chainrule.int64))
    with pytest.raises(RuntimeError, match="non-negative"):
        TF.pdist(torch.ones(3, 2), p=-1)


def test_gumbel_softmax_samples_are_distributions_and_hard_ones_pass_soft_gradients():
    chainrule.manual_seed(0)
    logits = mine(np.log([[0.7, 0.2, 0.1]]).repeat(4000, 0), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    close(soft.sum(-1), chainrule.ones(4000, dtype=soft.dtype))
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0}
    frequencies = hard.detach().numpy().mean(0)  # Gumbel-max: argmax ~ softmax(logits)
    np.testing.assert_allclose(frequencies, [0.7, 0.2, 0.1], atol=0.03)
    (hard * mine(np.arange(3.0))).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_binary_cross_entropy_at_saturated_probabilities_has_torchs_derivatives():
    """PyTorch's kernel divides by max(x (1 - x), 1e-12): the input's gradient is 0 where the
    prediction is exactly right (x == t in {0, 1}) and large but finite where it is exactly
    wrong; the target's gradient log(1 - x) - log(x) is unclamped (inf at x = 0 or 1)."""
    x_values, t_values = [0.0, 1.0, 0.5, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0, 0.0]
    results = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor(x_values, dtype=lib.float64, requires_grad=True)
        t = lib.tensor(t_values, dtype=lib.float64, requires_grad=True)
        loss = functional.binary_cross_entropy(x, t, reduction="sum")
        grad_x, grad_t = lib.autograd.grad(loss, (x, t))
        results.append((loss.item(), grad_x.tolist(), grad_t.tolist()))
    (loss, grad_x, grad_t), (torch_loss, torch_grad_x, torch_grad_t) = results
    assert loss == pytest.approx(torch_loss)
    np.testing.assert_allclose(grad_x, torch_grad_x)
    np.testing.assert_array_equal(grad_t, torch_grad_t)
    assert grad_x[:2] == [0.0, 0.0]


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_nearest_gives_the_grid_a_zero_gradient_as_torch(padding_mode):
    """Nearest sampling is piecewise constant in the grid: PyTorch's grid.grad is zeros (not
    None), and the input's gradient counts each pixel's readers."""
    image = np.sin(np.arange(24.0)).reshape(1, 2, 3, 4)
    grid = 1.2 * np.cos(np.arange(12.0)).reshape(1, 2, 3, 2)
    grads = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor(image, requires_grad=True)
        g = lib.tensor(grid, requires_grad=True)
        out = functional.grid_sample(x, g, "nearest", padding_mode, align_corners=False)
        out.pow(2).sum().backward()
        grads.append((x.grad.numpy(), g.grad.numpy()))
    (ours_x, ours_g), (theirs_x, theirs_g) = grads
    np.testing.assert_allclose(ours_x, theirs_x, rtol=1e-12)
    assert np.array_equal(ours_g, theirs_g) and not theirs_g.any()


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_to_the_same_size_returns_a_new_tensor_as_torch(mode):
    """PyTorch's result never aliases its input: an in-place write into it leaves x alone."""
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.ones(1, 2, 4, 4)
        y = functional.interpolate(x, size=(4, 4), mode=mode)
        y.add_(1)
        assert y is not x and x.sum().item() == 32.0 and y.sum().item() == 64.0


@pytest.mark.parametrize("alpha", [0.7, 2.3])
def test_celu_gradient_uses_pytorchs_float32_rounded_inverse_alpha(alpha):
    """PyTorch's derivative formula takes 1 / alpha with alpha rounded to float32: in float64
    the gradient differs from the exact one by 2e-8 relative for alpha 0.7, and so must ours."""
    values = np.random.default_rng(0).standard_normal(200)
    grads = []
    for lib in (chainrule, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        lib.nn.functional.celu(x, alpha).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14, atol=0)


@pytest.mark.parametrize("smoothing", [-0.5, -2.0])
@pytest.mark.parametrize("target", ["classes", "probabilities"])
def test_a_negative_label_smoothing_smooths_nothing_as_in_pytorch(smoothing, target):
    """PyTorch refuses label_smoothing above 1 only; below 0 it is taken as 0."""
    logits = np.random.default_rng(3).standard_normal((2, 3))
    results = []
    for lib in (chainrule, torch):
        labels = lib.tensor([0, 2]) if target == "classes" else lib.full((2, 3), 1 / 3)
        loss = lib.nn.functional.cross_entropy(
            lib.tensor(logits), labels, label_smoothing=smoothing
        )
        unsmoothed = lib.nn.functional.cross_entropy(lib.tensor(logits), labels)
        results.append((loss.item(), unsmoothed.item()))
    assert results[0] == pytest.approx(results[1])
    assert results[0][0] == pytest.approx(results[0][1])


@pytest.mark.parametrize("shape", [(2, 3, 1), (1, 3, 1, 1)])
def test_instance_norm_needs_more_than_one_spatial_element_when_using_input_stats(shape):
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
            lib.nn.functional.instance_norm(lib.ones(shape))
    frozen = F.instance_norm(
        chainrule.ones(2, 3, 1), chainrule.zeros(3), chainrule.ones(3), use_input_stats=False
    )
    assert frozen.shape == (2, 3, 1)


def _attention_operands(separate, batched, with_bias_kv, static, mask_kind):
    """F.multi_head_attention_forward's arguments as NumPy float64 arrays (None where absent):
    L=3 queries, S=4 keys, N=2, E=6, 2 heads; kdim=vdim=5 where the projections are
    separate."""
    rng = np.random.default_rng(21)
    heads, embed, length, source, batch = 2, 6, 3, 4, 2
    kdim = 5 if separate else embed
    lead = (length, batch) if batched else (length,)
    query = rng.standard_normal((*lead, embed))
    key = rng.standard_normal(((source, batch) if batched else (source,)) + (kdim,))
    value = rng.standard_normal(key.shape)
    args = {
        "query": query,
        "key": key,
        "value": value,
        "in_proj_weight": None if separate else rng.standard_normal((3 * embed, embed)) * 0.4,
        "in_proj_bias": rng.standard_normal(3 * embed) * 0.1,
        "bias_k": rng.standard_normal((1, 1, embed)) if with_bias_kv else None,
        "bias_v": rng.standard_normal((1, 1, embed)) if with_bias_kv else None,
        "out_proj_weight": rng.standard_normal((embed, embed)) * 0.4,
        "out_proj_bias": rng.standard_normal(embed) * 0.1,
        "q_proj_weight": rng.standard_normal((embed, embed)) * 0.4 if separate else None,
        "k_proj_weight": rng.standard_normal((embed, kdim)) * 0.4 if separate else None,
        "v_proj_weight": rng.standard_normal((embed, kdim)) * 0.4 if separate else None,
        "static_k": None,
        "static_v": None,
        "key_padding_mask": None,
        "attn_mask": None,
    }
    if static:
        rows = batch * heads if batched else heads
        args["static_k"] = rng.standard_normal((rows, source, embed // heads))
        args["static_v"] = rng.standard_normal((rows, source, embed // heads))
    if mask_kind == "padding":
        padding = np.zeros((batch, source) if batched else (source,), bool)
        padding[..., -1] = True
        args["key_padding_mask"] = padding
    elif mask_kind == "float":
        args["attn_mask"] = np.triu(np.full((length, source), -np.inf), 1)
    return args, heads, embed


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize(
    "separate, batched, with_bias_kv, static, zero_attn, mask_kind",
    [
        (False, True, False, False, False, None),
        (True, True, False, False, False, "padding"),
        (False, False, False, False, False, "float"),
        (False, True, False, True, False, "padding"),
        (True, True, False, False, True, "float"),
        (False, True, True, False, False, "padding"),
    ],
    ids=["packed", "separate-padding", "unbatched-float-mask", "static-kv", "zero-attn", "bias-kv"],
)
def test_multi_head_attention_forward_is_torchs_value_and_gradient(
    need_weights, separate, batched, with_bias_kv, static, zero_attn, mask_kind
):
    arrays, heads, embed = _attention_operands(separate, batched, with_bias_kv, static, mask_kind)
    differentiable = ("query", "key", "value", "in_proj_weight", "out_proj_weight", "static_k")

    def run(library, functional):
        tensors = {
            name: None
            if array is None
            else library.tensor(array, requires_grad=name in differentiable)
            for name, array in arrays.items()
        }
        output, weights = functional.multi_head_attention_forward(
            tensors["query"], tensors["key"], tensors["value"], embed, heads,
            tensors["in_proj_weight"], tensors["in_proj_bias"], tensors["bias_k"],
            tensors["bias_v"], zero_attn, 0.0, tensors["out_proj_weight"],
            tensors["out_proj_bias"], key_padding_mask=tensors["key_padding_mask"],
            need_weights=need_weights, attn_mask=tensors["attn_mask"],
            use_separate_proj_weight=separate, q_proj_weight=tensors["q_proj_weight"],
            k_proj_weight=tensors["k_proj_weight"], v_proj_weight=tensors["v_proj_weight"],
            static_k=tensors["static_k"], static_v=tensors["static_v"],
        )  # fmt: skip
        total = output.sum() if weights is None else output.sum() + (weights * weights).sum()
        total.backward()
        grads = {
            name: tensor.grad
            for name, tensor in tensors.items()
            if tensor is not None and tensor.grad is not None
        }
        return output, weights, grads

    output, weights, grads = run(chainrule, F)
    expected_output, expected_weights, expected_grads = run(torch, TF)
    close(output, expected_output, atol=1e-10)
    assert (weights is None) == (expected_weights is None)
    if weights is not None:
        close(weights, expected_weights, atol=1e-10)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        close(grad, expected_grads[name], atol=1e-10)


def test_multi_head_attention_forward_refuses_static_keys_of_the_wrong_shape():
    arrays, heads, embed = _attention_operands(False, True, False, True, None)
    x = mine(arrays["query"])
    with pytest.raises(AssertionError, match="static_k"):
        F.multi_head_attention_forward(
            x, x, x, embed, heads, mine(arrays["in_proj_weight"]), None, None, None, False,
            0.0, mine(arrays["out_proj_weight"]), None,
            static_k=mine(np.zeros((3, 4, 3))), static_v=mine(arrays["static_v"]),
        )  # fmt: skip


LINEAR_CE_CASES = {
    "plain": dict(batch=(5,), out=(), target="index", kwargs={}),
    "bias-weight-ignore": dict(
        batch=(5,), out=(), target="index", bias=True, kwargs={"ignore_index": 2}, weight=True
    ),
    "smoothing-sum": dict(
        batch=(5,), out=(), target="index", kwargs={"label_smoothing": 0.2, "reduction": "sum"}
    ),
    "none": dict(batch=(5,), out=(), target="index", kwargs={"reduction": "none"}),
    "probabilities": dict(batch=(5,), out=(), target="probabilities", kwargs={}),
    "k-dimensional": dict(batch=(5,), out=(3,), target="index", bias=True, kwargs={}),
    "unbatched": dict(batch=(), out=(), target="index", kwargs={}),
}


@pytest.mark.parametrize("case", LINEAR_CE_CASES, ids=str)
def test_linear_cross_entropy_is_torchs_value_and_gradient(case):
    spec = LINEAR_CE_CASES[case]
    rng = np.random.default_rng(3)
    classes, features = 4, 6
    x = rng.standard_normal((*spec["batch"], features))
    w = rng.standard_normal((classes, *spec["out"], features)) * 0.5
    b = rng.standard_normal((classes, *spec["out"])) if spec.get("bias") else None
    class_weight = rng.uniform(0.5, 2.0, classes) if spec.get("weight") else None
    if spec["target"] == "index":
        target = rng.integers(0, classes, (*spec["batch"], *spec["out"]))
    else:
        target = rng.dirichlet(np.ones(classes), spec["batch"])

    def run(library, functional):
        tensors = [None if a is None else library.tensor(a, requires_grad=True) for a in (x, w, b)]
        loss = functional.linear_cross_entropy(
            tensors[0],
            tensors[1],
            library.tensor(target),
            linear_bias=tensors[2],
            weight=None if class_weight is None else library.tensor(class_weight),
            **spec["kwargs"],
        )
        loss.sum().backward()
        return loss, [t.grad for t in tensors if t is not None]

    loss, grads = run(chainrule, F)
    expected, expected_grads = run(torch, TF)
    close(loss, expected, atol=1e-12)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        close(grad, expected_grad, atol=1e-12)


def test_linear_cross_entropy_with_options_gives_the_same_loss_and_warns_where_torch_does():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((7, 3)), rng.standard_normal((5, 3))
    target = rng.integers(0, 5, 7)
    options = chainrule.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    plain = F.linear_cross_entropy(mine(x), mine(w), chainrule.tensor(target))
    chunked = F.linear_cross_entropy(mine(x), mine(w), chainrule.tensor(target), options=options)
    close(chunked, plain, atol=0)
    with pytest.warns(UserWarning, match="``options`` ignored"):
        F.linear_cross_entropy(
            mine(x), mine(w), chainrule.tensor(target), label_smoothing=0.1, options=options
        )
    with pytest.raises(ValueError, match="invalid acc_policy"):
        chainrule.nn.LinearCrossEntropyOptions(acc_policy="fast")
    with pytest.raises(ValueError, match="batch_chunk_size"):
        chainrule.nn.LinearCrossEntropyOptions(batch_chunk_size=0)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"x": (2, 3, 4)}, "dimensionality 1 or 2"),
        ({"w": (5, 4)}, "in_features"),
        ({"bias": (4,)}, "linear_bias shape"),
        ({"x": (3,), "w": (5, 2, 3), "target": ()}, "requires batched input"),
        ({"probabilities": True, "ignore_index": 1}, "ignore_index cannot be specified"),
    ],
    ids=["rank", "features", "bias", "k-dim-unbatched", "ignore-probabilities"],
)
def test_linear_cross_entropy_refuses_what_torch_refuses(arguments, message):
    x = np.ones(arguments.get("x", (2, 3)))
    w = np.ones(arguments.get("w", (5, 3)))
    bias = np.ones(arguments["bias"]) if "bias" in arguments else None
    if arguments.get("probabilities"):
        target = np.full((2, 5), 0.2)
    else:
        target = np.zeros(arguments.get("target", (2,)), dtype=np.int64)
    ignore = arguments.get("ignore_index")
    for library, functional in ((chainrule, F), (torch, TF)):
        with pytest.raises(RuntimeError, match=message):
            functional.linear_cross_entropy(
                library.tensor(x),
                library.tensor(w),
                library.tensor(target),
                linear_bias=None if bias is None else library.tensor(bias),
                ignore_index=ignore,
            )


def test_linear_cross_entropy_loss_module_is_torchs_with_the_same_weights():
    ours = chainrule.nn.LinearCrossEntropyLoss(6, 4, out_features=(3,), bias=True)
    theirs_module = torch.nn.LinearCrossEntropyLoss(6, 4, out_features=(3,), bias=True)
    state = {k: v.detach().numpy() for k, v in theirs_module.state_dict().items()}
    assert list(ours.state_dict()) == list(state) == ["linear.weight", "linear.bias"]
    ours.load_state_dict({k: chainrule.tensor(v) for k, v in state.items()})
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 6)).astype(np.float32)
    target = rng.integers(0, 4, (5, 3))
    close(
        ours(chainrule.tensor(x), chainrule.tensor(target)),
        theirs_module(torch.tensor(x), torch.tensor(target)),
    )
    assert "num_classes=4" in repr(ours)


@pytest.mark.parametrize(
    "case",
    ["causal-without-mask", "embed-dim", "key-value", "query-4d", "key-2d", "attn-mask-2d"],
)
def test_multi_head_attention_forward_raises_torchs_exception_types(case):
    """PyTorch checks most of its arguments with `assert` (AssertionError); the attention
    mask's shape and a causal hint without a mask are RuntimeErrors."""

    def call(library, functional):
        x, w = library.ones(3, 2, 4), library.eye(4).repeat(3, 1)
        args = {"embed": 4, "key": x, "value": x, "query": x, "attn_mask": None, "causal": False}
        if case == "causal-without-mask":
            args["causal"] = True
        elif case == "embed-dim":
            args["embed"] = 5
        elif case == "key-value":
            args["value"] = library.ones(4, 2, 4)
        elif case == "query-4d":
            args["query"] = library.ones(1, 3, 2, 4)
        elif case == "key-2d":
            args["key"] = library.ones(3, 4)
        else:
            args["attn_mask"] = library.zeros(2, 2)
        functional.multi_head_attention_forward(
            args["query"], args["key"], args["value"], args["embed"], 2, w, library.zeros(12),
            None, None, False, 0.0, library.eye(4), None, attn_mask=args["attn_mask"],
            is_causal=args["causal"],
        )  # fmt: skip

    with pytest.raises(Exception) as theirs:
        call(torch, TF)
    with pytest.raises(type(theirs.value)) as ours:
        call(chainrule, F)
    assert str(ours.value)[:10] == str(theirs.value)[:10]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialiased_resampling_to_one_column_resamples_each_row(mode):
    """PyTorch 2.13's antialiased kernel repeats the first row's value when the output is
    one column wide (a bug, README); its transposed problem, one row high, is right, and
    chainrule's one-column result is that, transposed back."""
    x = np.arange(48.0, dtype=np.float32).reshape(1, 3, 4, 4) ** 1.5
    ours = F.interpolate(chainrule.tensor(x), size=(2, 1), mode=mode, antialias=True)
    transposed = torch.nn.functional.interpolate(
        torch.tensor(x).transpose(2, 3), size=(1, 2), mode=mode, antialias=True
    )
    np.testing.assert_allclose(
        ours.numpy(), transposed.transpose(2, 3).numpy(), rtol=1e-6, atol=1e-5
    )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_of_an_affine_grid_reaching_the_borders_matches_torch(
    mode, padding_mode, align_corners
):
    """An identity-like affine grid puts samples exactly on the borders (with align_corners
    True): PyTorch counts a clamped border position as outside for the grid's gradient, where
    clamp's own gradient is 1 (theta's gradient differed for 'border'); 'bicubic' was
    refused."""
    image = np.sin(np.arange(2 * 3 * 5 * 6.0)).reshape(2, 3, 5, 6)
    affine = [[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]], [[1.0, 0.0, 0.3], [0.0, 0.8, -0.2]]]
    results = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor(image, requires_grad=True)
        theta = lib.tensor(affine, dtype=lib.float64, requires_grad=True)
        grid = functional.affine_grid(theta, (2, 3, 4, 5), align_corners=align_corners)
        out = functional.grid_sample(x, grid, mode, padding_mode, align_corners)
        weights = lib.cos(lib.arange(float(out.numel()), dtype=lib.float64)).reshape(out.shape)
        grad_x, grad_theta = lib.autograd.grad((out * weights).sum(), (x, theta))
        results.append((out.detach().numpy(), grad_x.numpy(), grad_theta.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [(2, 1, 3, 4), (2, 1, 2, 3, 4)], ids=["2d", "3d"])
def test_affine_grid_backs_up_twice_without_retain_graph_as_torchs(size):
    """PyTorch's affine_grid_generator saves no tensor (its backward remakes the base grid
    from the size), so a spatial transformer's grid can be differentiated twice, as by
    gradient accumulation over one warp; the gradients add up to torch's, and a second order
    gradient (create_graph) through it matches too."""
    dims = len(size) - 2
    values = np.cos(np.arange(2 * dims * (dims + 1.0))).reshape(2, dims, dims + 1)
    results = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        theta = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        grid = functional.affine_grid(theta, size, align_corners=False)
        (grid**2).sum().backward()
        (grid * 3).sum().backward()  # the same graph again: no retain_graph needed
        twice = theta.grad.clone()
        theta.grad = None
        again = functional.affine_grid(theta, size, align_corners=True)
        (first,) = lib.autograd.grad((again**3).sum(), theta, create_graph=True)
        (second,) = lib.autograd.grad((first**2).sum(), theta)
        results.append((grid.detach().numpy(), twice.numpy(), second.numpy()))
        assert grid.grad_fn.name() == "AffineGridGeneratorBackward0"
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("mode", "size", "options"),
    [
        ("nearest", (2, 1, 3, 4), {"scale_factor": 2}),
        ("bilinear", (2, 1, 3, 4), {"size": (5, 7), "align_corners": False}),
        ("bicubic", (1, 2, 4, 4), {"scale_factor": 1.5, "antialias": True}),
        ("trilinear", (1, 1, 2, 3, 2), {"scale_factor": 2, "align_corners": True}),
    ],
)
def test_interpolate_backs_up_twice_without_retain_graph_as_torchs(mode, size, options):
    """PyTorch's upsample kernels save no tensor (their backward needs only the sizes), so a
    graph through F.interpolate can be differentiated twice; the gradients, and a second
    order one through create_graph, match torch's."""
    values = np.sin(np.arange(np.prod(size), dtype=np.float64)).reshape(size)
    results = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor(values, requires_grad=True)
        out = functional.interpolate(x, mode=mode, **options)
        (out**2).sum().backward()
        (out * 3).sum().backward()  # the same graph again: no retain_graph needed
        twice = x.grad.clone()
        (first,) = lib.autograd.grad((out**3).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first**2).sum(), x)
        results.append((out.detach().numpy(), twice.numpy(), second.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_of_a_non_finite_grid_reads_as_torchs(mode, padding_mode, align_corners):
    """A diverged flow or transform puts NaN or infinity in the grid: that was a crash (an
    out-of-range gather index). PyTorch's 2-D kernel gives NaN where interpolation weights are
    NaN ('zeros' padding, bicubic), clips a NaN position to pixel 0 and an infinite one to the
    edge ('border', 'reflection'), and nearest reads zero outside; the finite samples beside
    them are unaffected. (PyTorch's own backward of such a grid can crash the process, so the
    gradient is checked on the finite samples only, where it is PyTorch's.)"""
    nan, inf = float("nan"), float("inf")
    coords = [[[nan, 0.2], [0.3, nan], [inf, -0.4], [0.5, -inf], [0.1, -0.4], [-1.3, 0.7]]]
    image = np.sin(np.arange(2 * 5 * 6.0)).reshape(1, 2, 5, 6)
    outs = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        grid = lib.tensor([coords], dtype=lib.float64)
        outs.append(
            functional.grid_sample(lib.tensor(image), grid, mode, padding_mode, align_corners)
        )
    np.testing.assert_allclose(outs[0].numpy(), outs[1].numpy(), rtol=1e-10, atol=1e-12)
    grads = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor(image, requires_grad=True)
        grid = lib.tensor([[coords[0][4:]]], dtype=lib.float64)
        out = functional.grid_sample(x, grid, mode, padding_mode, align_corners)
        grads.append(lib.autograd.grad((out * out).sum(), x)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_of_a_nan_grid_reads_zeros_outside_as_torch(mode):
    """The 3-D kernel with 'zeros' padding: a NaN position reads zero (no NaN weight
    survives there), and no out-of-range index is gathered."""
    volume = np.sin(np.arange(30.0)).reshape(1, 1, 1, 5, 6)
    coords = [[[[[float("nan"), 0.2, 0.0], [0.3, 0.1, -0.2]]]]]
    outs = [
        functional.grid_sample(
            lib.tensor(volume), lib.tensor(coords, dtype=lib.float64), mode, align_corners=False
        ).numpy()
        for lib, functional in ((chainrule, F), (torch, TF))
    ]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)


def test_grid_sample_bicubic_refuses_5d_input_as_torch():
    for lib, functional in ((chainrule, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
            functional.grid_sample(lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3), "bicubic")


@pytest.mark.parametrize("input_shape", [(2, 3), (3,), (1, 2, 3)])
def test_linear_with_a_vector_weight_is_torchs_matmul(input_shape):
    """F.linear(x, w) with a 1-D weight and no bias: PyTorch computes x @ w (shape x.shape[:-1],
    MvBackward0 / DotBackward0), value and gradients; with a bias it refuses."""
    x = RNG.standard_normal(input_shape)
    w = RNG.standard_normal(3)
    xm, wm = mine(x, True), mine(w, True)
    xt, wt = theirs(x, True), theirs(w, True)
    out, expected = F.linear(xm, wm), TF.linear(xt, wt)
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.grad_fn.name() == expected.grad_fn.name()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    cotangent = RNG.standard_normal(tuple(expected.shape))
    out.backward(mine(cotangent))
    expected.backward(theirs(cotangent))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(wm.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 1-D tensor"):
        F.linear(xm, wm, mine(0.5))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((5, "w"), "argument 'input' (position 1) must be Tensor, not int"),
        (("x", 5), "argument 'weight' (position 2) must be Tensor, not int"),
        (("x", "w", [1.0, 2.0, 3.0, 4.0]), "argument 'bias' (position 3) must be Tensor, not list"),
        ((None, "w"), "argument 'input' (position 1) must be Tensor, not NoneType"),
    ],
)
def test_linear_of_an_operand_that_is_not_a_tensor_is_torchs_type_error(arguments, message):
    for library, functional in ((torch, TF), (chainrule, F)):
        tensors = {"x": library.ones(2, 3), "w": library.ones(4, 3)}
        operands = [tensors.get(a, a) if isinstance(a, str) else a for a in arguments]
        with pytest.raises(TypeError, match=re.escape(f"linear(): {message}")):
            functional.linear(*operands)


def test_same_padding_that_splits_unevenly_warns_once_as_torch():
    """PyTorch's TORCH_WARN_ONCE: shown at the first uneven split only, whatever the filters
    (each library is checked in a fresh process, where its first warning is still due)."""
    program = """
import warnings, sys
lib = __import__(sys.argv[1])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lib.nn.functional.conv1d(lib.ones(1, 1, 8), lib.ones(1, 1, 3), padding="same")
    lib.nn.functional.conv1d(lib.ones(1, 1, 8), lib.ones(1, 1, 3), padding="same", dilation=3)
    before = len(caught)
    lib.nn.Conv2d(1, 1, (2, 3), padding="same")(lib.ones(1, 1, 5, 5))
    lib.nn.functional.conv1d(lib.ones(1, 1, 8), lib.ones(1, 1, 4), padding="same")
print(before, [str(w.message)[:78] for w in caught])
"""
    outputs = [
        subprocess.run(
            [sys.executable, "-c", program, name], capture_output=True, text=True, check=True
        ).stdout
        for name in ("torch", "chainrule")
    ]
    assert outputs[0] == outputs[1]
    assert "Using padding='same' with even kernel lengths and odd dilation" in outputs[0]
