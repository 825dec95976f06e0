"""Behaviours that only a surviving mutant showed were untested (`make mutate`, issue 17;
docs/mutation.md names the mutant each test kills). Each is compared with PyTorch where
PyTorch has the behaviour; the docstrings say where chainrule differs or goes further."""

from __future__ import annotations

import argparse
import collections
import gc
import json
import multiprocessing
import os
import re
import sys
import warnings
import weakref

import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF
from torch.optim.lbfgs import _cubic_interpolate as torch_cubic
from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

import chainrule
import chainrule.autograd.functional
import chainrule.numpy as cnp
from chainrule import data, optim
from chainrule.apps import cli
from chainrule.apps.cli import main
from chainrule.apps.models import build_model
from chainrule.apps.report import plot_history
from chainrule.autograd import detect_anomaly
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.errors import FileFormatError, GradError, ShapeError
from chainrule.func import custom_jvp, custom_vjp
from chainrule.optim import lr_scheduler
from chainrule.optim.lbfgs import _cubic_interpolate, _strong_wolfe
from tests import test_vmap

# ---- autograd: a root passed twice ------------------------------------------------------------


def test_grad_of_the_same_root_twice_sums_its_seeds():
    """grad([y, y], x, [g1, g2]) differentiates y once with g1 + g2, as PyTorch does."""
    x = chainrule.tensor([1.0, -2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y, ty = x * x, tx * tx
    seeds = ([0.5, 1.0, -1.0], [2.0, -3.0, 0.25])
    (ours,) = chainrule.autograd.grad([y, y], x, [chainrule.tensor(s) for s in seeds])
    (theirs,) = torch.autograd.grad([ty, ty], tx, [torch.tensor(s) for s in seeds])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_backward_of_the_same_root_twice_sums_its_seeds():
    x = chainrule.tensor([1.0, -2.0], requires_grad=True)
    tx = torch.tensor([1.0, -2.0], requires_grad=True)
    y, ty = x.exp(), tx.exp()
    chainrule.autograd.backward([y, y], [chainrule.tensor([1.0, 2.0]), chainrule.ones(2)])
    torch.autograd.backward([ty, ty], [torch.tensor([1.0, 2.0]), torch.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


# ---- optim --------------------------------------------------------------------------------------


def test_adadelta_with_weight_decay_one_matches_torch():
    """weight_decay=1 adds the whole parameter to its gradient, as torch.optim.Adadelta."""
    results = []
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = (optim if lib is chainrule else torch.optim).Adadelta([w], lr=0.5, weight_decay=1)
        for _ in range(3):
            opt.zero_grad()
            (w * w * w).sum().backward()
            opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(*results, rtol=1e-12)


def test_linear_lr_at_explicit_epochs_matches_torch():
    """LinearLR.step(epoch) uses the closed form start + (end - start) * epoch / total_iters,
    held after total_iters, as torch's (which warns that the epoch argument is deprecated)."""
    ours_opt = optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    ours = lr_scheduler.LinearLR(ours_opt, start_factor=0.25, end_factor=0.75, total_iters=4)
    theirs = torch.optim.lr_scheduler.LinearLR(
        theirs_opt, start_factor=0.25, end_factor=0.75, total_iters=4
    )
    for epoch in (1, 3, 2, 6):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours.step(epoch)
            theirs.step(epoch)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), abs=1e-12), epoch


def test_adam_accepts_zero_betas_and_refuses_one():
    """0 <= beta < 1, as torch.optim.Adam checks: beta 0 is plain RMS scaling, allowed."""
    optim.Adam([chainrule.zeros(2, requires_grad=True)], betas=(0.0, 0.0))
    optim.AdamW([chainrule.zeros(2, requires_grad=True)], betas=(0.0, 0.5))
    torch.optim.Adam([torch.zeros(2, requires_grad=True)], betas=(0.0, 0.0))
    for betas in ((1.0, 0.9), (0.9, 1.0), (-0.1, 0.9)):
        with pytest.raises(ValueError, match="Invalid beta parameter") as ours:
            optim.Adam([chainrule.zeros(2, requires_grad=True)], betas=betas)
        with pytest.raises(ValueError, match="Invalid beta parameter") as theirs:
            torch.optim.Adam([torch.zeros(2, requires_grad=True)], betas=betas)
        assert str(ours.value) == str(theirs.value)


def test_warm_restarts_with_explicit_epochs_match_torch():
    """CosineAnnealingWarmRestarts.step(epoch) with T_mult > 1 past the first restart: the
    closed form for the cycle an epoch falls in (T_cur = epoch - T_0 (T_mult^n - 1) /
    (T_mult - 1))."""
    ours_opt = optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    ours = lr_scheduler.CosineAnnealingWarmRestarts(ours_opt, T_0=3, T_mult=2, eta_min=0.1)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        theirs_opt, T_0=3, T_mult=2, eta_min=0.1
    )
    for epoch in (0.5, 3, 4.5, 8, 9, 10.25, 21, 30):
        ours.step(epoch)
        theirs.step(epoch)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), abs=1e-12), epoch
        assert ours.T_cur == pytest.approx(theirs.T_cur) and ours.T_i == theirs.T_i


# ---- data ---------------------------------------------------------------------------------------


def test_batch_sampler_excludes_a_sampler_without_shuffle():
    """batch_sampler is mutually exclusive with batch_size, shuffle, sampler and drop_last:
    each one alone is refused, as in torch.utils.data."""
    ours_data = data.TensorDataset(chainrule.arange(4))
    theirs_data = torch.utils.data.TensorDataset(torch.arange(4))
    for option in (
        {"sampler": [0, 1]},
        {"drop_last": True},
        {"shuffle": True},
        {"batch_size": 2},
    ):
        with pytest.raises(ValueError, match="mutually exclusive"):
            data.DataLoader(ours_data, batch_sampler=[[0, 1]], **option)
        with pytest.raises(ValueError, match="mutually exclusive"):
            torch.utils.data.DataLoader(theirs_data, batch_sampler=[[0, 1]], **option)


def test_len_of_a_loader_over_a_sized_iterable_dataset_rounds_up():
    """An IterableDataset with __len__ gives len(loader) = ceil(len / batch_size), or floor
    with drop_last, as torch.utils.data's."""

    def counting(base):
        class Counting(base):
            def __iter__(self):
                return iter(range(10))

            def __len__(self):
                return 10

        return Counting()

    for batch_size, drop_last in ((5, False), (3, False), (4, True), (4, False)):
        ours = data.DataLoader(
            counting(data.IterableDataset), batch_size=batch_size, drop_last=drop_last
        )
        theirs = torch.utils.data.DataLoader(
            counting(torch.utils.data.IterableDataset), batch_size=batch_size, drop_last=drop_last
        )
        assert len(ours) == len(theirs), (batch_size, drop_last)


def test_default_convert_converts_inside_lists_and_leaves_strings_whole():
    """Lists are converted element by element (NumPy arrays become tensors); a string is a
    Sequence but stays one value, as torch.utils.data.default_convert does."""
    ours = data.default_convert([np.array([1, 2]), "ab"])
    theirs = torch.utils.data.default_convert([np.array([1, 2]), "ab"])
    assert isinstance(ours[0], chainrule.Tensor) and isinstance(theirs[0], torch.Tensor)
    assert ours[0].tolist() == theirs[0].tolist() and ours[1] == theirs[1] == "ab"
    assert data.default_convert("abc") == torch.utils.data.default_convert("abc") == "abc"


