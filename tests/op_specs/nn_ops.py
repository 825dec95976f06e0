"""Specs for the nn kernel ops (chainrule.ops.convolution, pooling, normalization, losses, ...)
and chainrule.nn.functional, each against torch.nn.functional.

Constant operands (class weights, running statistics, masks) are bound in closures and take
the input's dtype, so the checker's float32 pass sees one dtype as PyTorch requires. Random
inputs are continuous, so max-pooling windows and ReLU-like kinks never tie within the reach
of finite differences.
"""

import numpy as np
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
import chainrule.nn.utils.rnn as F_rnn
from chainrule.testing import OpSpec

R = np.random.default_rng(1234)
CLASS_WEIGHT = R.uniform(0.5, 2.0, size=4)
POS_WEIGHT = R.uniform(0.5, 3.0, size=3)
RUNNING_MEAN = R.uniform(-0.5, 0.5, size=3)
RUNNING_VAR = R.uniform(0.5, 1.5, size=3)
ATTENTION_MASK = R.uniform(-1.0, 1.0, size=(3, 5))
BOOL_MASK = np.array(
    [
        [True, False, True, True, False],
        [False, True, True, False, True],
        [True, True, False, False, False],
    ]
)


def _mine(array, like):
    return chainrule.tensor(array, dtype=like.dtype, device=like.device)


def _theirs(array, like):
    return torch.tensor(array, dtype=like.dtype)


def _spec(name, fn, torch_fn, shapes, **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, **options)


def _same(name, function_name, shapes, **options):
    """A spec for F.<function_name>(*inputs, **kwargs) against torch's function of that name."""
    return OpSpec(
        name, getattr(F, function_name), getattr(TF, function_name), shapes=shapes, **options
    )


# ---- convolution ---------------------------------------------------------------------------

