"""Differential fuzzing against PyTorch, round five: what rounds one to four leave out:
functional nn ops with every keyword (grid_sample and affine_grid, pixel_shuffle, embedding's
scale_grad_by_freq and in-place max_norm, embedding_bag's modes, offsets and per-sample
weights, cdist, one_hot, normalize, cosine_similarity and pairwise_distance broadcasting,
gumbel_softmax's shapes); every loss with every reduction and option, in float32 and float64,
with targets of each integer dtype, K-d inputs and empty batches, and over mixed dtypes; the
binary ops the earlier rounds do not draw over every dtype pair (tensor, 0-d tensor or Python
number) with their in-place forms; reductions' edge cases (dim tuples, dtype=, correction=,
NaN propagation, empty tensors); activations at their kinks with every keyword, to the second
derivative; nn.functional given what it should refuse (the exception's type); and the nn
modules of these functions built with random arguments (repr, output, gradients). Each case
runs one random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and gradients, or the exception type when PyTorch raises (see
`check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'losses-case_17'`), and
`python -m tests.test_fuzz_torch_round5 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule
from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_op_families import _leaf, _with_gradients

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]


def _normal(seed: int, shape: tuple, scale: float = 1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ---- family: sampling and rearranging ------------------------------------------------------
# grid_sample over a drawn grid (inside and beyond [-1, 1]) in every mode, padding mode and
# corner convention, 4-d and 5-d; affine_grid from a random theta; pixel_shuffle and its
# inverse (factors that do not divide refused). Values, and gradients of input and grid.

SAMPLING = ["grid_sample", "affine_grid", "pixel_shuffle", "pixel_unshuffle"]


def _draw_sampling(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(SAMPLING))
    align_corners = [None, False, True][int(rng.integers(0, 3))]
    if name in ("grid_sample", "affine_grid"):
        volumetric = bool(rng.random() < 0.3)
        spatial = tuple(int(s) for s in rng.integers(1, 5, 3 if volumetric else 2))
        modes = ["bilinear", "nearest"] + ([] if volumetric else ["bicubic"])
        mode = str(rng.choice(modes))
        padding_mode = str(rng.choice(["zeros", "border", "reflection"]))
        out_spatial = tuple(int(s) for s in rng.integers(1, 4, len(spatial)))
        reach = float(rng.choice([1.0, 1.5, 3.0]))

        def program(lib):
            F = lib.nn.functional
            if name == "affine_grid":
                rows = len(spatial)
                theta = _leaf(lib, _normal(seed, (2, rows, rows + 1)))
                size = (2, 3) + spatial
                grid = F.affine_grid(theta, size, align_corners=align_corners)
                return _with_gradients(lib, (grid,), [theta], seed)
            x = _leaf(lib, _normal(seed, (2, 2) + spatial))
            values = np.random.default_rng(seed + 1).uniform(
                -reach, reach, size=(2, *out_spatial, len(spatial))
            )
            grid = _leaf(lib, values)
            out = F.grid_sample(
                x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners
            )
            leaves = [x] if mode == "nearest" else [x, grid]
            return _with_gradients(lib, (out,), leaves, seed)

        label = (
            f"{name}({spatial} -> {out_spatial}, {mode}, {padding_mode}, "
            f"align_corners={align_corners}, reach={reach})"
        )
        return label, program
    factor = int(rng.integers(1, 4))
    channels = int(rng.choice([1, 2, 4, 8, 9]))
    sizes = tuple(int(s) for s in rng.integers(1, 7, 2))
    batch = [(), (2,), (2, 1)][int(rng.integers(0, 3))]

    def program(lib):
        F = lib.nn.functional
        x = _leaf(lib, _normal(seed, batch + (channels,) + sizes))
        out = getattr(F, name)(x, factor)
        return _with_gradients(lib, (out,), [x], seed)

    return f"{name}(x{batch + (channels,) + sizes}, {factor})", program


# ---- family: embeddings, distances and the like ------------------------------------------

EMBEDDING_OPS = ["embedding", "embedding_bag", "one_hot", "cdist", "normalize",
                 "cosine_similarity", "pairwise_distance", "gumbel_softmax", "glu", "softmin",
                 "local_response_norm"]  # fmt: skip


def _draw_embeddings(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(EMBEDDING_OPS))
    index_dtype = str(rng.choice(["int64", "int32", "int64"]))
    float_dtype = str(rng.choice(["float64", "float32"]))
    flags = [bool(b) for b in rng.random(4) < 0.5]
    number = int(rng.integers(-6, 6))
    indices = rng.integers(0, 5, (3, 4))
    shapes = [(2, 3), (3,), (1, 3), (2, 1, 3), (4, 2, 3), ()][int(rng.integers(0, 6))], [
        (2, 3), (3,), (1, 3), (2, 1, 3), (2, 2, 3)][int(rng.integers(0, 5))]  # fmt: skip
    p = float(rng.choice([0.0, 1.0, 1.5, 2.0, 3.0, float("inf")]))
    eps = float(rng.choice([1e-8, 1e-6, 0.5]))

    def program(lib):
        F = lib.nn.functional
        index = lib.tensor(indices, dtype=getattr(lib, index_dtype))
        if name == "embedding":
            weight = _leaf(lib, _normal(seed, (5, 3)), float_dtype)
            options = {"scale_grad_by_freq": flags[0]}
            if flags[1]:
                options["padding_idx"] = number % 5 - (5 if number < 0 else 0)
            if flags[2]:
                options["max_norm"] = float(abs(number) % 3 + 0.5)
                options["norm_type"] = 1.0 if flags[3] else 2.0
                with lib.no_grad():
                    F.embedding(index, weight, **options)  # renormalises rows in place
            out = F.embedding(index, weight, **options)
            return (*_with_gradients(lib, (out,), [weight], seed), weight.detach().clone())
        if name == "embedding_bag":
            mode = ["sum", "mean", "max"][number % 3]
            weight = _leaf(lib, _normal(seed, (5, 3)), float_dtype)
            options: dict = {"mode": mode}
            flat = index.reshape(-1)
            if flags[0]:
                # (with include_last_offset the last offset must be the number of indices:
                # PyTorch's CPU kernel ends the last bag at the input's end whatever it says)
                last = flat.numel() if flags[3] else 7
                offsets = lib.tensor([0, 2, 2, last], dtype=index.dtype)
                options["include_last_offset"] = flags[3]
                args = (flat, weight, offsets)
                count = flat.numel()
            else:
                args = (index, weight)
                count = index.numel()
            if flags[1] and mode == "sum":
                per_sample = _leaf(
                    lib,
                    _normal(seed + 2, (count,)).reshape(index.shape if not flags[0] else (count,)),
                    float_dtype,
                )
                options["per_sample_weights"] = per_sample
            if flags[2]:
                options["padding_idx"] = number % 5
            out = F.embedding_bag(*args, **options)
            return _with_gradients(lib, (out,), [weight], seed)
        if name == "one_hot":
            classes = [-1, 5, 6, 3][number % 4]
            return (F.one_hot(index.to(lib.int64), classes),)
        if name == "cdist":
            a = _leaf(lib, _normal(seed, (2, 3, 4)), float_dtype)
            b = _leaf(lib, _normal(seed + 1, (1, 5, 4)[1 if flags[0] else 0 :]), float_dtype)
            mode = [
                "use_mm_for_euclid_dist_if_necessary",
                "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist",
            ][number % 3]
            out = lib.cdist(a, b, p=p, compute_mode=mode)
            return _with_gradients(lib, (out,), [a, b], seed)
        if name == "normalize":
            x = _leaf(lib, _normal(seed, (2, 3, 4)) * (0 if flags[0] else 1), float_dtype)
            out = F.normalize(x, p=p if p else 2.0, dim=number % 3 - 1, eps=eps)
            return _with_gradients(lib, (out,), [x], seed)
        if name in ("cosine_similarity", "pairwise_distance"):
            x = _leaf(lib, _normal(seed, shapes[0]), float_dtype)
            y = _leaf(lib, _normal(seed + 1, shapes[1]), float_dtype)
            if name == "cosine_similarity":
                out = F.cosine_similarity(x, y, dim=-1, eps=eps)
            else:
                out = F.pairwise_distance(x, y, p=p if p else 2.0, eps=eps, keepdim=flags[0])
            return _with_gradients(lib, (out,), [x, y], seed)
        if name == "gumbel_softmax":
            x = _leaf(lib, _normal(seed, (3, 4)), float_dtype)
            out = F.gumbel_softmax(x, tau=0.5, hard=flags[0], dim=number % 2 - 1)
            summed = out.sum(number % 2 - 1)
            return (out.shape, out.dtype, out.requires_grad, summed.detach().round(decimals=4))
        if name == "glu":
            x = _leaf(lib, _normal(seed, (2, 4, 6)[: 2 + number % 2]), float_dtype)
            return _with_gradients(lib, (F.glu(x, dim=number % 3 - 1),), [x], seed)
        if name == "softmin":
            x = _leaf(lib, _normal(seed, (2, 3)), float_dtype)
            dtype = lib.float64 if flags[0] else None
            return _with_gradients(lib, (F.softmin(x, dim=number % 2, dtype=dtype),), [x], seed)
        x = _leaf(lib, _normal(seed, (2, 5, 3, 2)[: 3 + number % 2]), float_dtype)
        size = int(abs(number) % 4 + 1)
        out = F.local_response_norm(x, size, alpha=1e-2, beta=0.75, k=float(abs(number) % 2 + 1))
        return _with_gradients(lib, (out,), [x], seed)

    label = (
        f"{name}({index_dtype}, {float_dtype}, flags={flags}, n={number}, shapes={shapes}, "
        f"p={p}, eps={eps})"
    )
    return label, program


# ---- family: losses with every reduction and option -------------------------------------
# One loss of random inputs in float32 or float64, a batch of 0, 1 or 3 (and K-d or unbatched
# where the loss takes them), class targets of a drawn integer dtype, every reduction and the
# loss's own options; the value and the gradients of every float input.

LOSSES = ["cross_entropy", "cross_entropy_probs", "nll_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
          "huber_loss", "smooth_l1_loss", "l1_loss", "mse_loss", "margin_ranking_loss",
          "hinge_embedding_loss", "soft_margin_loss", "multilabel_margin_loss",
          "multilabel_soft_margin_loss", "multi_margin_loss", "triplet_margin_loss",
          "triplet_margin_with_distance_loss", "cosine_embedding_loss", "ctc_loss"]  # fmt: skip
REDUCTIONS = ["none", "mean", "sum"]


def _draw_losses(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(LOSSES))
    dtype = str(rng.choice(["float32", "float64"]))
    target_dtype = str(rng.choice(INT_DTYPES + ["int64", "int64"]))
    batch = int(rng.choice([0, 1, 3, 3]))
    reduction = str(rng.choice(REDUCTIONS + (["batchmean"] if name == "kl_div" else [])))
    flags = [bool(b) for b in rng.random(4) < 0.5]
    classes = int(rng.integers(2, 5))
    extra = [(), (2,), (2, 3)][int(rng.integers(0, 3))]  # K-d dimensions
    unbatched = bool(rng.random() < 0.15)
    number = float(rng.choice([0.0, 0.1, 0.5, 1.0, 2.0]))
    ignore_index = int(rng.choice([-100, 0, 1, -1]))
    if batch == 0 and extra and target_dtype == "uint8":
        # PyTorch's K-d class losses take a uint8 target for an empty batch reduced to a
        # number, but their backward refuses it: left out, as PyTorch is inconsistent
        target_dtype = "int64"
    if batch == 0 and name in ("multi_margin_loss", "multilabel_margin_loss"):
        # PyTorch reduces an empty batch of these to an uninitialised number
        reduction = "none"
    values_seed = int(rng.integers(0, 2**31))

    def program(lib):
        rng = np.random.default_rng(values_seed)
        F = lib.nn.functional
        float_type = getattr(lib, dtype)
        leaves: list = []

        def leaf(shape, kind="normal"):
            if kind == "normal":
                values = rng.standard_normal(shape)
            elif kind == "prob":
                values = rng.random(shape) * 0.8 + 0.1
            else:  # positive
                values = rng.random(shape) + 0.2
            tensor = lib.tensor(values, dtype=float_type, requires_grad=True)
            leaves.append(tensor)
            return tensor

        def constant(values):
            return lib.tensor(values, dtype=float_type)

        def classes_of(shape, count):
            return lib.tensor(rng.integers(0, count, shape), dtype=getattr(lib, target_dtype))

        def signs(shape):
            return constant(np.where(rng.random(shape) < 0.5, -1.0, 1.0))

        shape = (batch, classes) + extra
        options: dict = {"reduction": reduction}
        if name in ("cross_entropy", "nll_loss"):
            x = leaf((classes,) if unbatched else shape)
            target = classes_of(() if unbatched else (batch,) + extra, classes)
            if flags[0]:
                options["weight"] = constant(rng.random(classes) + 0.5)
            if flags[1]:
                options["ignore_index"] = ignore_index
            if name == "cross_entropy" and flags[2]:
                options["label_smoothing"] = number / 2
            if name == "nll_loss":
                x = F.log_softmax(x, dim=0 if unbatched else 1)
            out = getattr(F, name)(x, target, **options)
        elif name == "cross_entropy_probs":
            x = leaf((classes,) if unbatched else shape)
            target = F.softmax(constant(rng.standard_normal(x.shape)), dim=0 if unbatched else 1)
            if flags[0]:
                options["weight"] = constant(rng.random(classes) + 0.5)
            if flags[2]:
                options["label_smoothing"] = number / 2
            out = F.cross_entropy(x, target, **options)
        elif name in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
            logits = name.endswith("logits")
            x = leaf((batch, classes), "normal" if logits else "prob")
            target = constant(rng.random((batch, classes)))
            if flags[0]:
                options["weight"] = constant(rng.random((classes,) if flags[3] else (batch, 1)))
            if logits and flags[1]:
                options["pos_weight"] = constant(rng.random((classes,) if flags[2] else (1,)) * 3)
            out = getattr(F, name)(x, target, **options)
        elif name == "kl_div":
            x = F.log_softmax(leaf(shape), dim=1)
            target = F.softmax(constant(rng.standard_normal(shape)), dim=1)
            if flags[0]:
                target = target.log()
            out = F.kl_div(x, target, reduction=reduction, log_target=flags[0])
        elif name == "poisson_nll_loss":
            x = leaf(shape, "normal" if flags[0] else "positive")
            target = constant(rng.integers(0, 4, shape).astype(float))
            out = F.poisson_nll_loss(
                x,
                target,
                log_input=flags[0],
                full=flags[1],
                eps=number or 1e-8,
                reduction=reduction,
            )
        elif name == "gaussian_nll_loss":
            x = leaf((batch, classes))
            target = constant(rng.standard_normal((batch, classes)))
            var_shape = [(batch, classes), (batch, 1), (batch,)][int(rng.integers(0, 3))]
            var = leaf(var_shape, "positive")
            out = F.gaussian_nll_loss(
                x, target, var, full=flags[0], eps=number or 1e-6, reduction=reduction
            )
        elif name in ("huber_loss", "smooth_l1_loss", "l1_loss", "mse_loss"):
            x = leaf(shape)
            target = leaf(shape) if flags[0] else constant(rng.standard_normal(shape))
            if name == "huber_loss":
                options["delta"] = number or 1.0
            elif name == "smooth_l1_loss":
                options["beta"] = number
            out = getattr(F, name)(x, target, **options)
        elif name == "margin_ranking_loss":
            a, b = leaf((batch,)), leaf((batch,))
            out = F.margin_ranking_loss(a, b, signs((batch,)), margin=number, reduction=reduction)
        elif name == "hinge_embedding_loss":
            x = leaf(shape)
            out = F.hinge_embedding_loss(x, signs(shape), margin=number, reduction=reduction)
        elif name == "soft_margin_loss":
            x = leaf(shape)
            out = F.soft_margin_loss(x, signs(shape), reduction=reduction)
        elif name == "multilabel_margin_loss":
            x = leaf((classes,) if unbatched else (batch, classes))
            labels = rng.integers(-1, classes, x.shape)
            target = lib.tensor(labels, dtype=getattr(lib, target_dtype))
            out = F.multilabel_margin_loss(x, target, reduction=reduction)
        elif name == "multilabel_soft_margin_loss":
            x = leaf((batch, classes))
            target = constant((rng.random((batch, classes)) < 0.5).astype(float))
            if flags[0]:
                options["weight"] = constant(rng.random(classes) + 0.5)
            out = F.multilabel_soft_margin_loss(x, target, **options)
        elif name == "multi_margin_loss":
            x = leaf((classes,) if unbatched else (batch, classes))
            target = classes_of(() if unbatched else (batch,), classes)
            if flags[0]:
                options["weight"] = constant(rng.random(classes) + 0.5)
            options.update(p=1 if flags[1] else 2, margin=number)
            out = F.multi_margin_loss(x, target, **options)
        elif name in ("triplet_margin_loss", "triplet_margin_with_distance_loss"):
            rows = (classes,) if unbatched else (batch, classes)
            anchor, positive, negative = leaf(rows), leaf(rows), leaf(rows)
            options.update(margin=number or 1.0, swap=flags[0])
            if name == "triplet_margin_loss":
                options.update(p=float(rng.choice([1.0, 2.0, 3.0])), eps=1e-6)
            elif flags[1]:
                options["distance_function"] = lambda u, v: 1.0 - F.cosine_similarity(u, v)
            out = getattr(F, name)(anchor, positive, negative, **options)
        elif name == "cosine_embedding_loss":
            rows = (classes,) if unbatched else (batch, classes)
            a, b = leaf(rows), leaf(rows)
            target = signs(() if unbatched else (batch,))
            if flags[0]:
                target = target.to(
                    getattr(lib, target_dtype) if target_dtype != "uint8" else lib.int64
                )
            out = F.cosine_embedding_loss(a, b, target, margin=number / 2, reduction=reduction)
        else:
            steps, target_length = 6, int(rng.integers(0, 4))
            x = F.log_softmax(leaf((steps, batch, classes)), dim=2)
            lengths = lib.tensor(rng.integers(1, steps + 1, batch), dtype=lib.int64)
            target_lengths = lib.tensor(rng.integers(0, target_length + 1, batch), dtype=lib.int64)
            target_type = getattr(
                lib, target_dtype if target_dtype in ("int32", "int64") else "int64"
            )
            labels = rng.integers(1, classes, (batch, target_length))
            if flags[1]:
                total = int(target_lengths.sum())
                target = lib.tensor(rng.integers(1, classes, total), dtype=target_type)
            else:
                target = lib.tensor(labels, dtype=target_type)
            out = F.ctc_loss(
                x, target, lengths, target_lengths, blank=0, reduction=reduction,
                zero_infinity=flags[0],
            )  # fmt: skip
        return _with_gradients(lib, (out,), leaves, seed)

    label = (
        f"{name}({dtype}, target {target_dtype}, batch={batch}, {reduction}, flags={flags}, "
        f"classes={classes}, extra={extra}, unbatched={unbatched}, number={number}, "
        f"ignore_index={ignore_index})"
    )
    return label, program


# ---- family: the binary op table over every dtype pair ------------------------------------
# One binary function, method or in-place method over a tensor, a 0-d tensor or a Python
# number of any dtype on each side (bool to complex64), values with zeros and negatives:
# the result's dtype and values, or the refusal's type (integer division by zero, bitwise ops
# on floats, an in-place result its tensor's dtype cannot hold).

TABLE_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                "float32", "float64", "complex64"]  # fmt: skip
TABLE_OPS = ["add_alpha", "sub_alpha", "mul", "div", "div_trunc", "div_floor", "floor_divide",
             "remainder", "fmod", "pow", "atan2", "bitwise_and", "bitwise_or", "bitwise_xor",
             "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or",
             "logical_xor", "maximum", "minimum", "fmax", "fmin", "hypot", "copysign",
             "nextafter", "ldexp", "xlogy", "float_power", "logaddexp2", "gcd", "lcm", "le",
             "ne", "special_xlog1py", "true_divide", "rsub", "igamma"]  # fmt: skip
TABLE_FORMS = ["function", "function", "method", "in_place"]


def _table_operand(lib, spec, values):
    kind, detail = spec
    if kind == "number":
        return detail
    data = np.asarray(values)
    if detail == "bool":
        data = data != 0
    elif detail == "uint8":
        data = np.abs(data)
    tensor = lib.tensor(data.tolist()).to(getattr(lib, detail))
    return tensor if kind == "tensor" else tensor[0].clone()


def _draw_binary_table(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(TABLE_OPS))
    form = str(rng.choice(TABLE_FORMS))
    if name == "special_xlog1py":
        form = "function"
    specs = []
    for side in range(2):
        kind = str(rng.choice(["tensor", "tensor", "zero_dim", "number"]))
        if side == 0 and form != "function":
            kind = "tensor" if rng.random() < 0.8 else "zero_dim"
        if kind == "number":
            specs.append((kind, [True, 0, 3, -2, 2.5, -0.5, 1 + 1j][int(rng.integers(0, 7))]))
        else:
            specs.append((kind, str(rng.choice(TABLE_DTYPES))))
    first = [float(v) for v in rng.choice([-3.0, -1.5, 0.0, 1.0, 2.5, 4.0], 3)]
    second = [float(v) for v in rng.choice([-2.0, -0.5, 0.0, 1.0, 3.0], 3)]
    alpha = [2, 0.5, True, -1][int(rng.integers(0, 4))]

    def program(lib):
        a = _table_operand(lib, specs[0], first)
        b = _table_operand(lib, specs[1], second)
        keywords: dict = {}
        function = name
        if name in ("add_alpha", "sub_alpha"):
            function, keywords = name[:3], {"alpha": alpha}
        elif name in ("div_trunc", "div_floor"):
            function, keywords = "div", {"rounding_mode": name[4:]}
        if name == "special_xlog1py":
            return lib.special.xlog1py(a, b)
        if form == "function":
            return getattr(lib, function)(a, b, **keywords)
        if form == "method":
            return getattr(a, function)(b, **keywords)
        getattr(a, function + "_")(b, **keywords)
        return a

    return f"{form} {name}({specs[0]}, {specs[1]}) on {first}, {second}, alpha={alpha}", program


# ---- family: reductions' options and edges -----------------------------------------------
# A reduction with the options the earlier rounds leave out (dtype=, correction=, dim tuples
# with repeats, keepdim) on inputs of every dtype, empty or 0-d, NaN and infinities included:
# the value, dtype and gradient, or the refusal's type (mean of integers, max of nothing).

EDGE_REDUCTIONS = ["sum_dtype", "prod_dtype", "mean_dtype", "cumsum_dtype", "cumprod_dtype",
                   "softmax_dtype", "log_softmax_dtype", "nansum_dtype", "nanmean", "std",
                   "var", "std_mean", "var_mean", "mean", "sum", "prod", "all", "any", "max",
                   "min", "argmax", "argmin", "amax", "amin", "aminmax", "max_dim",
                   "logsumexp", "logcumsumexp", "count_nonzero", "norm_dtype",
                   "linalg_vector_norm", "nansum", "cummin", "median", "nanmedian", "mode",
                   "kthvalue", "topk", "sort"]  # fmt: skip
EDGE_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
               "float32", "float64", "complex64"]  # fmt: skip
RESULT_DTYPES = [None, "float64", "float32", "int64", "int32", "float16", "complex64", "bool"]


def _draw_reduction_edges(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(EDGE_REDUCTIONS))
    dtype = str(rng.choice(EDGE_DTYPES))
    shape = [(), (0,), (4,), (2, 0), (0, 3), (2, 3), (3, 1, 2), (2, 2, 2)][int(rng.integers(0, 8))]
    span = max(len(shape), 1)
    dim_form = str(rng.choice(["none", "int", "tuple", "repeat"]))
    if dim_form == "int":
        dim = int(rng.integers(-span, span))
    elif dim_form == "tuple":
        dim = tuple(int(d) for d in rng.permutation(np.arange(-span, 0))[: int(rng.integers(1, 3))])
    elif dim_form == "repeat":
        dim = (0, -span)  # the same dimension twice: PyTorch refuses
    else:
        dim = None
    keepdim = bool(rng.random() < 0.5)
    result_dtype = RESULT_DTYPES[int(rng.integers(0, len(RESULT_DTYPES)))]
    correction = [None, 0, 1, 2, 1.5, 5][int(rng.integers(0, 6))]
    k = int(rng.integers(0, 3))
    values = rng.choice([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], shape)
    if rng.random() < 0.3 and values.size:
        values.flat[int(rng.integers(0, values.size))] = float(
            rng.choice([np.nan, np.inf, -np.inf])
        )
    label = (
        f"{name}(x{shape} {dtype}, dim={dim}, keepdim={keepdim}, dtype={result_dtype}, "
        f"correction={correction}, k={k}) on {values.ravel().tolist()}"
    )
    if values.size == 0 and (dtype in ("bool", "complex64") or "softmax" in name):
        # (left: PyTorch checks the dtype only where there is an element to compute: softmax
        # of an empty int tensor, amax of a complex (2, 0) over dim 0 return, and median()
        # of an empty bool tensor returns an uninitialised value; chainrule refuses the dtype)
        return label, None
    if dtype == "complex64" and result_dtype not in (None, "complex64"):
        # (left: a real dtype= for a complex input discards the imaginary part, a cast whose
        # gradient at inf PyTorch gives as nan + nanj)
        return label, None
    if name in ("var_mean", "std_mean") and np.isinf(values).any():
        # (left: PyTorch's var_mean computes its mean by Welford's update, whose inf - inf
        # makes the mean of [0.5, inf] nan; torch.mean, and chainrule, give inf)
        return label, None
    # (gradients computed in a narrower dtype= differ from PyTorch's by an ulp of that dtype:
    # compared in it, not at the float64 input's tolerance)
    narrowed = result_dtype in ("float16", "bfloat16", "float32")

    def program(lib):
        data = values
        if dtype not in ("float16", "bfloat16", "float32", "float64", "complex64"):
            data = np.nan_to_num(values, posinf=4, neginf=-3)
        x = _leaf(lib, lib.tensor(data.tolist()).to(getattr(lib, dtype)).tolist(), dtype)
        x = x.reshape(shape)  # (lists lose an empty tensor's shape)
        if dtype in ("float16", "bfloat16") or dtype == "complex64":
            x = x.detach().requires_grad_(dtype != "bfloat16")
        leaves = [x]
        typed = {} if result_dtype is None else {"dtype": getattr(lib, result_dtype)}
        one_dim = dim if isinstance(dim, int) else 0
        if name in ("sum_dtype", "mean_dtype", "nansum_dtype"):
            function = getattr(lib, name[:-6])
            out = function(x, **typed) if dim is None else function(x, dim, keepdim, **typed)
        elif name == "prod_dtype":
            out = lib.prod(x, **typed) if dim is None else lib.prod(x, one_dim, keepdim, **typed)
        elif name in ("cumsum_dtype", "cumprod_dtype", "softmax_dtype", "log_softmax_dtype"):
            out = getattr(lib, name[:-6])(x, one_dim, **typed)
        elif name in ("std", "var", "std_mean", "var_mean"):
            out = getattr(lib, name)(x, dim, correction=correction, keepdim=keepdim)
        elif name in ("mean", "sum", "nanmean", "nansum", "all", "any", "amax", "amin",
                      "logsumexp", "count_nonzero"):  # fmt: skip
            function = getattr(lib, name)
            if dim is None:
                # (logsumexp names every dim: PyTorch's dim=() fails on its own output)
                out = function(x) if name != "logsumexp" else function(x, tuple(range(x.dim())))
            elif name == "count_nonzero":
                out = function(x, dim)
            else:
                out = function(x, dim, keepdim=keepdim)
        elif name in ("prod", "argmax", "argmin", "median", "nanmedian", "mode", "cummin",
                      "logcumsumexp", "max_dim"):  # fmt: skip
            function = getattr(lib, name if name != "max_dim" else "max")
            if name in ("cummin", "logcumsumexp"):
                out = function(x, one_dim)
            elif dim is None and name not in ("mode",):
                out = function(x)
            else:
                out = function(x, one_dim, keepdim=keepdim)
        elif name in ("max", "min"):
            out = getattr(lib, name)(x)
        elif name == "aminmax":
            out = lib.aminmax(x) if dim is None else lib.aminmax(x, dim=one_dim, keepdim=keepdim)
        elif name == "norm_dtype":
            out = lib.norm(x, p=2, dim=dim, keepdim=keepdim, **typed)
        elif name == "linalg_vector_norm":
            order = [2, 1, 0, float("inf"), -float("inf"), 3][k + (3 if keepdim else 0)]
            out = lib.linalg.vector_norm(x, order, dim=dim, keepdim=keepdim, **typed)
        elif name == "kthvalue":
            out = lib.kthvalue(x, k + 1, one_dim, keepdim)
        elif name == "topk":
            out = lib.topk(x, k, one_dim, largest=keepdim)
        else:
            out = lib.sort(x, one_dim, descending=keepdim, stable=True)
        outputs = tuple(out) if isinstance(out, tuple) else (out,)
        result = _with_gradients(lib, outputs, leaves, seed)
        if narrowed and len(result) > len(outputs):
            narrow = getattr(lib, result_dtype)
            gradients = tuple(g if g is None else g.to(narrow) for g in result[-1])
            result = (*result[:-1], gradients)
        return result

    return label, program


# ---- family: activations at their kinks, with every keyword ---------------------------------
# An activation of values placed on its kinks and thresholds (hardtanh's bounds, softplus's
# threshold, shrink's lambda, leaky_relu's 0 with any slope), in float64, float32 or half,
# out of place or in place on a non-leaf: the value, the gradient and the second derivative
# (the gradient of <gradient, w>), or the refusal's type for an integer input.

KINKED = ["relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "leaky_relu", "elu", "celu",
          "selu", "softplus", "threshold", "hardshrink", "softshrink", "tanhshrink", "rrelu",
          "silu", "mish", "gelu", "logsigmoid", "softsign", "prelu", "glu", "sigmoid",
          "tanh", "log_softmax", "softmin"]  # fmt: skip
IN_PLACE = {"relu", "relu6", "hardtanh", "hardsigmoid", "hardswish", "leaky_relu", "elu", "celu",
            "selu", "threshold", "rrelu", "silu", "mish"}  # fmt: skip


def _kink_options(rng, name: str) -> tuple:
    """The activation's keywords and the points where its derivative jumps."""
    number = float(rng.choice([0.5, 1.0, 2.0, -0.5]))
    if name == "hardtanh":
        low = float(rng.choice([-1.0, -0.5, 0.0]))
        return {"min_val": low, "max_val": low + abs(number)}, [low, low + abs(number)]
    if name in ("leaky_relu",):
        return {"negative_slope": float(rng.choice([0.01, 0.2, -0.5, 1.5]))}, [0.0]
    if name in ("elu", "celu"):
        return {"alpha": abs(number)}, [0.0]
    if name == "softplus":
        beta, threshold = abs(number), float(rng.choice([1.0, 2.0, 20.0]))
        return {"beta": beta, "threshold": threshold}, [threshold / beta]
    if name == "threshold":
        return {"threshold": number, "value": -2.0}, [number]
    if name in ("hardshrink", "softshrink"):
        return {"lambd": abs(number)}, [abs(number), -abs(number)]
    if name == "gelu":
        return {"approximate": str(rng.choice(["none", "tanh"]))}, [0.0]
    if name == "rrelu":
        return {"lower": 0.1, "upper": 0.3, "training": False}, [0.0]
    if name in ("hardsigmoid", "hardswish"):
        return {}, [-3.0, 3.0]
    if name == "relu6":
        return {}, [0.0, 6.0]
    if name in ("log_softmax", "softmin"):
        return {"dim": -1}, [0.0]
    return {}, [0.0]