def test_random_split_takes_lengths_summing_just_over_one_as_counts():
    """Fractions are recognised only when they sum to at most 1: 0.2 + 0.4 + 0.3 + 0.1 is
    1.0000000000000002 in floating point, which torch reads as (wrong) integer lengths."""
    lengths = [0.2, 0.4, 0.3, 0.1]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        torch.utils.data.random_split(range(10), lengths)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(range(10), lengths)


# ---- optim: L-BFGS's strong-Wolfe line search in its zoom phase ------------------------------


def _lbfgs_path(lib, function, start, **options):
    x = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    opt = (optim if lib is chainrule else torch.optim).LBFGS([x], **options)

    def closure():
        opt.zero_grad()
        loss = function(lib, x)
        loss.backward()
        return loss

    path = []
    for _ in range(4):
        opt.step(closure)
        path.append(x.detach().numpy().copy())
    return np.array(path), opt.state[x]["func_evals"]


def _sharp_valley(lib, x):
    """Steep walls and a curved floor, so a first step of lr 1 overshoots far and the line
    search must zoom (bracket reversed, interpolation near an end of the bracket)."""
    return (x[0] ** 2 - x[1]) ** 2 * 50 + (x[0] - 1) ** 4 + lib.exp(x[1] * 0.5) * 0.1


def _oscillating(lib, x):
    return (x * x).sum() + lib.sin(x * 3).sum() * 2 + (x[0] * x[1]) ** 2


@pytest.mark.parametrize(
    "function, start",
    [(_sharp_valley, [-2.0, 3.0]), (_oscillating, [2.5, -1.7]), (_sharp_valley, [3.0, -1.0])],
    ids=["sharp_valley", "oscillating", "sharp_valley_far"],
)
def test_lbfgs_strong_wolfe_zoom_follows_torch(function, start):
    options = {"lr": 1, "line_search_fn": "strong_wolfe", "max_iter": 8, "history_size": 4}
    ours, ours_evals = _lbfgs_path(chainrule, function, start, **options)
    theirs, theirs_evals = _lbfgs_path(torch, function, start, **options)
    assert ours_evals == theirs_evals
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def _line(lib, shape):
    """A 1-d objective along d = 1 from 0, as each library's line search calls it."""

    def obj_func(x, t, d):
        s = lib.tensor(float(t), dtype=lib.float64, requires_grad=True)
        value = shape(lib, s)
        value.backward()
        grad = s.grad.reshape(1)
        return float(value), (grad.numpy() if lib is chainrule else grad)

    return obj_func


LINES = {
    "minimum_near_start": lambda lib, s: (s - 0.03) ** 2,
    "minimum_near_end": lambda lib, s: (s - 0.95) ** 2 + (s - 0.95) ** 4,
    "overshoot_far": lambda lib, s: (s - 0.004) ** 2 * 10 + s**4,
    "wiggly": lambda lib, s: (s - 0.3) ** 2 + lib.sin(s * 20) * 0.05,
    # still descending steeply at t = 1, with a minimum at 1.24: the bracketing phase
    # extrapolates by a cubic bounded below by t + 0.01 (t - t_prev)
    "extrapolates_just_past_the_first_step": lambda lib, s: -s - 1.55 * s**2 + 1.05 * s**3,
}


@pytest.mark.parametrize("name", LINES)
def test_strong_wolfe_line_search_matches_torch(name):
    """The line search alone (its zoom phase keeps t off the bracket's ends unless progress
    stalls), on 1-d objectives whose minimizers sit near either end of the first bracket."""
    shape = LINES[name]
    ours_f, ours_g = _line(chainrule, shape)(None, 0.0, None)
    theirs_f, theirs_g = _line(torch, shape)(None, 0.0, None)
    d, td = np.array([1.0]), torch.tensor([1.0], dtype=torch.float64)
    ours = _strong_wolfe(_line(chainrule, shape), None, 1.0, d, ours_f, ours_g, ours_g @ d)
    theirs = torch_strong_wolfe(
        _line(torch, shape), None, 1.0, td, theirs_f, theirs_g, theirs_g.dot(td)
    )
    assert ours[3] == theirs[3]  # evaluations
    assert float(ours[2]) == pytest.approx(float(theirs[2]), rel=1e-12)  # the step t
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)


def test_strong_wolfe_with_a_large_sufficient_decrease_constant_matches_torch():
    """c1 = 0.45 makes the zoom phase's Armijo test (f_new > f + c1 t gtd shrinks the
    bracket) decide the step: the same evaluations and step as torch's."""
    shape = lambda lib, s: (s - 0.2) ** 2 + (s - 0.2) ** 4  # noqa: E731
    ours_f, ours_g = _line(chainrule, shape)(None, 0.0, None)
    theirs_f, theirs_g = _line(torch, shape)(None, 0.0, None)
    d, td = np.array([1.0]), torch.tensor([1.0], dtype=torch.float64)
    ours = _strong_wolfe(_line(chainrule, shape), None, 1.0, d, ours_f, ours_g, ours_g @ d, c1=0.45)
    theirs = torch_strong_wolfe(
        _line(torch, shape), None, 1.0, td, theirs_f, theirs_g, theirs_g.dot(td), c1=0.45
    )
    assert ours[3] == theirs[3] == 3  # evaluations
    assert float(ours[2]) == pytest.approx(float(theirs[2]), rel=1e-12)


def test_cubic_interpolation_without_a_real_minimum_takes_the_middle_as_torch():
    """When the cubic through two points has no real minimizer (d1^2 < g1 g2), the midpoint
    of the bounds is taken, as torch's _cubic_interpolate."""
    arguments = (0.0, 0.0, 1.0, 1.0, 2.0 / 3.0, 1.0)  # d1 = 0, so d2^2 = -1
    theirs = torch_cubic(*(torch.tensor(value, dtype=torch.float64) for value in arguments))
    assert _cubic_interpolate(*arguments) == pytest.approx(float(theirs)) == 0.5
    bounds = (0.2, 1.6)
    assert _cubic_interpolate(*arguments, bounds=bounds) == pytest.approx(0.9)
    assert torch_cubic(*arguments, bounds=bounds) == pytest.approx(0.9)