CONVOLUTION = [
    _same("conv1d", "conv1d", [((2, 3, 7), (4, 3, 3), (4,))], kwargs={"stride": 2, "padding": 1}),
    _same(
        "conv1d_groups_dilation_same",
        "conv1d",
        [((2, 4, 8), (6, 2, 3))],
        kwargs={"dilation": 2, "groups": 2, "padding": "same"},
    ),
    _same("conv2d", "conv2d", [((2, 3, 5, 5), (4, 3, 3, 3), (4,))], kwargs={"padding": 1}),
    _same(
        "conv2d_stride_dilation_groups",
        "conv2d",
        [((2, 4, 7, 6), (6, 2, 3, 2))],
        kwargs={"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
    ),
    _same(
        "conv2d_same_even_kernel",
        "conv2d",
        [((1, 2, 5, 6), (3, 2, 2, 4))],
        kwargs={"padding": "same"},
    ),
    _same(
        "conv2d_valid_unbatched", "conv2d", [((2, 5, 5), (3, 2, 3, 3))], kwargs={"padding": "valid"}
    ),
    _same(
        "conv2d_depthwise",
        "conv2d",
        [((2, 3, 6, 6), (3, 1, 3, 3))],
        kwargs={"stride": 2, "groups": 3},
    ),
    # more output channels than window elements: the weight gradient folds the batch instead
    _same(
        "conv2d_many_channels",
        "conv2d",
        [((2, 2, 3, 2), (9, 2, 2, 2), (9,))],
        kwargs={"padding": 1},
    ),
    _same(
        "conv2d_many_channels_groups",
        "conv2d",
        [((2, 4, 2, 2), (12, 2, 1, 2))],
        kwargs={"groups": 2},
    ),
    # an empty batch: both column layouts (many channels: channels last; one: channels first)
    _same(
        "conv2d_empty_batch", "conv2d", [((0, 6, 5, 5), (4, 6, 3, 3), (4,))], kwargs={"padding": 1}
    ),
    _same("conv2d_empty_batch_one_channel", "conv2d", [((0, 1, 7, 7), (2, 1, 3, 3))]),
    # pointwise (1 x 1, stride 1, unpadded, one group): one product per sample on its planes
    _same("conv2d_pointwise", "conv2d", [((2, 3, 4, 5), (5, 3, 1, 1), (5,))]),
    _same("conv1d_pointwise_unbatched", "conv1d", [((3, 6), (2, 3, 1))]),
    _same("conv3d_pointwise_empty_batch", "conv3d", [((0, 2, 2, 3, 2), (3, 2, 1, 1, 1))]),
    # 1 x 1 but strided or padded: the columns path, as before
    _same(
        "conv2d_one_by_one_strided", "conv2d", [((1, 2, 5, 5), (3, 2, 1, 1))], kwargs={"stride": 2}
    ),
    _same("conv_transpose2d_pointwise", "conv_transpose2d", [((2, 3, 3, 4), (3, 2, 1, 1), (2,))]),
    _same(
        "conv3d",
        "conv3d",
        [((1, 2, 4, 4, 3), (2, 2, 2, 2, 2), (2,))],
        kwargs={"padding": (1, 0, 1)},
    ),
    _same(
        "conv_transpose2d",
        "conv_transpose2d",
        [((2, 4, 3, 3), (4, 3, 3, 3), (3,))],
        kwargs={"stride": 2, "padding": 1, "output_padding": 1},
    ),
    _same(
        "conv_transpose2d_groups_dilation",
        "conv_transpose2d",
        [((1, 4, 3, 4), (4, 1, 2, 3))],
        kwargs={"stride": (1, 2), "groups": 2, "dilation": 2, "output_padding": (0, 1)},
    ),
    _same(
        "conv_transpose3d",
        "conv_transpose3d",
        [((1, 2, 2, 3, 2), (2, 2, 2, 1, 2), (2,))],
        kwargs={"stride": (2, 1, 2), "padding": (0, 0, 1)},
    ),
    _same(
        "conv_transpose1d",
        "conv_transpose1d",
        [((2, 3, 5), (3, 2, 3))],
        kwargs={"stride": 3, "padding": 1},
    ),
]

# ---- pooling -------------------------------------------------------------------------------

POOLING = [
    _same("max_pool2d", "max_pool2d", [((2, 3, 4, 6),)], kwargs={"kernel_size": 2}),
    _same(
        "max_pool2d_padding_ceil",
        "max_pool2d",
        [((2, 2, 7, 6),)],
        kwargs={"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    _same(
        "max_pool2d_dilation_indices",
        "max_pool2d",
        [((1, 2, 7, 7),)],
        kwargs={
            "kernel_size": (2, 3),
            "stride": (2, 1),
            "dilation": (2, 1),
            "return_indices": True,
        },
    ),
    _same(
        "max_pool1d_ceil_indices",
        "max_pool1d",
        [((2, 3, 9),)],
        kwargs={
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "return_indices": True,
        },
    ),
    _same(
        "max_pool2d_unbatched", "max_pool2d", [((2, 5, 5),)], kwargs={"kernel_size": 2, "stride": 1}
    ),
    _same(
        "avg_pool2d_ceil_include_pad",
        "avg_pool2d",
        [((2, 2, 7, 6),)],
        kwargs={"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    _same(
        "avg_pool2d_exclude_pad",
        "avg_pool2d",
        [((2, 2, 7, 6),)],
        kwargs={
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
    ),
    _same(
        "avg_pool2d_divisor_override",
        "avg_pool2d",
        [((1, 2, 5, 6),)],
        kwargs={"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 0), "divisor_override": 5},
    ),
    _same(
        "avg_pool1d",
        "avg_pool1d",
        [((2, 3, 10),)],
        kwargs={"kernel_size": 4, "stride": 3, "padding": 2, "count_include_pad": False},
    ),
    _same(
        "adaptive_avg_pool2d",
        "adaptive_avg_pool2d",
        [((2, 3, 7, 6),)],
        kwargs={"output_size": (3, 4)},
    ),
    _same(
        "adaptive_avg_pool2d_none",
        "adaptive_avg_pool2d",
        [((1, 2, 5, 6),)],
        kwargs={"output_size": (None, 4)},
    ),
    _same("adaptive_avg_pool1d", "adaptive_avg_pool1d", [((2, 3, 10),)], kwargs={"output_size": 4}),
    _same("avg_pool2d_tiles", "avg_pool2d", [((2, 3, 5, 4),)], kwargs={"kernel_size": 2}),
    _same(
        "avg_pool3d_tiles", "avg_pool3d", [((1, 2, 4, 3, 4),)], kwargs={"kernel_size": (2, 3, 2)}
    ),
    _same(
        "adaptive_avg_pool2d_global",
        "adaptive_avg_pool2d",
        [((2, 3, 6, 4),)],
        kwargs={"output_size": 1},
    ),
    _same(
        "adaptive_avg_pool2d_tiled",
        "adaptive_avg_pool2d",
        [((2, 3, 6, 4),)],
        kwargs={"output_size": (3, 2)},
    ),
    _same(
        "adaptive_max_pool2d_indices",
        "adaptive_max_pool2d",
        [((2, 2, 7, 6),)],
        kwargs={"output_size": (3, 4), "return_indices": True},
    ),
    _same(
        "max_pool3d", "max_pool3d", [((1, 2, 4, 3, 5),)], kwargs={"kernel_size": 2, "padding": 1}
    ),
    _same("avg_pool3d", "avg_pool3d", [((1, 2, 4, 3, 5),)], kwargs={"kernel_size": (2, 3, 2)}),
    _same(
        "adaptive_avg_pool3d",
        "adaptive_avg_pool3d",
        [((1, 2, 4, 3, 5),)],
        kwargs={"output_size": (3, 2, 2)},
    ),
    _same(
        "adaptive_max_pool3d",
        "adaptive_max_pool3d",
        [((1, 2, 4, 3, 5),)],
        kwargs={"output_size": (3, 2, 2)},
    ),
    _same("adaptive_max_pool1d", "adaptive_max_pool1d", [((2, 3, 10),)], kwargs={"output_size": 4}),
]

# ---- linear and normalization --------------------------------------------------------------

LINEAR = [
    _same("linear", "linear", [((2, 3, 4), (5, 4), (5,)), ((4,), (3, 4), (3,))]),
    _same("linear_no_bias", "linear", [((3, 4), (2, 4)), ((4,), (2, 4))]),
    _same(
        "bilinear",
        "bilinear",
        [((3, 2), (3, 4), (5, 2, 4), (5,)), ((2, 3, 2), (2, 3, 4), (5, 2, 4))],
    ),
]

NORMALIZATION = [
    _spec(
        "batch_norm_training",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
        [((4, 3, 2, 2), (3,), (3,)), ((5, 3), (3,), (3,))],
    ),
    _spec(
        "batch_norm_eval",
        lambda x, w, b: F.batch_norm(x, _mine(RUNNING_MEAN, x), _mine(RUNNING_VAR, x), w, b),
        lambda x, w, b: TF.batch_norm(x, _theirs(RUNNING_MEAN, x), _theirs(RUNNING_VAR, x), w, b),
        [((2, 3, 4), (3,), (3,))],
    ),
    _spec(
        "layer_norm",
        lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
        lambda x, w, b: TF.layer_norm(x, (3, 4), w, b, eps=1e-3),
        [((2, 3, 4), (3, 4), (3, 4))],
    ),
    _spec(  # weight and bias make one op (AffineStandardize): rows, one row, a batch of rows
        "layer_norm_one_axis",
        lambda x, w, b: F.layer_norm(x, (4,), w, b),
        lambda x, w, b: TF.layer_norm(x, (4,), w, b),
        [((2, 3, 4), (4,), (4,)), ((4,), (4,), (4,))],
    ),
    _spec(  # weight alone: Standardize and a Mul
        "layer_norm_weight_only",
        lambda x, w: F.layer_norm(x, (4,), w),
        lambda x, w: TF.layer_norm(x, (4,), w),
        [((3, 4), (4,))],
    ),
    _spec(
        "layer_norm_no_affine",
        lambda x: F.layer_norm(x, (5,)),
        lambda x: TF.layer_norm(x, (5,)),
        [((3, 5),), ((5,),)],
    ),
    _spec(
        "group_norm",
        lambda x, w, b: F.group_norm(x, 3, w, b),
        lambda x, w, b: TF.group_norm(x, 3, w, b),
        [((2, 6, 3), (6,), (6,)), ((2, 6, 2, 2), (6,), (6,)), ((4, 12), (12,), (12,))],
    ),
    _spec(
        "instance_norm",
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
        [((2, 3, 4, 3), (3,), (3,))],
    ),
    _spec(
        "rms_norm",
        lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6),
        lambda x, w: TF.rms_norm(x, (4,), w, eps=1e-6),
        [((3, 4), (4,))],
    ),
]

# ---- activations ---------------------------------------------------------------------------

ACTIVATION_SHAPES = [((2, 3),), ((5,),)]


def _activation(name, domain=(-2.0, 2.0), reference=None, **kwargs):
    torch_fn = reference or getattr(TF, name)
    return OpSpec(
        name,
        lambda x: getattr(F, name)(x, **kwargs),
        lambda x: torch_fn(x, **kwargs),
        shapes=ACTIVATION_SHAPES,
        domains=[domain],
    )


ACTIVATIONS = [
    _activation("selu"),
    _activation("celu", alpha=0.7),
    _activation("mish", domain=(-3.0, 3.0)),
    # PyTorch has no double backward for hardsigmoid: compare with relu6(x + 3) / 6, the same
    # function with the same (strict) kinks, so the second derivative is checked too
    _activation("hardsigmoid", domain=(-5.0, 5.0), reference=lambda x: TF.relu6(x + 3) / 6),
    _activation("hardswish", domain=(-5.0, 5.0)),
    _activation("logsigmoid", domain=(-5.0, 5.0)),
    _activation("relu6", domain=(-2.0, 8.0)),
    _activation("softsign"),
    _activation("tanhshrink"),
    _activation("softshrink", lambd=0.3),
    _activation("hardshrink", lambd=0.3),
    _activation("softmax", dim=-1),
    _activation("log_softmax", dim=0),
    _activation("softmin", dim=-1),
    _spec(
        "threshold",
        lambda x: F.threshold(x, 0.2, -1.0),
        lambda x: TF.threshold(x, 0.2, -1.0),
        ACTIVATION_SHAPES,
    ),
    _same("prelu_channels", "prelu", [((2, 3, 4), (3,)), ((2, 3), (1,))]),
    _spec("glu", lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1), [((2, 4, 3),)]),
    _spec(
        "dropout_seeded",
        lambda x: (chainrule.manual_seed(0), F.dropout(x, 0.4))[1],
        None,
        [((3, 4),)],
    ),
]

# ---- embedding -----------------------------------------------------------------------------


def _embedding_inputs(rng):
    return rng.standard_normal((6, 3)), np.array([[1, 2, 1, 5], [0, 1, 3, 3]])


# With padding_idx or scale_grad_by_freq the "gradient" is by design not the derivative (the
# padding row gets none, repeated rows are scaled down), so only PyTorch can judge it.
EMBEDDING = [
    _spec(
        "embedding",
        lambda w, i: F.embedding(i, w),
        lambda w, i: TF.embedding(i, w),
        [()],
        make_inputs=_embedding_inputs,
    ),
    _spec(
        "embedding_padding_idx",
        lambda w, i: F.embedding(i, w, padding_idx=1),
        lambda w, i: TF.embedding(i, w, padding_idx=1),
        [()],
        make_inputs=_embedding_inputs,
        finite_differences=False,
    ),
    _spec(
        "embedding_scale_grad_by_freq",
        lambda w, i: F.embedding(i, w, scale_grad_by_freq=True),
        lambda w, i: TF.embedding(i, w, scale_grad_by_freq=True),
        [()],
        make_inputs=_embedding_inputs,
        finite_differences=False,
    ),
]

# ---- losses --------------------------------------------------------------------------------


def _class_inputs(shape, classes=4, ignore=None):
    """Logits (N, C, *d) and class indices (N, *d); `ignore` marks a few with ignore_index."""

    def make(rng):
        logits = rng.standard_normal((shape[0], classes, *shape[1:]))
        target = rng.integers(0, classes, size=shape)
        if ignore is not None:
            target.flat[::3] = ignore
        return logits, target

    return make


def _probability_inputs(rng):
    logits = rng.standard_normal((3, 4))
    target = rng.uniform(0.1, 1.0, size=(3, 4))
    return logits, target / target.sum(axis=1, keepdims=True)


def _loss(name, function_name, make_inputs, **kwargs):
    mine, theirs = getattr(F, function_name), getattr(TF, function_name)
    weighted = kwargs.pop("class_weight", False)

    def fn(x, t):
        extra = {"weight": _mine(CLASS_WEIGHT, x)} if weighted else {}
        return mine(x, t, **extra, **kwargs)

    def torch_fn(x, t):
        extra = {"weight": _theirs(CLASS_WEIGHT, x)} if weighted else {}
        return theirs(x, t, **extra, **kwargs)

    return OpSpec(name, fn, torch_fn, shapes=[()], make_inputs=make_inputs)


def _pointwise_loss(name, function_name, domains=((-2.0, 2.0), (-2.0, 2.0)), **kwargs):
    return OpSpec(
        name,
        lambda x, t: getattr(F, function_name)(x, t, **kwargs),
        lambda x, t: getattr(TF, function_name)(x, t, **kwargs),
        shapes=[((2, 3), (2, 3)), ((4,), (4,))],
        domains=list(domains),
    )


def _weighted_pointwise_loss(name, function_name, domain=(-2.0, 2.0), **kwargs):
    return OpSpec(
        name,
        lambda x, t, w: getattr(F, function_name)(x, t, weight=w, **kwargs),
        lambda x, t, w: getattr(TF, function_name)(x, t, weight=w, **kwargs),
        shapes=[((2, 3), (2, 3), (2, 3))],
        domains=[domain, domain, (0.5, 2.0)],
    )


UNIT = (0.05, 0.95)

LOSSES = [
    _loss("cross_entropy", "cross_entropy", _class_inputs((5,))),
    _loss("cross_entropy_sum", "cross_entropy", _class_inputs((5,)), reduction="sum"),
    _loss(
        "cross_entropy_weight_ignore",
        "cross_entropy",
        _class_inputs((6,), ignore=2),
        class_weight=True,
        ignore_index=2,
    ),
    _loss(
        "cross_entropy_nd_none",
        "cross_entropy",
        _class_inputs((2, 3, 2), ignore=-100),
        reduction="none",
    ),
    _loss(
        "cross_entropy_label_smoothing",
        "cross_entropy",
        _class_inputs((2, 3), ignore=-100),
        class_weight=True,
        label_smoothing=0.2,
    ),
    _loss(
        "cross_entropy_smoothing_none",
        "cross_entropy",
        _class_inputs((4,)),
        label_smoothing=0.1,
        reduction="none",
    ),
    _loss(
        "cross_entropy_probabilities",
        "cross_entropy",
        _probability_inputs,
        class_weight=True,
        label_smoothing=0.1,
    ),
    _loss(
        "cross_entropy_unbatched",
        "cross_entropy",
        lambda rng: (rng.standard_normal(4), np.array(2)),
    ),
    _loss("nll_loss", "nll_loss", _class_inputs((5,))),
    _loss(
        "nll_loss_weight_ignore",
        "nll_loss",
        _class_inputs((6,), ignore=0),
        class_weight=True,
        ignore_index=0,
    ),
    _loss("nll_loss_nd_none", "nll_loss", _class_inputs((2, 3)), reduction="none"),
    _pointwise_loss("mse_loss", "mse_loss"),
    _pointwise_loss("mse_loss_sum", "mse_loss", reduction="sum"),
    _weighted_pointwise_loss("mse_loss_weight", "mse_loss"),
    _pointwise_loss("l1_loss_none", "l1_loss", reduction="none"),
    _weighted_pointwise_loss("l1_loss_weight", "l1_loss"),
    _pointwise_loss("smooth_l1_loss", "smooth_l1_loss", beta=0.5),
    _pointwise_loss("smooth_l1_loss_l1", "smooth_l1_loss", beta=0.0),
    _pointwise_loss("huber_loss", "huber_loss", delta=0.7),
    _weighted_pointwise_loss("huber_loss_weight", "huber_loss", delta=0.7),
    _pointwise_loss("binary_cross_entropy", "binary_cross_entropy", domains=(UNIT, UNIT)),
    _spec(  # PyTorch does not differentiate the weight: a constant here
        "binary_cross_entropy_weight",
        lambda x, t: F.binary_cross_entropy(x, t, _mine(CLASS_WEIGHT[:3], x)),
        lambda x, t: TF.binary_cross_entropy(x, t, _theirs(CLASS_WEIGHT[:3], x)),
        [((2, 3), (2, 3))],
        domains=[UNIT, UNIT],
    ),
    _spec(  # PyTorch differentiates neither weight nor pos_weight: constants here
        "binary_cross_entropy_with_logits",
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, _mine(CLASS_WEIGHT[:3], x), pos_weight=_mine(POS_WEIGHT, x)
        ),
        lambda x, t: TF.binary_cross_entropy_with_logits(
            x, t, _theirs(CLASS_WEIGHT[:3], x), pos_weight=_theirs(POS_WEIGHT, x)
        ),
        [((2, 3), (2, 3))],
        domains=[(-4.0, 4.0), UNIT],
    ),
    _pointwise_loss(
        "binary_cross_entropy_with_logits_none",
        "binary_cross_entropy_with_logits",
        reduction="none",
    ),
    _pointwise_loss(
        "kl_div_batchmean", "kl_div", domains=((-2.0, 0.0), (0.1, 1.0)), reduction="batchmean"
    ),
    _pointwise_loss(
        "kl_div_log_target",
        "kl_div",
        domains=((-2.0, 0.0), (-2.0, 0.0)),
        reduction="sum",
        log_target=True,
    ),
    _spec(
        "cosine_embedding_loss",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=-0.3),
        lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin=-0.3),
        [()],
        make_inputs=lambda rng: (
            rng.standard_normal((4, 3)),
            rng.standard_normal((4, 3)),
            np.array([1, -1, -1, 1]),
        ),
    ),
    _spec(
        "margin_ranking_loss",
        lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.2),
        lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin=0.2),
        [()],
        make_inputs=lambda rng: (
            rng.standard_normal(5),
            rng.standard_normal(5),
            np.array([1, -1, -1, 1, 1]),
        ),
    ),
    _spec(
        "hinge_embedding_loss",
        lambda x, y: F.hinge_embedding_loss(x, y, margin=0.7, reduction="sum"),
        lambda x, y: TF.hinge_embedding_loss(x, y, margin=0.7, reduction="sum"),
        [()],
        make_inputs=lambda rng: (
            rng.uniform(0.0, 1.5, (2, 3)),
            np.array([[1, -1, -1], [-1, 1, -1]]),
        ),
    ),
    _spec(
        "soft_margin_loss",
        lambda x, y: F.soft_margin_loss(x, y, reduction="none"),
        lambda x, y: TF.soft_margin_loss(x, y, reduction="none"),
        [()],
        make_inputs=lambda rng: (rng.standard_normal((2, 3)), np.array([[1, -1, -1], [-1, 1, 1]])),
    ),
    _spec(
        "multilabel_soft_margin_loss",
        lambda x, y: F.multilabel_soft_margin_loss(
            x, y, weight=_mine(CLASS_WEIGHT, x), reduction="none"
        ),
        lambda x, y: TF.multilabel_soft_margin_loss(
            x, y, weight=_theirs(CLASS_WEIGHT, x), reduction="none"
        ),
        [()],
        make_inputs=lambda rng: (rng.standard_normal((3, 4)), rng.integers(0, 2, (3, 4))),
    ),
    _same(
        "triplet_margin_loss", "triplet_margin_loss", [((4, 3), (4, 3), (4, 3)), ((3,), (3,), (3,))]
    ),
    _spec(
        "triplet_margin_loss_swap_p1",
        lambda a, p, n: F.triplet_margin_loss(
            a, p, n, margin=2.0, p=1, swap=True, reduction="none"
        ),
        lambda a, p, n: TF.triplet_margin_loss(
            a, p, n, margin=2.0, p=1, swap=True, reduction="none"
        ),
        [((5, 3), (5, 3), (5, 3))],
    ),
    _same(
        "poisson_nll_loss",
        "poisson_nll_loss",
        [((2, 3), (2, 3))],
        domains=[(-1.0, 1.0), (0.0, 4.0)],
    ),
    _spec(
        "poisson_nll_loss_rates_full",
        lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True, reduction="sum"),
        lambda x, y: TF.poisson_nll_loss(x, y, log_input=False, full=True, reduction="sum"),
        [()],
        make_inputs=lambda rng: (rng.uniform(0.5, 3.0, (2, 3)), np.array([[0, 1, 2], [5, 3, 0]])),
    ),
    _same(
        "gaussian_nll_loss",
        "gaussian_nll_loss",
        [((3, 2), (3, 2), (3, 2)), ((3, 2), (3, 2), (3, 1)), ((3, 2), (3, 2), (3,))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
    ),
    _spec(
        "gaussian_nll_loss_full",
        lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True, reduction="none"),
        lambda x, y, v: TF.gaussian_nll_loss(x, y, v, full=True, reduction="none"),
        [((4,), (4,), (4,))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
    ),
    _spec(
        "cosine_similarity",
        F.cosine_similarity,
        TF.cosine_similarity,
        [((3, 4), (3, 4)), ((2, 4, 3), (4, 3))],
    ),
    _spec(
        "pairwise_distance",
        F.pairwise_distance,
        TF.pairwise_distance,
        [((3, 4), (3, 4)), ((4,), (4,))],
    ),
    _spec(
        "pairwise_distance_p1_keepdim",
        lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
        lambda a, b: TF.pairwise_distance(a, b, p=1.0, keepdim=True),
        [((3, 4), (3, 4))],
    ),
    _spec("normalize", F.normalize, TF.normalize, [((3, 4),)]),
    _spec(
        "normalize_p1_dim0",
        lambda x: F.normalize(x, 1.0, 0),
        lambda x: TF.normalize(x, 1.0, 0),
        [((3, 4),)],
    ),
]

