"""The torch names that programs written for PyTorch use, specified against torch 2.x: each
program below runs on both libraries and must give the same values, dtypes and shapes, or
errors of the same kind. Grouped as the names were added: constants and aliases, the
in-place functions, nn.functional's top-level spellings, new ops, linear algebra, windows
and buffers. (Derivatives of the differentiable ones: tests/op_specs/torch_names.py.)"""

from __future__ import annotations

import array
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.fft
import chainrule.linalg
from tests.test_torch_namespace import _same_kind, assert_same, run


def t(lib, data, dtype=None):
    return lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype))


def _seeded(lib, *shape):
    """The same pseudo-random float64 values in either library (float64, so that the two
    libraries' orders of summation agree to the comparison's 1e-6)."""
    return lib.tensor(np.random.default_rng(sum(shape)).standard_normal(shape))


X = [[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]]

# ---- constants and aliases ---------------------------------------------------------------------


def test_constants_are_torchs():
    for name in ("inf", "nan", "e", "pi"):
        mine, theirs = getattr(chainrule, name), getattr(torch, name)
        assert mine == theirs or (math.isnan(mine) and math.isnan(theirs)), name
    assert chainrule.newaxis is torch.newaxis is None
    x = chainrule.ones(2, 3)
    assert tuple(x[:, chainrule.newaxis].shape) == (2, 1, 3)


# ---- the in-place functions --------------------------------------------------------------------

UNARY_INPLACE = (
    "abs acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh ceil cos "
    "cosh deg2rad erf erfc exp exp2 expm1 fix floor frac i0 log log10 log1p log2 logit neg "
    "negative rad2deg reciprocal relu round rsqrt sigmoid sin sinc sinh sqrt square tan tanh "
    "trunc zero nan_to_num detach"
).split()

INPLACE_WITH_ARGUMENTS = {
    "clamp_": (0.0, 1.0),
    "clip_": (-0.5,),
    "clamp_max_": (1.0,),
    "clamp_min_": (0.3,),
    "fill_": (2.5,),
    "xlogy_": (2.0,),
    "selu_": (),
    "celu_": (0.5,),
    "threshold_": (0.4, -1.0),
}


@pytest.mark.parametrize(
    "name, arguments",
    [(name + "_", ()) for name in UNARY_INPLACE] + list(INPLACE_WITH_ARGUMENTS.items()),
)
def test_inplace_function_writes_into_its_input_as_torchs(name, arguments):
    def program(lib):
        x = t(lib, [0.25, 0.5, 0.75, 1.5])
        returned = getattr(lib, name)(x, *arguments)
        return returned is x, x

    assert_same(run(program, chainrule), run(program, torch))


def test_inplace_integer_functions_match_torch():
    def program(lib):
        x = t(lib, [4, 6, 9, 0])
        y = t(lib, [6, 4, 0, 5])
        lib.gcd_(x, y)
        z = t(lib, [4, 6, 9, 0])
        lib.lcm_(z, y)
        return x, z

    assert_same(run(program, chainrule), run(program, torch))


def test_inplace_functions_refuse_a_leaf_that_requires_grad_and_a_number():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError):
            lib.exp_(lib.ones(2, requires_grad=True))
        with pytest.raises(TypeError):
            lib.exp_(1.0)


def test_inplace_function_records_history_on_a_non_leaf():
    grads = []
    for lib in (torch, chainrule):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = x * 2
        lib.sigmoid_(y)
        y.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == pytest.approx(grads[1])


# ---- nn.functional at the top level -------------------------------------------------------------