def test_lbfgs_stops_only_when_the_loss_moves_less_than_tolerance_change():
    """abs(loss - prev_loss) < tolerance_change, strictly: with tolerance_change=0 a step that
    returns to the same loss (x -> -x on x^2 with lr 2) does not stop the iterations, as in
    torch."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        opt = (optim if lib is chainrule else torch.optim).LBFGS(
            [x], lr=2, max_iter=6, tolerance_change=0.0, tolerance_grad=0.0
        )

        def closure(x=x, opt=opt):
            opt.zero_grad()
            loss = (x * x).sum()
            loss.backward()
            return loss

        opt.step(closure)
        results.append((opt.state[x]["func_evals"], opt.state[x]["n_iter"], x.tolist()))
    assert results[0] == results[1] and results[0][0] == 6


@pytest.mark.parametrize("reverse", [False, True])
def test_cubic_interpolation_matches_torch_for_either_order(reverse):
    points = [(0.0, 1.0, -2.0), (1.5, 0.8, 1.2)]
    if reverse:
        points.reverse()
    arguments = [value for point in points for value in point]
    theirs = torch_cubic(*(torch.tensor(value, dtype=torch.float64) for value in arguments))
    assert _cubic_interpolate(*arguments) == pytest.approx(float(theirs), rel=1e-12)


# ---- autograd.Function: saving its own output --------------------------------------------------


class _Exp(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


def test_function_saving_its_output_makes_no_reference_cycle():
    """An output saved for backward is kept as its array, not as the tensor (which refers to
    the node that saves it): dropping the last reference frees it at once, without the cycle
    collector, as PyTorch's SavedVariable does; and backward still sees the output."""
    x = chainrule.tensor([0.5, -1.0], requires_grad=True)
    y = _Exp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -1.0]))
    z = _Exp.apply(x)
    alive = weakref.ref(z)
    gc.disable()
    try:
        del z
        assert alive() is None
    finally:
        gc.enable()


# ---- serialization ------------------------------------------------------------------------------


class _Key:
    def __repr__(self) -> str:
        return "Key()"


def test_save_names_where_a_bad_key_is(tmp_path):
    x = chainrule.zeros(2)
    with pytest.raises(TypeError, match=r"got _Key Key\(\) at the top level"):
        chainrule.save({_Key(): x}, tmp_path / "a.pt")
    with pytest.raises(TypeError, match=r"got tuple \(1, Key\(\)\) at outer"):
        chainrule.save({"outer": {(1, _Key()): x}}, tmp_path / "b.pt")


@pytest.mark.parametrize(
    "entry", [5, {"dtype": "F32", "shape": [1]}, {"data_offsets": [0, 4], "shape": [1]}]
)
def test_a_header_entry_without_its_fields_is_corrupted(tmp_path, entry):
    header = json.dumps({"x": entry}).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(4))
    with pytest.raises(FileFormatError, match="corrupted safetensors header entry 'x'"):
        chainrule.load(path)


# ---- func.vmap -----------------------------------------------------------------------------------


def test_vmap_in_dims_structure_error_shows_both_structures():
    """The message shows the inputs' structure (a TreeSpec), not the input tensors, as torch's."""
    messages = []
    for vmap, x in ((chainrule.func.vmap, chainrule.zeros(2, 3)), (torch.vmap, torch.zeros(2, 3))):
        with pytest.raises(ValueError, match="in_dims is not compatible") as error:
            vmap(lambda a, b: a, in_dims=((0, 0), 0))(x, x)
        messages.append(str(error.value))
    ours, theirs = messages
    assert ours.split("TreeSpec(")[0] == theirs.split("TreeSpec(")[0]
    for message in messages:
        assert "but inputs has structure TreeSpec(" in message


# ---- nn.functional -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_without_dim_takes_torchs_implicit_dim(name, shape):
    """PyTorch's legacy implicit dim: 0 for 0-, 1- and 3-d inputs, else 1 (with a warning)."""
    x = np.random.default_rng(0).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice") as record:
        ours = getattr(chainrule.nn.functional, name)(chainrule.tensor(x))
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ---- ops: indexing ------------------------------------------------------------------------------


def test_tensor_split_takes_numpys_axis_keyword():
    x = np.arange(24.0).reshape(2, 3, 4)
    ours = chainrule.tensor_split(chainrule.tensor(x), 2, axis=2)
    theirs = torch.tensor_split(torch.tensor(x), 2, axis=2)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    for mine, expected in zip(ours, theirs):
        np.testing.assert_array_equal(mine.numpy(), expected.numpy())


def _write_after_ellipsis(lib, nnf, x, value, index):
    out = x.clone()
    out[..., index] = value
    return out


@pytest.mark.parametrize(
    "specs, in_dims",
    [
        ([("f", (3, 2, 4)), ("f", (3, 2, 2)), ("i", (2,), 4)], (0, 0, None)),
        ([("f", (3, 2, 4)), ("f", (2,)), ("i", (2,), 4)], (0, None, None)),
    ],
    ids=["both_batched", "shared_value"],
)
def test_index_put_after_an_ellipsis_under_vmap_matches_torch(specs, in_dims):
    """IndexPut's batch rule lays a batched value out for a key with an ellipsis."""
    ours, theirs = test_vmap._run_both(_write_after_ellipsis, specs, in_dims)
    test_vmap._compare(ours, theirs)


# ---- ops: linalg --------------------------------------------------------------------------------


def test_addcdiv_value_is_keyword_only_and_operands_take_keywords():
    ones, tones = chainrule.ones(2), torch.ones(2)
    ours = chainrule.addcdiv(input=ones, tensor1=ones * 3, tensor2=ones * 2, value=2)
    theirs = torch.addcdiv(input=tones, tensor1=tones * 3, tensor2=tones * 2, value=2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    for addcdiv, x in ((chainrule.addcdiv, ones), (torch.addcdiv, tones)):
        with pytest.raises(TypeError, match="3 positional arguments but 4 were given"):
            addcdiv(x, x, x, 2)


def test_cdist_by_matrix_product_is_zero_between_equal_rows():
    """|a|^2 + |b|^2 - 2 a.b is exactly 0 for equal rows of small integers: the distance is 0
    there (and its gradient 0), as torch's use_mm_for_euclid_dist path gives."""
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0], [1.0, 2.0, 3.0]])
    ours = chainrule.cdist(
        chainrule.tensor(rows), chainrule.tensor(rows), compute_mode="use_mm_for_euclid_dist"
    )
    theirs = torch.cdist(
        torch.tensor(rows), torch.tensor(rows), compute_mode="use_mm_for_euclid_dist"
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ---- ops: reductions ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["amin", "amax"])
@pytest.mark.parametrize("dim", [(), 1])
def test_amin_amax_gradient_with_nan_matches_torch(name, dim):
    """A nan minimum or maximum: torch's gradient there is nan everywhere it reduces (the
    nan-aware tie rule belongs to nanmin-like ops, not to amin/amax)."""
    x = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 0.5, 0.5, 4.0]])
    ours = chainrule.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    getattr(ours, name)(dim).sum().backward()
    getattr(theirs, name)(dim).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), equal_nan=True)


# ---- apps ---------------------------------------------------------------------------------------