# ---- attention and resampling --------------------------------------------------------------


def _attention(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, -1) @ v


ATTENTION = [
    _same(
        "scaled_dot_product_attention",
        "scaled_dot_product_attention",
        [((2, 3, 4), (2, 5, 4), (2, 5, 3))],
    ),
    _spec(
        "sdpa_float_mask_scale",
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, _mine(ATTENTION_MASK, q), scale=0.7
        ),
        lambda q, k, v: TF.scaled_dot_product_attention(
            q, k, v, _theirs(ATTENTION_MASK, q), scale=0.7
        ),
        [((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))],
    ),
    _spec(
        "sdpa_bool_mask",
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, chainrule.tensor(BOOL_MASK, device=q.device)
        ),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(BOOL_MASK)),
        [((2, 3, 4), (2, 5, 4), (2, 5, 3))],
    ),
    _spec(
        "sdpa_causal",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
        [
            ((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2)),
            ((2, 3, 3), (2, 5, 3), (2, 5, 2)),  # more keys than queries
            ((2, 5, 3), (2, 3, 3), (2, 3, 2)),  # fewer keys than queries
        ],
    ),
    _spec(  # PyTorch's flash path has no double backward: the reference spells the math out
        "sdpa_gqa",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: _attention(q, k.repeat_interleave(2, -3), v.repeat_interleave(2, -3)),
        [((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2))],
    ),
]


