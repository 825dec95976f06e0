"""Devices as in PyTorch, proven without a GPU.

The device under test is 'fake' (chainrule/backend/fake.py: NumPy memory behind CuPy's
refusals), or whatever CHAINRULE_TEST_DEVICE names ('cuda' on a GPU machine, see
benchmarks/gpu.sh). Tests marked `device` run the op checker, the nn layer cases and the
optimizers there, against the same CPU references: `pytest -m device` selects them.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn, optim
from chainrule.apps.cli import main
from chainrule.backend import fake_backend, jit
from chainrule.backend.fake import FAKE_HOST_SYNCS, FakeArray, fake_numpy
from chainrule.errors import BackendError
from chainrule.testing import check_op
from tests.op_specs import SPECS
from tests.test_nn_modules import ALL_CASES, check_case
from tests.test_optim import CASES as OPTIMIZER_CASES
from tests.test_optim import loss_terms

DEVICE = os.environ.get("CHAINRULE_TEST_DEVICE", "fake")
device_test = pytest.mark.device


# ---- every op, layer and optimizer on the device under test ---------------------------------


# A 0-dim float32 tensor times (or dividing) a half-precision one: PyTorch uses it in float32
# only from CPU memory (a CPU scalar); a 0-dim device tensor is rounded to the half dtype
# first, as on CUDA, so torch's CPU result is not the reference there.
CPU_SCALAR_SPECS = {"mul_float16_by_float32_scalar_tensor", "div_float16_by_float32_scalar_tensor"}


@device_test
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_matches_torch_on_the_device(spec):
    if spec.name in CPU_SCALAR_SPECS:
        pytest.skip("PyTorch's CPU-scalar rule; on a device the 0-dim operand is rounded first")
    check_op(spec, device=DEVICE)


@device_test
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's own notes, as in test_nn_modules
@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_layer_matches_torch_on_the_device(case):
    check_case(case, device=DEVICE)


@device_test
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES, ids=str)
def test_optimizer_matches_torch_on_the_device(name, kwargs):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in [(3, 4), (5,), ()]]
    ours = [chainrule.tensor(a, requires_grad=True, device=DEVICE) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(5):
        opt.zero_grad()
        topt.zero_grad()
        for mine, reference, (c, b) in zip(ours, theirs, loss_terms(step)):
            c_mine, b_mine = (chainrule.tensor(v, device=DEVICE) for v in (c, b))
            (c_mine * mine * mine / 2 + b_mine * mine).sum().backward()
            (
                torch.tensor(c) * reference * reference / 2 + torch.tensor(b) * reference
            ).sum().backward()
        opt.step()
        topt.step()
        for mine, reference in zip(ours, theirs):
            assert mine.device == chainrule.device(DEVICE)
            np.testing.assert_allclose(
                mine.detach().cpu().numpy(), reference.detach().numpy(), rtol=1e-6, atol=1e-7
            )
    for state in opt.state.values():  # the optimizer's state lives beside its parameter
        for value in state.values():
            if isinstance(value, chainrule.Tensor) and value.ndim > 0:
                assert value.device == chainrule.device(DEVICE)


@device_test
def test_a_training_step_makes_no_implicit_host_copy():
    """No .item(), float() or bool() on device data inside ops, the engine or the optimizer:
    on a GPU each is a synchronisation that stalls the pipeline."""
    if DEVICE != "fake":
        pytest.skip("counted on the fake device only")
    chainrule.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(4 * 4 * 4, 10),
    ).to(DEVICE)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    images = chainrule.randn(8, 1, 8, 8, device=DEVICE)
    labels = chainrule.randint(0, 10, (8,), device=DEVICE)
    before = FAKE_HOST_SYNCS[0]
    for _ in range(2):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    # One per loss call: the targets are checked against the class count (a clear IndexError;
    # PyTorch fails with a device-side assert), which needs their max on the host.
    assert FAKE_HOST_SYNCS[0] == before + 2
    assert np.isfinite(loss.item())


# ---- device semantics, as PyTorch's ------------------------------------------------------------


def test_factories_and_likes_honour_device():
    where = chainrule.device(DEVICE)
    made = [
        chainrule.tensor([1.0, 2.0], device=DEVICE),
        chainrule.zeros(2, 3, device=DEVICE),
        chainrule.ones(2, device=DEVICE),
        chainrule.full((2,), 3.0, device=DEVICE),
        chainrule.empty(2, device=DEVICE),
        chainrule.arange(4, device=DEVICE),
        chainrule.eye(3, device=DEVICE),
        chainrule.linspace(0, 1, 5, device=DEVICE),
        chainrule.rand(2, device=DEVICE),
        chainrule.randn(2, device=DEVICE),
        chainrule.randint(0, 5, (3,), device=DEVICE),
        chainrule.randperm(4, device=DEVICE),
    ]
    for tensor in made:
        assert tensor.device == where, tensor
    x = made[1]
    for like in (chainrule.zeros_like, chainrule.ones_like, chainrule.rand_like):
        assert like(x).device == where
    assert chainrule.full_like(x, 2.0).device == where
    assert chainrule.zeros_like(x, device="cpu").device == chainrule.device("cpu")


def test_to_and_cpu_move_data_and_gradients_flow_back():
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    moved = x.to(DEVICE)
    assert moved.device == chainrule.device(DEVICE) and moved.grad_fn is not None
    (moved * moved).sum().backward()
    assert x.grad.device == chainrule.device("cpu")
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert moved.cpu().device == chainrule.device("cpu")
    assert x.to(moved).device == moved.device  # to(other): other's device and dtype
    assert x.to(chainrule.device(DEVICE), chainrule.float64).dtype == chainrule.float64


def test_mixing_devices_names_the_op_and_both_devices():
    on_device = chainrule.ones(3, device=DEVICE)
    with pytest.raises(BackendError) as caught:
        on_device + chainrule.ones(3)
    message = str(caught.value)
    assert message.startswith("add: expected all tensors to be on the same device")
    assert str(chainrule.device(DEVICE)) in message and "cpu" in message
    assert isinstance(caught.value, RuntimeError)  # PyTorch raises RuntimeError


def test_a_zero_dim_cpu_tensor_joins_a_device_op_as_pytorch_allows():
    scale = chainrule.tensor(2.0, requires_grad=True)
    x = chainrule.tensor([1.0, 2.0], device=DEVICE, requires_grad=True)
    y = x * scale
    assert y.device == chainrule.device(DEVICE)
    y.sum().backward()
    assert scale.grad.device == chainrule.device("cpu") and scale.grad.item() == 3.0
    assert x.grad.device == chainrule.device(DEVICE)


def test_host_conversions_follow_pytorch():
    x = chainrule.tensor([1.5, 2.5], device=DEVICE)
    with pytest.raises(TypeError, match=f"can't convert {DEVICE}.* to numpy. Use Tensor.cpu()"):
        x.numpy()
    with pytest.raises(TypeError):
        np.asarray(x)
    assert x.cpu().numpy().tolist() == [1.5, 2.5]
    assert x.tolist() == [1.5, 2.5] and x[0].item() == 1.5 and float(x[1]) == 2.5
    assert f"device='{chainrule.device(DEVICE)}'" in repr(x)


def test_modules_move_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).to(DEVICE)
    for tensor in list(model.parameters()) + list(model.buffers()):
        assert tensor.device == chainrule.device(DEVICE)
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())
    back = model.cpu()
    assert all(p.device == chainrule.device("cpu") for p in back.parameters())


def test_save_and_load_with_map_location(tmp_path):
    path = tmp_path / "state.safetensors"
    chainrule.save({"w": chainrule.arange(3.0, device=DEVICE)}, path)
    loaded = chainrule.load(path, map_location=DEVICE)
    assert loaded["w"].device == chainrule.device(DEVICE)
    assert chainrule.load(path)["w"].device == chainrule.device("cpu")


def test_each_device_has_its_own_generator_and_manual_seed_seeds_all():
    chainrule.manual_seed(7)
    first = chainrule.rand(4, device=DEVICE).tolist()
    chainrule.manual_seed(7)
    assert chainrule.rand(4, device=DEVICE).tolist() == first
    cpu_draw = chainrule.rand(4).tolist()
    chainrule.manual_seed(7)
    chainrule.rand(4)  # a CPU draw does not advance the device's stream
    assert chainrule.rand(4, device=DEVICE).tolist() == first
    assert len(cpu_draw) == 4


# ---- the fake device refuses what CuPy refuses ------------------------------------------------


def test_fake_arrays_refuse_numpy_arrays_and_implicit_host_copies():
    a = fake_numpy.arange(3.0)
    assert type(a) is FakeArray and isinstance(a, fake_numpy.ndarray)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.ones(3) * a
    with pytest.raises(TypeError, match="Unsupported type"):
        fake_numpy.where(a > 1, np.ones(3), a)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    assert (a + 1).get().tolist() == [1.0, 2.0, 3.0]  # numbers mix, as with CuPy
    assert type(fake_numpy.asarray(np.ones(2))) is FakeArray  # host -> device is explicit


def test_fake_arrays_behave_as_cupy_where_numpy_differs():
    a = fake_numpy.arange(4.0)
    assert type(a.sum()) is FakeArray and a.sum().ndim == 0  # no NumPy scalars
    assert a.astype(a.dtype, copy=False) is a  # identity kept, as NumPy and CuPy keep it
    with pytest.raises(AttributeError, match="errstate"):
        _ = fake_numpy.errstate
    with pytest.raises(AttributeError):
        _ = fake_numpy.add.at
    with pytest.raises(AttributeError):
        _ = a.flags.writeable
    before = FAKE_HOST_SYNCS[0]
    assert a[1].item() == 1.0 and bool(a[1])
    assert FAKE_HOST_SYNCS[0] == before + 2


def test_fake_backend_implements_the_whole_interface():
    index = fake_numpy.asarray(np.array([0, 2, 0]))
    target = fake_numpy.zeros(3)
    fake_backend.scatter_add(target, index, fake_numpy.ones(3))
    assert target.get().tolist() == [2.0, 0.0, 1.0]
    assert fake_backend.to_numpy(target).tolist() == [2.0, 0.0, 1.0]
    assert type(fake_backend.rng(0).random(2)) is FakeArray
    values = fake_numpy.asarray(np.array([-1.0, 0.0, 1.0]))
    assert type(fake_backend.erf(values)) is FakeArray
    assert type(fake_backend.normal_cdf(values.astype("float32"))) is FakeArray


def test_scatter_multiply_multiplies_repeated_positions_in_turn_on_the_device():
    """CuPy has no multiply.at: the backend's sort-and-rounds form (run on the fake device)
    must give PyTorch's value where several sources land on one position."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, (3, 4))
    index = np.array([[0, 0, 2, 0], [1, 0, 0, 0], [0, 2, 2, 1]])
    src = rng.uniform(0.5, 2.0, (3, 4))
    with warnings.catch_warnings():  # torch: reduce= is deprecated (warned once a process)
        warnings.simplefilter("ignore", UserWarning)
        expected = torch.scatter(
            torch.tensor(x), 0, torch.tensor(index), torch.tensor(src), reduce="multiply"
        )
    mine = chainrule.scatter(
        chainrule.tensor(x, device=DEVICE),
        0,
        chainrule.tensor(index, device=DEVICE),
        chainrule.tensor(src, device=DEVICE),
        reduce="multiply",
    )
    np.testing.assert_allclose(mine.cpu().numpy(), expected.numpy(), rtol=1e-12)