def test_train_help_states_each_optimizers_default_learning_rate(capsys):
    """AdamW starts from Adam's 0.002 (its weight decay aside, the same step sizes suit it);
    the help says so for each optimizer."""
    assert main(["train", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "0.05 for sgd, 0.002 for adam, 0.002 for adamw" in help_text


# ---- ops: activation and convolution --------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_prelu_with_one_weight_keeps_the_input_shape_like_torch(shape):
    """One slope of shape (1,) is a scalar slope: a 0-d input stays 0-d (torch.prelu), and the
    weight's gradient keeps its shape."""
    x = np.linspace(-2.0, 1.0, int(np.prod(shape))).reshape(shape)
    w = chainrule.tensor([0.25], dtype=chainrule.float64, requires_grad=True)
    tw = torch.tensor([0.25], dtype=torch.float64, requires_grad=True)
    ours = chainrule.nn.functional.prelu(chainrule.tensor(x), w)
    theirs = torch.nn.functional.prelu(torch.tensor(x), tw)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize("in_dims", [(None, None, 0), (0, None, 0)], ids=["bias", "input_bias"])
def test_conv2d_with_a_bias_per_example_under_vmap_matches_torch(in_dims):
    """The convolution batch rule with shared weights but a batched bias: the bias differs per
    example, so it cannot ride along with the batch folded into the samples."""
    specs = [
        ("f", (test_vmap.B, 1, 2, 5, 5) if in_dims[0] == 0 else (1, 2, 5, 5)),
        ("f", (3, 2, 3, 3)),
        ("f", (test_vmap.B, 3)),
    ]
    ours, theirs = test_vmap._run_both(
        lambda lib, nnf, x, w, b: nnf.conv2d(x, w, b, padding=1), specs, in_dims
    )
    test_vmap._compare(ours, theirs)


# ---- serialization: map_location -------------------------------------------------------------


def test_load_with_map_location_moves_every_tensor_of_a_native_file(tmp_path):
    chainrule.save({"w": chainrule.ones(2), "nested": [chainrule.zeros(3)]}, tmp_path / "c")
    loaded = chainrule.load(tmp_path / "c", map_location="fake")
    assert loaded["w"].device == chainrule.device("fake")
    assert loaded["nested"][0].device == chainrule.device("fake")
    assert chainrule.load(tmp_path / "c")["w"].device == chainrule.device("cpu")


def test_load_with_map_location_keeps_a_torch_files_plain_values(tmp_path):
    """Only tensors move: numbers, strings and None in a torch checkpoint come back as they are."""
    torch.save({"w": torch.ones(2), "step": 3, "name": "adam", "none": None}, tmp_path / "t.pt")
    loaded = chainrule.load(tmp_path / "t.pt", map_location="fake")
    assert loaded["w"].device == chainrule.device("fake")
    assert (loaded["step"], loaded["name"], loaded["none"]) == (3, "adam", None)


def test_a_header_one_byte_longer_than_the_file_is_truncation(tmp_path):
    """The first 8 bytes announce 3 header bytes and 2 follow (a JSON object on their own)."""
    path = tmp_path / "short"
    path.write_bytes((3).to_bytes(8, "little") + b"{}")
    with pytest.raises(FileFormatError, match="announce a 3-byte header, but only 2 bytes follow"):
        chainrule.load(path)


def test_a_file_holding_only_its_header_loads(tmp_path):
    """A header that fills the file exactly (no tensor data: an empty dict, or a header alone)
    is a whole file, not a truncated one."""
    chainrule.save({}, tmp_path / "empty.safetensors")
    assert chainrule.load(tmp_path / "empty.safetensors") == {}
    path = tmp_path / "header_only"
    path.write_bytes((2).to_bytes(8, "little") + b"{}")
    assert chainrule.load(path) == {}


@pytest.mark.parametrize("missing", [1, 8, 16])
def test_tensor_data_cut_short_is_truncation(tmp_path, missing):
    """A file whose last bytes of tensor data are missing is refused as truncated, naming the
    tensor and how many data bytes there are."""
    path = tmp_path / "weights.safetensors"
    chainrule.save({"w": chainrule.arange(8.0)}, path)
    path.write_bytes(path.read_bytes()[:-missing])
    with pytest.raises(FileFormatError, match=f"tensor 'w' ends at byte 32 .* only {32 - missing}"):
        chainrule.load(path)


# ---- ops: creation -----------------------------------------------------------------------------


class _DLPackOn:
    """A CPU array that reports the DLPack device it is given."""

    def __init__(self, array, device_type):
        self.array, self.device_type = array, device_type

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return (self.device_type, 0)


def test_from_dlpack_reads_cuda_host_memory_on_the_cpu_and_cuda_memory_on_cuda():
    """DLPack device 3 (kDLCUDAHost, pinned memory) is the CPU's; device 2 (kDLCUDA) needs the
    CUDA backend, which this machine lacks."""
    array = np.arange(3.0)
    pinned = chainrule.from_dlpack(_DLPackOn(array, 3))
    assert pinned.device == chainrule.device("cpu") and pinned.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(chainrule.errors.BackendError, match="cuda"):
        chainrule.from_dlpack(_DLPackOn(array, 2))


# ---- autograd: observers -----------------------------------------------------------------------


class _Nodes(Observer):
    def __init__(self):
        self.nodes = []

    def forward_end(self, op, inputs, outputs, node, state):
        self.nodes.append((op.__name__, node))


def test_observers_see_the_node_of_an_op_whose_last_output_has_none():
    """The LU factorisation records a node for its factors, none for its integer pivots: an
    observer (anomaly mode's forward traceback, the profiler) is told the factors' node."""
    x = chainrule.tensor([[1.0, 3.0], [2.0, 0.5]], requires_grad=True)
    recorder = _Nodes()
    add_observer(recorder)
    try:
        lu, pivots = chainrule.linalg.lu_factor(x)
    finally:
        remove_observer(recorder)
    assert lu.grad_fn is not None and pivots.grad_fn is None
    (node,) = [node for name, node in recorder.nodes if name == "LuFactor"]
    assert node is not None


# ---- autograd: anomaly mode, forward AD levels, once_differentiable, gradcheck ---------------


def test_a_nan_made_outside_the_graph_is_traced_like_one_made_inside():
    """check_forward blames an op whose inputs need no gradient (no node keeps its stack) with
    the same forward trace as when they do: it ends at the call into the op, with none of
    anomaly mode's own frames."""
    messages = []
    for requires_grad in (True, False):
        x = chainrule.tensor([-1.0, 4.0], requires_grad=requires_grad)
        with detect_anomaly(check_forward=True), pytest.raises(GradError) as caught:
            x.log()
        messages.append(str(caught.value))
    with_graph, without = (m.split("Traceback of forward call")[1] for m in messages)
    assert "x.log()" in without and without == with_graph


def test_an_invalid_dual_level_names_the_active_levels():
    """make_dual and unpack_dual at a level past the innermost name the levels that exist
    (0 to n - 1 for n nested levels; torch has only one level and says 'Invalid level')."""
    x, t = chainrule.tensor([1.0, 2.0]), chainrule.ones(2)
    with fwAD.dual_level(), fwAD.dual_level():
        with pytest.raises(GradError, match=r"invalid level 2 given: .* are 0 to 1$"):
            fwAD.make_dual(x, t, level=2)
        with pytest.raises(GradError, match=r"invalid level 3 given: .* are 0 to 1$"):
            fwAD.unpack_dual(x, level=3)


def test_jvp_through_vmap_of_a_parameter_with_a_post_accumulate_grad_hook_matches_torch():
    """A tensor with a post-accumulate-grad hook (as an optimizer run inside backward registers
    on each parameter) but no tangent, used first in an op under vmap inside jvp: it carries
    no tangent, and the jvp is torch.func's."""
    results = []
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda tensor: None)
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        mapped = lib.func.vmap(lambda row, w=w: (w * row).sin())
        results.append(lib.func.jvp(mapped, (x,), (lib.ones(2, 3),)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_differentiating_a_once_differentiable_backward_again_names_the_function():
    """torch's message, followed by the name of the Function's node."""

    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @chainrule.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = chainrule.tensor([1.0, -2.0], requires_grad=True)
    y = Square.apply(x)
    (g,) = chainrule.autograd.grad((y * y).sum(), x, create_graph=True)
    expected = "trying to differentiate twice a function that was marked with @once_differentiable"
    with pytest.raises(GradError) as caught:
        g.sum().backward()
    assert str(caught.value) == f"{expected} (SquareBackward)"


def test_gradcheck_of_a_function_with_an_empty_output_passes_as_torchs():
    """An output with no elements has an empty Jacobian (0 rows), which matches the numerical
    one: gradcheck is True, as torch.autograd.gradcheck."""
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda a: (a * 2, a[:0]), (x,))
        assert lib.autograd.gradcheck(lambda a: a[2:] * 3, (x,))


def test_gradgradcheck_checks_the_backward_is_linear_in_its_cotangent():
    """A backward that detaches its cotangent has the right first derivative and the right
    derivative in x, but not in the cotangent: gradgradcheck's random cotangents are
    differentiated too, so it fails, as torch's does."""

    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g.detach()

        return Square

    for lib in (chainrule, torch):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        square = make(lib)
        assert lib.autograd.gradcheck(square.apply, (x,))
        assert not lib.autograd.gradgradcheck(square.apply, (x,), raise_exception=False)


def test_a_custom_function_under_vmap_is_batched_like_torchs():
    """A custom autograd.Function called inside vmap runs its forward under the vmap (its ops
    see the batch), and grad of it per example matches torch.func (torch asks the Function for
    generate_vmap_rule = True; chainrule batches any Function)."""

    def make(lib):
        class Dot(lib.autograd.Function):
            generate_vmap_rule = True

            @staticmethod
            def forward(x, w):
                return (x * w).sum()

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                return g * w, g * x

        return Dot

    results = []
    for lib in (chainrule, torch):
        dot = make(lib)
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        w = lib.tensor([0.5, -1.0])
        values = lib.func.vmap(dot.apply, in_dims=(0, None))(x, w)
        grads = lib.func.vmap(lib.func.grad(dot.apply, argnums=(0, 1)), in_dims=(0, None))(x, w)
        results.append([values, *grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


# ---- func: custom rules, autograd.functional's strict mode, stack_module_state ---------------


def test_custom_rules_bind_keyword_arguments_to_their_positions():
    """A custom_vjp or custom_jvp function called with keyword arguments gets each at its
    position (as JAX binds them), plainly and under grad."""

    @custom_vjp
    def clip_gradient(x, low, high):
        return x

    clip_gradient.defvjp(
        lambda x, low, high: (x, (low, high)),
        lambda residuals, g: (cnp.clip(g, *residuals), None, None),
    )

    @custom_jvp
    def scaled_sin(x, scale=1.0):
        return cnp.sin(x) * scale

    scaled_sin.defjvps(lambda t, ans, x, scale: cnp.cos(x) * scale * t, None)
    x = np.array([0.0, 1.0, 2.0])
    clipped = chainrule.func.grad(
        lambda v: cnp.sum(clip_gradient(cnp.sin(v), high=0.5, low=-0.25) * 3)
    )(x)
    np.testing.assert_allclose(clipped, np.clip(3.0, -0.25, 0.5) * np.cos(x))
    np.testing.assert_allclose(clip_gradient(x, low=0.0, high=1.0), x)
    scaled = chainrule.func.grad(lambda v: cnp.sum(scaled_sin(v, scale=3.0)))(x)
    np.testing.assert_allclose(scaled, 3 * np.cos(x))
    np.testing.assert_allclose(scaled_sin(x, scale=2.0), 2 * np.sin(x))


def test_a_custom_vjp_forward_rule_returning_a_number_is_refused():
    """The outputs of a custom_vjp's fwd must be Tensors: a Python float is a TypeError naming
    the function."""

    @custom_vjp
    def half(x):
        return x / 2

    half.defvjp(lambda x: (0.5, None), lambda residuals, g: (g / 2,))
    with pytest.raises(TypeError, match="custom_vjp half: the function must return Tensors"):
        chainrule.func.grad(lambda v: half(v).sum())(chainrule.tensor([1.0, 2.0]))


def test_strict_mode_messages_are_torchs():
    """autograd.functional in strict mode: an output that does not require grad, and the
    jacobian of a linear function in hessian and vhp, are refused with torch's messages."""
    cases = {
        "constant output": lambda lib, af, x: af.vjp(
            lambda a: lib.ones(2, dtype=lib.float64), x, lib.ones(2, dtype=lib.float64), strict=True
        ),
        "linear hessian": lambda lib, af, x: af.hessian(lambda a: (a * 2).sum(), x, strict=True),
        "linear vhp": lambda lib, af, x: af.vhp(
            lambda a: (a * 2).sum(), x, lib.ones(2, dtype=lib.float64), strict=True
        ),
    }
    for name, call in cases.items():
        messages = []
        for lib, af in ((chainrule, chainrule.autograd.functional), (torch, TAF)):
            with pytest.raises(RuntimeError) as caught:
                call(lib, af, lib.tensor([1.0, 2.0], dtype=lib.float64))
            messages.append(str(caught.value))
        ours, theirs = messages
        first_sentences = ". ".join(theirs.split(". ")[:2])
        assert ours.startswith(first_sentences), name


def test_forward_mode_jacobian_in_strict_mode():
    """strategy="forward-mode" with strict=True (a combination torch refuses) gives the
    reverse-mode strict result for a function of its input, and refuses an output that does not
    depend on the input."""
    af = chainrule.autograd.functional
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    forward = af.jacobian(lambda a: a**2, x, strict=True, strategy="forward-mode", vectorize=True)
    expected = TAF.jacobian(lambda a: a**2, torch.tensor([1.0, 2.0], dtype=torch.float64))
    np.testing.assert_allclose(forward.numpy(), expected.numpy())
    with pytest.raises(GradError, match="Output 0 of the user-provided function is independent"):
        af.jacobian(
            lambda a: chainrule.ones(2, dtype=chainrule.float64),
            x,
            strict=True,
            strategy="forward-mode",
            vectorize=True,
        )


def test_grad_of_a_function_closing_over_a_differentiated_tensor_stays_differentiable():
    """func.grad with respect to x of a function that closes over w keeps its result in w's
    graph, as torch.func: jacrev over w of that gradient is the mixed derivative 3 x^2 (it was
    zero: the inner gradient was cut from w), for a Tensor x and for NumPy data; and at the
    top level the gradient of a function of a parameter has a grad_fn reaching it."""
    xs, ws = [1.5, -2.0], [0.5, 3.0]
    expected = torch.func.jacrev(
        lambda w: torch.func.grad(lambda x: (w * x**3).sum())(torch.tensor(xs, dtype=torch.float64))
    )(torch.tensor(ws, dtype=torch.float64))
    for x in (chainrule.tensor(xs, dtype=chainrule.float64), np.array(xs)):
        inner = lambda w, x=x: chainrule.func.grad(lambda v: (w * v**3).sum())(x)  # noqa: E731
        w = chainrule.tensor(ws, dtype=chainrule.float64)
        for transform in (chainrule.func.jacrev, chainrule.func.jacfwd):
            ours = transform(inner)(w)
            assert not ours.requires_grad
            np.testing.assert_allclose(ours.numpy(), expected.numpy())
    grads = []
    for lib in (chainrule, torch):
        w = lib.tensor(ws, dtype=lib.float64, requires_grad=True)
        g = lib.func.grad(lambda v, w=w: (w * v**3).sum())(lib.tensor(xs, dtype=lib.float64))
        assert g.requires_grad and g.grad_fn is not None
        g.sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(*grads)


def test_stack_module_state_stacks_buffers_as_torch():
    """The buffers of an ensemble (BatchNorm's running statistics and count) are stacked along
    a new first dimension, as torch.func.stack_module_state does."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        models = [lib.nn.BatchNorm1d(3) for _ in range(2)]
        for index, model in enumerate(models):
            model(lib.arange(6 * (index + 1), dtype=lib.float32).reshape(-1, 3) * (index + 1))
        results.append(lib.func.stack_module_state(models)[1])
    ours, theirs = results
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name].shape == tuple(theirs[name].shape), name
        np.testing.assert_allclose(ours[name].numpy(), theirs[name].numpy(), rtol=1e-6)
        assert not ours[name].requires_grad


# ---- nn: attention, init, state_dict, parametrizations, spectral_norm -------------------------


def test_grouped_query_attention_of_unbatched_inputs_matches_torch():
    """scaled_dot_product_attention with enable_gqa on (heads, L, E) inputs, no batch
    dimension: each key/value head serves heads / kv_heads query heads, as in torch."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(shape) for shape in ((4, 3, 5), (2, 6, 5), (2, 6, 5)))
    ours = chainrule.nn.functional.scaled_dot_product_attention(
        *(chainrule.tensor(a) for a in (q, k, v)), enable_gqa=True
    )
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), enable_gqa=True
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_a_3d_attention_mask_of_the_wrong_shape_is_refused_with_torchs_message():
    """The expected shape (batch * heads, L, S) is named, as torch.nn.MultiheadAttention does."""
    messages = []
    for lib in (chainrule, torch):
        attention = lib.nn.MultiheadAttention(4, 2)
        query = lib.zeros(3, 2, 4)
        with pytest.raises((ValueError, RuntimeError)) as caught:
            attention(query, query, query, attn_mask=lib.zeros(3, 3, 3))
        messages.append(str(caught.value))
    assert messages[0] == messages[1].replace("torch.Size", "chainrule.Size")


def test_trunc_normal_warns_at_the_callers_line():
    """A mean more than 2 std outside [a, b] warns with torch's message, attributed to the line
    that called trunc_normal_ (stacklevel 2; torch's points into its own init.py, a wrapper
    deeper)."""
    with pytest.warns(UserWarning, match="mean is more than 2 std from") as record:
        chainrule.nn.init.trunc_normal_(chainrule.empty(3), mean=5.0, std=1.0, a=-2.0, b=2.0)
    assert record[0].filename == __file__


def test_state_dict_with_keep_vars_returns_the_buffers_themselves():
    """keep_vars=True gives the module's own buffer tensors, as torch's state_dict; without it,
    detached tensors that share their memory."""
    for lib in (chainrule, torch):
        norm = lib.nn.BatchNorm1d(2)
        assert norm.state_dict(keep_vars=True)["running_mean"] is norm.running_mean
        detached = norm.state_dict()["running_mean"]
        assert detached is not norm.running_mean
        detached.add_(1.0)
        assert norm.running_mean.tolist() == [1.0, 1.0]


def test_a_parametrization_counts_the_tensors_its_right_inverse_gives():
    """ParametrizationList.ntensors: 1 when right_inverse returns a tensor (kept as
    `original`), the sequence's length otherwise (`original0`, `original1`...), as torch."""

    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).T

        class Sum(lib.nn.Module):
            def forward(self, a, b):
                return a + b

            def right_inverse(self, x):
                return x / 2, x / 2

        return Symmetric, Sum

    for lib in (chainrule, torch):
        symmetric, total = make(lib)
        parametrize = lib.nn.utils.parametrize
        one, two = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
        parametrize.register_parametrization(one, "weight", symmetric())
        parametrize.register_parametrization(two, "weight", total())
        assert one.parametrizations.weight.ntensors == 1
        assert two.parametrizations.weight.ntensors == 2
        assert sorted(name for name, _ in two.parametrizations.weight.named_parameters()) == [
            "original0",
            "original1",
        ]


def test_spectral_norm_starts_from_random_unit_directions_drawn_around_zero():
    """spectral_norm's first u and v are normalized standard-normal draws (torch's normal_(0,
    1)): unit vectors whose entries sum to about N(0, 1), not to sqrt(n / 2) as draws of mean
    1 would."""
    chainrule.manual_seed(0)
    layer = chainrule.nn.utils.spectral_norm(chainrule.nn.Linear(4096, 2048))
    for name, size in (("weight_u", 2048), ("weight_v", 4096)):
        vector = getattr(layer, name)
        assert vector.shape == (size,)
        assert float(vector.norm()) == pytest.approx(1.0)
        assert abs(float(vector.sum())) < 6.0, name


# ---- ops: convolution, indexing, fft, istft ----------------------------------------------------


def test_conv2d_with_a_wider_stride_along_the_width_matches_torch():
    """stride (1, 3) with many channels per kernel row (the channels-last column layout): the
    width's own stride picks the windows; value and gradients as torch's."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 9)), rng.standard_normal((3, 4, 2, 3))
    results = []
    for lib in (chainrule, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in (x, w)]
        out = lib.nn.functional.conv2d(*inputs, stride=(1, 3))
        (out * lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape)).sum().backward()
        results.append([out.detach().numpy(), *(t.grad.numpy() for t in inputs)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("key", [[0, None], [None, 1], [0, ...], [..., 1]])
def test_a_short_list_holding_none_or_ellipsis_indexes_as_a_tuple(key):
    """x[[0, None]] is x[0, None] and x[[..., 1]] is x[..., 1], as torch still reads them
    (deprecated, with a warning, in both)."""
    ours = chainrule.arange(6.0).reshape(2, 3)[key]
    theirs = torch.arange(6.0).reshape(2, 3)[key]
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("name", ["irfft2", "irfftn"])
def test_inverse_real_fft_resizes_every_leading_axis_to_s(name):
    """irfft2 / irfftn with s: every axis but the last is cropped or zero-padded to its size
    in s before the inverse, as torch.fft."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 3, 5)) + 1j * rng.standard_normal((4, 3, 5))
    s = (6, 8) if name == "irfft2" else (2, 5, 8)
    ours = getattr(chainrule.fft, name)(chainrule.tensor(z), s=s)
    theirs = getattr(torch.fft, name)(torch.tensor(z), s=s)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_istft_of_a_two_sided_spectrum_returns_the_real_signal():
    """onesided=False with return_complex=False: the inverse of a full (two-sided) stft is the
    real signal, as torch.istft."""
    signal = np.random.default_rng(0).standard_normal(64)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(16) / 16)  # torch.hann_window(16)
    results = []
    for lib in (chainrule, torch):
        window = lib.tensor(hann)
        spectrum = lib.stft(
            lib.tensor(signal), 16, 4, window=window, onesided=False, return_complex=True
        )
        results.append(lib.istft(spectrum, 16, 4, window=window, onesided=False, length=64))
    ours, theirs = results
    assert ours.dtype == chainrule.float64 and not ours.is_complex()
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.numpy(), signal, atol=1e-12)


