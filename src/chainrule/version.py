"""`chainrule.version`: what programs read from `torch.version` to describe their
environment. chainrule reaches a GPU through CuPy, not a CUDA build of its own, so `cuda` is
None as in PyTorch's CPU builds (ask `chainrule.cuda.is_available()` instead).

>>> import chainrule.version
>>> chainrule.version.cuda is None
True
"""

import re

__all__ = ["MIRRORED_TORCH", "TorchVersion", "__version__", "cuda", "debug", "git_version", "hip"]

__version__ = "0.1.0"  # chainrule's own, as chainrule.__version__
# The PyTorch release whose semantics chainrule follows (its tests compare against it): what a
# ported program sees as `torch.__version__` under chainrule.as_torch, with chainrule's own
# version as the local label, so that `if torch.__version__ >= "2.0":` takes the branch that
# matches how chainrule behaves.
MIRRORED_TORCH = "2.13.0"
cuda: str | None = None
hip: str | None = None
debug = False
git_version = "unknown"


class TorchVersion(str):
    """A version string that compares as a version, with strings and tuples, as PyTorch's
    `torch.__version__` does: `v >= "1.10"`, `v >= (2, 0)` (trailing zeros do not count; a
    local label such as "+cpu" ranks after the plain release).

    Example:
        >>> from chainrule.version import TorchVersion
        >>> v = TorchVersion("2.13.0+chainrule.0.1.0")
        >>> v >= "1.10", v >= (2, 0), v < (2, 13), v == "2.13.0"
        (True, True, False, False)
    """

    __hash__ = str.__hash__

    @staticmethod
    def _key(value: object) -> tuple:
        text = ".".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
        public, _, local = text.partition("+")
        release = [
            int(m.group()) if (m := re.match(r"\d+", part)) else 0 for part in public.split(".")
        ]
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        return tuple(release), local

    def __eq__(self, other: object) -> bool:
        return self._key(self) == self._key(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: object) -> bool:
        return self._key(self) < self._key(other)

    def __le__(self, other: object) -> bool:
        return self._key(self) <= self._key(other)

    def __gt__(self, other: object) -> bool:
        return self._key(self) > self._key(other)

    def __ge__(self, other: object) -> bool:
        return self._key(self) >= self._key(other)