def _draw_activation_kinks(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(KINKED))
    dtype = str(rng.choice(["float64", "float64", "float32", "float16", "bfloat16", "int64"]))
    options, kinks = _kink_options(rng, name)
    in_place = name in IN_PLACE and rng.random() < 0.4
    near = [0.0, -0.0, 1.0, -1.0, 0.25, -4.0, 7.0, float("inf"), -float("inf")]
    if name == "gelu":
        # (PyTorch's vectorised float32 gelu gives nan at inf in a vector of 4 or more, and
        # inf in a shorter one: left out)
        near = near[:-2]
    points = [float(v) for v in rng.choice(kinks + near, 6)]
    # (PyTorch has no second derivative for hardsigmoid (its backward's backward raises);
    # chainrule's is the zero the piecewise-linear function has)
    second_order = dtype in ("float64", "float32") and rng.random() < 0.6 and name != "hardsigmoid"

    def program(lib):
        F = lib.nn.functional
        leaf = lib.tensor(points, dtype=getattr(lib, dtype))
        if dtype != "int64":
            leaf.requires_grad_()
        x = leaf * 1 if dtype != "int64" else leaf  # a non-leaf, for the in-place forms
        if name == "prelu":
            weight = lib.tensor([0.25], dtype=leaf.dtype)
            out = F.prelu(x.reshape(2, 3), weight)
        elif name == "glu":
            out = F.glu(x.reshape(2, 3).repeat(1, 2), dim=-1)
        elif name in ("sigmoid", "tanh"):
            out = getattr(lib, name)(x)
        elif in_place:
            out = getattr(F, name)(x, inplace=True, **options)
        else:
            out = getattr(F, name)(x, **options)
        if dtype == "int64" or not out.requires_grad:
            return (out,)
        weights = lib.tensor(
            np.linspace(-1.0, 1.5, out.numel()).reshape(out.shape), dtype=out.dtype
        )
        (gradient,) = lib.autograd.grad((out * weights).sum(), [leaf], create_graph=second_order)
        if not second_order or not gradient.requires_grad:
            return (out, gradient.detach())
        (second,) = lib.autograd.grad((gradient * weights.reshape(-1)[:6]).sum(), [leaf],
                                      allow_unused=True)  # fmt: skip
        return (out, gradient.detach(), second)

    label = f"{name}({points}, {options}) {dtype} in_place={in_place} second={second_order}"
    return label, program


