"""chainrule.serialization: safetensors checkpoints, PyTorch interchange, safety, atomicity."""

import collections
import io
import math
import os
import pickle
import re
import typing

import numpy as np
import pytest
import safetensors.torch
import torch

import chainrule
from chainrule import optim, serialization
from chainrule.errors import DTypeError
from chainrule.serialization import FileFormatError, load, save


def assert_same(a, b):
    """Equal structure, types, dtypes and values."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, chainrule.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def checkpoint():
    weight = chainrule.arange(12, dtype=chainrule.float32).reshape(3, 4)
    return {
        "model": {
            "layer.weight": weight.T,  # non-contiguous
            "layer.bias": chainrule.tensor([0.5, -1.0, 2.0], dtype=chainrule.float64),
            "steps": chainrule.tensor(7),
            "mask": chainrule.tensor([True, False]),
            "scalar": chainrule.tensor(3.5),
            "half": chainrule.tensor([1.0, 2.0], dtype=chainrule.float16),
            "bytes": chainrule.tensor([1, 255], dtype=chainrule.uint8),
        },
        "optimizer": {
            "state": {0: {"step": chainrule.tensor(3.0), "exp_avg": chainrule.zeros(2)}},
            "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "amsgrad": False, "params": [0]}],
        },
        "epoch": 3,
        "best": float("inf"),
        "nan": float("nan"),
        "name": "run-1",
        "note": None,
        "history": [1.5, 2, [3, "x"]],
    }


def test_round_trip_keeps_structure_types_and_values(tmp_path):
    obj = checkpoint()
    save(obj, tmp_path / "ckpt.safetensors")
    loaded = load(tmp_path / "ckpt.safetensors")
    assert_same(loaded, obj)
    assert list(loaded["optimizer"]["state"]) == [0]  # int keys stay ints
    loaded["model"]["scalar"] += 1  # loaded tensors own writable memory


def test_file_objects_and_load_options(tmp_path):
    buffer = io.BytesIO()
    save({"w": chainrule.ones(2, 2)}, buffer)
    buffer.seek(0)
    loaded = load(buffer, map_location="cpu", weights_only=False)
    assert_same(loaded, {"w": chainrule.ones(2, 2)})
    save(chainrule.arange(3), tmp_path / "t")
    assert load(tmp_path / "t", map_location=chainrule.device("cpu")).tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="map_location"):
        load(tmp_path / "t", map_location=3)


@pytest.mark.parametrize(
    "options",
    [
        {"_use_new_zipfile_serialization": False},  # older code, for PyTorch < 1.6 readers
        {"pickle_protocol": 4},
        {"pickle_module": pickle, "pickle_protocol": 2, "_disable_byteorder_record": True},
    ],
    ids=str,
)
def test_torch_saves_pickle_and_container_options_are_accepted(options, tmp_path):
    """torch.save(obj, f, _use_new_zipfile_serialization=False) and the pickle options run
    (PyTorch writes its older container; chainrule writes its one format) and load back."""
    save({"w": chainrule.arange(3.0), "epoch": 2}, tmp_path / "ckpt.pt", **options)
    assert_same(load(tmp_path / "ckpt.pt"), {"w": chainrule.arange(3.0), "epoch": 2})
    torch.save({"w": torch.arange(3.0)}, tmp_path / "theirs.pt", **options)  # PyTorch's too


@pytest.mark.parametrize(
    "map_location",
    [
        lambda storage, loc: storage,  # older code's keep-it-on-the-CPU idiom
        lambda storage, loc: None,  # None: where it is
        {"cuda:0": "cpu"},
        {"cpu": "cpu"},
    ],
    ids=["callable", "callable returning None", "dict", "dict, identity"],
)
@pytest.mark.parametrize("writer", ["chainrule", "torch"])
def test_map_location_takes_pytorchs_dicts_and_callables(map_location, writer, tmp_path):
    """A dict maps a tensor's location to another; a callable gets each tensor (standing for
    its storage) with its location and returns it where it goes, or None: as torch.load,
    for chainrule's files and PyTorch's alike."""
    path = tmp_path / "ckpt.pt"
    if writer == "torch":
        torch.save({"w": torch.arange(3.0), "step": 4}, path)
    else:
        save({"w": chainrule.arange(3.0), "step": 4}, path)
    locations = []

    def spy(storage, loc):
        locations.append(loc)
        return map_location(storage, loc)

    loaded = load(path, map_location=spy if callable(map_location) else map_location)
    theirs = torch.load(path, map_location=map_location) if writer == "torch" else None
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0] and loaded["step"] == 4
    assert str(loaded["w"].device) == "cpu"
    if theirs is not None:
        assert theirs["w"].tolist() == loaded["w"].tolist() and theirs["step"] == 4
    if callable(map_location):
        assert locations == ["cpu"]


def test_a_map_location_callable_returning_something_else_is_refused(tmp_path):
    save(chainrule.ones(2), tmp_path / "t")
    with pytest.raises(TypeError, match="must return a tensor"):
        load(tmp_path / "t", map_location=lambda storage, loc: "cpu")


def _saved_twice(lib, save_with, load_with):
    """One tensor and one parameter each saved under two names, and a tensor saved once:
    which of them load back as the same object, and whether a write shows through."""
    weight = lib.nn.Parameter(lib.ones(2))
    tensor = lib.arange(3.0)
    buffer = io.BytesIO()
    save_with({"a": tensor, "b": tensor, "w": [weight, weight], "c": tensor + 0}, buffer)
    buffer.seek(0)
    loaded = load_with(buffer)
    loaded["a"][0] = 9.0
    return (
        loaded["a"] is loaded["b"],
        loaded["w"][0] is loaded["w"][1],
        type(loaded["w"][1]).__name__,
        loaded["b"].tolist(),
        loaded["c"].tolist(),
    )


def test_a_tensor_saved_twice_loads_as_one_object_as_from_torch_save():
    ours = _saved_twice(chainrule, save, load)
    assert ours == _saved_twice(torch, torch.save, torch.load)
    assert ours[:2] == (True, True)


def test_dict_keys_that_pickle_keeps_load_back_as_from_torch_save(tmp_path):
    """torch.save pickles, so a dict keyed by tuples, floats, bools or None loads back with
    those keys; so does chainrule's, in an OrderedDict too."""
    value = {
        (0, "q"): chainrule.ones(2),
        (1, (2, 3)): 4,
        0.5: "half",
        True: [1],
        None: "none",
        "name": collections.OrderedDict([((1, 2), chainrule.zeros(1))]),
    }
    save(value, tmp_path / "keys.pt")
    loaded = load(tmp_path / "keys.pt")
    assert list(loaded) == list(value)
    assert loaded[(0, "q")].tolist() == [1.0, 1.0] and loaded[(1, (2, 3))] == 4
    assert loaded[0.5] == "half" and loaded[True] == [1] and loaded[None] == "none"
    assert isinstance(loaded["name"], collections.OrderedDict)
    assert list(loaded["name"]) == [(1, 2)]
    torch.save({(0, "q"): torch.ones(2), 0.5: "half"}, tmp_path / "theirs.pt")
    assert list(torch.load(tmp_path / "theirs.pt")) == [(0, "q"), 0.5]


