"""Behaviours that only a surviving mutant showed were untested (`make mutate`, issue 17;
docs/mutation.md names the mutant each test kills). Each is compared with PyTorch."""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pytest
import torch
from torch.optim.lbfgs import _cubic_interpolate as torch_cubic
from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

import chainrule
from chainrule import data, optim
from chainrule.apps.cli import main
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.errors import FileFormatError
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


def test_save_names_where_a_bad_key_is(tmp_path):
    x = chainrule.zeros(2)
    with pytest.raises(TypeError, match=r"got float 1\.5 at the top level"):
        chainrule.save({1.5: x}, tmp_path / "a.pt")
    with pytest.raises(TypeError, match=r"got tuple \(1, 2\) at outer"):
        chainrule.save({"outer": {(1, 2): x}}, tmp_path / "b.pt")


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
    w = chainrule.tensor([0.25], requires_grad=True)
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