# ---- family: nn.functional given what it should refuse ------------------------------------
# A call with one argument out of its domain (an option, a shape, an index, a dtype), drawn
# from every op the families above reach: the exception type must be one that the `except`
# written for PyTorch's catches (and where PyTorch accepts, the same result).


def _bad_calls(lib, rng) -> list:
    """(name, thunk) for each refusal; `rng` draws the bad value."""
    F = lib.nn.functional
    pick = lambda *options: options[int(rng.integers(0, len(options)))]  # noqa: E731
    x4 = lib.ones(1, 2, 4, 4)
    x3 = lib.ones(1, 2, 5)
    index = lib.tensor([[0, 2], [1, 4]])
    weight = lib.ones(5, 3)
    logits = lib.ones(3, 4)
    classes = lib.tensor([0, 1, 3])
    return [
        ("interpolate_size_and_scale", lambda: F.interpolate(x4, size=2, scale_factor=2.0)),
        ("interpolate_neither", lambda: F.interpolate(x4)),
        (
            "interpolate_align_nearest",
            lambda: F.interpolate(x4, scale_factor=2.0, align_corners=pick(True, False)),
        ),
        (
            "interpolate_mode_rank",
            lambda: F.interpolate(
                pick(x3, x4),
                scale_factor=2.0,
                mode=pick("bilinear", "trilinear", "linear", "bicubic"),
            ),
        ),
        ("interpolate_bad_mode", lambda: F.interpolate(x4, scale_factor=2.0, mode="cubic")),
        (
            "interpolate_antialias_nearest",
            lambda: F.interpolate(
                x4, scale_factor=0.5, mode=pick("nearest", "area", "nearest-exact"), antialias=True
            ),
        ),
        ("interpolate_size_rank", lambda: F.interpolate(x4, size=pick((2, 2, 2), (2,), [3]))),
        ("interpolate_scale_rank", lambda: F.interpolate(x4, scale_factor=(2.0, 2.0, 2.0))),
        ("interpolate_zero_size", lambda: F.interpolate(x4, size=pick(0, (0, 2), -1))),
        ("interpolate_negative_scale", lambda: F.interpolate(x4, scale_factor=pick(-1.0, 0.0))),
        (
            "interpolate_recompute_with_size",
            lambda: F.interpolate(x4, size=2, recompute_scale_factor=True),
        ),
        ("interpolate_2d_input", lambda: F.interpolate(lib.ones(2, 4), scale_factor=2.0)),
        ("pad_odd_length", lambda: F.pad(x4, pick((1,), (1, 1, 1)))),
        ("pad_too_many", lambda: F.pad(x3, (1, 1) * pick(3, 4), mode=pick("reflect", "replicate"))),
        ("pad_reflect_too_wide", lambda: F.pad(x3, (pick(5, 6), 0), mode="reflect")),
        ("pad_circular_too_wide", lambda: F.pad(x3, (pick(6, 11), 0), mode="circular")),
        ("pad_negative_reflect", lambda: F.pad(x3, (-1, 1), mode=pick("reflect", "replicate"))),
        ("pad_bad_mode", lambda: F.pad(x3, (1, 1), mode=pick("wrap", "zeros", "symmetric"))),
        ("pad_value_non_constant", lambda: F.pad(x3, (1, 1), mode="reflect", value=2.0)),
        ("pad_crop_everything", lambda: F.pad(x3, (-3, -3))),
        ("grid_sample_grid_shape", lambda: F.grid_sample(x4, lib.zeros(1, 3, 3, pick(1, 3)))),
        ("grid_sample_batch", lambda: F.grid_sample(x4, lib.zeros(2, 3, 3, 2))),
        (
            "grid_sample_bad_mode",
            lambda: F.grid_sample(x4, lib.zeros(1, 3, 3, 2), mode=pick("linear", "area")),
        ),
        (
            "grid_sample_bad_padding",
            lambda: F.grid_sample(
                x4, lib.zeros(1, 3, 3, 2), padding_mode=pick("constant", "circular")
            ),
        ),
        (
            "grid_sample_bicubic_5d",
            lambda: F.grid_sample(
                lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 2, 2, 2, 3), mode="bicubic"
            ),
        ),
        ("grid_sample_dtype", lambda: F.grid_sample(x4, lib.zeros(1, 3, 3, 2, dtype=lib.float64))),
        (
            "affine_grid_theta_shape",
            lambda: F.affine_grid(lib.zeros(1, pick(3, 2), 2), (1, 1, 4, 4)),
        ),
        (
            "affine_grid_size",
            lambda: F.affine_grid(lib.zeros(1, 2, 3), pick((1, 1, 4), (2, 1, 4, 4))),
        ),
        ("pixel_shuffle_channels", lambda: F.pixel_shuffle(lib.ones(1, 3, 2, 2), 2)),
        ("pixel_unshuffle_size", lambda: F.pixel_unshuffle(lib.ones(1, 1, 3, 4), 2)),
        ("pixel_shuffle_rank", lambda: F.pixel_shuffle(lib.ones(4, 2), 2)),
        ("pixel_shuffle_factor", lambda: F.pixel_shuffle(lib.ones(1, 4, 2, 2), pick(0, -2))),
        ("embedding_index_range", lambda: F.embedding(lib.tensor([pick(5, 7, -1)]), weight)),
        ("embedding_float_index", lambda: F.embedding(lib.tensor([0.0, 1.0]), weight)),
        (
            "embedding_padding_idx_range",
            lambda: F.embedding(index, weight, padding_idx=pick(5, -6)),
        ),
        ("embedding_weight_rank", lambda: F.embedding(index, lib.ones(5))),
        ("embedding_bag_mode", lambda: F.embedding_bag(index, weight, mode="median")),
        (
            "embedding_bag_weights_mode",
            lambda: F.embedding_bag(
                index, weight, mode=pick("mean", "max"), per_sample_weights=lib.ones(2, 2)
            ),
        ),
        (
            "embedding_bag_weights_shape",
            lambda: F.embedding_bag(index, weight, per_sample_weights=lib.ones(pick(3, 4))),
        ),
        ("embedding_bag_2d_with_offsets", lambda: F.embedding_bag(index, weight, lib.tensor([0]))),
        ("embedding_bag_1d_without_offsets", lambda: F.embedding_bag(lib.tensor([0, 1]), weight)),
        (
            "embedding_bag_offsets_start",
            lambda: F.embedding_bag(lib.tensor([0, 1, 2]), weight, lib.tensor([pick(1, 2), 2])),
        ),
        (
            "embedding_bag_index_range",
            lambda: F.embedding_bag(lib.tensor([0, 5]), weight, lib.tensor([0])),
        ),
        ("one_hot_negative", lambda: F.one_hot(lib.tensor([0, -1]), pick(-1, 3))),
        ("one_hot_too_few_classes", lambda: F.one_hot(lib.tensor([0, 3]), pick(2, 3))),
        ("one_hot_float", lambda: F.one_hot(lib.tensor([0.0, 1.0]))),
        ("one_hot_empty_inferred", lambda: F.one_hot(lib.zeros(0, dtype=lib.int64))),
        ("cdist_columns", lambda: lib.cdist(lib.ones(2, 3), lib.ones(2, 4))),
        ("cdist_negative_p", lambda: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1.0)),
        ("cdist_rank", lambda: lib.cdist(lib.ones(3), lib.ones(2, 3))),
        ("cdist_mode", lambda: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), compute_mode="fast")),
        ("cosine_similarity_shapes", lambda: F.cosine_similarity(lib.ones(2, 3), lib.ones(4, 3))),
        ("pairwise_distance_shapes", lambda: F.pairwise_distance(lib.ones(2, 3), lib.ones(2, 4))),
        ("normalize_dim", lambda: F.normalize(lib.ones(2, 3), dim=pick(2, -3))),
        ("glu_odd", lambda: F.glu(lib.ones(2, 3), dim=pick(-1, 1))),
        ("local_response_norm_rank", lambda: F.local_response_norm(lib.ones(pick(3, 2), 2), 2)),
        ("softmax_dim", lambda: F.softmax(logits, dim=pick(2, -3))),
        (
            "cross_entropy_target_range",
            lambda: F.cross_entropy(logits, lib.tensor([0, 1, pick(4, -2)])),
        ),
        ("cross_entropy_batch", lambda: F.cross_entropy(logits, lib.tensor([0, 1]))),
        ("cross_entropy_probs_shape", lambda: F.cross_entropy(logits, lib.ones(3, pick(3, 5)))),
        (
            "cross_entropy_weight_shape",
            lambda: F.cross_entropy(logits, classes, weight=lib.ones(3)),
        ),
        ("cross_entropy_reduction", lambda: F.cross_entropy(logits, classes, reduction="avg")),
        ("nll_loss_rank", lambda: F.nll_loss(lib.ones(3, 4, 2), lib.tensor([0, 1, 2]))),
        (
            "bce_target_shape",
            lambda: F.binary_cross_entropy(lib.full((3,), 0.5), lib.ones(pick(2, 4))),
        ),
        (
            "bce_out_of_range",
            lambda: F.binary_cross_entropy(lib.tensor([pick(1.5, -0.5)]), lib.ones(1)),
        ),
        ("bce_logits_shape", lambda: F.binary_cross_entropy_with_logits(lib.ones(3), lib.ones(4))),
        (
            "bce_pos_weight_shape",
            lambda: F.binary_cross_entropy_with_logits(
                lib.ones(2, 3), lib.ones(2, 3), pos_weight=lib.ones(pick(2, 4))
            ),
        ),
        ("kl_div_reduction", lambda: F.kl_div(logits, logits, reduction=pick("avg", "batch_mean"))),
        (
            "gaussian_nll_var_shape",
            lambda: F.gaussian_nll_loss(lib.ones(3, 4), lib.ones(3, 4), lib.ones(pick(2, 4), 4)),
        ),
        (
            "gaussian_nll_negative_var",
            lambda: F.gaussian_nll_loss(lib.ones(3), lib.ones(3), lib.tensor([1.0, -1.0, 1.0])),
        ),
        (
            "huber_negative_delta",
            lambda: F.huber_loss(lib.ones(3), lib.ones(3), delta=pick(-1.0, 0.0)),
        ),
        ("smooth_l1_negative_beta", lambda: F.smooth_l1_loss(lib.ones(3), lib.ones(3), beta=-1.0)),
        (
            "margin_ranking_shapes",
            lambda: F.margin_ranking_loss(lib.ones(3), lib.ones(3), lib.ones(4)),
        ),
        ("multi_margin_p", lambda: F.multi_margin_loss(logits, classes, p=pick(0, 3))),
        ("multi_margin_target_range", lambda: F.multi_margin_loss(logits, lib.tensor([0, 1, 4]))),
        (
            "multi_margin_weight",
            lambda: F.multi_margin_loss(logits, classes, weight=lib.ones(2, 2)),
        ),
        (
            "multilabel_margin_shape",
            lambda: F.multilabel_margin_loss(logits, lib.zeros(3, 3, dtype=lib.int64)),
        ),
        ("multilabel_margin_range", lambda: F.multilabel_margin_loss(logits, lib.full((3, 4), 4))),
        (
            "triplet_margin_shapes",
            lambda: F.triplet_margin_loss(
                lib.ones(2, 3), lib.ones(2, 3), lib.ones(pick(3, 2), pick(3, 4))
            ),
        ),
        (
            "triplet_margin_nonpositive_margin",
            lambda: F.triplet_margin_with_distance_loss(
                lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 3), margin=pick(0.0, -1.0)
            ),
        ),
        (
            "cosine_embedding_target",
            lambda: F.cosine_embedding_loss(
                lib.ones(2, 3), lib.ones(2, 3), lib.ones(pick(3, 1, 2), 1)
            ),
        ),
        (
            "cosine_embedding_rank",
            lambda: F.cosine_embedding_loss(lib.ones(2, 3, 1), lib.ones(2, 3, 1), lib.ones(2)),
        ),
        (
            "ctc_blank",
            lambda: F.ctc_loss(lib.zeros(4, 1, 3), lib.tensor([[1]]), [4], [1], blank=pick(3, -1)),
        ),
        (
            "ctc_input_length",
            lambda: F.ctc_loss(lib.zeros(4, 1, 3), lib.tensor([[1]]), [pick(5, -1)], [1]),
        ),
        (
            "ctc_target_length",
            lambda: F.ctc_loss(lib.zeros(4, 1, 3), lib.tensor([[1]]), [4], [pick(2, -1)]),
        ),
        ("ctc_rank", lambda: F.ctc_loss(lib.zeros(4, 1, 3, 1), lib.tensor([[1]]), [4], [1])),
        ("poisson_nll_shapes", lambda: F.poisson_nll_loss(lib.ones(3), lib.ones(2))),
        ("soft_margin_shapes", lambda: F.soft_margin_loss(lib.ones(3), lib.ones(2))),
        ("hinge_embedding_shapes", lambda: F.hinge_embedding_loss(lib.ones(3), lib.ones(2))),
        ("l1_loss_broadcast", lambda: F.l1_loss(lib.ones(3, 1), lib.ones(1, 3))),
        ("mse_loss_shapes", lambda: F.mse_loss(lib.ones(3), lib.ones(2))),
        (
            "mse_loss_int",
            lambda: F.mse_loss(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)),
        ),
        ("dropout_p", lambda: F.dropout(lib.ones(3), p=pick(-0.1, 1.5))),
        ("alpha_dropout_p", lambda: F.alpha_dropout(lib.ones(3), p=1.5, training=True)),
        ("unfold_rank", lambda: F.unfold(lib.ones(2, 3), 2)),
        ("unfold_kernel", lambda: F.unfold(x4, pick(5, 0, (2, 2, 2)))),
        ("fold_blocks", lambda: F.fold(lib.ones(1, 8, pick(3, 5)), (3, 3), 2)),
        ("fold_channels", lambda: F.fold(lib.ones(1, 7, 4), (3, 3), 2)),
        ("softplus_beta", lambda: F.softplus(lib.ones(3), beta=pick(0.0, -1.0))),
        ("gelu_approximate", lambda: F.gelu(lib.ones(3), approximate="fast")),
        ("hardtanh_bounds", lambda: F.hardtanh(lib.ones(3), min_val=1.0, max_val=pick(0.0, 1.0))),
        ("prelu_weight", lambda: F.prelu(lib.ones(2, 3), lib.ones(pick(2, 4)))),
        ("rrelu_bounds", lambda: F.rrelu(lib.ones(3), lower=0.5, upper=0.1, training=True)),
        ("elu_int", lambda: F.elu(lib.ones(3, dtype=lib.int64))),
        ("linear_shapes", lambda: F.linear(lib.ones(2, 3), lib.ones(4, pick(2, 4)))),
        ("linear_dtypes", lambda: F.linear(lib.ones(2, 3), lib.ones(4, 3, dtype=lib.float64))),
        ("bilinear_shapes", lambda: F.bilinear(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 3))),
    ]