def test_a_whole_model_with_a_parametrization_is_refused_as_by_torch_save(tmp_path):
    """PyTorch's parametrized classes refuse pickling (state_dict() is the way): torch.save of
    such a model raises its RuntimeError, and so does chainrule's, before writing anything."""
    message = "Serialization of parametrized modules is only supported through state_dict()"
    for lib in (chainrule, torch):
        model = lib.nn.Sequential(lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(2, 2)))
        with pytest.raises(RuntimeError, match=re.escape(message)):
            lib.save(model, tmp_path / f"{lib.__name__}.pt")
    assert not (tmp_path / "chainrule.pt").exists()


def test_unsupported_values_and_key_clashes_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object at a.b"):
        save({"a": {"b": object()}}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys must be plain values"):
        save({chainrule.ones(1): 3}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys must be plain values"):
        save({(1, object()): 3}, tmp_path / "x")
    with pytest.raises(ValueError, match="both stored under the name 'a.b'"):
        save({"a.b": chainrule.zeros(1), "a": {"b": chainrule.zeros(1)}}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def _tied_model(lib):
    """A model with a tied weight, a buffer, a plain attribute, a function attribute and a
    submodule used twice: what `torch.save(model, f)` must bring back as it was."""
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10, 4)
            self.head = nn.Linear(4, 10, bias=False)
            self.head.weight = self.embedding.weight
            self.norm = nn.LayerNorm(4)
            self.blocks = nn.ModuleList([self.norm, nn.Dropout(0.1), self.norm])
            self.activation = lib.nn.functional.gelu
            self.scale = 0.5
            self.register_buffer("steps", lib.zeros(1))

        def forward(self, x):
            h = self.activation(self.embedding(x) * self.scale)
            for block in self.blocks:
                h = block(h)
            return self.head(h)

    Model.__qualname__ = Model.__name__ = f"Saved{lib.__name__.capitalize()}Model"
    Model.__module__ = __name__
    globals()[Model.__name__] = Model  # importable by name, as a script's own class is
    lib.manual_seed(0)
    return Model()


@pytest.mark.parametrize("library", ["chainrule", "torch"])
def test_a_whole_model_saves_and_loads_with_weights_only_false(tmp_path, library):
    lib = chainrule if library == "chainrule" else torch
    model = _tied_model(lib)
    path = tmp_path / "model.pt"
    lib.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        lib.load(path)
    loaded = lib.load(path, weights_only=False)
    assert type(loaded) is type(model)
    assert loaded.head.weight is loaded.embedding.weight  # still tied
    assert loaded.blocks[0] is loaded.blocks[2] is loaded.norm
    assert loaded.activation is lib.nn.functional.gelu and loaded.scale == 0.5
    assert list(loaded.state_dict()) == list(model.state_dict())
    tokens = lib.tensor([[1, 2, 3]])
    model.eval()
    loaded.eval()
    assert lib.equal(loaded(tokens), model(tokens))
    loaded.train()
    loaded(tokens).sum().backward()
    assert loaded.embedding.weight.grad is not None
    assert str(loaded) == str(model)


@pytest.mark.parametrize("library", ["chainrule", "torch"])
def test_a_models_builtin_function_attributes_and_hooks_load_back_by_name(tmp_path, library):
    """pickle stores a module-level builtin (math.sqrt as an attribute, print as a forward
    hook) by name, so torch.save(model) keeps it; so does chainrule's."""
    lib = chainrule if library == "chainrule" else torch
    model = lib.nn.Linear(2, 2)
    model.transform = math.sqrt
    model.register_forward_hook(print)
    lib.save(model, tmp_path / "model.pt")
    loaded = lib.load(tmp_path / "model.pt", weights_only=False)
    assert loaded.transform is math.sqrt
    assert list(loaded._forward_hooks.values()) == [print]


def test_an_allowlisted_model_class_loads_with_weights_only(tmp_path):
    model = _tied_model(chainrule)
    chainrule.save(model, tmp_path / "m")
    with pytest.raises(pickle.UnpicklingError):
        chainrule.load(tmp_path / "m")
    allowed = [
        type(model),
        chainrule.nn.Embedding,
        chainrule.nn.Linear,
        chainrule.nn.LayerNorm,
        chainrule.nn.ModuleList,
        chainrule.nn.Dropout,
        chainrule.nn.functional.gelu,
    ]
    with chainrule.serialization.safe_globals(allowed):
        loaded = chainrule.load(tmp_path / "m")
    assert loaded.head.weight is loaded.embedding.weight


def test_objects_that_cannot_be_found_by_name_are_refused_before_writing(tmp_path):
    model = chainrule.nn.Linear(2, 3)
    model.hook = lambda: None
    with pytest.raises(TypeError, match="local class or function"):
        chainrule.save(model, tmp_path / "m")
    with pytest.raises(TypeError, match=r"cannot store a SGD object at optimizer.*state_dict"):
        chainrule.save(
            {"optimizer": chainrule.optim.SGD(model.parameters(), lr=0.1)}, tmp_path / "m"
        )
    assert not (tmp_path / "m").exists()


# ---- PyTorch interchange -------------------------------------------------------------------


def test_pytorch_reads_a_flat_state_dict(tmp_path):
    state = {
        "fc.weight": chainrule.randn(4, 3),
        "fc.bias": chainrule.zeros(4),
        "count": chainrule.tensor([1, 2], dtype=chainrule.int32),
    }
    target = tmp_path / "interop.safetensors"
    save(state, target)
    theirs = safetensors.torch.load_file(target)
    assert set(theirs) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(theirs[key].numpy(), value.numpy())
        assert str(theirs[key].dtype) == f"torch.{value.dtype.name}"


def test_chainrule_reads_pytorch_safetensors(tmp_path):
    state = {
        "w": torch.randn(2, 3),
        "b": torch.arange(3, dtype=torch.int64),
        "m": torch.tensor([True, False]),
        "d": torch.tensor(2.5, dtype=torch.float64),
    }
    safetensors.torch.save_file(state, tmp_path / "torch.safetensors")
    ours = load(tmp_path / "torch.safetensors")
    assert set(ours) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(ours[key].numpy(), value.numpy())
        assert ours[key].dtype.name == str(value.dtype).removeprefix("torch.")


def test_pytorch_only_dtypes_fail_clearly(tmp_path):
    w = torch.zeros(2, dtype=torch.float8_e4m3fn)
    safetensors.torch.save_file({"w": w}, tmp_path / "f8")
    with pytest.raises(DTypeError, match="f8: tensor 'w' has dtype F8_E4M3"):
        load(tmp_path / "f8")


def test_complex128_tensors_and_parameters_round_trip_as_through_torch_save(tmp_path):
    """torch.save stores complex128 (a quantum state, a spectrum in float64); safetensors has
    no C128 entry, so chainrule stores float64 (real, imaginary) pairs and loads complex128."""
    state = [[1 + 2j, -0.5j], [3.25, 1e-300 - 1e300j]]
    for lib in (torch, chainrule):
        spectrum = lib.tensor(state, dtype=lib.complex128)
        saved = {
            "spectrum": spectrum.T,  # non-contiguous
            "scalar": lib.tensor(2 - 1j, dtype=lib.complex128),
            "weight": lib.nn.Parameter(spectrum[0].clone()),
            "small": spectrum.to(lib.complex64),
        }
        lib.save(saved, tmp_path / lib.__name__)
        loaded = lib.load(tmp_path / lib.__name__)
        assert [str(v.dtype).split(".")[1] for v in loaded.values()] == [
            "complex128",
            "complex128",
            "complex128",
            "complex64",
        ]
        assert loaded["spectrum"].tolist() == spectrum.T.tolist()
        assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2 - 1j
        assert isinstance(loaded["weight"], lib.nn.Parameter) and loaded["weight"].requires_grad
        assert loaded["weight"].tolist() == state[0]


def test_bfloat16_safetensors_load_and_save_as_bf16(tmp_path):
    # most published weights are BF16 safetensors: they load as bfloat16, bit for bit
    values = torch.tensor([[1.5, -2.0], [3.140625, 1e30]], dtype=torch.bfloat16)
    safetensors.torch.save_file({"w": values}, tmp_path / "torch.safetensors")
    loaded = load(tmp_path / "torch.safetensors")["w"]
    assert loaded.dtype is chainrule.bfloat16
    np.testing.assert_array_equal(loaded.float().numpy(), values.float().numpy())
    # and chainrule writes BF16 entries, which PyTorch reads as torch.bfloat16
    save({"w": loaded}, tmp_path / "ours.safetensors")
    theirs = safetensors.torch.load_file(tmp_path / "ours.safetensors")["w"]
    assert theirs.dtype == torch.bfloat16
    assert torch.equal(theirs, values)
    assert load(tmp_path / "ours.safetensors")["w"].dtype is chainrule.bfloat16


# ---- damaged files -----------------------------------------------------------------------------


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save({"w": chainrule.ones(64), "epoch": 1}, path)
    return path


def test_truncated_files_raise_naming_the_file(good_file, tmp_path):
    raw = good_file.read_bytes()
    for size in (0, 5, 8, 40, len(raw) - 1):
        cut = tmp_path / f"cut{size}.safetensors"
        cut.write_bytes(raw[:size])
        with pytest.raises(FileFormatError, match=f"cut{size}.safetensors"):
            load(cut)


def test_files_that_are_not_safetensors_raise(tmp_path):
    cases = {
        "text.txt": b"hello, this is certainly not a checkpoint at all",
        "json-header": (12).to_bytes(8, "little") + b"not json!!!!",
        "list-header": (2).to_bytes(8, "little") + b"[]",
        "bad-entry": (13).to_bytes(8, "little") + b'{"w": "oops"}',
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FileFormatError, match=name):
            load(tmp_path / name)


def test_corrupted_structure_metadata_raises(tmp_path):
    import safetensors.numpy

    payload = safetensors.numpy.save(
        {"w": np.zeros(2, np.float32)}, metadata={"chainrule": '{"tensor": "missing"}'}
    )
    (tmp_path / "meta").write_bytes(payload)
    with pytest.raises(FileFormatError, match="meta: corrupted chainrule structure"):
        load(tmp_path / "meta")


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_load_never_unpickles(tmp_path):
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"x": Boom()}))
    with pytest.raises(FileFormatError, match="evil.pt"):
        load(tmp_path / "evil.pt", weights_only=False)
    torch.save({"w": torch.zeros(2)}, tmp_path / "torch.pt")  # read by a restricted unpickler
    assert chainrule.equal(load(tmp_path / "torch.pt")["w"], chainrule.zeros(2))