# ---- data: collate, worker options --------------------------------------------------------------


def test_default_collate_keeps_a_mutable_mappings_type():
    """A batch of defaultdicts collates to a defaultdict with the same default_factory (a
    mutable mapping is copied, then updated), as torch.utils.data.default_collate."""
    batch = [
        collections.defaultdict(list, a=1.0, b=np.array([1, 2])),
        collections.defaultdict(list, a=2.0, b=np.array([3, 4])),
    ]
    ours = data.default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    assert type(ours) is type(theirs) is collections.defaultdict
    assert ours.default_factory is theirs.default_factory is list
    assert {k: v.tolist() for k, v in ours.items()} == {k: v.tolist() for k, v in theirs.items()}


def test_workers_prefetch_two_batches_each_by_default():
    """prefetch_factor is 2 when workers are asked for without one, None without workers."""
    for workers, expected in ((2, 2), (0, None)):
        ours = data.DataLoader(range(4), num_workers=workers)
        theirs = torch.utils.data.DataLoader(range(4), num_workers=workers)
        assert ours.prefetch_factor == theirs.prefetch_factor == expected


@pytest.mark.parametrize("extra", [0, 1])
def test_too_many_workers_warns_only_past_the_cpu_count(extra):
    """The warning comes when num_workers exceeds the CPUs this process may use, not at equal
    numbers, as torch's check_worker_number_rationality."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    warned = []
    for check in (
        data.DataLoader(range(4), num_workers=cpus + extra)._warn_if_too_many_workers,
        torch.utils.data.DataLoader(
            range(4), num_workers=cpus + extra
        ).check_worker_number_rationality,
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check()
        warned.append([str(w.message)[:40] for w in caught])
    assert warned[0] == warned[1] and len(warned[0]) == extra


class _CountingContext(multiprocessing.context.ForkContext):
    """The fork start method, counting the worker processes it starts."""

    started = 0

    def Process(self, *args, **kwargs):  # noqa: N802 (multiprocessing's name)
        type(self).started += 1
        return super().Process(*args, **kwargs)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_workers_start_from_the_given_context_or_the_default_one():
    """multiprocessing_context given as a context object starts the workers; without one, the
    default context does: the batches are torch's either way."""
    expected = [b.tolist() for b in torch.utils.data.DataLoader(range(6), batch_size=2)]
    counting = _CountingContext()
    given = data.DataLoader(range(6), batch_size=2, num_workers=1, multiprocessing_context=counting)
    assert [b.tolist() for b in given] == expected
    assert _CountingContext.started == 1
    default = data.DataLoader(range(6), batch_size=2, num_workers=1)
    assert [b.tolist() for b in default] == expected


