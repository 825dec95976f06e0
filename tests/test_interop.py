"""Interop: DLPack and NumPy share memory (a write through one side is read on the other), and a
CNN's weights move between PyTorch and chainrule through safetensors with the same outputs."""

import operator

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.errors import DTypeError, GradError
from chainrule.ops.creation import from_dlpack

safetensors_torch = pytest.importorskip("safetensors.torch")


# ---- DLPack ----------------------------------------------------------------------------------


def test_torch_reads_and_writes_a_chainrule_tensor():
    ours = chainrule.zeros(2, 3)
    theirs = torch.from_dlpack(ours)
    theirs[1, 2] = 7.0
    assert ours[1, 2].item() == 7.0
    ours.add_(1.0)
    assert theirs[0, 0].item() == 1.0
    assert theirs.dtype == torch.float32
    assert tuple(theirs.shape) == (2, 3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.uint8])
def test_chainrule_reads_and_writes_a_torch_tensor(dtype):
    theirs = torch.zeros(3, 2, dtype=dtype)
    ours = from_dlpack(theirs)
    assert ours.dtype == getattr(chainrule, str(dtype).removeprefix("torch."))
    theirs[2, 1] = 5
    assert ours[2, 1].item() == 5
    ours.fill_(3)
    assert theirs.sum().item() == 18


def test_non_contiguous_views_keep_their_strides():
    base = torch.arange(12.0).reshape(3, 4)
    ours = from_dlpack(base.t())
    assert tuple(ours.shape) == (4, 3)
    np.testing.assert_array_equal(ours.numpy(), base.t().numpy())
    base[0, 1] = -1.0
    assert ours[1, 0].item() == -1.0


def test_round_trip_through_torch_is_the_same_memory():
    ours = chainrule.arange(6.0)
    back = from_dlpack(torch.from_dlpack(ours))
    back[0] = 42.0
    assert ours[0].item() == 42.0


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match="__dlpack__"):
        from_dlpack([1.0, 2.0])
    with pytest.raises(DTypeError, match="from_dlpack"):
        from_dlpack(torch.ones(2, dtype=torch.bfloat16))


# ---- NumPy -----------------------------------------------------------------------------------


def test_numpy_shares_memory():
    t = chainrule.zeros(3)
    array = t.numpy()
    array[0] = 2.0
    assert t[0].item() == 2.0
    viewed = np.asarray(t)
    viewed[1] = 3.0
    assert t[1].item() == 3.0
    source = np.zeros(2, dtype=np.float32)
    wrapped = chainrule.from_numpy(source)
    source[1] = 9.0
    assert wrapped[1].item() == 9.0


def test_numpy_refuses_a_tensor_that_requires_grad_like_torch():
    t = chainrule.ones(3, requires_grad=True)
    with pytest.raises(GradError, match="detach"):
        np.asarray(t)
    np.testing.assert_array_equal(np.asarray(t.detach()), np.ones(3))


def test_numpy_of_a_tensor_that_requires_grad_is_allowed_with_grad_mode_off_like_torch():
    """PyTorch refuses only while grad mode is on (a custom op's body runs with it off)."""
    torch = pytest.importorskip("torch")
    for lib in (chainrule, torch):
        t = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            np.testing.assert_array_equal(t.numpy(), np.ones(3))
            np.testing.assert_array_equal(np.asarray(t), np.ones(3))


def test_numpy_array_times_tensor_is_a_tensor_with_gradient():
    t = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    product = np.full(3, 2.0) * t
    assert isinstance(product, chainrule.Tensor)
    product.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full(3, 2.0))
    assert isinstance(np.ones(3) + t, chainrule.Tensor)