def _draw_bad_nn(seed: int):
    rng = np.random.default_rng(seed)
    names = [name for name, _ in _bad_calls(chainrule, rng)]
    which = seed % len(names)  # every call in turn, its bad value drawn
    choice_seed = int(rng.integers(0, 2**31))

    def program(lib):
        calls = _bad_calls(lib, np.random.default_rng(choice_seed))
        return calls[which][1]()

    return f"{names[which]} (choice seed {choice_seed})", program


# ---- family: the modules of these functions, built with random arguments -------------------
# An nn module of this round's functions (activations, losses, embeddings, resampling,
# padding, distances) built with drawn constructor arguments: its repr, its output and the
# gradients of input and parameters (parameters copied from PyTorch's module), or the
# constructor's refusal.

MODULE_DRAWS = ["Hardtanh", "ReLU6", "LeakyReLU", "ELU", "CELU", "Softplus", "Threshold",
                "Hardshrink", "Softshrink", "RReLU", "GELU", "PReLU", "GLU", "Softmin",
                "LogSoftmax", "Softmax2d", "Embedding", "EmbeddingBag", "Upsample",
                "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
                "Unfold", "Fold", "CosineSimilarity", "PairwiseDistance", "ZeroPad1d",
                "ZeroPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReplicationPad3d", "CircularPad2d", "Flatten", "Unflatten",
                "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "KLDivLoss", "HuberLoss",
                "SmoothL1Loss", "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
                "CosineEmbeddingLoss", "GaussianNLLLoss", "PoissonNLLLoss", "CTCLoss",
                "MultiLabelSoftMarginLoss", "LocalResponseNorm", "Dropout", "AlphaDropout",
                "Identity", "ChannelShuffle"]  # fmt: skip