FUNCTIONAL = {
    "conv1d": lambda lib: lib.conv1d(_seeded(lib, 2, 3, 7), _seeded(lib, 4, 3, 3), padding=1),
    "conv2d_grouped": lambda lib: lib.conv2d(
        _seeded(lib, 1, 4, 5, 5), _seeded(lib, 4, 2, 3, 3), None, 2, 1, 1, 2
    ),
    "conv3d": lambda lib: lib.conv3d(_seeded(lib, 1, 2, 4, 4, 4), _seeded(lib, 3, 2, 2, 2, 2)),
    "conv_transpose1d": lambda lib: lib.conv_transpose1d(
        _seeded(lib, 1, 3, 5), _seeded(lib, 3, 2, 3), stride=2, output_padding=1
    ),
    "conv_transpose2d": lambda lib: lib.conv_transpose2d(
        _seeded(lib, 1, 2, 3, 3), _seeded(lib, 2, 1, 2, 2)
    ),
    "conv_transpose3d": lambda lib: lib.conv_transpose3d(
        _seeded(lib, 1, 2, 2, 2, 2), _seeded(lib, 2, 1, 2, 2, 2)
    ),
    "convolution": lambda lib: lib.convolution(
        _seeded(lib, 1, 2, 6), _seeded(lib, 3, 2, 3), None, [2], [1], [1], False, [0], 1
    ),
    "convolution_transposed": lambda lib: lib.convolution(
        _seeded(lib, 1, 2, 3, 3),
        _seeded(lib, 2, 3, 2, 2),
        None,
        [1, 1],
        [0, 0],
        [1, 1],
        True,
        [0, 0],
        1,
    ),  # fmt: skip
    "layer_norm": lambda lib: lib.layer_norm(
        _seeded(lib, 2, 3, 4), [3, 4], _seeded(lib, 3, 4), None, 1e-5, False
    ),
    "group_norm": lambda lib: lib.group_norm(_seeded(lib, 2, 4, 3), 2, eps=1e-3),
    "batch_norm_training": lambda lib: lib.batch_norm(
        _seeded(lib, 4, 3), None, None, None, None, True, 0.1, 1e-5, False
    ),
    "batch_norm_running": lambda lib: lib.batch_norm(
        _seeded(lib, 4, 3, 2),
        _seeded(lib, 3),
        _seeded(lib, 5)[:3],
        lib.zeros(3, dtype=lib.float64),
        lib.ones(3, dtype=lib.float64),
        False,
        0.1,
        1e-5,
        True,
    ),  # fmt: skip
    "instance_norm": lambda lib: lib.instance_norm(
        _seeded(lib, 2, 3, 5), None, None, None, None, True, 0.1, 1e-5, False
    ),
    "rms_norm": lambda lib: lib.rms_norm(_seeded(lib, 2, 4), [4], eps=1e-6),
    "embedding_weight_first": lambda lib: lib.embedding(_seeded(lib, 5, 3), t(lib, [[4, 0, 4]])),
    "max_pool1d": lambda lib: lib.max_pool1d(_seeded(lib, 1, 2, 7), 3, 2),
    "max_pool2d": lambda lib: lib.max_pool2d(_seeded(lib, 1, 1, 4, 4), 2),
    "max_pool3d": lambda lib: lib.max_pool3d(_seeded(lib, 1, 1, 4, 4, 4), 2, 1, 1),
    "max_pool1d_with_indices": lambda lib: lib.max_pool1d_with_indices(_seeded(lib, 1, 2, 6), 2),
    "avg_pool1d": lambda lib: lib.avg_pool1d(_seeded(lib, 1, 2, 7), 3, 2, 1, False, False),
    "adaptive_avg_pool1d": lambda lib: lib.adaptive_avg_pool1d(_seeded(lib, 1, 2, 7), 3),
    "adaptive_max_pool1d_returns_indices": lambda lib: lib.adaptive_max_pool1d(
        _seeded(lib, 1, 2, 7), 3
    ),
    "bilinear": lambda lib: lib.bilinear(
        _seeded(lib, 2, 3), _seeded(lib, 2, 4), _seeded(lib, 5, 3, 4), _seeded(lib, 5)
    ),
    "constant_pad_nd": lambda lib: lib.constant_pad_nd(t(lib, [[1.0, 2.0]]), [1, 2, 0, 1], 7),
    "constant_pad_nd_crops": lambda lib: lib.constant_pad_nd(t(lib, [1.0, 2.0, 3.0]), [-1, 0]),
    "channel_shuffle": lambda lib: lib.channel_shuffle(lib.arange(8.0).reshape(1, 4, 2), 2),
    "pixel_shuffle": lambda lib: lib.pixel_shuffle(lib.arange(16.0).reshape(1, 4, 2, 2), 2),
    "pixel_unshuffle": lambda lib: lib.pixel_unshuffle(lib.arange(16.0).reshape(1, 1, 4, 4), 2),
    "prelu": lambda lib: lib.prelu(t(lib, [[-1.0, 2.0]]), t(lib, [0.25])),
    "pdist": lambda lib: lib.pdist(t(lib, [[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])),
    # the losses: no reduction unless asked (torch's binding never applies the schema's 1)
    "bce_with_logits_default_none": lambda lib: lib.binary_cross_entropy_with_logits(
        t(lib, X), t(lib, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
    ),
    "bce_with_logits_mean_pos_weight": lambda lib: lib.binary_cross_entropy_with_logits(
        t(lib, X), t(lib, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]]), None, t(lib, [1.0, 2.0, 0.5]), 1
    ),
    "kl_div": lambda lib: lib.kl_div(t(lib, X), t(lib, [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
    "kl_div_sum_log_target": lambda lib: lib.kl_div(t(lib, X), t(lib, X), 2, log_target=True),
    "cosine_embedding_loss": lambda lib: lib.cosine_embedding_loss(
        t(lib, X), t(lib, [[1.0, 0.0, 1.0], [0.5, 0.5, 0.0]]), t(lib, [1.0, -1.0]), 0.1
    ),
    "hinge_embedding_loss_sum": lambda lib: lib.hinge_embedding_loss(
        t(lib, X), t(lib, [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]), 1.0, 2
    ),
    "margin_ranking_loss_mean": lambda lib: lib.margin_ranking_loss(
        t(lib, [1.0, 2.0, 0.5]), t(lib, [2.0, 1.0, 0.5]), t(lib, [1.0, 1.0, -1.0]), 0.2, 1
    ),
    "triplet_margin_loss": lambda lib: lib.triplet_margin_loss(
        _seeded(lib, 3, 4), _seeded(lib, 4, 3).T, _seeded(lib, 2, 6).reshape(3, 4)
    ),
    "poisson_nll_loss": lambda lib: lib.poisson_nll_loss(
        t(lib, X), t(lib, [[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]]), True, True, 1e-8, 1
    ),
    "ctc_loss_default_none": lambda lib: lib.ctc_loss(
        _seeded(lib, 5, 2, 4).log_softmax(2), t(lib, [[1, 2], [3, 3]]), [5, 4], [2, 2]
    ),
    "ctc_loss_mean": lambda lib: lib.ctc_loss(
        _seeded(lib, 5, 2, 4).log_softmax(2), t(lib, [[1, 2], [3, 3]]), [5, 4], [2, 1], 0, 1
    ),
    # dropout with `train`, and the identities at train=False
    "dropout_eval": lambda lib: lib.dropout(t(lib, X), 0.5, train=False),
    "alpha_dropout_eval": lambda lib: lib.alpha_dropout(t(lib, X), 0.5, False),
    "feature_alpha_dropout_eval": lambda lib: lib.feature_alpha_dropout(t(lib, X), 0.5, False),
    "feature_dropout_all": lambda lib: lib.feature_dropout(lib.ones(2, 3, 4), 1.0, True),
    "dropout_inplace_all": lambda lib: (lambda x: (lib.dropout_(x, 1.0, True) is x, x))(
        lib.ones(3)
    ),
}


@pytest.mark.parametrize("case", FUNCTIONAL)
def test_nn_functional_forms_match_torch(case):
    assert_same(run(FUNCTIONAL[case], chainrule), run(FUNCTIONAL[case], torch))


def test_embedding_padding_row_gets_no_gradient_as_torchs():
    grads = []
    for lib in (torch, chainrule):
        weight = _seeded(lib, 4, 2).requires_grad_(True)
        lib.embedding(weight, t(lib, [0, 2, 2, 3]), padding_idx=2).sum().backward()
        grads.append(weight.grad.tolist())
    assert grads[0] == grads[1]
    assert grads[1][2] == [0.0, 0.0]


def test_feature_dropout_drops_whole_channels():
    chainrule.manual_seed(0)
    y = chainrule.feature_dropout(chainrule.ones(8, 6, 5), 0.5, True)
    per_channel = y.reshape(48, 5)
    assert bool((per_channel.amax(1) == per_channel.amin(1)).all())
    assert set(per_channel[:, 0].tolist()) == {0.0, 2.0}


# ---- new ops ----------------------------------------------------------------------------------

OPS = {
    "divide_floor": lambda lib: lib.divide(t(lib, [7, -7]), 2, rounding_mode="floor"),
    "multiply": lambda lib: lib.multiply(t(lib, [1, 2]), t(lib, [0.5])),
    "subtract_alpha": lambda lib: lib.subtract(t(lib, [1.0, 2.0]), 1, alpha=3),
    "gcd": lambda lib: lib.gcd(t(lib, [4, 6, 0, -12]), t(lib, [6, -4, 0, 18])),
    "gcd_int32_int64": lambda lib: lib.gcd(t(lib, [4], "int32"), t(lib, [6])),
    "lcm": lambda lib: lib.lcm(t(lib, [0, -4, 3]), t(lib, [6, 6, 0])),
    "nextafter": lambda lib: lib.nextafter(t(lib, [1.0, 0.0, -1.0]), t(lib, [2.0, -1.0, -1.0])),
    "nextafter_float64": lambda lib: lib.nextafter(t(lib, [1.0]), t(lib, [2.0], "float64")),
    "nextafter_bfloat16": lambda lib: lib.nextafter(
        t(lib, [1.0, -1.0, 0.0, -0.0, 3.5, math.inf, math.nan, -2.0], "bfloat16"),
        t(lib, [2.0, -2.0, -1.0, 1.0, 3.5, 0.0, 1.0, 5.0], "bfloat16"),
    ).float(),  # exactly: every bfloat16 is a float32
    "bincount": lambda lib: lib.bincount(t(lib, [0, 1, 1, 3])),
    "bincount_minlength": lambda lib: lib.bincount(t(lib, [2, 0], "int32"), minlength=5),
    "bincount_weights": lambda lib: lib.bincount(t(lib, [0, 1, 1]), t(lib, [0.5, 1.0, 2.0])),
    "bincount_int_weights_double": lambda lib: lib.bincount(t(lib, [0, 1, 1]), t(lib, [1, 2, 3])),
    "bincount_empty": lambda lib: lib.bincount(t(lib, [], "int64")),
    # an empty batch's weighted counts: int64 zeros, whatever the weights (PyTorch's shortcut)
    "bincount_empty_weighted": lambda lib: lib.bincount(
        t(lib, [], "int64"), t(lib, [], "float64"), minlength=3
    ),
    "histogram_bins": lambda lib: tuple(lib.histogram(t(lib, [1.0, 2.0, 1.0, 2.5, 4.0]), 4)),
    "histogram_range_weight": lambda lib: tuple(
        lib.histogram(
            t(lib, [1.0, 2.0, 1.0, -3.0]), 3, range=(0.0, 3.0), weight=t(lib, [1.0, 2, 3, 4])
        )
    ),
    "histogram_edges_density": lambda lib: tuple(
        lib.histogram(t(lib, [0.5, 1.5, 1.5, 4.0]), t(lib, [0.0, 1.0, 2.0, 5.0]), density=True)
    ),
    "histogram_constant": lambda lib: tuple(lib.histogram(t(lib, [1.0, 1.0]), 2)),
    "histogram_empty": lambda lib: tuple(lib.histogram(t(lib, []), 3)),
    "histogram_float64": lambda lib: tuple(lib.histogram(t(lib, [0.0, 1.0], "float64"), 2)),
    "histogramdd_counts": lambda lib: tuple(
        lib.histogramdd(t(lib, [[0.0, 1.0], [1.0, 1.0], [2.0, 3.0], [0.5, 2.0]]), bins=[2, 3])
    ),
    "histogramdd_range_density": lambda lib: tuple(
        lib.histogramdd(
            t(lib, [[0.0, 1.0], [1.0, 1.0], [2.0, 3.0], [0.5, 2.0], [float("nan"), 1.0]]),
            bins=2,
            range=[0.0, 1.0, 0.0, 2.0],
            density=True,
        )
    ),
    "histogramdd_edges_weight": lambda lib: tuple(
        lib.histogramdd(
            t(lib, [[[0.0, 1.0], [1.0, 1.0]], [[2.0, 3.0], [0.5, 2.0]]], "float64"),
            bins=[t(lib, [0.0, 1.0, 5.0], "float64"), t(lib, [0.0, 2.0, 3.0], "float64")],
            weight=t(lib, [[1.0, 2.0], [3.0, 4.0]], "float64"),
        )
    ),
    "histogramdd_constant_and_empty": lambda lib: (
        tuple(lib.histogramdd(lib.ones(3, 2), bins=(1, 2))),
        tuple(lib.histogramdd(lib.zeros(0, 3), bins=2)),
    ),
    "combinations": lambda lib: lib.combinations(t(lib, [1, 2, 3, 4]), 3),
    "combinations_replacement": lambda lib: lib.combinations(t(lib, [1.0, 2.0]), 2, True),
    "combinations_r0": lambda lib: lib.combinations(t(lib, [1.0, 2.0])),
    "combinations_too_long": lambda lib: lib.combinations(t(lib, [1.0, 2.0]), 3),
    "cumulative_trapezoid": lambda lib: lib.cumulative_trapezoid(t(lib, [1.0, 2.0, 4.0])),
    "cumulative_trapezoid_int": lambda lib: lib.cumulative_trapezoid(
        t(lib, [[1, 2], [3, 5]]), dim=0
    ),
    "cumulative_trapezoid_x": lambda lib: lib.cumulative_trapezoid(
        t(lib, [1.0, 2.0, 4.0]), t(lib, [0.0, 1.0, 3.0])
    ),
    "diagonal_scatter": lambda lib: lib.diagonal_scatter(lib.zeros(3, 4), lib.ones(3), 1),
    "select_scatter": lambda lib: lib.select_scatter(lib.zeros(2, 3), t(lib, [1.0, 2.0]), 1, 0),
    "slice_scatter": lambda lib: lib.slice_scatter(lib.zeros(5), lib.ones(2), 0, 1, 4, 2),
    "as_strided_scatter": lambda lib: lib.as_strided_scatter(
        lib.arange(12.0).reshape(3, 4), -lib.ones(2, 2), (2, 2), (4, 1), 1
    ),
    "renorm": lambda lib: lib.renorm(t(lib, X), 2, 0, 2.0),
    "renorm_p_inf": lambda lib: lib.renorm(t(lib, X), math.inf, 1, 1.0),
    "fill": lambda lib: lib.fill(t(lib, [1, 2]), 2.7),
    "fill_tensor": lambda lib: lib.fill(t(lib, [1.0, 2.0]), t(lib, 3.0, "float64")),
    "detach": lambda lib: lib.detach(lib.ones(2, requires_grad=True) * 2),
    "adjoint": lambda lib: lib.adjoint(t(lib, [[1 + 2j, 3 - 1j]])).resolve_conj(),
    "unravel_index": lambda lib: lib.unravel_index(t(lib, [4, 1, 6, -1]), (2, 3)),
    "split_with_sizes": lambda lib: lib.split_with_sizes(lib.arange(5), [2, 3]),
    "unsafe_split": lambda lib: lib.unsafe_split(lib.arange(5), 2),
    "unsafe_chunk": lambda lib: lib.unsafe_chunk(lib.arange(5), 2),
    "predicates": lambda lib: (
        lib.is_signed(t(lib, [1], "uint8")),
        lib.is_signed(t(lib, [True])),
        lib.is_signed(t(lib, [1.0])),
        lib.is_nonzero(t(lib, [0.0])),
        lib.is_nonzero(t(lib, 3)),
        lib.is_same_size(lib.ones(2, 3), lib.zeros(2, 3)),
        lib.get_device(lib.ones(1)),
    ),
    "scalar_tensor": lambda lib: (lib.scalar_tensor(3), lib.scalar_tensor(True, dtype=lib.bool)),
    "gradient": lambda lib: lib.gradient(t(lib, [1.0, 4.0, 9.0, 16.0, 25.0])),
    "gradient_int": lambda lib: lib.gradient(t(lib, [1, 4, 9])),
    "gradient_spacings_per_dim": lambda lib: lib.gradient(
        lib.arange(12.0).reshape(3, 4) ** 2, spacing=[2.0, 3.0]
    ),
    "gradient_one_dim": lambda lib: lib.gradient(lib.arange(12.0).reshape(3, 4) ** 2, dim=1),
    "gradient_coordinates_edge_order_2": lambda lib: lib.gradient(
        t(lib, [1.0, 4.0, 9.0, 16.0, 25.0], "float64"),
        spacing=(t(lib, [0.0, 1.0, 3.0, 4.0, 7.0], "float64"),),
        edge_order=2,
    ),
    "range": lambda lib: (lib.range(1, 4), lib.range(3, 1, -0.5), lib.range(0, 2, dtype=lib.int64)),
    "nonzero_static_padded": lambda lib: lib.nonzero_static(t(lib, [0, 3, 0, 5]), size=3),
    "nonzero_static_cut": lambda lib: lib.nonzero_static(
        t(lib, [[0, 3], [1, 0]]), size=1, fill_value=9
    ),
    "index_put_": lambda lib: (
        lambda x: (lib.index_put_(x, (t(lib, [0, 2]),), t(lib, 5.0), accumulate=True) is x, x)
    )(lib.ones(3)),
}


@pytest.mark.parametrize("case", OPS)
def test_ops_match_torch(case):
    assert_same(run(OPS[case], chainrule), run(OPS[case], torch))


# ---- linear algebra -----------------------------------------------------------------------------

SPD = [[4.0, 2.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 2.0]]
A = [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]


def f64(lib, data):
    """float64: LAPACK's float32 rounding differs between the libraries beyond 1e-6."""
    return t(lib, data, "float64")


LINALG = {
    "cholesky": lambda lib: lib.cholesky(f64(lib, SPD)),
    "cholesky_upper": lambda lib: lib.cholesky(f64(lib, SPD), True),
    "cholesky_solve": lambda lib: lib.cholesky_solve(
        lib.ones(3, 2, dtype=lib.float64), lib.cholesky(f64(lib, SPD))
    ),
    "cholesky_inverse_upper": lambda lib: lib.cholesky_inverse(
        lib.cholesky(f64(lib, SPD), True), True
    ),
    "lu": lambda lib: lib.lu(f64(lib, SPD)),
    "lu_singular": lambda lib: lib.lu(lib.zeros(2, 2)),
    "lu_infos": lambda lib: lib.lu(t(lib, [[1.0, 2.0], [2.0, 4.0]]), get_infos=True),
    "lu_unpack": lambda lib: tuple(lib.lu_unpack(*lib.lu(t(lib, [[1.0, 2.0], [3.0, 4.0]])))),
    "lu_unpack_pivots_only": lambda lib: tuple(
        lib.lu_unpack(*lib.lu(f64(lib, SPD)), unpack_data=False)
    ),
    "lu_solve": lambda lib: lib.lu_solve(lib.ones(3, 1, dtype=lib.float64), *lib.lu(f64(lib, SPD))),
    "triangular_solve": lambda lib: tuple(
        lib.triangular_solve(lib.ones(2, 1), t(lib, [[2.0, 1.0], [0.0, 4.0]]))
    ),
    "triangular_solve_lower_transposed": lambda lib: tuple(
        lib.triangular_solve(lib.ones(2, 1), t(lib, [[2.0, 9.0], [1.0, 4.0]]), False, True)
    ),
    "qr_complete": lambda lib: tuple(lib.qr(f64(lib, A), some=False)),
    "svd_V_sign_free": lambda lib: lib.svd(f64(lib, A)).V.abs(),
    "svd_singular_values_only": lambda lib: tuple(lib.svd(f64(lib, A), compute_uv=False)),
    "pinverse": lambda lib: lib.pinverse(f64(lib, A)),
    "matrix_exp": lambda lib: lib.matrix_exp(t(lib, [[0.0, 1.0], [-1.0, 0.0]])),
    "nuclear_norm": lambda lib: lib.nuclear_norm(f64(lib, A)),
    "nuclear_norm_keepdim": lambda lib: lib.nuclear_norm(f64(lib, A), True),
    "frobenius_norm": lambda lib: lib.frobenius_norm(f64(lib, A), 1, True),
    "vander": lambda lib: lib.vander(t(lib, [1, 2, 3])),
    "vander_increasing_N": lambda lib: lib.vander(t(lib, [1.0, 2.0]), N=4, increasing=True),
    "vander_int32_widens": lambda lib: lib.vander(t(lib, [1, 2], "int32")),
    "vander_N0": lambda lib: lib.vander(t(lib, [1.0, 2.0]), N=0),
    "linalg.vander": lambda lib: lib.linalg.vander(t(lib, [[1.0, 2.0], [3.0, 4.0]]), N=3),
    "linalg.householder_product": lambda lib: lib.linalg.householder_product(
        t(lib, [[1.0, 0.0], [0.5, 1.0], [-0.5, 2.0]]), t(lib, [1.2, 0.4])
    ),
    "linalg.tensorinv": lambda lib: lib.linalg.tensorinv(
        (2 * lib.eye(6) + 0.1).reshape(2, 3, 6), ind=2
    ),
    "linalg.tensorsolve": lambda lib: lib.linalg.tensorsolve(
        (2 * lib.eye(6) + 0.1).reshape(2, 3, 6), lib.ones(2, 3)
    ),
    "linalg.solve_ex": lambda lib: tuple(
        lib.linalg.solve_ex(f64(lib, SPD), lib.ones(3, dtype=lib.float64))
    ),
    "linalg.solve_ex_batched_right": lambda lib: tuple(
        lib.linalg.solve_ex(f64(lib, [SPD, SPD]), lib.ones(2, 1, 3, dtype=lib.float64), left=False)
    ),
}


def _assert_close(mine, theirs) -> None:
    """assert_same's checks with an absolute tolerance: LAPACK's roundoff near zero differs."""
    if isinstance(theirs, (tuple, list)):
        assert len(mine) == len(theirs)
        for ours, expected in zip(mine, theirs):
            _assert_close(ours, expected)
        return
    assert tuple(mine.shape) == tuple(theirs.shape) and mine.dtype.name == str(theirs.dtype)[6:]
    double = theirs.dtype in (torch.float64, torch.complex128)
    tolerance = {"rtol": 1e-7, "atol": 1e-12} if double else {"rtol": 1e-6, "atol": 1e-7}
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), **tolerance)


@pytest.mark.parametrize("case", LINALG)
def test_linear_algebra_matches_torch(case):
    _assert_close(run(LINALG[case], chainrule), run(LINALG[case], torch))


def test_householder_product_rebuilds_q_from_torchs_geqrf():
    a = np.random.default_rng(0).standard_normal((5, 3))
    packed, tau = torch.geqrf(torch.tensor(a))
    q = chainrule.linalg.householder_product(
        chainrule.tensor(packed.numpy()), chainrule.tensor(tau.numpy())
    )
    np.testing.assert_allclose(q.numpy(), torch.linalg.qr(torch.tensor(a)).Q.numpy(), atol=1e-12)
    assert chainrule.orgqr is chainrule.linalg.householder_product


def test_solve_ex_reports_a_singular_matrix_where_torch_does():
    results = [
        tuple(lib.linalg.solve_ex(lib.zeros(2, 2), lib.ones(2))) for lib in (torch, chainrule)
    ]
    assert results[0][1].item() == results[1][1].item() == 1
    with pytest.raises(chainrule.LinAlgError):
        chainrule.linalg.solve_ex(chainrule.zeros(2, 2), chainrule.ones(2), check_errors=True)


def test_cholesky_solve_derivative_treats_the_factor_as_full_as_torchs():
    """torch differentiates cholesky_solve and cholesky_inverse as if L were a full matrix:
    the gradient has an upper triangle too (the value never reads it)."""
    grads = []
    for lib in (torch, chainrule):
        factor = lib.cholesky(t(lib, SPD, "float64")).requires_grad_(True)
        b = lib.tensor([[1.0, -2.0], [0.5, 1.0], [3.0, 0.0]], dtype=lib.float64)
        (lib.cholesky_solve(b, factor).sum() + lib.cholesky_inverse(factor).trace()).backward()
        grads.append(factor.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)
    assert np.abs(np.triu(grads[1], 1)).max() > 0


def test_as_strided_scatter_derivative_is_the_identity_outside_the_view():
    """torch 2.13 returns the cotangent *inside* the view for input (and 0 outside), which is
    backwards: chainrule gives g outside, 0 inside, as finite differences do (op spec)."""
    x = chainrule.zeros(3, 4, requires_grad=True)
    out = chainrule.as_strided_scatter(x, chainrule.ones(2, 2), (2, 2), (4, 1), 1)
    out.backward(chainrule.arange(12.0).reshape(3, 4))
    expected = np.arange(12.0).reshape(3, 4)
    expected[0:2, 1:3] = 0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---- fft ----------------------------------------------------------------------------------------

FFT = {
    "hfft2": lambda lib: lib.fft.hfft2(_seeded(lib, 3, 4) * 1j + _seeded(lib, 4, 3).T),
    "hfftn_s": lambda lib: lib.fft.hfftn(
        _seeded(lib, 2, 3).to(lib.complex64), s=(2, 4), norm="forward"
    ),
    "ihfft2": lambda lib: lib.fft.ihfft2(_seeded(lib, 3, 5)),
    "ihfftn_dim": lambda lib: lib.fft.ihfftn(_seeded(lib, 2, 3, 4), dim=(0, 2), norm="ortho"),
}


@pytest.mark.parametrize("case", FFT)
def test_fft_matches_torch(case):
    mine, theirs = run(FFT[case], chainrule), run(FFT[case], torch)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    assert mine.dtype.name == str(theirs.dtype)[6:]


# ---- windows and buffers ------------------------------------------------------------------------

WINDOWS = {
    "hann": lambda lib: lib.hann_window(8),
    "hann_symmetric": lambda lib: lib.hann_window(5, periodic=False),
    "hann_one": lambda lib: lib.hann_window(1),
    "hann_empty": lambda lib: lib.hann_window(0),
    "hamming": lambda lib: lib.hamming_window(6),
    "hamming_coefficients": lambda lib: lib.hamming_window(6, False, 0.5, 0.4),
    "blackman_float64": lambda lib: lib.blackman_window(7, dtype=lib.float64),
    "bartlett": lambda lib: lib.bartlett_window(6),
    "bartlett_symmetric": lambda lib: lib.bartlett_window(5, False),
    "kaiser": lambda lib: lib.kaiser_window(6),
    "kaiser_beta": lambda lib: lib.kaiser_window(5, False, 4.0),
    "window_requires_grad": lambda lib: lib.hann_window(3, requires_grad=True),
}


@pytest.mark.parametrize("case", WINDOWS)
def test_windows_match_torch(case):
    mine, theirs = run(WINDOWS[case], chainrule), run(WINDOWS[case], torch)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), atol=1e-6)
    assert mine.dtype.name == str(theirs.dtype)[6:]
    assert mine.requires_grad == theirs.requires_grad


