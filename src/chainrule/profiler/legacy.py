"""torch.autograd.profiler: PyTorch's older profiler API, which many scripts still use:

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

It is `chainrule.profiler.profile` under the older constructor (`enabled`, `use_cuda`, ...);
the keywords that ask for what chainrule does not record (devices, FLOPs, stacks) are accepted
and record nothing more.

>>> import chainrule
>>> from chainrule.profiler.legacy import profile, record_function
>>> x = chainrule.ones(2, requires_grad=True)
>>> with profile(use_cuda=False) as prof:
...     with record_function("double"):
...         y = (x * 2).sum()
>>> [row.key for row in prof.key_averages()]
['double', 'mul', 'sum']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from chainrule.profiler.recorder import profile as _profile
from chainrule.profiler.recorder import record_function

__all__ = ["emit_nvtx", "profile", "record_function"]


class profile(_profile):  # noqa: N801 - PyTorch's name
    """The profiler under torch.autograd.profiler.profile's arguments.

    Args:
        enabled (bool): record; False makes the block run unprofiled (an empty table).
        use_cuda (bool), use_device (str, optional), with_flops (bool), with_stack (bool),
            with_modules (bool), use_kineto (bool), use_cpu (bool): accepted; chainrule
            records CPU op times only.
        record_shapes (bool): keep each call's input shapes.
        profile_memory (bool): the bytes each op's outputs allocated.

    Example:
        >>> from chainrule.profiler.legacy import profile
        >>> with profile(enabled=False) as prof:
        ...     pass
        >>> len(prof.key_averages())
        0
    """

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device: str | None = None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        **ignored: Any,
    ) -> None:
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory)
        self.enabled = enabled

    def __enter__(self) -> profile:
        if self.enabled:
            super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            super().__exit__(*exc)


@contextlib.contextmanager
def emit_nvtx(enabled: bool = True, record_shapes: bool = False) -> Iterator[None]:
    """NVIDIA's NVTX ranges around each op, for nvprof: there is no NVTX here; the block runs
    as it is.

    Args:
        enabled (bool): PyTorch's switch.
        record_shapes (bool): PyTorch's: shapes in the range names.

    Example:
        >>> from chainrule.profiler.legacy import emit_nvtx
        >>> with emit_nvtx():
        ...     pass
    """
    yield
