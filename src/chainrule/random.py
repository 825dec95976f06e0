"""`chainrule.random`: PyTorch's `torch.random`: the default generator's seed and state, and
`fork_rng`, which runs a block on a copy of the random state and restores it afterwards (so
sampling inside does not change what the program draws next).

>>> import chainrule
>>> import chainrule.random
>>> _ = chainrule.random.manual_seed(0)
>>> with chainrule.random.fork_rng():
...     inside = chainrule.rand(1)
>>> bool(chainrule.rand(1) == inside)
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from chainrule.ops.creation import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(
    devices: Iterable[object] = (),
    enabled: bool = True,
    device_type: str = "cuda",
) -> Iterator[None]:
    """Run a block with the random state forked: whatever it draws, the default generator's
    state is restored when the block ends (the CPU generator's; `chainrule.cuda`'s too,
    through the same state, where there is one).

    Args:
        devices (iterable): PyTorch's device indices to fork; chainrule forks them all.
        enabled (bool): fork (False: run the block as it is).
        device_type (str): PyTorch's accelerator kind; chainrule's is CUDA.

    Example:
        >>> import chainrule
        >>> import chainrule.random
        >>> _ = chainrule.manual_seed(1)
        >>> with chainrule.random.fork_rng():
        ...     _ = chainrule.randn(3)
        >>> first = chainrule.rand(1)
        >>> _ = chainrule.manual_seed(1)
        >>> bool(chainrule.rand(1) == first)
        True
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