class _HeldAtZero:
    """Six items; the worker given item 0 waits until `event` is set (at most 3 s)."""

    def __init__(self, event):
        self.event = event

    def __len__(self):
        return 6

    def __getitem__(self, index):
        if index == 0:
            self.event.wait(3)
        return index


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_out_of_order_loading_gives_a_held_worker_no_more_than_its_prefetch():
    """in_order=False with prefetch_factor=1: a worker stuck on item 0 holds that one task, so
    the other worker delivers items 1 to 5 first (the event that frees item 0 is set only
    then), as torch's loader."""
    context = multiprocessing.get_context("fork")
    orders = []
    for loader_class in (data.DataLoader, torch.utils.data.DataLoader):
        event = context.Event()
        loader = loader_class(
            _HeldAtZero(event),
            batch_size=None,
            num_workers=2,
            prefetch_factor=1,
            in_order=False,
            multiprocessing_context=context,
        )
        order = []
        for item in loader:
            order.append(int(item))
            if len(order) == 5:
                event.set()
        orders.append(order)
    assert orders[0] == orders[1] == [1, 2, 3, 4, 5, 0]


def test_concat_dataset_refuses_no_datasets_and_names_an_index_past_the_end():
    """ConcatDataset([]) is refused with torch's message (a ValueError; torch asserts); an
    index equal to the length is an IndexError naming it (torch's comes from its list of
    datasets)."""
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        torch.utils.data.ConcatDataset([])
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        data.ConcatDataset([])
    with pytest.raises(IndexError):
        torch.utils.data.ConcatDataset([[1, 2], [3]])[3]
    with pytest.raises(IndexError, match="index 3 is out of range for a dataset of length 3"):
        data.ConcatDataset([[1, 2], [3]])[3]