# ---- atomic writes -----------------------------------------------------------------------------


def test_failure_mid_write_keeps_the_old_file(good_file, monkeypatch):
    original = good_file.read_bytes()

    def write_half_then_fail(handle, payload):
        handle.write(payload[: len(payload) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_payload", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"w": chainrule.zeros(1000)}, good_file)
    assert good_file.read_bytes() == original
    assert sorted(os.listdir(good_file.parent)) == ["good.safetensors"]  # no temp file left
    assert_same(load(good_file), {"w": chainrule.ones(64), "epoch": 1})


def test_failure_at_fsync_or_rename_keeps_the_old_file(good_file, monkeypatch):
    original = good_file.read_bytes()
    for name in ("fsync", "replace"):
        with monkeypatch.context() as patch:

            def fail(*args, message=f"{name} failed", **kwargs):
                raise OSError(message)

            patch.setattr(os, name, fail)
            with pytest.raises(OSError, match=f"{name} failed"):
                save({"w": chainrule.zeros(3)}, good_file)
        assert good_file.read_bytes() == original
        assert os.listdir(good_file.parent) == ["good.safetensors"]


def test_new_file_gets_default_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    save({"w": chainrule.zeros(1)}, tmp_path / "new")
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o666 & ~umask


# ---- a training checkpoint ---------------------------------------------------------------------


def test_optimizer_checkpoint_resumes_identically(tmp_path):
    def train(params, opt, steps):
        for step in range(steps):
            opt.zero_grad()
            loss = sum(((p - step) ** 2).sum() for p in params)
            loss.backward()
            opt.step()

    params = [chainrule.randn(3, 2, requires_grad=True), chainrule.randn(2, requires_grad=True)]
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4, 4])
    train(params, opt, 3)
    sched.step()
    save(
        {
            "model": {f"p{i}": p for i, p in enumerate(params)},
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "epoch": 3,
        },
        tmp_path / "ckpt.safetensors",
    )
    ckpt = load(tmp_path / "ckpt.safetensors")
    restored = [ckpt["model"][f"p{i}"].requires_grad_(True) for i in range(2)]
    opt2 = optim.Adam(restored, lr=0.1, amsgrad=True)
    opt2.load_state_dict(ckpt["optimizer"])
    sched2 = optim.lr_scheduler.MultiStepLR(opt2, milestones=[1])
    sched2.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 3 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for _ in range(3):
        train(params, opt, 1)
        train(restored, opt2, 1)
        sched.step()
        sched2.step()
    for p, q in zip(params, restored):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert sched.get_last_lr() == sched2.get_last_lr()
    assert sched2.milestones == {2: 1, 4: 2}
    with pytest.warns(UserWarning):
        sched2.step(5)  # the closed form needs the milestones back as a Counter