def _module_arguments(rng, name: str) -> tuple:
    """(positional args, keyword args, input shape) for module `name`; some out of range."""
    a, b = (float(v) for v in rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0], 2))
    flag = bool(rng.random() < 0.5)
    k = int(rng.integers(0, 4))
    shape = (2, 4, 3, 4)
    if name == "Hardtanh":
        return (a, b), {}, shape
    if name in ("LeakyReLU", "ELU", "CELU"):
        return (a,), {"inplace": flag}, shape
    if name == "Softplus":
        return (), {"beta": a or 1.0, "threshold": b + 1}, shape
    if name == "Threshold":
        return (a, b), {"inplace": flag}, shape
    if name in ("Hardshrink", "Softshrink"):
        return (abs(a),), {}, shape
    if name == "RReLU":
        return (abs(a), abs(b)), {}, shape
    if name == "GELU":
        return (), {"approximate": ["none", "tanh", "exact"][k % 3]}, shape
    if name == "PReLU":
        return (), {"num_parameters": [1, 4, 3][k % 3], "init": abs(a)}, shape
    if name in ("GLU", "Softmin", "LogSoftmax"):
        return (), {"dim": k - 2}, shape
    if name == "Embedding":
        options = {"padding_idx": [None, 1, -2, 6][k], "max_norm": [None, 0.5][int(flag)]}
        return (6, 3), options, "index"
    if name == "EmbeddingBag":
        options = {"mode": ["sum", "mean", "max"][k % 3], "padding_idx": [None, 1][int(flag)]}
        return (6, 3), options, "index"
    if name == "Upsample":
        options = {"mode": ["nearest", "bilinear", "bicubic", "linear"][k]}
        options["scale_factor" if flag else "size"] = 1.5 if flag else (5, 2)
        if k in (1, 2) and rng.random() < 0.5:
            options["align_corners"] = bool(rng.random() < 0.5)
        return (), options, shape
    if name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        return (), {"scale_factor": 2} if flag else {"size": (3, 5)}, shape
    if name in ("PixelShuffle", "PixelUnshuffle"):
        return (k % 3 + 1,), {}, shape
    if name == "Unfold":
        return (), {"kernel_size": (2, k % 3 + 1), "stride": 1 + int(flag)}, shape
    if name == "Fold":
        return (), {"output_size": (3, 4), "kernel_size": 2}, (2, 16, 6)
    if name in ("CosineSimilarity", "PairwiseDistance"):
        return (), ({"dim": k - 2} if name == "CosineSimilarity" else {"p": a + 2.0}), "pair"
    if name.endswith(("Pad1d", "Pad2d", "Pad3d")):
        dims = int(name[-2])
        padding = k if flag else tuple(int(v) for v in rng.integers(-1, 3, 2 * dims))
        args = (padding, 1.5) if name.startswith("Constant") else (padding,)
        return args, {}, (2, 3, 4, 5, 4)[: 2 + dims] if dims < 3 else (1, 2, 3, 4, 5)
    if name == "Flatten":
        return (k - 2, -1), {}, shape
    if name == "Unflatten":
        return (1, (2, 2) if flag else (2, -1)), {}, shape
    if name.endswith("Loss"):
        options = {"reduction": ["mean", "sum", "none"][k % 3]}
        if name in ("CrossEntropyLoss",):
            options.update(label_smoothing=abs(a) / 4, ignore_index=int(b))
        elif name == "KLDivLoss":
            options.update(log_target=flag, reduction=["batchmean", "sum", "none"][k % 3])
        elif name in ("HuberLoss",):
            options["delta"] = abs(a) + 0.5
        elif name == "SmoothL1Loss":
            options["beta"] = abs(a)
        elif name in ("MarginRankingLoss", "CosineEmbeddingLoss", "MultiMarginLoss"):
            options["margin"] = a
        elif name == "TripletMarginLoss":
            options.update(margin=a + 1, p=abs(b) + 1, swap=flag)
        elif name == "GaussianNLLLoss":
            options.update(full=flag, eps=1e-3)
        elif name == "PoissonNLLLoss":
            options.update(log_input=flag, full=not flag)
        elif name == "CTCLoss":
            options.update(blank=k % 2, zero_infinity=flag)
        elif name == "BCEWithLogitsLoss" and flag:
            options["pos_weight"] = "pos_weight"
        if rng.random() < 0.15:
            options = {"size_average": flag, "reduce": bool(k % 2)}
        return (), options, "loss"
    if name == "LocalResponseNorm":
        return (k + 1,), {"alpha": abs(a) / 10, "k": b + 2}, shape
    if name in ("Dropout", "AlphaDropout"):
        return (abs(a) / 2,), {}, shape  # in eval mode below: the identity
    if name == "ChannelShuffle":
        return (k + 1,), {}, shape
    return (), {}, shape