def test_tensor_dataset_refuses_a_0d_tensor():
    """A 0-d tensor has no first dimension to index: a ShapeError naming the sizes (torch's
    is an IndexError from size(0))."""
    with pytest.raises(IndexError):
        torch.utils.data.TensorDataset(torch.tensor(1.0))
    with pytest.raises(ShapeError, match="Size mismatch"):
        data.TensorDataset(chainrule.tensor(1.0))
    with pytest.raises(ShapeError, match="Size mismatch"):
        data.TensorDataset(chainrule.zeros(2), chainrule.tensor(1.0))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_workers_send_back_samples_mixing_tensors_and_plain_values_as_torch():
    """A worker's batch holding tensors, numbers and strings arrives as in torch: tensors
    collated, strings listed."""
    samples = [{"x": [float(i), -float(i)], "n": i, "name": f"s{i}"} for i in range(4)]
    batches = []
    for lib, module in ((chainrule, data), (torch, torch.utils.data)):
        dataset = [dict(s, x=lib.tensor(s["x"])) for s in samples]
        loader = module.DataLoader(
            dataset, batch_size=2, num_workers=1, multiprocessing_context="fork"
        )
        batches.append(
            [{k: v if k == "name" else v.tolist() for k, v in b.items()} for b in loader]
        )
    assert batches[0] == batches[1]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_finished_worker_iterator_shuts_its_workers_down_once():
    """Exhausting a loader with workers shuts them down; collecting the iterator afterwards
    (its __del__ asks again) does nothing more and raises nothing."""
    seen = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(unraisable.exc_value)
    try:
        batches = iter(
            data.DataLoader(range(4), batch_size=2, num_workers=1, multiprocessing_context="fork")
        )
        assert [b.tolist() for b in batches] == [[0, 1], [2, 3]]
        del batches
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert seen == []


def test_batch_sampler_length_rounds_up_only_a_partial_batch():
    """len(BatchSampler) is ceil(n / batch_size): 10 samples in batches of 5 are 2 batches, 11
    are 3 (2 with drop_last), as torch's."""
    for n, size, drop_last in ((10, 5, False), (11, 5, False), (11, 5, True), (4, 4, False)):
        ours = data.BatchSampler(range(n), size, drop_last)
        theirs = torch.utils.data.BatchSampler(range(n), size, drop_last)
        assert len(ours) == len(theirs) == len(list(theirs)), (n, size, drop_last)