def _round_trip_reprs(lib, make):
    """What a script sees after saving `make(lib)` and loading it back: types and reprs."""
    buffer = io.BytesIO()
    lib.save(make(lib), buffer)
    buffer.seek(0)
    loaded = lib.load(buffer, weights_only=True)
    values = loaded.values() if isinstance(loaded, dict) else [loaded]
    shown = repr(loaded).replace("chainrule.", "torch.")  # chainrule's names outside as_torch
    return type(loaded).__name__, shown, [type(v).__name__ for v in values]


def _linear(lib, *sizes, bias=True):
    layer = lib.nn.Linear(*sizes, bias=bias)
    with lib.no_grad():
        for p in layer.parameters():
            p.fill_(0.5)
    return layer


def _leaf(lib):
    """A plain tensor being optimised (not a Parameter): it comes back requiring grad."""
    return lib.tensor([0.5, -1.0], requires_grad=True)


def _hybrid_sparse(lib):
    """A sparse tensor with a dense dimension, its values requiring grad (dropped by save)."""
    values = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    return lib.sparse_coo_tensor([[2, 0]], values, (3, 2))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: _linear(lib, 2, 1).state_dict(),
        lambda lib: {"model": _linear(lib, 1, 1, bias=False).state_dict(), "epoch": 3},
        lambda lib: lib.zeros(2, 3).shape,
        lambda lib: {"dtype": lib.bfloat16, "device": lib.device("cpu"), "shape": lib.Size([])},
        lambda lib: {"classes": {1, 2}, "z": 1 + 2j, "raw": b"\x00ab"},
        lambda lib: lib.nn.Parameter(lib.ones(2), requires_grad=False),
        lambda lib: [lib.nn.Parameter(lib.ones(1))],
        lambda lib: {"leaf": _leaf(lib), "result": _leaf(lib) * 2, "detached": _leaf(lib).detach()},
    ],
    ids=[
        "state_dict",
        "nested",
        "size",
        "dtype-device",
        "set-complex-bytes",
        "parameter",
        "list",
        "requires-grad",
    ],
)
def test_values_come_back_from_a_checkpoint_as_from_pytorchs(make):
    """A loaded state_dict is an OrderedDict (and prints as one), a Size a Size, a Parameter
    a Parameter; dtypes, devices, sets, complex numbers and bytes round-trip as in PyTorch."""
    assert _round_trip_reprs(chainrule, make) == _round_trip_reprs(torch, make)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_a_sparse_tensor_comes_back_sparse_as_from_pytorchs():
    """torch.save keeps a sparse COO tensor's indices, values, size and coalesced flag (a
    Laplacian or an adjacency matrix in a checkpoint); the values' requires_grad is dropped."""

    def make(lib):
        return {
            "uncoalesced": lib.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0], (2, 2)),
            "coalesced": lib.eye(2).to_sparse(),
            "hybrid": _hybrid_sparse(lib),
        }

    def seen(lib):
        buffer = io.BytesIO()
        lib.save(make(lib), buffer)
        buffer.seek(0)
        loaded = lib.load(buffer)
        flags = [(str(v.layout), v.is_coalesced(), v.requires_grad) for v in loaded.values()]
        indices = [v._indices().tolist() for v in loaded.values()]
        return indices, flags, [v.to_dense().tolist() for v in loaded.values()]

    ours, theirs = seen(chainrule), seen(torch)
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    assert [(layout.split(".")[1], *rest) for layout, *rest in ours[1]] == [
        (layout.split(".")[1], *rest) for layout, *rest in theirs[1]
    ]