def _interpolate(name, shape, **kwargs):
    return _spec(
        name,
        lambda x: F.interpolate(x, **kwargs),
        lambda x: TF.interpolate(x, **kwargs),
        [(shape,)],
    )


RESAMPLING = [
    _interpolate("interpolate_nearest_scale", (1, 2, 3, 4), scale_factor=2),
    _interpolate("interpolate_nearest_size", (1, 2, 5, 4), size=(3, 7)),
    # PyTorch's 2-D nearest kernel copies a dimension whose size stays even when scaled...
    _interpolate("interpolate_nearest_scale_keeps_size", (1, 2, 3, 8), scale_factor=1.3),
    # ...its 1-D forward applies the scale, but its backward copies: a gradient that is not the
    # derivative of its forward. Ours is (finite differences); the values are checked against
    # PyTorch in test_functional.py.
    _spec(
        "interpolate_nearest_1d_scale_keeps_size",
        lambda x: F.interpolate(x, scale_factor=1.3),
        None,
        [((1, 2, 3),)],
    ),
    _interpolate("interpolate_nearest_exact", (1, 2, 5), size=8, mode="nearest-exact"),
    _interpolate("interpolate_bilinear", (1, 2, 3, 4), size=(5, 7), mode="bilinear"),
    _interpolate(
        "interpolate_bilinear_align", (1, 2, 3, 4), size=(5, 3), mode="bilinear", align_corners=True
    ),
    _interpolate("interpolate_bilinear_scale", (2, 1, 4, 3), scale_factor=1.5, mode="bilinear"),
    _interpolate("interpolate_linear", (2, 3, 5), scale_factor=0.6, mode="linear"),
    _interpolate("interpolate_area", (1, 2, 6, 5), size=(3, 2), mode="area"),
    _interpolate("interpolate_area_1d_up", (2, 1, 4), scale_factor=1.6, mode="area"),
    _interpolate(
        "interpolate_nearest_exact_2d", (1, 2, 3, 5), scale_factor=(1.5, 0.5), mode="nearest-exact"
    ),
    _interpolate("interpolate_trilinear", (1, 2, 3, 2, 4), size=(4, 3, 3), mode="trilinear"),
    _interpolate(
        "interpolate_trilinear_align",
        (1, 1, 2, 3, 3),
        scale_factor=(2.0, 1.5, 0.7),
        mode="trilinear",
        align_corners=True,
    ),
    # antialias: the filter widened by the scale when shrinking, weights normalised (PIL's)
    _interpolate(
        "interpolate_bilinear_antialias",
        (1, 2, 9, 7),
        size=(4, 10),
        mode="bilinear",
        antialias=True,
    ),
    _interpolate(
        "interpolate_bicubic_antialias_scale",
        (2, 1, 10, 8),
        scale_factor=(0.3, 0.5),
        mode="bicubic",
        antialias=True,
    ),
    _interpolate(
        "interpolate_bicubic_antialias_align",
        (1, 1, 8, 6),
        size=(3, 9),
        mode="bicubic",
        antialias=True,
        align_corners=True,
    ),
    # bicubic: 4 taps per dimension, A = -0.75, taps past an edge read the edge sample
    _interpolate("interpolate_bicubic", (1, 2, 4, 5), size=(7, 3), mode="bicubic"),
    _interpolate(
        "interpolate_bicubic_align", (2, 1, 3, 4), size=(6, 5), mode="bicubic", align_corners=True
    ),
    _interpolate(
        "interpolate_bicubic_scale", (1, 2, 5, 4), scale_factor=(0.6, 2.5), mode="bicubic"
    ),
    # the same size from a scale_factor still resamples (by 1 / 1.1), but PyTorch's backward
    # copies the cotangent, as for nearest above: our gradient is the derivative (finite
    # differences), the values are checked against PyTorch in test_functional.py
    _spec(
        "interpolate_bicubic_scale_keeps_size",
        lambda x: F.interpolate(x, scale_factor=1.1, mode="bicubic"),
        None,
        [((1, 1, 4, 5),)],
    ),
    _spec(
        "upsample_bicubic_module",
        lambda x: chainrule.nn.Upsample(scale_factor=2, mode="bicubic")(x),
        lambda x: torch.nn.Upsample(scale_factor=2, mode="bicubic")(x),
        [((1, 1, 3, 3),)],
    ),
]