# ---- apps: the command line's argument types, help and checkpoints ---------------------------


def test_cli_argument_types_take_their_whole_ranges():
    """--seed takes torch's seed range [-2**63, 2**64); --val-fraction is strictly between 0
    and 1."""
    for text in ("0", "1000", str(2**64 - 1), str(-(2**63))):
        assert cli.seed(text) == int(text)
    for text in (str(2**64), str(-(2**63) - 1)):
        with pytest.raises(argparse.ArgumentTypeError, match=r"an integer in \[-2\*\*63"):
            cli.seed(text)
    assert cli.fraction("0.25") == 0.25
    for text in ("0", "1", "-0.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="a number between 0 and 1"):
            cli.fraction(text)


@pytest.mark.skipif(chainrule.cuda.is_available(), reason="a CUDA GPU is available here")
def test_cli_refuses_cuda_without_a_gpu():
    with pytest.raises(argparse.ArgumentTypeError, match="no CUDA GPU is available"):
        cli.device_name("cuda")
    assert cli.device_name("cpu") == "cpu"


def test_cli_help_ends_with_the_modules_closing_paragraph(capsys):
    """The top-level help shows the module docstring's second paragraph as its description and
    its third as the epilog, each once."""
    assert main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    description, epilog = (" ".join(p.split()) for p in cli.__doc__.split("\n\n")[1:3])
    assert help_text.count(description) == 1 and help_text.count(epilog) == 1
    assert help_text.index(description) < help_text.index(epilog)


def _checkpoint(tmp_path, image_size, model=None):
    path = tmp_path / f"size{image_size}.safetensors"
    config = {"model": "mlp", "image_size": image_size, "num_classes": 2}
    config["data"] = {"source": "digits", "seed": 0}
    chainrule.save({"model": model or {}, "config": config}, path)
    return path


def test_a_checkpoint_of_4_pixel_images_is_read_and_of_3_refused(tmp_path):
    """4 x 4 is the smallest image size the models take (the CNN pools twice by 2)."""
    assert cli.read_checkpoint(_checkpoint(tmp_path, 4))["config"]["image_size"] == 4
    with pytest.raises(cli.UsageError, match="its config has image_size 3"):
        cli.read_checkpoint(_checkpoint(tmp_path, 3))


def test_weights_that_do_not_fit_are_explained_in_300_characters(tmp_path):
    """A long load_state_dict error is cut to 297 characters and '...', on one line."""
    weights = {f"extra_{i}.weight": chainrule.zeros(1) for i in range(40)}
    path = _checkpoint(tmp_path, 4, weights)
    with pytest.raises(cli.UsageError) as caught:
        cli._fit_model(cli.read_checkpoint(path), path)
    message = str(caught.value).split("does not fit a mlp model: ", 1)[1]
    assert len(message) == 300 and message.endswith("...") and "\n" not in message


def test_a_structure_node_that_is_not_a_one_entry_object_is_corrupted(tmp_path):
    """The chainrule structure in a file's metadata is checked node by node: a list where an
    object should be is a FileFormatError naming the metadata, not a crash."""
    for node in (["x"], "x", {"value": 1, "tensor": "w"}):
        header = json.dumps({"__metadata__": {"chainrule": json.dumps(node)}}).encode()
        path = tmp_path / "bad.safetensors"
        path.write_bytes(len(header).to_bytes(8, "little") + header)
        with pytest.raises(FileFormatError, match="corrupted chainrule structure metadata"):
            chainrule.load(path)


def test_the_cnn_takes_image_sizes_that_are_not_multiples_of_4():
    """Two 2 x 2 poolings floor 10 to 2: the classifier takes 32 * 2 * 2 = 128 inputs, the
    network runs on 10 x 10 images, and its output matches the same network in torch."""
    model = build_model("cnn", 10, 3)
    linear = [m for m in model.modules() if isinstance(m, chainrule.nn.Linear)][0]
    assert linear.in_features == 128 and isinstance(linear.in_features, int)
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 3),
    )
    model.load_state_dict(
        {k: chainrule.tensor(v.numpy()) for k, v in reference.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((2, 1, 10, 10)).astype(np.float32)
    ours = model(chainrule.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, reference(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_the_training_curves_are_drawn_at_1000_by_400_pixels(tmp_path):
    """curves.png: two panels side by side, 10 x 4 inches at 100 dpi."""
    pytest.importorskip("matplotlib")
    history = {
        key: [0.5, 0.4] for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
    }
    path = plot_history(history, tmp_path / "curves.png", "run")
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (
        1000,
        400,
    )


def test_a_one_epoch_run_draws_its_epoch_in_the_middle_of_each_panel():
    """With one epoch the x axis runs from 0.5 to 1.5, so the single point of each curve sits
    in the middle of its panel, its tick labelled 1 (matplotlib alone would centre a range
    around it that shows fractional epochs)."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from chainrule.apps.report import draw_history

    history = {key: [0.5] for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")}
    figure = draw_history(history, "one epoch")
    try:
        for axes in figure.axes:
            assert axes.get_xlim() == (0.5, 1.5)
            assert list(axes.get_xticks()) == [1]
    finally:
        plt.close(figure)


def test_a_trainer_runs_eagerly_in_one_process_unless_asked_otherwise(tmp_path):
    """Trainer's defaults, as PyTorch code expects of a plain training loop: no compiled step
    and no DistributedDataParallel wrapper, even in a process that has a process group; the
    command line asks for either explicitly (--compile, --distributed)."""
    from chainrule import distributed as dist
    from chainrule.apps.data import load_data
    from chainrule.apps.training import Trainer

    data = load_data({"source": "digits"}, 0, 0.1, None)
    config = {
        "model": "mlp", "image_size": data.image_size, "num_classes": data.num_classes,
        "data": data.spec, "optimizer": "adam", "lr": 1e-3, "scheduler": "none", "epochs": 1,
        "batch_size": 32, "seed": 0, "val_fraction": 0.1, "threads": 1, "device": "cpu",
    }  # fmt: skip
    dist.init_process_group("single")
    try:
        trainer = Trainer(config, data, tmp_path, quiet=True, is_main=True)
    finally:
        dist.destroy_process_group()
    assert trainer.compiled_step is None
    assert trainer.net is trainer.model and not trainer.distributed


def test_training_shows_a_progress_bar_with_the_running_mean_loss(tmp_path, capsys):
    """Without --quiet the main process draws the epoch's bar on stderr, its postfix the
    running mean loss and accuracy of the batches so far (a mean cross-entropy over 10 digit
    classes: near ln 10 = 2.3 at first, then lower)."""
    pytest.importorskip("tqdm")
    argv = ["train", "--model", "mlp", "--epochs", "1", "--out", str(tmp_path), "--name", "r"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "epoch 1/1" in err
    losses = [float(v) for v in re.findall(r"loss=([0-9.]+)", err)]
    accuracies = [float(v) for v in re.findall(r"acc=([0-9.]+)", err)]
    assert losses and all(0.0 < value < 3.0 for value in losses)
    assert accuracies and all(0.0 <= value <= 1.0 for value in accuracies)
