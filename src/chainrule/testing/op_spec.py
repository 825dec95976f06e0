"""OpSpec: how to test one op with check_op (chainrule.testing.op_check)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Domain", "OpSpec"]

# One input's (low, high) drawing range: a type alias, documented here.
Domain = tuple[float, float]


@dataclasses.dataclass
class OpSpec:
    """How to test one op with `check_op`: against PyTorch and against finite differences,
    to second order, in float64 and float32, on contiguous and transposed inputs.

    Args:
        name (str): the test id.
        fn (callable): the chainrule function; takes the input tensors, then `kwargs`.
        torch_fn (callable, optional): the same in torch, the reference for values and
            gradients (None: finite differences only).
        shapes (sequence of tuples): one tuple of input shapes per case, e.g.
            [((2, 3), (3,)), ((), ())].
        domains (sequence of (low, high), optional): one per input; inputs are drawn
            uniformly inside (default (-2, 2)).
        kwargs (dict): keyword arguments passed to both functions.
        make_inputs (callable, optional): rng -> tuple of arrays, for inputs that need
            structure (indices, SPD matrices); arrays of integer or bool dtype are passed
            but never differentiated.
        second_order (bool): check second derivatives too (off for ops whose vjp is
            piecewise constant in a way finite differences cannot see, documented per spec).
        forward_mode (bool): check the op's jvp (forward-mode AD) too; turn off only with a
            reason.
        nested_forward (bool): compare forward over forward and forward over reverse with
            reverse over reverse. Off only at a kink where they differ by convention: a masked
            division gives reverse over reverse PyTorch's nan (0 * inf), where the forward
            passes, which never multiply by the mask's zero, stay finite.
        finite_differences (bool): check against central finite differences.
        noncontiguous (bool): repeat the checks on transposed (non-contiguous) inputs.
        float32 (bool): repeat the value check in float32 (dtype included).
        complex (bool or sequence of bools): draw complex inputs (real and imaginary parts
            each uniform in the domain): True for every floating input, or one bool per
            input. Values and gradients are compared with PyTorch's (grad = dL/da +
            i dL/db), and finite differences perturb the real and imaginary parts apart.
        atol (float): absolute tolerance against the reference.
        rtol (float): relative tolerance against the reference.
        fd_atol (float): absolute tolerance against finite differences.
        fd_rtol (float): relative tolerance against finite differences.
        torch_grad_fn (bool): check that each output's grad_fn has the name of torch's (what
            printing a tensor shows). False only where matching is not reasonable: the torch
            function is a reference formula, not the op PyTorch users call, or PyTorch's
            name is an artifact of its implementation (an in-place write, CopySlices).

    Example:
        >>> import chainrule
        >>> from chainrule.testing import OpSpec, check_op
        >>> spec = OpSpec("sin", chainrule.sin, shapes=[((3,),), ((2, 2),)])
        >>> check_op(spec)  # raises AssertionError naming the check that fails
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
    nested_forward: bool = True
    finite_differences: bool = True
    noncontiguous: bool = True
    float32: bool = True
    complex: bool | Sequence[bool] = False
    atol: float = 1e-6
    rtol: float = 1e-5
    fd_atol: float = 1e-5
    fd_rtol: float = 1e-3
    torch_grad_fn: bool = True

    def __str__(self) -> str:
        return self.name