def _at_kinks(name, points, reference=None, **kwargs):
    """An activation on exactly its kink points (and a neighbour each side), against torch's
    gradient there: a convention, so no finite differences; second order where torch has it."""
    torch_fn = reference or getattr(TF, name)
    values = np.array(sorted({p + d for p in points for d in (-0.25, 0.0, 0.25)}))
    return OpSpec(
        f"{name}_kinks",
        lambda x: getattr(F, name)(x, **kwargs),
        lambda x: torch_fn(x, **kwargs),
        shapes=[()],
        make_inputs=lambda rng: (values,),
        finite_differences=False,
    )


# Every activation with a kink, on the kink (issue 17: hardswish's derivative at -3 and 3 was
# -0.5 and 1.5 where PyTorch 2.13 has 0 and 1).
ACTIVATION_KINKS = [
    _at_kinks("hardswish", (-3.0, 3.0)),
    _at_kinks("hardsigmoid", (-3.0, 3.0), reference=lambda x: TF.relu6(x + 3) / 6),
    _at_kinks("relu6", (0.0, 6.0)),
    _at_kinks("hardtanh", (-1.0, 1.0)),
    _at_kinks("relu", (0.0,)),
    _at_kinks("leaky_relu", (0.0,), negative_slope=0.2),
    _at_kinks("elu", (0.0,)),
    _at_kinks("celu", (0.0,), alpha=2.0),  # its second derivative at 0 was alpha's, not 0
    _at_kinks("selu", (0.0,)),
    _at_kinks("hardshrink", (-0.5, 0.5)),
    _at_kinks("softshrink", (-0.5, 0.5)),
    _at_kinks("threshold", (0.5,), threshold=0.5, value=2.0),
]