def test_numpy_values_and_parsed_arguments_come_back_as_from_pytorchs(tmp_path):
    """What research scripts put beside a state_dict: NumPy arrays and scalars (an accuracy from
    scikit-learn is a np.float64) and the argparse Namespace; PyTorch pickles them (and reads
    them back with weights_only=False), chainrule stores them without pickling."""
    import argparse

    def make():
        return {
            "args": argparse.Namespace(lr=0.1, layers=[2, 3], name="run"),
            "best": np.float64(0.93),
            "step": np.int64(7),
            "flag": np.bool_(True),
            "stats": np.arange(6, dtype=np.float32).reshape(2, 3)[:, ::2],  # not contiguous
            "counts": np.array([1, 2], dtype=np.int16),
        }

    loaded = {}
    for lib in (chainrule, torch):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(make(), path)
        loaded[lib.__name__] = lib.load(path, weights_only=False)
    ours, theirs = loaded["chainrule"], loaded["torch"]
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert type(ours[key]) is type(theirs[key]), key
        assert repr(ours[key]) == repr(theirs[key]), key
    with pytest.raises(TypeError, match="cannot store the <U1 NumPy array"):
        chainrule.save({"labels": np.array(["a", "b"])}, tmp_path / "strings.pt")


class Batch(typing.NamedTuple):
    inputs: object
    step: int = 0