def _loss_inputs(lib, name: str, rng, leaves: list) -> tuple:
    def leaf(shape, positive=False):
        values = rng.random(shape) + 0.1 if positive else rng.standard_normal(shape)
        tensor = lib.tensor(values, dtype=lib.float32, requires_grad=True)
        leaves.append(tensor)
        return tensor

    classes = lib.tensor(rng.integers(0, 4, 3))
    signs = lib.tensor(np.where(rng.random(3) < 0.5, -1.0, 1.0), dtype=lib.float32)

    def constant(values):
        return lib.tensor(values, dtype=lib.float32)

    if name in ("CrossEntropyLoss", "MultiMarginLoss"):
        return leaf((3, 4)), classes
    if name == "NLLLoss":
        return lib.log_softmax(leaf((3, 4)), 1), classes
    if name in ("BCEWithLogitsLoss", "MultiLabelSoftMarginLoss"):
        return leaf((3, 4)), constant(rng.random((3, 4)))
    if name == "KLDivLoss":
        return lib.log_softmax(leaf((3, 4)), 1), lib.softmax(constant(rng.random((3, 4))), 1)
    if name in ("HuberLoss", "SmoothL1Loss"):
        return leaf((3, 4)), constant(rng.standard_normal((3, 4)))
    if name == "MarginRankingLoss":
        return leaf((3,)), leaf((3,)), signs
    if name == "TripletMarginLoss":
        return leaf((3, 4)), leaf((3, 4)), leaf((3, 4))
    if name == "CosineEmbeddingLoss":
        return leaf((3, 4)), leaf((3, 4)), signs
    if name == "GaussianNLLLoss":
        return leaf((3, 4)), constant(rng.standard_normal((3, 4))), leaf((3, 1), True)
    if name == "PoissonNLLLoss":
        return leaf((3, 4), True), constant(rng.integers(0, 3, (3, 4)).astype(float))
    # CTCLoss
    log_probs = lib.log_softmax(leaf((5, 2, 4)), 2)
    return log_probs, lib.tensor([[1, 2], [3, 3]]), lib.tensor([5, 4]), lib.tensor([2, 1])