# ---- pixels and patches -------------------------------------------------------------------

PATCHES = [
    _spec(
        "pixel_shuffle",
        lambda x: F.pixel_shuffle(x, 2),
        lambda x: TF.pixel_shuffle(x, 2),
        [((2, 8, 3, 2),), ((1, 2, 4, 2, 3),)],
    ),
    _spec(
        "pixel_unshuffle",
        lambda x: chainrule.nn.PixelUnshuffle(2)(x),
        lambda x: torch.nn.PixelUnshuffle(2)(x),
        [((2, 3, 4, 2),), ((1, 4, 6),)],
    ),
    _same("unfold", "unfold", [((2, 3, 4, 5),)], kwargs={"kernel_size": 2}),
    _same(
        "unfold_strided_dilated_padded",
        "unfold",
        [((1, 2, 6, 5),), ((2, 5, 4),)],
        kwargs={"kernel_size": (2, 3), "dilation": (2, 1), "padding": (1, 2), "stride": (2, 3)},
    ),
    _same(  # overlapping windows add up
        "fold",
        "fold",
        [((2, 12, 12),)],
        kwargs={"output_size": (4, 5), "kernel_size": 2},
    ),
    _spec(
        "fold_module_strided_padded",
        lambda x: chainrule.nn.Fold((5, 4), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(x),
        lambda x: torch.nn.Fold((5, 4), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(x),
        [((1, 12, 6),), ((6, 6),)],
    ),
]


# ---- spatial transformers ------------------------------------------------------------------


def _grid(shape):
    """Sampling positions in [-1.3, 1.3]: some outside, for the padding modes."""
    return lambda rng: (rng.standard_normal(shape[0]), rng.uniform(-1.3, 1.3, shape[1]))


def _grid_spec(name, shapes, **kwargs):
    return _spec(
        name,
        lambda x, g: F.grid_sample(x, g, **kwargs),
        lambda x, g: TF.grid_sample(x, g, **kwargs),
        [()],
        make_inputs=_grid(shapes),
    )


TRANSFORMERS = [
    _same("affine_grid", "affine_grid", [((2, 2, 3),)], kwargs={"size": (2, 1, 3, 4)}),
    _same(
        "affine_grid_3d_aligned",
        "affine_grid",
        [((1, 3, 4),)],
        kwargs={"size": (1, 2, 2, 3, 2), "align_corners": True},
    ),
    _grid_spec("grid_sample", ((2, 3, 4, 5), (2, 3, 2, 2))),
    _grid_spec(
        "grid_sample_border_aligned",
        ((1, 2, 3, 4), (1, 2, 3, 2)),
        padding_mode="border",
        align_corners=True,
    ),
    _grid_spec("grid_sample_reflection", ((1, 2, 3, 4), (1, 3, 2, 2)), padding_mode="reflection"),
    _grid_spec("grid_sample_nearest", ((1, 2, 3, 4), (1, 3, 2, 2)), mode="nearest"),
    _grid_spec("grid_sample_trilinear", ((1, 2, 3, 2, 4), (1, 2, 2, 2, 3))),
    _grid_spec("grid_sample_bicubic", ((2, 2, 4, 5), (2, 3, 2, 2)), mode="bicubic"),
    _grid_spec(
        "grid_sample_bicubic_border_aligned",
        ((1, 2, 3, 4), (1, 2, 3, 2)),
        mode="bicubic",
        padding_mode="border",
        align_corners=True,
    ),
    _grid_spec(
        "grid_sample_bicubic_reflection",
        ((1, 2, 4, 3), (1, 3, 2, 2)),
        mode="bicubic",
        padding_mode="reflection",
    ),
]


# ---- embedding bags ------------------------------------------------------------------------

BAG_INDICES = np.array([1, 2, 4, 4, 3, 0, 5])
BAG_OFFSETS = np.array([0, 2, 2, 5])  # an empty bag among them


def _bag_indices(offsets):
    """The 1-D indices cut at offsets, or (without offsets) two bags of three as rows."""
    return BAG_INDICES if offsets is not None else BAG_INDICES[:6].reshape(2, 3)


def _bag_spec(name, offsets, **kwargs):
    """embedding_bag of a (6, 3) weight, differentiated in the weight."""

    def mine(w):
        bags = None if offsets is None else chainrule.tensor(offsets, device=w.device)
        indices = chainrule.tensor(_bag_indices(offsets), device=w.device)
        return F.embedding_bag(indices, w, bags, **kwargs)

    def theirs(w):
        bags = None if offsets is None else torch.tensor(offsets)
        return TF.embedding_bag(torch.tensor(_bag_indices(offsets)), w, bags, **kwargs)

    return _spec(name, mine, theirs, [((6, 3),)])


def _weighted_bags(w, psw):
    """embedding_bag(mode='sum') with per_sample_weights spelled out: PyTorch's has no double
    backward for them."""
    bag_of = torch.tensor([0, 0, 2, 2, 2, 3, 3])  # bags cut at BAG_OFFSETS
    rows = w[torch.tensor(BAG_INDICES)] * psw[:, None]
    return torch.zeros(4, 3, dtype=w.dtype).index_add(0, bag_of, rows)


BAGS = [
    _bag_spec("embedding_bag_mean", BAG_OFFSETS),
    _spec(
        "embedding_bag_sum_per_sample_weights",
        lambda w, psw: F.embedding_bag(
            chainrule.tensor(BAG_INDICES, device=w.device),
            w,
            chainrule.tensor(BAG_OFFSETS, device=w.device),
            mode="sum",
            per_sample_weights=psw,
        ),
        _weighted_bags,
        [((6, 3), (7,))],
    ),
    _bag_spec("embedding_bag_max_padding", BAG_OFFSETS, mode="max", padding_idx=4),
    _bag_spec("embedding_bag_2d_mean_padding", None, padding_idx=0),
    _bag_spec(
        "embedding_bag_last_offset_sum",
        np.array([0, 2, 2, 7]),
        mode="sum",
        include_last_offset=True,
    ),
]


# ---- pooling and normalization variants ----------------------------------------------------


def _pdist(x, p):
    first, second = torch.triu_indices(x.shape[0], x.shape[0], 1)
    return torch.linalg.vector_norm(x[first] - x[second], ord=p, dim=-1)


VARIANTS = [
    _same("lp_pool2d", "lp_pool2d", [((2, 3, 4, 5),)], kwargs={"norm_type": 2.0, "kernel_size": 2}),
    _same(
        "lp_pool1d_fractional_norm",
        "lp_pool1d",
        [((2, 3, 7),)],
        kwargs={"norm_type": 1.5, "kernel_size": 3, "stride": 2, "ceil_mode": True},
        domains=[(0.2, 2.0)],  # x^1.5 of a negative is nan, in PyTorch too
    ),
    _spec(
        "lp_pool3d_module",
        lambda x: chainrule.nn.LPPool3d(3, (2, 1, 2))(x),
        lambda x: torch.nn.LPPool3d(3, (2, 1, 2))(x),
        [((1, 2, 2, 3, 4),)],
        domains=[(0.2, 2.0)],
    ),
    _same(
        "local_response_norm",
        "local_response_norm",
        [((2, 5, 3, 2),), ((2, 4, 3),)],
        kwargs={"size": 3},
    ),
    _spec(
        "local_response_norm_module_3d",
        lambda x: chainrule.nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0)(x),
        lambda x: torch.nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0)(x),
        [((1, 3, 2, 2, 2),)],
    ),
    _same(
        "channel_shuffle", "channel_shuffle", [((2, 6, 2, 3),), ((1, 4, 3),)], kwargs={"groups": 2}
    ),
    # PyTorch's pdist has no double backward: the reference spells it out (its values are
    # compared with TF.pdist in test_functional.py)
    _spec("pdist", F.pdist, lambda x: _pdist(x, 2.0), [((5, 3),)]),
    _spec("pdist_p", lambda x: F.pdist(x, 3.0), lambda x: _pdist(x, 3.0), [((4, 2),)]),
    _spec(
        "adaptive_max_pool3d_module",
        lambda x: chainrule.nn.AdaptiveMaxPool3d((2, 1, 2))(x),
        lambda x: torch.nn.AdaptiveMaxPool3d((2, 1, 2))(x),
        [((1, 2, 3, 3, 4),)],
    ),
]


