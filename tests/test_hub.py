"""chainrule.hub: PyTorch's checkpoint cache, specified against torch.hub with file:// URLs
(no network): the same directory, the same object loaded, hash checks, and local hubconf
repositories."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

import chainrule
import chainrule.hub as hub


@pytest.fixture(autouse=True)
def own_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    hub._hub_dir[0] = None  # no set_dir from an earlier test (or doctest) in this process
    yield
    hub._hub_dir[0] = None


def _torch_checkpoint(folder, name="tiny.pth"):
    """A state dict written by PyTorch's own torch.save, and its file:// URL."""
    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.tensor([0.5, -1.0])}
    path = folder / name
    torch.save(state, path)
    return state, path


def test_the_cache_directory_is_torchs(tmp_path, monkeypatch):
    assert hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "torch-home" / "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    hub.set_dir(tmp_path / "chosen")
    assert hub.get_dir() == str(tmp_path / "chosen")


def test_a_checkpoint_is_downloaded_once_into_the_cache_and_loaded_as_torch(tmp_path):
    state, path = _torch_checkpoint(tmp_path)
    loaded = hub.load_state_dict_from_url(path.as_uri(), progress=False)
    cached = tmp_path / "torch-home" / "hub" / "checkpoints" / "tiny.pth"
    assert cached.is_file() and cached.read_bytes() == path.read_bytes()
    theirs = torch.hub.load_state_dict_from_url(path.as_uri(), progress=False)
    assert list(loaded) == list(theirs) == list(state)
    for key in state:
        np.testing.assert_array_equal(loaded[key].numpy(), theirs[key].numpy())
    path.unlink()  # the cache answers now: no download
    again = hub.load_state_dict_from_url(path.as_uri(), progress=False)
    np.testing.assert_array_equal(again["weight"].numpy(), state["weight"].numpy())
    model = chainrule.nn.Linear(3, 2)
    model.load_state_dict(again)


def test_pre_1_0_model_files_load_weights_through_utils_model_zoo(tmp_path):
    """`model_zoo.load_url(model_urls[...])`, as ResNet files of PyTorch 0.4 write it: the
    hub's loader under its old name, filling the same cache."""
    import torch.utils.model_zoo

    from chainrule.utils import model_zoo

    state, path = _torch_checkpoint(tmp_path, "resnet-tiny.pth")
    assert model_zoo.load_url is hub.load_state_dict_from_url
    assert torch.utils.model_zoo.load_url is torch.hub.load_state_dict_from_url
    loaded = model_zoo.load_url(path.as_uri(), progress=False)
    np.testing.assert_array_equal(loaded["bias"].numpy(), state["bias"].numpy())
    assert (tmp_path / "torch-home" / "hub" / "checkpoints" / "resnet-tiny.pth").is_file()


def test_a_download_whose_hash_differs_from_its_name_leaves_nothing_behind(tmp_path):
    _, path = _torch_checkpoint(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    good = tmp_path / f"tiny-{digest[:8]}.pth"
    good.write_bytes(path.read_bytes())
    cache = tmp_path / "cache"
    loaded = hub.load_state_dict_from_url(
        good.as_uri(), model_dir=str(cache), check_hash=True, progress=False
    )
    assert set(loaded) == {"weight", "bias"}
    bad = tmp_path / "tiny-00000000.pth"
    bad.write_bytes(path.read_bytes())
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.load_state_dict_from_url(bad.as_uri(), model_dir=str(cache), check_hash=True)
    assert sorted(p.name for p in cache.iterdir()) == [good.name]  # no partial file


def test_a_local_hubconf_repository_lists_documents_and_builds_its_entry_points(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "helpers.py").write_text("def twice(x):\n    return 2 * x\n")
    (repo / "hubconf.py").write_text(
        "import os\n"
        "from helpers import twice\n"
        "dependencies = []\n\n"
        "def scaled(scale=1):\n"
        '    """Twice the scale."""\n'
        "    return twice(scale)\n"
    )
    assert hub.list(str(repo), source="local") == ["scaled", "twice"]
    assert hub.help(str(repo), "scaled", source="local") == "Twice the scale."
    assert hub.load(str(repo), "scaled", scale=3, source="local", trust_repo=True) == 6
    with pytest.raises(RuntimeError, match="fetches no code"):
        hub.load("owner/repo", "scaled")
