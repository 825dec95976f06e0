"""`torch.hub`'s weight cache: `load_state_dict_from_url` and `download_url_to_file`.

Model files written for PyTorch import these at their top (`from torch.hub import
load_state_dict_from_url`) even when they never ask for pretrained weights, so they must exist.
A checkpoint is looked up in PyTorch's cache directory (`$TORCH_HOME/hub/checkpoints`, by
default `~/.cache/torch/hub/checkpoints`), so weights PyTorch downloaded before are found
without a network; otherwise it is downloaded there (atomically: a temporary file, checked
against the hash in its name with `check_hash`, then renamed). Either way it is read by
`chainrule.load`, which builds tensors from a `torch.save` file without running any of its code.

`hub.load`, `hub.list` and `hub.help` run a repository's `hubconf.py`: from a local directory
(`source="local"`) as PyTorch does; chainrule never fetches code from GitHub.

>>> import chainrule.hub
>>> chainrule.hub.get_dir().endswith("hub")
True
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainrule.serialization import load as _load

try:  # the progress bar is optional (the demo extra installs tqdm)
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm is installed with chainrule[demo]
    _tqdm = None

__all__ = [
    "download_url_to_file",
    "get_dir",
    "help",
    "list",
    "load",
    "load_state_dict_from_url",
    "set_dir",
]

# The hash prefix PyTorch's checkpoint names carry: resnet18-f37072fd.pth -> "f37072fd".
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_CHUNK = 1 << 20
_hub_dir: list[str | None] = [None]


def get_dir() -> str:
    """The hub's cache directory: the one `set_dir` gave, else `$TORCH_HOME/hub`, with
    TORCH_HOME defaulting to `$XDG_CACHE_HOME/torch` or `~/.cache/torch` (PyTorch's).

    Example:
        >>> import chainrule.hub
        >>> chainrule.hub.get_dir().endswith("hub")
        True
    """
    if _hub_dir[0] is not None:
        return _hub_dir[0]
    cache = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    torch_home = os.path.expanduser(os.environ.get("TORCH_HOME", os.path.join(cache, "torch")))
    return os.path.join(torch_home, "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use `d` as the hub's cache directory from now on.

    Args:
        d (str or path): the directory.

    Example:
        >>> import chainrule.hub
        >>> chainrule.hub.set_dir("/tmp/hub")
        >>> chainrule.hub.get_dir()
        '/tmp/hub'
    """
    _hub_dir[0] = os.path.expanduser(os.fspath(d))


def download_url_to_file(
    url: str, dst: str | os.PathLike, hash_prefix: str | None = None, progress: bool = True
) -> None:
    """Download `url` to `dst`, atomically: into a temporary file beside it, checked against
    `hash_prefix` (the start of its SHA-256 hex digest) if given, then renamed, so `dst` is
    never a partial file.

    Args:
        url (str): what to download (http, https, or file).
        dst (str or path): where to put it.
        hash_prefix (str, optional): the SHA-256 digest should start with this.
        progress (bool): show a tqdm progress bar on stderr (default: True).

    Example:
        >>> import pathlib, tempfile, chainrule.hub
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("weights")
        >>> chainrule.hub.download_url_to_file((folder / "a.txt").as_uri(), folder / "b.txt",
        ...                                    progress=False)
        >>> (folder / "b.txt").read_text()
        'weights'
    """
    destination = Path(os.path.expanduser(os.fspath(dst))).resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(prefix=destination.name + ".", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url) as response:  # noqa: S310
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            bar = _progress_bar(progress, int(total) if total else None)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar(len(chunk))
            bar(None)
            out.flush()
            os.fsync(out.fileno())
        found = digest.hexdigest()
        if hash_prefix is not None and found[: len(hash_prefix)] != hash_prefix:
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{found}")')
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _progress_bar(shown: bool, total: int | None) -> Callable[[int | None], None]:
    """update(n bytes), update(None) to close: a tqdm bar, or nothing."""
    if not shown or _tqdm is None:
        return lambda _: None
    bar = _tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)

    def update(count: int | None) -> None:
        if count is None:
            bar.close()
        else:
            bar.update(count)

    return update


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location: Any = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,  # noqa: ARG001 - loading is always weights-only here
) -> Any:
    """The object saved at `url`, from the cache (`model_dir`, by default
    `get_dir()/checkpoints`) if a file of its name is there, else downloaded into it first.

    Args:
        url (str): the checkpoint's address.
        model_dir (str, optional): the cache directory.
        map_location (str, device or callable, optional): where to put the tensors.
        progress (bool): show the download's progress (default: True).
        check_hash (bool): check a download against the hash prefix in its file name (as
            `name-<sha256 prefix>.ext`).
        file_name (str, optional): the cached file's name (default: the URL's last part).
        weights_only (bool): PyTorch's switch; chainrule always loads weights only.

    Returns:
        What `chainrule.load` returns for the file (a state dict of tensors, usually).

    Example:
        >>> import pathlib, tempfile, chainrule, chainrule.hub
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> chainrule.save({"w": chainrule.ones(2)}, folder / "tiny.pt")
        >>> chainrule.hub.load_state_dict_from_url(
        ...     (folder / "tiny.pt").as_uri(), model_dir=str(folder / "cache"), progress=False)
        {'w': tensor([1., 1.])}
    """
    directory = model_dir if model_dir is not None else os.path.join(get_dir(), "checkpoints")
    os.makedirs(directory, exist_ok=True)
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(directory, name)
    if not os.path.exists(cached):
        sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        match = HASH_REGEX.search(name) if check_hash else None
        download_url_to_file(url, cached, match.group(1) if match else None, progress)
    return _load(cached, map_location=map_location)