# ---- packed sequences ----------------------------------------------------------------------

LENGTHS = [2, 4, 1]  # unsorted: packing sorts them and keeps the permutation


def _weights(kind, **options):
    """Fixed weights for a torch.nn.<kind>(3, 2, **options), by parameter name."""
    module = getattr(torch.nn, kind)(3, 2, **options)
    return {
        name: R.uniform(-0.7, 0.7, size=tuple(p.shape)) for name, p in module.named_parameters()
    }


def _packed_rnn(kind, options, weights, nn, rnn_utils, make):
    """x (4, 3, 3) padded, h0 -> (packed output data, final states) of an nn.<kind> run on
    pack_padded_sequence(x, LENGTHS, enforce_sorted=False), in torch or chainrule."""

    def fn(x, h):
        module = getattr(nn, kind)(3, 2, **options).to(device=x.device, dtype=x.dtype)
        with torch.no_grad() if nn is torch.nn else chainrule.no_grad():
            for name, parameter in module.named_parameters():
                parameter.copy_(make(weights[name], x))
        packed = rnn_utils.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
        state = (h, h.tanh()) if kind == "LSTM" else h
        output, final = module(packed, state)
        return (output.data, *final) if kind == "LSTM" else (output.data, final)

    return fn


def _packed_spec(name, kind, directions, **options):
    weights = _weights(kind, **options)
    return _spec(
        name,
        _packed_rnn(kind, options, weights, chainrule.nn, chainrule.nn.utils.rnn, _mine),
        _packed_rnn(kind, options, weights, torch.nn, torch.nn.utils.rnn, _theirs),
        [((4, 3, 3), (directions * options.get("num_layers", 1), 3, 2))],
        forward_mode=False,  # torch.func.jvp refuses the reference's module.to()
    )


