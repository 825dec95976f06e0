"""torch.distributed.algorithms.ddp_comm_hooks: communication hooks for DistributedDataParallel
(`default_hooks`: all-reduce, float16 and bfloat16 compression; `powerSGD_hook`: low-rank
compression; `debugging_hooks`: none at all) and `DDPCommHookType` to register them by name.
PyTorch's batched PowerSGD and quantization hooks are not here yet."""

from __future__ import annotations

import enum
from typing import Any

from chainrule.distributed.algorithms.ddp_comm_hooks import debugging_hooks as debugging
from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks as default
from chainrule.distributed.algorithms.ddp_comm_hooks import powerSGD_hook as powerSGD

__all__ = ["DDPCommHookType", "register_ddp_comm_hook"]


class _Registration:
    """`DDPCommHookType.X.value(model=..., state=...)`: registers X's hook on `model`."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def __call__(self, model: Any, state: Any = None) -> None:
        model.register_comm_hook(state, self.hook)

    def __repr__(self) -> str:
        return f"register({self.hook.__name__})"


class _PowerSGDRegistration(_Registration):
    """`.value(model=..., state=group)`: PowerSGD over `group` at the given rank, compressing
    from iteration 1000 (PyTorch's wrapper)."""

    def __init__(self, rank: int) -> None:
        super().__init__(powerSGD.powerSGD_hook)
        self.rank = rank

    def __call__(self, model: Any, state: Any = None) -> None:
        settings = powerSGD.PowerSGDState(
            process_group=state, matrix_approximation_rank=self.rank, start_powerSGD_iter=1_000
        )
        model.register_comm_hook(settings, self.hook)


class DDPCommHookType(enum.Enum):
    """The hooks of ddp_comm_hooks by name; `.value(model=ddp, state=group)` registers one."""

    ALLREDUCE = _Registration(default.allreduce_hook)
    FP16_COMPRESS = _Registration(default.fp16_compress_hook)
    BF16_COMPRESS = _Registration(default.bf16_compress_hook)
    POWER_SGD = _PowerSGDRegistration(1)
    POWER_SGD_RANK2 = _PowerSGDRegistration(2)
    NOOP = _Registration(debugging.noop_hook)


def register_ddp_comm_hook(comm_hook_type: DDPCommHookType, model: Any, state: Any = None) -> None:
    """Register the hook `comm_hook_type` names on the DistributedDataParallel `model`, with
    `state` (a process group, or None for the default one)."""
    comm_hook_type.value(model=model, state=state)