def _draw_modules(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(MODULE_DRAWS))
    args, kwargs, shape = _module_arguments(rng, name)
    values_seed = int(rng.integers(0, 2**31))

    def program(lib):
        # (the module's parameters are those of a PyTorch module built alike, copied)
        options = dict(kwargs)
        if options.get("pos_weight") == "pos_weight":
            options["pos_weight"] = lib.tensor([0.5, 1.0, 2.0, 3.0])
        module = getattr(lib.nn, name)(*args, **options)
        torch.manual_seed(values_seed)  # (the same parameters in both runs)
        reference = getattr(torch.nn, name)(*args, **{
            key: (torch.tensor(v.tolist()) if isinstance(v, lib.Tensor) else v)
            for key, v in options.items()
        })  # fmt: skip
        module.eval()
        for parameter, source in zip(module.parameters(), reference.parameters()):
            with lib.no_grad():
                parameter.copy_(lib.tensor(source.detach().numpy()))
        rng = np.random.default_rng(values_seed)
        leaves: list = []
        if shape == "loss":
            inputs = _loss_inputs(lib, name, rng, leaves)
        elif shape == "index":
            inputs = (lib.tensor(rng.integers(0, 6, (2, 3))),)
        elif shape == "pair":
            inputs = tuple(lib.tensor(rng.standard_normal((2, 3, 4)), dtype=lib.float32,
                                      requires_grad=True) for _ in range(2))  # fmt: skip
            leaves.extend(inputs)
        else:
            x = lib.tensor(rng.standard_normal(shape), dtype=lib.float32, requires_grad=True)
            leaves.append(x)
            inputs = (x * 1,)  # (a non-leaf: in-place modules may write it)
        out = module(*inputs)
        text = repr(module)
        parameters = list(module.parameters())
        differentiable = leaves + parameters
        if not out.requires_grad:
            return text, out
        weights = lib.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape))
        gradients = lib.autograd.grad((out * weights.to(out.dtype)).sum(), differentiable,
                                      allow_unused=True)  # fmt: skip
        return text, out, gradients

    return f"nn.{name}(*{args}, **{kwargs}) on {shape}", program


# ---- family: losses over mixed dtypes -----------------------------------------------------
# A loss whose input, target and weight each take a drawn dtype (the half dtypes, float32,
# float64, an integer target): the result's dtype and value and the input's gradient, or the
# refusal's type where PyTorch will not mix them.

MIXED_LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
                "gaussian_nll_loss", "soft_margin_loss", "hinge_embedding_loss",
                "cross_entropy", "nll_loss", "multi_margin_loss", "margin_ranking_loss",
                "cosine_embedding_loss", "triplet_margin_loss",
                "multilabel_soft_margin_loss"]  # fmt: skip
LOSS_DTYPES = ["float64", "float32", "float16", "bfloat16", "int64"]


def _cast_all(lib, value, dtype):
    """Every floating tensor in `value` (nested tuples) cast to `dtype`."""
    if isinstance(value, tuple):
        return tuple(_cast_all(lib, item, dtype) for item in value)
    if isinstance(value, lib.Tensor) and value.dtype.is_floating_point:
        return value.detach().to(dtype)
    return value


def _draw_loss_dtypes(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(MIXED_LOSSES))
    input_dtype = str(rng.choice(LOSS_DTYPES[:4]))
    target_dtype, weight_dtype = (str(rng.choice(LOSS_DTYPES)) for _ in range(2))
    weighted = bool(rng.random() < 0.5)
    reduction = str(rng.choice(["mean", "sum", "none"]))
    values_seed = int(rng.integers(0, 2**31))

    def program(lib):
        rng = np.random.default_rng(values_seed)
        F = lib.nn.functional

        def typed(values, dtype, requires_grad=False):
            tensor = lib.tensor(values).to(getattr(lib, dtype))
            return tensor.requires_grad_() if requires_grad else tensor

        probability = name == "binary_cross_entropy"
        raw = rng.random((3, 4)) * 0.8 + 0.1 if probability else rng.standard_normal((3, 4))
        x = typed(np.round(raw * 8) / 8, input_dtype, True)  # (exact in every dtype)
        target_values = np.round(rng.random((3, 4)) * 4) / 4
        options: dict = {"reduction": reduction}
        if name in ("cross_entropy", "nll_loss", "multi_margin_loss"):
            target = lib.tensor(rng.integers(0, 4, 3))
            if target_dtype != "int64":
                target = target.to(getattr(lib, target_dtype))
            if weighted:
                options["weight"] = typed(rng.random(4) + 0.5, weight_dtype)
            inputs = (x if name != "nll_loss" else F.log_softmax(x, 1), target)
        elif name in ("margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss"):
            other = typed(np.round(rng.standard_normal((3, 4)) * 8) / 8, weight_dtype)
            signs = typed(np.where(rng.random(3) < 0.5, -1.0, 1.0), target_dtype)
            if name == "margin_ranking_loss":
                inputs = (x[:, 0], other[:, 0], signs)
            elif name == "cosine_embedding_loss":
                inputs = (x, other, signs)
            else:
                inputs = (x, other, typed(np.zeros((3, 4)), target_dtype))
        elif name == "gaussian_nll_loss":
            variance = typed(rng.random((3, 1)) + 0.5, weight_dtype)
            inputs = (x, typed(target_values, target_dtype), variance)
        else:
            target = typed(target_values, target_dtype)
            if name in ("soft_margin_loss", "hinge_embedding_loss"):
                target = typed(np.where(target_values < 0.5, -1.0, 1.0), target_dtype)
            if weighted and name in ("binary_cross_entropy", "binary_cross_entropy_with_logits",
                                     "multilabel_soft_margin_loss"):  # fmt: skip
                options["weight"] = typed(rng.random(4) + 0.5, weight_dtype)
            inputs = (x, target)
        out = getattr(F, name)(*inputs, **options)
        floats = {t.dtype for t in (*inputs, *options.values())
                  if isinstance(t, lib.Tensor) and t.dtype.is_floating_point}  # fmt: skip
        if name == "huber_loss" and inputs[1].dtype != x.dtype:
            # (left: PyTorch's huber_loss of mixed dtypes runs forward, in input's dtype, but
            # its backward refuses them; chainrule differentiates it)
            return (out,)
        result = _with_gradients(lib, (out,), [x], seed)
        if len(floats) > 1:
            # (mixed precisions: PyTorch rounds some steps in the narrower dtype, chainrule in
            # the promoted one: compared at the narrowest dtype's tolerance)
            narrowest = min(floats, key=lambda dtype: lib.finfo(dtype).eps * -1)
            result = _cast_all(lib, result, narrowest)
        return result

    label = (
        f"{name}(input {input_dtype}, target {target_dtype}, weight {weight_dtype} "
        f"weighted={weighted}, {reduction})"
    )
    return label, program


# ---- the tests -------------------------------------------------------------------------------


def _cdist_p0_gradient(lib):
    x1 = lib.tensor([[0.0, 1.0], [2.0, 2.0]], requires_grad=True)
    x2 = lib.tensor([[0.0, 3.0]], requires_grad=True)
    distance = lib.cdist(x1, x2, p=0)
    return (distance, lib.autograd.grad(distance.sum(), [x1, x2]))


def _margin_loss_of_empty_batch(name: str):
    def program(lib):
        x = lib.ones(0, 3, requires_grad=True)
        target = lib.zeros((0,) if name == "multi_margin_loss" else (0, 3), dtype=lib.int8)
        loss = getattr(lib.nn.functional, name)(x, target, reduction="none")
        return (loss, lib.autograd.grad(loss.sum(), [x]))

    return program


def _margin_at_a_tie(lib):
    x = lib.tensor([[0.0, 1.0, 0.0, 0.5]], requires_grad=True)
    multi = lib.nn.functional.multi_margin_loss(x, lib.tensor([1]))
    labels = lib.tensor([[1, -1, 0, 0]])
    multilabel = lib.nn.functional.multilabel_margin_loss(x, labels)
    return lib.autograd.grad(multi, [x]), lib.autograd.grad(multilabel, [x])


def _ctc_of_empty_targets(lib):
    logits = lib.tensor(_normal(0, (4, 2, 3)), requires_grad=True)
    log_probs = lib.nn.functional.log_softmax(logits, 2)
    targets = lib.zeros(2, 0, dtype=lib.int64)
    loss = lib.nn.functional.ctc_loss(log_probs, targets, [4, 2], [0, 0], reduction="sum")
    return (loss, lib.autograd.grad(loss, [logits]))


def _variance_past_its_samples(lib):
    x = lib.tensor([1.0, 2.0, 1.5], requires_grad=True)
    y = lib.tensor(1.0, requires_grad=True)
    return (
        lib.autograd.grad(lib.var(x, correction=3), [x]),
        lib.autograd.grad(lib.var(x, 0, correction=4), [x]),
        lib.autograd.grad(-lib.var(x, correction=4), [x]),
        lib.autograd.grad(lib.std(x, correction=3), [x]),
        lib.autograd.grad(lib.var(y, 0, correction=2), [y]),
    )


def _logcumsumexp_of_a_scalar(lib):
    x = lib.tensor([-float("inf"), float("nan"), float("inf")], requires_grad=True)
    outputs = [lib.logcumsumexp(x[i], 0) for i in range(3)]
    return lib.autograd.grad(outputs, [x], [lib.tensor(2.0)] * 3)


def _threshold_in_place(lib):
    x = lib.tensor([1.0, -1.0, 3.0], requires_grad=True)
    y = lib.nn.functional.threshold(x * 1, 0.5, 2.0, inplace=True)
    return (y, lib.autograd.grad(y.sum(), [x]))


def _leaky_relu_in_place_with_a_negative_slope(lib):
    x = lib.tensor([1.0, -1.0], requires_grad=True)
    y = lib.nn.functional.leaky_relu(x * 1, -0.5, inplace=True)
    return lib.autograd.grad(y.sum(), [x])


def _elu_in_place_with_a_negative_alpha(name: str):
    def program(lib):
        x = lib.tensor([1.0, -1.0], requires_grad=True)
        y = getattr(lib.nn.functional, name)(x * 1, -0.5, inplace=True)
        return lib.autograd.grad(y.sum(), [x])

    return program


def _hardsigmoid_gradient_in_float64(lib):
    x = lib.tensor([-1.0, 0.5, 2.9], dtype=lib.float64, requires_grad=True)
    (gradient,) = lib.autograd.grad(lib.nn.functional.hardsigmoid(x).sum(), [x])
    return gradient.tolist()  # (a list: compared exactly, the two 1/6 being 3e-8 apart)