Pair = collections.namedtuple("Pair", "left right")


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_a_namedtuple_loads_as_itself_where_pytorchs_unpickler_would_build_it(lib):
    """torch.save pickles a namedtuple by its class: weights_only=False builds that class again;
    weights_only=True refuses it (UnpicklingError naming it) unless add_safe_globals allowed
    it. Inside a namedtuple, tensors and nesting round-trip as anywhere else."""

    def round_trip(value, **options):
        buffer = io.BytesIO()
        lib.save(value, buffer)
        buffer.seek(0)
        return lib.load(buffer, **options)

    value = {"batch": Batch(lib.ones(2), 3), "pair": Pair([1, 2], Batch(lib.zeros(1)))}
    loaded = round_trip(value, weights_only=False)
    assert type(loaded["batch"]) is Batch and type(loaded["pair"].right) is Batch
    assert loaded["batch"].inputs.tolist() == [1.0, 1.0] and loaded["batch"].step == 3
    assert loaded["pair"] == Pair([1, 2], Batch(loaded["pair"].right.inputs, 0))
    with pytest.raises(pickle.UnpicklingError, match=f"{__name__}.Batch"):
        round_trip(value, weights_only=True)
    with lib.serialization.safe_globals([Batch, Pair]):
        again = round_trip(value, weights_only=True)
    assert type(again["pair"]) is Pair and type(again["pair"].right) is Batch

    maximum = lib.max(lib.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=0)  # torch.return_types.max
    restored = round_trip(maximum, weights_only=False)
    assert type(restored) is type(maximum) and restored.indices.tolist() == [1, 0]


def test_jit_save_and_load_round_trip_a_scripted_model_and_its_extra_files(tmp_path):
    model = chainrule.jit.script(_tied_model(chainrule))
    path = tmp_path / "scripted.pt"
    chainrule.jit.save(model, path, _extra_files={"config.json": '{"layers": 2}'})
    extra = {"config.json": ""}
    loaded = chainrule.jit.load(path, map_location="cpu", _extra_files=extra)
    assert extra == {"config.json": '{"layers": 2}'}
    assert loaded.head.weight is loaded.embedding.weight
    model.eval()
    loaded.eval()
    tokens = chainrule.tensor([[4, 5]])
    assert chainrule.equal(loaded(tokens), model(tokens))