ARRAY_OPERANDS = {
    "float32 + int64 array": (lambda lib: lib.ones(2), np.array([1, 2]), operator.add),
    "float32 * float64 array": (lambda lib: lib.ones(2), np.array([1.0, 2.0]), operator.mul),
    "float32 / int32 array": (
        lambda lib: lib.ones(2),
        np.arange(1, 3, dtype=np.int32),
        operator.truediv,
    ),
    "float32 ** 0-dim array": (lambda lib: lib.ones(2), np.array(2), operator.pow),
    "int64 - float32 array": (
        lambda lib: lib.ones(2, dtype=lib.long),
        np.array([1.0, 2.0], np.float32),
        operator.sub,
    ),
    "float16 + float32 array": (
        lambda lib: lib.ones(2, dtype=lib.float16),
        np.array([1.0, 2.0], np.float32),
        operator.add,
    ),
    "int32 + bool array": (
        lambda lib: lib.ones(2, dtype=lib.int32),
        np.array([True, False]),
        operator.add,
    ),
    "float32 + float32 array": (lambda lib: lib.ones(2), np.ones(2, np.float32), operator.add),
    "float32 + float64 scalar": (lambda lib: lib.ones(2), np.float64(2.0), operator.add),
}


@pytest.mark.parametrize("case", ARRAY_OPERANDS.values(), ids=ARRAY_OPERANDS.keys())
def test_a_tensor_and_a_numpy_array_combine_to_numpys_dtype_as_under_torch(case):
    """PyTorch's ops refuse an ndarray operand, so `tensor + array` is NumPy's reflected
    operator and has NumPy's dtype: float32 + int64 array is float64 (it was float32 here).
    A NumPy scalar is a number to both: float32 + np.float64(2) stays float32."""
    make, array, combine = case
    ours, theirs = combine(make(chainrule), array), combine(make(torch), array)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


# ---- PyTorch weights -------------------------------------------------------------------------


def _torch_cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 3 * 3, 5),
    )


def _chainrule_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 3 * 3, 5),
    )


def _images() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)


def test_torch_weights_load_into_chainrule(tmp_path):
    torch.manual_seed(0)
    source = _torch_cnn()
    source(torch.randn(16, 1, 8, 8))  # running statistics that are not the defaults
    source.eval()
    path = tmp_path / "cnn.safetensors"
    safetensors_torch.save_file(source.state_dict(), str(path))

    model = _chainrule_cnn()
    model.load_state_dict(chainrule.load(path))
    model.eval()
    with torch.no_grad():
        expected = source(torch.from_numpy(_images())).numpy()
    with chainrule.no_grad():
        got = model(chainrule.from_numpy(_images())).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_chainrule_weights_load_into_torch(tmp_path):
    chainrule.manual_seed(0)
    model = _chainrule_cnn()
    model(chainrule.randn(16, 1, 8, 8))
    model.eval()
    path = tmp_path / "cnn.safetensors"
    chainrule.save(model.state_dict(), path)

    target = _torch_cnn()
    target.load_state_dict(safetensors_torch.load_file(str(path)))
    target.eval()
    with chainrule.no_grad():
        expected = model(chainrule.from_numpy(_images())).numpy()
    with torch.no_grad():
        got = target(torch.from_numpy(_images())).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "build",
    [
        lambda lib, a, b: lib.cat([a, b], dim=1),
        lambda lib, a, b: lib.cat([a, b]),
        lambda lib, a, b: lib.stack([a, b]),
        lambda lib, a, b: lib.stack([a, b], dim=2),
        lambda lib, a, b: lib.hstack([a, b]),
        lambda lib, a, b: lib.vstack([a, b]),
        lambda lib, a, b: lib.roll(a, 1, 0),
        lambda lib, a, b: lib.nn.functional.pad(a, (1, 2)),
        lambda lib, a, b: lib.cumsum(a, 1),
        lambda lib, a, b: lib.cumprod(a, 0),
    ],
    ids=["cat", "cat0", "stack", "stack2", "hstack", "vstack", "roll", "pad", "cumsum", "cumprod"],
)
def test_results_built_from_transposed_inputs_are_contiguous_as_torchs(build):
    """torch.cat and its kin give contiguous results whatever their inputs' layouts (NumPy
    keeps transposed inputs' layout), so `torch.cat([a.t(), b.t()]).view(-1)` works."""
    data = np.arange(12.0).reshape(4, 3)
    results = []
    for lib in (chainrule, torch):
        a, b = lib.tensor(data).t(), lib.tensor(data * 2).t()
        out = build(lib, a, b)
        results.append((out.stride(), out.is_contiguous(), out.view(-1).tolist()))
    assert results[0] == results[1]
