"""chainrule.load reads files torch.save wrote (zip and legacy formats), without running code:
a restricted unpickler builds tensors, parameters and containers and refuses anything else."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule
from chainrule.errors import FileFormatError


def _torch_checkpoint() -> dict:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    base = torch.arange(24.0).reshape(4, 6)
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 3,
        "name": "run",
        "views": [base[1:3, ::2], base.t(), base[0]],  # strided and offset views of one storage
        "dtypes": {
            str(dtype): torch.tensor([1, 0, 2]).to(dtype)
            for dtype in (
                torch.float64,
                torch.float16,
                torch.int32,
                torch.int8,
                torch.uint8,
                torch.bool,
            )
        },
        "parameter": torch.nn.Parameter(torch.ones(2)),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "size": torch.Size([2, 3]),
    }


def _assert_matches(mine, theirs, where="checkpoint"):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(mine, chainrule.Tensor), where
        assert mine.dtype.name == str(theirs.dtype).replace("torch.", ""), where
        assert tuple(mine.shape) == tuple(theirs.shape), where
        np.testing.assert_array_equal(
            mine.numpy(force=True), theirs.detach().numpy(), err_msg=where
        )
    elif isinstance(theirs, dict):
        assert type(mine) is type(theirs) and list(mine) == list(theirs), where
        for key in theirs:
            _assert_matches(mine[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(mine) == len(theirs), where
        for index, (a, b) in enumerate(zip(mine, theirs)):
            _assert_matches(a, b, f"{where}[{index}]")
    else:
        assert mine == theirs, where


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_torch_save_files_load_as_they_were_saved(tmp_path, zipped):
    checkpoint = _torch_checkpoint()
    path = tmp_path / "checkpoint.pt"
    torch.save(checkpoint, path, _use_new_zipfile_serialization=zipped)
    loaded = chainrule.load(path)
    _assert_matches(loaded, checkpoint)
    assert isinstance(loaded["parameter"], chainrule.nn.Parameter)
    assert isinstance(loaded["model"], OrderedDict)


def test_a_torch_state_dict_loads_into_the_same_chainrule_model(tmp_path):
    torch.manual_seed(1)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten())
    path = tmp_path / "model.pt"
    torch.save(theirs.state_dict(), path)
    mine = chainrule.nn.Sequential(
        chainrule.nn.Conv2d(1, 2, 3), chainrule.nn.ReLU(), chainrule.nn.Flatten()
    )
    mine.load_state_dict(chainrule.load(path, map_location="cpu"))
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(
        mine(chainrule.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_bfloat16_loads_as_bfloat16_bit_for_bit(tmp_path, zip_format):
    values = torch.tensor([1.5, -2.0, 3.140625, 1e30, float("inf")], dtype=torch.bfloat16)
    strided = torch.arange(12.0, dtype=torch.bfloat16).reshape(3, 4).t()
    path = tmp_path / "bf16.pt"
    torch.save({"w": values, "t": strided}, path, _use_new_zipfile_serialization=zip_format)
    loaded = chainrule.load(path)
    for key, expected in (("w", values), ("t", strided)):
        assert loaded[key].dtype is chainrule.bfloat16
        assert tuple(loaded[key].shape) == tuple(expected.shape)
        bits = loaded[key].numpy().view(np.uint16)
        np.testing.assert_array_equal(
            bits, expected.contiguous().view(torch.int16).numpy().view(np.uint16)
        )


def test_map_location_moves_every_tensor(tmp_path):
    torch.save({"a": [torch.ones(2)], "b": torch.zeros(1)}, tmp_path / "t.pt")
    loaded = chainrule.load(tmp_path / "t.pt", map_location="fake")
    assert loaded["a"][0].device == chainrule.device("fake")
    assert loaded["b"].device == chainrule.device("fake")


class _Payload:
    """A pickle that would run a command when unpickled."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_malicious_pickle_is_refused_before_anything_runs(tmp_path, monkeypatch):
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(1)}, path)
    with zipfile.ZipFile(path) as archive:  # the same archive, its pickle replaced
        entries = {name: archive.read(name) for name in archive.namelist()}
    root = next(name for name in entries if name.endswith("data.pkl"))
    entries[root] = pickle.dumps({"w": _Payload()}, protocol=2)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    ran = []
    monkeypatch.setattr(os, "system", lambda command: ran.append(command))
    with pytest.raises(FileFormatError, match=r"refusing to load (posix|os)\.system"):
        chainrule.load(path)
    assert ran == []


def test_truncated_and_foreign_files_raise_file_format_errors(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"w": torch.arange(100.0)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 50])
    with pytest.raises(FileFormatError, match="truncated"):
        chainrule.load(path)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(FileFormatError, match="no data.pkl"):
        chainrule.load(tmp_path / "other.zip")
