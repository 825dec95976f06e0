"""Every op is tested from a spec (STYLE rule 11; issue 17): each Op class of chainrule is
called, forward or in a derivative, by some OpSpec in tests/op_specs, or is exempt here with
its reason. A new op without a spec fails this test by name."""

from __future__ import annotations

import sys
import warnings

import numpy as np

import chainrule
import chainrule.func.vmap  # noqa: F401  (its Op subclasses are part of the library)
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.ops.op import NoDerivative, Op
from chainrule.testing.op_check import _chainrule_inputs, _draw_inputs
from tests.op_specs import SPECS

# Op classes that no spec can reach, each with the reason and where it is tested instead.
EXEMPT = {
    "chainrule.autograd.function._DelayedError": (
        "not an op of the library: the placeholder a custom Function's once_differentiable "
        "backward leaves in the graph (tests/test_function.py raises through it)"
    ),
    "chainrule.func.vmap._Batched": (
        "not an op of the library: the base of the logical ops vmap makes per batched op, "
        "tested by tests/test_vmap.py's per-example gradients"
    ),
    "chainrule.func.vmap._FunctionBridge": (
        "not an op of the library: the physical node of a custom autograd.Function called "
        "inside vmap, whose vjp is the Function's own backward per example "
        "(tests/test_vmap_functions.py differentiates through it against torch.func.vmap)"
    ),
    "chainrule.ops.recurrent.RecurrentSequenceBackward": (
        "RecurrentSequence's backward on raw arrays, run only without create_graph (the "
        "coverage walk differentiates twice): its gradients are compared with torch's LSTM and "
        "GRU in tests/test_recurrent.py, and with finite differences by the specs' checks"
    ),
    "chainrule.ops.activation.FusedActivationBackward": (
        "an activation's backward on raw arrays, run only without create_graph (the coverage "
        "walk differentiates twice): its gradients are the specs' first-order checks against "
        "torch and finite differences, and torch's bit for bit in half precision in "
        "tests/test_float16.py"
    ),
    "chainrule.ops.linalg_extra.LobpcgGeneralized": (
        "the identity whose backward raises (torch.lobpcg has no derivative for B != I): the "
        "generalized eigenpairs and that ValueError are compared with torch in "
        "tests/test_decompositions.py"
    ),
    "chainrule.ops.op.ToDevice": (
        "a copy between devices; a spec runs on one device (tests/test_devices.py moves "
        "tensors and their gradients between cpu and the fake device)"
    ),
    "chainrule.ops.special.StandardGamma": (
        "random draws (torch._standard_gamma): compared in distribution, with the "
        "reparameterized gradient, in tests/test_distributions.py"
    ),
    "chainrule.ops.special.StandardGammaGrad": (
        "the derivative of StandardGamma's draw, tested with it in tests/test_distributions.py"
    ),
    "chainrule.ops.creation.Multinomial": (
        "random draws of category indices (not differentiable): their frequencies in "
        "tests/test_creation.py, per example under vmap in tests/test_vmap_randomness.py"
    ),
    "chainrule.ops.dropout.DropoutMask": (
        "dropout's random mask as an op, used only while chainrule.compile captures (so a "
        "replay draws fresh numbers): compiled and eager dropout agree in tests/test_compile.py"
    ),
}


def _library_ops() -> set[type]:
    """Every Op subclass that chainrule defines (walked with an explicit stack), but those
    recorded without a derivative (NoDerivative: heaviside, floor_divide, unique, ldl_factor),
    whose backward raises, so that no spec can check one: test_torch_gaps.py checks that they
    are recorded and raise as PyTorch's, and their values are compared where they are tested."""
    found: set[type] = set()
    stack = [Op]
    while stack:
        for subclass in stack.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                stack.append(subclass)
    return {
        op
        for op in found
        if op.__module__.startswith("chainrule.")
        and _declared(op)
        and not issubclass(op, NoDerivative)
    }


def _declared(op: type) -> bool:
    """Whether `op` is a class its module defines by name: not one made at run time (vmap
    wraps each op it batches in a logical op of its own)."""
    return getattr(sys.modules[op.__module__], op.__qualname__, None) is op


def _name(op: type) -> str:
    return f"{op.__module__}.{op.__qualname__}"


class _Calls(Observer):
    """Records the class of every op called while it is registered."""

    def __init__(self) -> None:
        self.ops: set[type] = set()

    def forward_begin(self, op: type, inputs: object) -> None:
        self.ops.add(op)


def _ops_reached_by_specs() -> set[type]:
    """The ops each spec's function calls, forward and in its first and second derivatives
    (the vjp's own ops, as check_op's second-order check runs them)."""
    calls = _Calls()
    for spec in SPECS:
        arrays = _draw_inputs(spec, tuple(spec.shapes)[0], np.random.default_rng(0))
        inputs = _chainrule_inputs(arrays)
        add_observer(calls)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outputs = spec.fn(*inputs, **spec.kwargs)
                flat = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
                roots = [o.sum() for o in flat if getattr(o, "requires_grad", False)]
                wanted = [t for t in inputs if t.requires_grad]
                if roots and wanted:
                    seeds = [chainrule.ones_like(root) for root in roots]  # complex roots too
                    chainrule.autograd.grad(
                        roots, wanted, seeds, create_graph=True, allow_unused=True
                    )
        finally:
            remove_observer(calls)
    return calls.ops


def test_every_op_has_a_spec():
    reached = _ops_reached_by_specs()
    missing = sorted(_name(op) for op in _library_ops() - reached if _name(op) not in EXEMPT)
    assert not missing, f"ops that no spec in tests/op_specs reaches: {missing}"


def test_exemptions_name_real_ops_that_no_spec_reaches():
    """An exemption is dropped once its op is gone or a spec reaches it."""
    ops = {_name(op): op for op in _library_ops()}
    assert set(EXEMPT) <= set(ops), set(EXEMPT) - set(ops)
    reached = {_name(op) for op in _ops_reached_by_specs()}
    assert not set(EXEMPT) & reached, set(EXEMPT) & reached