def _padded_rnn(kind, options, weights, nn, make):
    """x (4, 3, 3), h0 -> (output, final states) of an nn.<kind> on a padded sequence: the
    LSTM and GRU layers run it as one op per direction (ops/recurrent.py)."""

    def fn(x, h):
        module = getattr(nn, kind)(3, 2, **options).to(device=x.device, dtype=x.dtype)
        with torch.no_grad() if nn is torch.nn else chainrule.no_grad():
            for name, parameter in module.named_parameters():
                parameter.copy_(make(weights[name], x))
        state = (h, h.tanh()) if kind == "LSTM" else h
        output, final = module(x, state)
        return (output, *final) if kind == "LSTM" else (output, final)

    return fn


def _padded_spec(name, kind, layers_and_directions, **options):
    weights = _weights(kind, **options)
    batch = 4 if options.get("batch_first") else 3
    return _spec(
        name,
        _padded_rnn(kind, options, weights, chainrule.nn, _mine),
        _padded_rnn(kind, options, weights, torch.nn, _theirs),
        [((4, 3, 3), (layers_and_directions, batch, 2))],
        forward_mode=False,  # torch.func.jvp refuses the reference's module.to()
    )


PACKED = [
    _padded_spec("lstm_sequence_bidirectional", "LSTM", 2, bidirectional=True),
    _padded_spec("lstm_sequence_no_bias_batch_first", "LSTM", 1, bias=False, batch_first=True),
    _padded_spec("gru_sequence_two_layers", "GRU", 2, num_layers=2),
    _padded_spec("gru_sequence_bidirectional_no_bias", "GRU", 2, bidirectional=True, bias=False),
    _spec(
        "pack_then_pad_sequence",
        lambda x: F_rnn.pad_packed_sequence(
            F_rnn.pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False),
            batch_first=True,
            padding_value=-1.0,
            total_length=5,
        )[0],
        lambda x: torch.nn.utils.rnn.pad_packed_sequence(
            torch.nn.utils.rnn.pack_padded_sequence(
                x, LENGTHS, batch_first=True, enforce_sorted=False
            ),
            batch_first=True,
            padding_value=-1.0,
            total_length=5,
        )[0],
        [((3, 4, 2),)],
    ),
    _spec(
        "pad_sequence_left",
        lambda a, b: F_rnn.pad_sequence([a, b], True, 0.5, "left"),
        lambda a, b: torch.nn.utils.rnn.pad_sequence([a, b], True, 0.5, "left"),
        [((2, 3), (4, 3))],
    ),
    _packed_spec("gru_packed_bidirectional", "GRU", 2, bidirectional=True),
    _packed_spec("lstm_packed_two_layers", "LSTM", 1, num_layers=2),
    _packed_spec("rnn_packed_relu", "RNN", 1, nonlinearity="relu"),
]


# Fake quantisation: a staircase whose gradient is the straight-through estimator (1 where the
# level is in range, 0 where clamped), which finite differences of the staircase cannot see.
# Continuous inputs never land on a rounding tie; the range clips some of them.
QUANT_SCALES = np.array([0.25, 0.4, 0.3, 0.5], dtype=np.float32)
QUANT_ZERO_POINTS = np.array([0, 2, -3, 1], dtype=np.int32)
QUANT_FLOAT_ZERO_POINTS = np.array([0.5, -1.25, 2.0, 0.0], dtype=np.float32)


def _quant_spec(name, fn, torch_fn, shapes):
    return OpSpec(name, fn, torch_fn, shapes=shapes, finite_differences=False)


QUANTIZATION = [
    _quant_spec(
        "fake_quantize_per_tensor_affine",
        lambda x: chainrule.fake_quantize_per_tensor_affine(x, 0.3, 2, -5, 6),
        lambda x: torch.fake_quantize_per_tensor_affine(x, 0.3, 2, -5, 6),
        [((3, 5),), ((),)],
    ),
    _quant_spec(
        "fake_quantize_per_tensor_affine_tensor_qparams",
        lambda x: chainrule.fake_quantize_per_tensor_affine(
            x, chainrule.tensor(0.2), chainrule.tensor(1, dtype=chainrule.int32), 0, 15
        ),
        lambda x: torch.fake_quantize_per_tensor_affine(
            x, torch.tensor(0.2), torch.tensor(1, dtype=torch.int32), 0, 15
        ),
        [((4, 3),)],
    ),
    _quant_spec(
        "fake_quantize_per_channel_affine",
        lambda x: chainrule.fake_quantize_per_channel_affine(
            x, chainrule.tensor(QUANT_SCALES), chainrule.tensor(QUANT_ZERO_POINTS), 1, -4, 3
        ),
        lambda x: torch.fake_quantize_per_channel_affine(
            x, torch.tensor(QUANT_SCALES), torch.tensor(QUANT_ZERO_POINTS), 1, -4, 3
        ),
        [((3, 4, 2),)],
    ),
    _quant_spec(
        "fake_quantize_per_channel_affine_float_zero_point",
        lambda x: chainrule.fake_quantize_per_channel_affine(
            x, chainrule.tensor(QUANT_SCALES), chainrule.tensor(QUANT_FLOAT_ZERO_POINTS), 0, -4, 3
        ),
        lambda x: torch.fake_quantize_per_channel_affine(
            x, torch.tensor(QUANT_SCALES), torch.tensor(QUANT_FLOAT_ZERO_POINTS), 0, -4, 3
        ),
        [((4, 3),)],
    ),
]


SPECS = [
    *QUANTIZATION,
    *CONVOLUTION,
    *POOLING,
    *LINEAR,
    *NORMALIZATION,
    *ACTIVATIONS,
    *ACTIVATION_KINKS,
    *EMBEDDING,
    *LOSSES,
    *ATTENTION,
    *RESAMPLING,
    *PACKED,
    *PATCHES,
    *VARIANTS,
    *TRANSFORMERS,
    *BAGS,
]