def test_frombuffer_and_empty_permuted_match_torch():
    def program(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: the buffer is not writable
            ints = lib.frombuffer(
                array.array("i", [1, 2, 3, 4]), dtype=lib.int32, offset=4, count=2
            )
            floats = lib.frombuffer(bytearray(8), dtype=lib.float32)
        empty = lib.empty_permuted((2, 3, 4), (0, 2, 1))
        return ints, floats, tuple(empty.shape)

    assert_same(run(program, chainrule), run(program, torch))


def test_frombuffer_shares_a_writable_buffers_memory():
    buffer = bytearray(array.array("f", [1.0, 2.0]).tobytes())
    x = chainrule.frombuffer(buffer, dtype=chainrule.float32)
    buffer[0:4] = array.array("f", [5.0]).tobytes()
    assert x.tolist() == [5.0, 2.0]


# ---- errors -------------------------------------------------------------------------------------

ERRORS = {
    "gcd_float": lambda lib: lib.gcd(t(lib, [4.0]), t(lib, [6.0])),
    "gcd_bool": lambda lib: lib.gcd(t(lib, [True]), t(lib, [False])),
    "nextafter_int": lambda lib: lib.nextafter(t(lib, [1]), t(lib, [2])),
    "bincount_negative": lambda lib: lib.bincount(t(lib, [-1, 2])),
    "bincount_float": lambda lib: lib.bincount(t(lib, [1.0])),
    "bincount_2d": lambda lib: lib.bincount(t(lib, [[1]])),
    "bincount_weights_length": lambda lib: lib.bincount(t(lib, [0, 1]), lib.ones(3)),
    "histogram_int": lambda lib: lib.histogram(t(lib, [1, 2]), 3),
    "histogram_float16": lambda lib: lib.histogram(t(lib, [1.0, 2.0], "float16"), 3),
    "histogram_reversed_range": lambda lib: lib.histogram(t(lib, [1.0]), 3, range=(2.0, 1.0)),
    "histogram_zero_bins": lambda lib: lib.histogram(lib.ones(3), 0),
    "histogram_infinite_range": lambda lib: lib.histogram(t(lib, [1.0, float("inf")]), 2),
    "histogramdd_1d": lambda lib: lib.histogramdd(lib.ones(3), bins=2),
    "histogramdd_int": lambda lib: lib.histogramdd(lib.ones(3, 2, dtype=lib.int64), bins=2),
    "histogramdd_bins_count": lambda lib: lib.histogramdd(lib.ones(3, 2), bins=[2]),
    "histogramdd_edges_count": lambda lib: lib.histogramdd(lib.ones(3, 2), bins=[lib.ones(2)]),
    "histogramdd_range_length": lambda lib: lib.histogramdd(lib.ones(3, 2), 2, range=[0.0, 1.0]),
    "histogramdd_reversed_range": lambda lib: lib.histogramdd(
        lib.ones(3, 2), 2, range=[1.0, 0.0, 0.0, 1.0]
    ),
    "histogramdd_zero_bins": lambda lib: lib.histogramdd(lib.ones(3, 2), bins=0),
    "histogramdd_weight_shape": lambda lib: lib.histogramdd(lib.ones(3, 2), 2, weight=lib.ones(4)),
    "combinations_2d": lambda lib: lib.combinations(lib.ones(2, 2)),
    "combinations_negative": lambda lib: lib.combinations(lib.ones(2), -1),
    "diagonal_scatter_wrong_size": lambda lib: lib.diagonal_scatter(lib.zeros(3, 3), lib.ones(2)),
    "select_scatter_wrong_size": lambda lib: lib.select_scatter(lib.zeros(3, 3), lib.ones(2), 0, 0),
    "unravel_index_float": lambda lib: lib.unravel_index(t(lib, [1.0]), (2, 3)),
    "renorm_1d": lambda lib: lib.renorm(lib.ones(3), 2, 0, 1.0),
    "renorm_negative_maxnorm": lambda lib: lib.renorm(lib.ones(2, 2), 2, 0, -1.0),
    "fill_vector_value": lambda lib: lib.fill(lib.ones(2), lib.ones(2)),
    "is_nonzero_two_values": lambda lib: lib.is_nonzero(lib.ones(2)),
    "is_nonzero_empty": lambda lib: lib.is_nonzero(lib.ones(0)),
    "adjoint_vector": lambda lib: lib.adjoint(lib.ones(2)),
    "split_with_sizes_wrong_sum": lambda lib: lib.split_with_sizes(lib.arange(5), [2, 2]),
    "hann_int_dtype": lambda lib: lib.hann_window(4, dtype=lib.int64),
    "hann_negative_length": lambda lib: lib.hann_window(-1),
    "frombuffer_empty": lambda lib: lib.frombuffer(b"", dtype=lib.int32),
    "frobenius_norm_three_dims": lambda lib: lib.frobenius_norm(lib.ones(2, 2, 2), (0, 1, 2)),
    "vander_2d": lambda lib: lib.vander(lib.ones(2, 2)),
    "linalg.vander_bool": lambda lib: lib.linalg.vander(t(lib, [True])),
    "linalg.tensorinv_not_square": lambda lib: lib.linalg.tensorinv(lib.ones(2, 3), ind=1),
    "linalg.householder_product_tau_too_long": lambda lib: lib.linalg.householder_product(
        lib.ones(3, 2), lib.ones(3)
    ),
    "convolution_bad_weight": lambda lib: lib.convolution(
        lib.ones(1, 1, 2), lib.ones(2), None, [1], [0], [1], False, [0], 1
    ),
    "feature_dropout_1d": lambda lib: lib.feature_dropout(lib.ones(3), 0.5, True),
    "gradient_edge_order_3": lambda lib: lib.gradient(lib.ones(4), edge_order=3),
    "gradient_too_short": lambda lib: lib.gradient(lib.ones(2), edge_order=2),
    "gradient_spacing_list_length": lambda lib: lib.gradient(lib.ones(4), spacing=[1.0, 2.0]),
    "nonzero_static_negative_size": lambda lib: lib.nonzero_static(lib.ones(2), size=-1),
    "set_num_interop_threads_zero": lambda lib: lib.set_num_interop_threads(0),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        run(ERRORS[case], torch)
    with pytest.raises(Exception) as raised:
        run(ERRORS[case], chainrule)
    assert _same_kind(raised.value, expected.type), (raised.value, expected.value)


# ---- what is exported ---------------------------------------------------------------------------


def test_every_added_name_is_public_in_its_namespace():
    top = (
        "inf nan e pi newaxis divide multiply subtract gcd lcm nextafter exp_ relu_ clamp_ "
        "clip_ fill_ zero_ detach_ gcd_ lcm_ fix_ conj_physical_ conv1d conv2d conv3d "
        "conv_transpose1d conv_transpose2d conv_transpose3d convolution layer_norm group_norm "
        "instance_norm batch_norm rms_norm embedding max_pool1d max_pool2d max_pool3d "
        "max_pool1d_with_indices avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d bilinear "
        "binary_cross_entropy_with_logits kl_div cosine_embedding_loss hinge_embedding_loss "
        "margin_ranking_loss triplet_margin_loss poisson_nll_loss ctc_loss dropout dropout_ "
        "alpha_dropout alpha_dropout_ feature_alpha_dropout feature_alpha_dropout_ "
        "feature_dropout feature_dropout_ constant_pad_nd channel_shuffle pixel_shuffle "
        "pixel_unshuffle prelu pdist celu_ selu_ rrelu_ threshold_ bincount histogram "
        "combinations cumulative_trapezoid diagonal_scatter select_scatter slice_scatter "
        "as_strided_scatter renorm fill detach adjoint unravel_index split_with_sizes "
        "unsafe_split unsafe_chunk is_signed is_nonzero is_same_size get_device scalar_tensor "
        "hann_window hamming_window blackman_window bartlett_window kaiser_window frombuffer "
        "empty_permuted cholesky cholesky_solve cholesky_inverse qr svd lu lu_solve lu_unpack "
        "triangular_solve pinverse matrix_exp nuclear_norm frobenius_norm vander orgqr vmap "
        "is_anomaly_enabled is_anomaly_check_nan_enabled gradient range nonzero_static "
        "index_put_ channels_last channels_last_3d contiguous_format preserve_format "
        "memory_format strided layout set_num_interop_threads get_num_interop_threads "
        "set_warn_always is_warn_always_enabled set_flush_denormal GradScaler "
        "legacy_contiguous_format geqrf ormqr"
    ).split()
    assert [name for name in top if name not in chainrule.__all__] == []
    assert [name for name in top if not hasattr(torch, name)] == []
    linalg = "vander householder_product tensorinv tensorsolve solve_ex".split()
    assert [name for name in linalg if name not in chainrule.linalg.__all__] == []
    fft = "hfft2 hfftn ihfft2 ihfftn".split()
    assert [name for name in fft if name not in chainrule.fft.__all__] == []


# ---- process-wide settings, formats and the small modules ---------------------------------------


def test_settings_are_recorded_as_torchs():
    for lib in (torch, chainrule):
        before = lib.get_num_interop_threads()
        assert isinstance(before, int) and before >= 1
        lib.set_warn_always(False)
        assert lib.is_warn_always_enabled() is False
        assert isinstance(lib.set_flush_denormal(False), bool)
    chainrule.set_num_interop_threads(3)
    assert chainrule.get_num_interop_threads() == 3


def test_memory_formats_are_accepted_where_torch_takes_them():
    x = chainrule.arange(24.0).reshape(1, 2, 3, 4)
    for format in (chainrule.channels_last, chainrule.contiguous_format, chainrule.preserve_format):
        assert isinstance(format, chainrule.memory_format)
        assert x.to(memory_format=format).tolist() == x.tolist()
        assert chainrule.empty_like(x, memory_format=format).shape == x.shape
    assert isinstance(chainrule.strided, chainrule.layout)
    assert repr(chainrule.channels_last) == "chainrule.channels_last"
    assert chainrule.channels_last != chainrule.contiguous_format
    layer = chainrule.nn.Conv2d(2, 3, 1).to(memory_format=chainrule.channels_last)
    assert tuple(layer(x).shape) == (1, 3, 3, 4)


def test_out_of_memory_and_accelerator_errors_are_named_as_torchs():
    """`except torch.cuda.OutOfMemoryError:` (the shrink-the-batch retry of training loops)
    and `except torch.AcceleratorError:` name classes here too: RuntimeErrors, one OOM class
    under both names, as PyTorch's."""
    for lib in (chainrule, torch):
        assert lib.OutOfMemoryError is lib.cuda.OutOfMemoryError
        assert issubclass(lib.OutOfMemoryError, RuntimeError)
        assert issubclass(lib.AcceleratorError, RuntimeError)
    with pytest.raises(RuntimeError, match="out of memory"):
        raise chainrule.cuda.OutOfMemoryError("CUDA out of memory")


def test_accelerator_answers_as_torchs_on_this_machine():
    import chainrule.accelerator as accelerator

    assert accelerator.is_available() == chainrule.cuda.is_available()
    assert accelerator.device_count() == chainrule.cuda.device_count()
    expected = chainrule.device("cuda") if accelerator.is_available() else None
    assert accelerator.current_accelerator() == expected
    if not torch.accelerator.is_available():  # the two machines agree where neither has one
        assert accelerator.current_accelerator() is torch.accelerator.current_accelerator()


def test_version_module_reads_like_a_cpu_build_of_torch():
    import chainrule.version

    assert chainrule.version.cuda is None and chainrule.version.hip is None
    assert chainrule.version.__version__ == chainrule.__version__


def test_fork_rng_restores_the_random_state_as_torchs():
    import chainrule.random

    draws = []
    for lib, module in ((torch, torch.random), (chainrule, chainrule.random)):
        module.manual_seed(3)
        with module.fork_rng():
            lib.rand(4)
        after_fork = lib.rand(2)
        module.manual_seed(3)
        draws.append(bool((after_fork == lib.rand(2)).all()))
    assert draws == [True, True]


def test_the_small_modules_import_under_as_torch(tmp_path):
    """`import torch.accelerator`, `torch.multiprocessing`, `torch.version.cuda` and
    `torch.random.fork_rng` in a program run by `python -m chainrule.as_torch` reach
    chainrule's modules."""
    import subprocess
    import sys

    script = tmp_path / "program.py"
    script.write_text(
        "import torch\n"
        "import torch.accelerator\n"
        "import torch.multiprocessing as mp\n"
        "from torch.random import fork_rng\n"
        "mp.set_sharing_strategy('file_system')\n"
        "with fork_rng():\n"
        "    torch.rand(1)\n"
        "print(torch.__name__, torch.version.cuda, torch.accelerator.__name__,\n"
        "      torch.ones(2).to(memory_format=torch.contiguous_format).tolist())\n"
    )
    command = [sys.executable, "-m", "chainrule.as_torch", str(script)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "None", "chainrule.accelerator", "[1.0,", "1.0]"]


def _child_writes(index, queue, scale):
    queue.put((index, (chainrule.ones(2) * scale * index).tolist()))


def _child_fails(index):
    if index == 1:
        raise ValueError("child 1 failed")


def test_multiprocessing_spawn_runs_each_index_and_reports_a_childs_error():
    import chainrule.multiprocessing as mp

    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.spawn(_child_writes, args=(queue, 2.0), nprocs=2)
    assert sorted(queue.get() for _ in range(2)) == [(0, [0.0, 0.0]), (1, [2.0, 2.0])]
    with pytest.raises(mp.ProcessRaisedException, match="child 1 failed") as raised:
        mp.spawn(_child_fails, nprocs=2)
    assert raised.value.error_index == 1
    assert mp.Process is __import__("multiprocessing").Process
    with pytest.raises(ValueError):
        mp.set_sharing_strategy("shared_memory_please")


def _low_rank(lib, shape, rank, seed=9):
    """A float64 (*, m, n) matrix of exactly `rank`, the same in either library."""
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    left = rng.standard_normal((*batch, m, rank))
    right = rng.standard_normal((*batch, rank, n))
    return lib.tensor(left @ right, requires_grad=True)


@pytest.mark.parametrize("shape", [(7, 5), (4, 9), (2, 6, 5)], ids=["tall", "wide", "batched"])
def test_svd_lowrank_of_a_rank_deficient_matrix_is_its_svd_as_torchs(shape):
    rank = 3
    chainrule.manual_seed(0)
    A = _low_rank(chainrule, shape, rank)
    U, S, V = chainrule.svd_lowrank(A, q=rank)
    assert tuple(U.shape) == (*shape[:-1], rank) and tuple(V.shape) == (
        *shape[:-2],
        shape[-1],
        rank,
    )
    rebuilt = U @ chainrule.diag_embed(S) @ V.mT
    np.testing.assert_allclose(rebuilt.detach().numpy(), A.detach().numpy(), atol=1e-10)
    S.sum().backward()  # the nuclear norm's gradient, U V^H: independent of the sketch
    expected_A = _low_rank(torch, shape, rank)
    _, expected_S, _ = torch.svd_lowrank(expected_A, q=rank)
    expected_S.sum().backward()
    np.testing.assert_allclose(S.detach().numpy(), expected_S.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(A.grad.numpy(), expected_A.grad.numpy(), atol=1e-9)


def test_svd_lowrank_subtracts_m_and_pca_lowrank_centres_as_torch():
    chainrule.manual_seed(1)
    A = _low_rank(chainrule, (8, 4), 2)
    shift = chainrule.ones(1, 4)
    _, S, _ = chainrule.svd_lowrank(A + shift, q=2, M=shift)
    np.testing.assert_allclose(
        S.detach().numpy(), torch.linalg.svdvals(_low_rank(torch, (8, 4), 2)).detach()[:2].numpy()
    )
    for center in (True, False):
        _, S, V = chainrule.pca_lowrank(A, q=2, center=center)
        _, expected_S, expected_V = torch.pca_lowrank(
            _low_rank(torch, (8, 4), 2), q=2, center=center
        )
        np.testing.assert_allclose(S.detach().numpy(), expected_S.detach().numpy(), rtol=1e-10)
        # the same directions, up to each one's sign
        overlap = np.abs(V.detach().numpy().T @ expected_V.detach().numpy())
        np.testing.assert_allclose(overlap, np.eye(2), atol=1e-8)


def test_pca_lowrank_refuses_a_rank_above_the_matrix_as_torch():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match=r"q\(=5\) must be non-negative integer"):
            lib.pca_lowrank(lib.ones(3, 4), q=5)
        with pytest.raises(ValueError, match=r"niter\(=-1\)"):
            lib.pca_lowrank(lib.ones(3, 4), niter=-1)


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_deterministic_debug_mode_and_anomaly_switches_as_torch(lib):
    try:
        lib.set_deterministic_debug_mode("warn")
        assert lib.get_deterministic_debug_mode() == 1
        assert lib.are_deterministic_algorithms_enabled()
        assert lib.is_deterministic_algorithms_warn_only_enabled()
        lib.set_deterministic_debug_mode(2)
        assert lib.get_deterministic_debug_mode() == 2
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
            lib.set_deterministic_debug_mode("loud")
        with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 3"):
            lib.set_deterministic_debug_mode(3)
    finally:
        lib.set_deterministic_debug_mode("default")
    assert lib.get_deterministic_debug_mode() == 0
    try:
        lib.set_anomaly_enabled(True, False)
        assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
    finally:
        lib.set_anomaly_enabled(False)
    assert not lib.is_anomaly_enabled()
    x = lib.tensor([1.0, -2.0])
    assert lib.is_neg(x) is False and lib.is_neg(-x) is False
    lib.init_num_threads()


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_binomial_draws_whole_counts_in_range_and_checks_dtypes_as_torch(lib):
    generator = lib.Generator().manual_seed(0)
    count = lib.tensor([0.0, 1.0, 10.0, 1000.0, -3.0])
    prob = lib.tensor([0.5, 1.0, 0.0, 0.25, 0.5])
    draws = lib.binomial(count, prob, generator=generator)
    assert draws.dtype == lib.float32 and tuple(draws.shape) == (5,)
    values = draws.tolist()
    assert values[:3] == [0.0, 1.0, 0.0] and values[4] == 0.0
    assert 150 <= values[3] <= 350 and values[3] == int(values[3])
    wide = lib.binomial(lib.tensor([5.0], dtype=lib.float64), lib.tensor([0.5], dtype=lib.float64))
    assert wide.dtype == lib.float64
    with pytest.raises(ValueError, match="only supports floating-point dtypes for count"):
        lib.binomial(lib.tensor([5]), lib.tensor([0.5]))
    with pytest.raises(RuntimeError, match="Found dtype Float but expected Double"):
        lib.binomial(lib.tensor([5.0], dtype=lib.float64), lib.tensor([0.5]))


def test_return_types_hold_pytorchs_named_tuples_by_name():
    """torch.return_types.<name> for `isinstance` checks in ported code: every structseq
    PyTorch defines there has its namesake, and the ops return instances of it."""
    theirs = {
        name
        for name, value in vars(torch.return_types).items()
        if isinstance(value, type)
        and issubclass(value, tuple)
        and not name.endswith("_out")
        and not name.startswith("_")
    }
    assert theirs <= set(chainrule.return_types.__all__), theirs - set(
        chainrule.return_types.__all__
    )
    x = chainrule.tensor([[1.0, 3.0], [4.0, 2.0]])
    A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
    for result, name in [
        (chainrule.max(x, 1), "max"),
        (chainrule.sort(x), "sort"),
        (chainrule.aminmax(x), "aminmax"),
        (chainrule.histogram(x, 2), "histogram"),
        (chainrule.histogramdd(x, 2), "histogramdd"),
        (chainrule.frexp(x), "frexp"),
        (chainrule.linalg.qr(A), "linalg_qr"),
        (chainrule.linalg.slogdet(A), "linalg_slogdet"),
        (chainrule.slogdet(A), "slogdet"),
        (chainrule.linalg.ldl_factor(A), "linalg_ldl_factor"),
        (chainrule.geqrf(A), "geqrf"),
    ]:
        assert isinstance(result, getattr(chainrule.return_types, name)), name
        assert repr(result).startswith(f"chainrule.return_types.{name}(")


def test_dtypes_name_their_real_and_complex_counterparts_as_torch():
    """`x.dtype.to_real()` (the dtype of `x.abs()` for a complex x), `to_complex()` and the
    short name `abbr`, for every dtype both libraries have; integers and bool have no complex
    counterpart (a RuntimeError in both)."""
    for name in (
        "float16 bfloat16 float32 float64 complex64 complex128 int8 int16 int32 int64 "
        "uint8 bool".split()
    ):
        ours, theirs = getattr(chainrule, name), getattr(torch, name)
        assert ours.abbr == theirs.abbr
        assert str(ours.to_real()) == str(theirs.to_real()).replace("torch", "chainrule")
        if theirs.is_floating_point or theirs.is_complex:
            if name != "float16":  # PyTorch's complex32, which chainrule lacks
                assert (
                    str(ours.to_complex()).split(".")[1] == str(theirs.to_complex()).split(".")[1]
                )
        else:
            with pytest.raises(RuntimeError, match="Unknown Complex ScalarType"):
                theirs.to_complex()
            with pytest.raises(RuntimeError, match="Unknown Complex ScalarType"):
                ours.to_complex()