def _hubconf(repo_or_dir: str, source: str) -> Any:
    """The `hubconf.py` module of a local repository (`source="local"`)."""
    if source != "local":
        raise RuntimeError(
            f"chainrule.hub fetches no code from {source!r}: clone {repo_or_dir!r} and pass "
            'its directory with source="local"'
        )
    path = os.path.join(os.path.expanduser(repo_or_dir), "hubconf.py")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Cannot find hubconf.py in {repo_or_dir}")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))  # hubconf imports its repository's modules
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(path))
    return module


def list(repo_or_dir: str, source: str = "github", **kwargs: Any) -> Any:  # noqa: A001, ARG001
    """The entry points of a local repository's hubconf.py.

    Args:
        repo_or_dir (str): the repository's directory.
        source (str): "local" (chainrule fetches nothing from "github").
        kwargs: PyTorch's other options (force_reload, skip_validation, trust_repo, verbose).

    Example:
        >>> import chainrule.hub
        >>> try:
        ...     chainrule.hub.list("owner/repo")
        ... except RuntimeError as error:
        ...     print(str(error)[:34])
        chainrule.hub fetches no code from
    """
    module = _hubconf(repo_or_dir, source)
    return [
        name
        for name in dir(module)
        if callable(getattr(module, name)) and not name.startswith("_")
        and not isinstance(getattr(module, name), type(os))
    ]  # fmt: skip


def help(repo_or_dir: str, model: str, source: str = "github", **kwargs: Any) -> str:  # noqa: A001, ARG001
    """The docstring of entry point `model` of a local repository's hubconf.py.

    Args:
        repo_or_dir (str): the repository's directory.
        model (str): the entry point.
        source (str): "local".
        kwargs: PyTorch's other options.

    Example:
        >>> import chainrule.hub
        >>> callable(chainrule.hub.help)
        True
    """
    return getattr(_hubconf(repo_or_dir, source), model).__doc__


def load(repo_or_dir: str, model: str, *args: Any, source: str = "github", **kwargs: Any) -> Any:
    """Call entry point `model` of a local repository's hubconf.py with `args` and `kwargs`
    (PyTorch's options trust_repo, force_reload, verbose, skip_validation are dropped).

    Args:
        repo_or_dir (str): the repository's directory.
        model (str): the entry point.
        args: its positional arguments.
        source (str): "local".
        kwargs: its keyword arguments.

    Example:
        >>> import chainrule.hub
        >>> callable(chainrule.hub.load)
        True
    """
    for option in ("trust_repo", "force_reload", "verbose", "skip_validation"):
        kwargs.pop(option, None)
    return getattr(_hubconf(repo_or_dir, source), model)(*args, **kwargs)