REGRESSIONS = {
    # sampling, embeddings and distances
    "cdist_p0_has_a_zero_gradient": _cdist_p0_gradient,
    # losses
    "multi_margin_loss_of_an_empty_batch": _margin_loss_of_empty_batch("multi_margin_loss"),
    "multilabel_margin_loss_of_an_empty_batch": _margin_loss_of_empty_batch(
        "multilabel_margin_loss"
    ),
    "multi_margin_loss_refuses_an_int32_target": lambda lib: lib.nn.functional.multi_margin_loss(
        lib.ones(2, 3), lib.tensor([0, 1], dtype=lib.int32)
    ),
    "multilabel_margin_loss_refuses_an_int32_target": lambda lib: (
        lib.nn.functional.multilabel_margin_loss(lib.ones(2, 3), lib.zeros(2, 3, dtype=lib.int32))
    ),
    "nll_loss_of_kd_input_refuses_a_uint8_target": lambda lib: lib.nn.functional.nll_loss(
        lib.ones(2, 3, 4), lib.zeros(2, 4, dtype=lib.uint8)
    ),
    "cross_entropy_of_kd_input_refuses_a_uint8_target": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3, 4), lib.zeros(2, 4, dtype=lib.uint8)
    ),
    "ctc_loss_of_targets_of_width_zero": _ctc_of_empty_targets,
    "margin_losses_pass_no_gradient_at_a_tie": _margin_at_a_tie,
    "soft_margin_and_huber_compute_in_the_input_dtype": lambda lib: (
        lib.nn.functional.soft_margin_loss(lib.ones(3), lib.ones(3, dtype=lib.float64)),
        lib.nn.functional.soft_margin_loss(lib.ones(3, dtype=lib.float16), lib.ones(3)),
        lib.nn.functional.huber_loss(lib.ones(3), lib.full((3,), 2.5, dtype=lib.float64)),
    ),
    "kl_div_refuses_an_integer_target": lambda lib: lib.nn.functional.kl_div(
        lib.zeros(3), lib.ones(3, dtype=lib.int64)
    ),
    "gaussian_nll_loss_refuses_an_integer_var": lambda lib: lib.nn.functional.gaussian_nll_loss(
        lib.zeros(3), lib.zeros(3), lib.ones(3, dtype=lib.int64)
    ),
    "multi_margin_loss_refuses_a_weight_of_another_dtype": lambda lib: (
        lib.nn.functional.multi_margin_loss(
            lib.ones(2, 3, dtype=lib.float64), lib.tensor([0, 1]), weight=lib.ones(3)
        )
    ),
    "ctc_loss_of_an_empty_batch": lambda lib: lib.nn.functional.ctc_loss(
        lib.zeros(3, 0, 2), lib.zeros(0, 1, dtype=lib.int64), [], []
    ),
    "embedding_bag_refuses_per_sample_weights_of_another_dtype": lambda lib: (
        lib.nn.functional.embedding_bag(
            lib.tensor([[0, 1]]),
            lib.ones(3, 2, dtype=lib.float64),
            per_sample_weights=lib.ones(1, 2),
            mode="sum",
        )
    ),
    "channels_last_kept_by_pad_shuffles_and_local_response_norm": lambda lib: tuple(
        (out.stride(), out)
        for x in [lib.arange(96.0).reshape(2, 4, 2, 6).contiguous(memory_format=lib.channels_last)]
        for out in (
            lib.nn.functional.pixel_unshuffle(x, 2),
            lib.nn.functional.channel_shuffle(x, 2),
            lib.nn.functional.local_response_norm(x, 3),
            lib.nn.functional.pad(x, (1, 1, 2, 0)),
            lib.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
            lib.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"),
            lib.nn.functional.pad(x, (1, 1, 1, 1), mode="circular"),
        )
    ),
    # the binary op table
    "add_of_two_numbers": lambda lib: (lib.add(3, 2), lib.add(2.5, True), lib.add(1j, 2)),
    "mul_and_div_of_two_numbers": lambda lib: (
        lib.mul(3, True),
        lib.div(3, 2),
        lib.true_divide(-2, 2.5),
        lib.div(-0.5, 2.5, rounding_mode="trunc"),
        lib.floor_divide(-0.5, -2),
        lib.sub(3, 2, alpha=2),
    ),
    "rsub_of_two_numbers_is_refused": lambda lib: lib.rsub(3, 2),
    "dist_of_a_number_is_refused": lambda lib: lib.dist(lib.ones(2), 2),
    "float_alpha_with_a_complex_number_and_an_int_tensor": lambda lib: (
        lib.sub(1 + 1j, lib.tensor([1, 2], dtype=lib.int32), alpha=0.5),
        lib.add(lib.tensor([1, 2]), 1j, alpha=0.5),
    ),
    # activations
    "threshold_in_place_differentiates_the_input_it_overwrote": _threshold_in_place,
    "threshold_keeps_an_integer_dtype": lambda lib: (
        lib.nn.functional.threshold(lib.tensor([1, -1, 3]), 0.5, -2.5),
        lib.nn.functional.threshold(lib.tensor([1, -1, 3]), 2.5, 7),
        lib.nn.functional.threshold(lib.tensor([1, 255, 3], dtype=lib.uint8), -3, 7),
        lib.nn.functional.threshold(lib.tensor([1, -1], dtype=lib.uint8), 0.5, -1),
    ),
    "threshold_value_that_overflows": lambda lib: lib.nn.functional.threshold(
        lib.tensor([1, -1], dtype=lib.int8), 0.5, 300
    ),
    "leaky_relu_in_place_with_a_negative_slope_refuses_backward": (
        _leaky_relu_in_place_with_a_negative_slope
    ),
    "hardsigmoid_gradient_in_float64": _hardsigmoid_gradient_in_float64,
    "elu_in_place_with_a_negative_alpha_refuses_backward": _elu_in_place_with_a_negative_alpha(
        "elu"
    ),
    "celu_in_place_with_a_negative_alpha_refuses_backward": _elu_in_place_with_a_negative_alpha(
        "celu"
    ),
    "celu_of_alpha_zero": lambda lib: lib.nn.functional.celu(lib.ones(2), 0.0),
    "hardtanh_module_bounds_assert": lambda lib: lib.nn.Hardtanh(1.0, 0.5),
    "prelu_refuses_mixed_dtypes": lambda lib: lib.nn.functional.prelu(
        lib.ones(2, 3, dtype=lib.float64), lib.ones(1)
    ),
    # reductions
    "sum_prod_and_nansum_keep_an_integer_dtype": lambda lib: (
        lib.tensor([[1, 2], [3, 4]], dtype=lib.int8).sum(dtype=lib.int32),
        lib.tensor([[1, 2], [3, 4]], dtype=lib.int8).sum(0, dtype=lib.int16),
        lib.tensor([100, 100], dtype=lib.int8).sum(dtype=lib.int8),
        lib.tensor([1.0, 2.0]).sum(dtype=lib.bool),
        lib.tensor([[1, 2], [3, 4]]).prod(1, dtype=lib.uint8),
        lib.tensor([2, 0]).prod(dtype=lib.bool),
        lib.nansum(lib.tensor([1, 2], dtype=lib.int16), dtype=lib.int32),
    ),
    "vector_norm_refuses_integers": lambda lib: lib.linalg.vector_norm(lib.tensor([3, 4])),
    "norm_with_a_dtype_refuses_integers": lambda lib: lib.norm(
        lib.tensor([3, 4]), 2, 0, dtype=lib.float32
    ),
    "vector_norm_refuses_a_narrower_dtype": lambda lib: lib.linalg.vector_norm(
        lib.ones(2, dtype=lib.float64), dtype=lib.float32
    ),
    "vector_norm_of_complex_refuses_a_real_dtype": lambda lib: lib.linalg.vector_norm(
        lib.ones(2, dtype=lib.complex64), dtype=lib.float64
    ),
    "vector_norm_widening_dtypes": lambda lib: (
        lib.linalg.vector_norm(lib.ones(2, dtype=lib.float16), dtype=lib.float64),
        lib.linalg.vector_norm(lib.ones(2, dtype=lib.complex64), dtype=lib.complex128),
    ),
    "topk_of_an_empty_tensor": lambda lib: (
        lib.topk(lib.ones(0), 0),
        lib.topk(lib.ones(2, 0), 0, 1),
    ),
    "empty_dim_refused_before_the_dtype": lambda lib: lib.amax(
        lib.zeros(0, 3, dtype=lib.complex64), 0
    ),
    "kthvalue_empty_dim_refused_before_bool": lambda lib: lib.kthvalue(
        lib.zeros(0, 3, dtype=lib.bool), 1, 0
    ),
    "variance_past_its_samples": _variance_past_its_samples,
    "logcumsumexp_of_a_scalar_passes_the_gradient": _logcumsumexp_of_a_scalar,
    "ldexp_of_complex_operands": lambda lib: (
        lib.ldexp(lib.tensor([1.5 + 1j, -2]), lib.tensor([2, -1], dtype=lib.int8)),
        lib.ldexp(lib.tensor(3), lib.tensor([1j, 0.5])),
        lib.ldexp(lib.ones(2, dtype=lib.float64), lib.ones(2, dtype=lib.complex64)),
        lib.ones(2, dtype=lib.complex64).ldexp_(lib.tensor(True)),
    ),
}

FAMILIES = {
    "sampling": (_draw_sampling, 60),
    "embeddings": (_draw_embeddings, 80),
    "losses": (_draw_losses, 120),
    "binary_table": (_draw_binary_table, 200),
    "reduction_edges": (_draw_reduction_edges, 200),
    "activation_kinks": (_draw_activation_kinks, 150),
    "bad_nn": (_draw_bad_nn, 230),
    "modules": (_draw_modules, 120),
    "loss_dtypes": (_draw_loss_dtypes, 120),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