@device_test
def test_chainrule_train_on_the_device_matches_the_cpu_run(tmp_path, capsys, monkeypatch):
    """The main job end to end: `chainrule train --device` and `evaluate --device`. The fake
    device runs the same NumPy math in the same order as the CPU's NumPy path (the compiled
    kernels of backend/jit.py off: they round differently), so its weights are the CPU run's
    bit for bit; a GPU's differ by float rounding."""
    monkeypatch.setattr(jit, "JIT", False)
    common = ["train", "--model", "cnn", "--epochs", "2", "--quiet", "--out", str(tmp_path)]
    assert main([*common, "--name", "cpu"]) == 0
    assert main([*common, "--name", "device", "--device", DEVICE]) == 0
    assert main(["evaluate", str(tmp_path / "device"), "--device", DEVICE]) == 0
    assert f"device {chainrule.device(DEVICE)} (--device)" in capsys.readouterr().out
    on_cpu = chainrule.load(tmp_path / "cpu" / "last.safetensors")["model"]
    on_device = chainrule.load(tmp_path / "device" / "last.safetensors")["model"]
    for name, value in on_cpu.items():
        if DEVICE == "fake":
            assert chainrule.equal(value, on_device[name]), name
        else:
            assert chainrule.allclose(value, on_device[name], rtol=1e-4, atol=1e-5), name
