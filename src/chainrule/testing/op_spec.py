"""OpSpec: how to test one op with check_op (chainrule.testing.op_check)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Domain", "OpSpec"]

Domain = tuple[float, float]


@dataclasses.dataclass
class OpSpec:
    """How to test one op. `fn` takes the tensors (then `kwargs`); `torch_fn` the same in torch.

    shapes: one tuple of input shapes per case, e.g. [((2, 3), (3,)), ((), ())].
    domains: one (low, high) per input; inputs are drawn uniformly inside (default (-2, 2)).
    make_inputs: optional rng -> tuple of arrays, for inputs that need structure (indices, SPD
        matrices); arrays of integer or bool dtype are passed but never differentiated.
    second_order: check second derivatives too (off for ops whose vjp is piecewise constant
        in a way finite differences cannot see, documented per spec).
    forward_mode: check the op's jvp (forward-mode AD) too; turn off only with a reason.
    complex: draw complex inputs (real and imaginary parts each uniform in the domain): True
        for every floating input, or one bool per input (mul of a real and a complex tensor).
        Values and gradients are compared with PyTorch's (its convention: grad = dL/da +
        i dL/db), and finite differences perturb the real and the imaginary parts separately.
    """

    name: str
    fn: Callable[..., object]
    torch_fn: Callable[..., object] | None = None
    shapes: Sequence[tuple] = ((3,),)
    domains: Sequence[Domain] | None = None
    kwargs: dict = dataclasses.field(default_factory=dict)
    make_inputs: Callable[[np.random.Generator], tuple] | None = None
    second_order: bool = True
    forward_mode: bool = True
    finite_differences: bool = True
    noncontiguous: bool = True
    float32: bool = True
    complex: bool | Sequence[bool] = False
    atol: float = 1e-6
    rtol: float = 1e-5
    fd_atol: float = 1e-5
    fd_rtol: float = 1e-3

    def __str__(self) -> str:
        return self.name
