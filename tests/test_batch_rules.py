"""Every batch rule through vmap (issue 17): each op spec's function mapped over a batch of
three examples with chainrule.func.vmap, against torch.vmap of the spec's torch function (or,
where torch.vmap cannot map that function, the torch function called once per example and
stacked, which is what torch.vmap is defined to equal; also where torch.vmap itself departs from
that definition, TORCH_VMAP_DIFFERS_FROM_PER_EXAMPLE). A coverage test fails on an op with a
batch rule that neither these cases nor tests/test_vmap.py reaches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd.observers import Observer, add_observer, remove_observer
from chainrule.func.vmap import BatchedTensor, vmap
from chainrule.testing.op_check import _draw_inputs
from tests import test_vmap
from tests.op_specs import SPECS
from tests.test_spec_coverage import _library_ops, _name

B = 3

_DYNAMIC = "its output shape depends on the values: vmap refuses it, as torch.vmap does"
_RANDOM = "draws random numbers: vmap's default randomness='error' refuses it, as torch's does"

# Specs whose function cannot be mapped example by example, with the reason.
NOT_MAPPABLE = {
    "nonzero": _DYNAMIC,
    "masked_select": _DYNAMIC,
    **{f"getitem_{kind}": _DYNAMIC for kind in ("mask", "mask_squared", "row_mask")},
    **{f"getitem_{kind}": _DYNAMIC for kind in ("mask_then_slice", "comparison_mask")},
    "setitem_mask": _DYNAMIC,
    **{f"repeat_interleave_tensor{s}": _DYNAMIC for s in ("", "_squared", "_flat")},
    "rrelu_training": _RANDOM,
    "lobpcg_eigenvalues": _RANDOM,  # its Gaussian start, as torch.lobpcg's (which vmap refuses)
    "dropout_seeded": _RANDOM,
    **{
        name: "checks var >= 0 in Python, as torch's does: data-dependent control flow, which "
        "torch.vmap refuses too"
        for name in ("gaussian_nll_loss", "gaussian_nll_loss_full")
    },
    **{
        name: "checks var >= 0 in Python (or, for cov, compares the weights), as torch's does: "
        "torch.vmap refuses it too"
        for name in ("gaussian_nll_loss_case2", "gaussian_nll_loss_full_sum", "cov_weights")
    },
    # these specs build their recurrent layer inside the function: its initialisation draws
    **{name: _RANDOM for name in ("gru_packed_bidirectional", "lstm_packed_two_layers")},
    "rnn_packed_relu": _RANDOM,
    **{
        name: _RANDOM
        for name in (
            "lstm_sequence_bidirectional",
            "lstm_sequence_no_bias_batch_first",
            "gru_sequence_two_layers",
            "gru_sequence_bidirectional_no_bias",
        )
    },
    # sparse COO tensors sort, group and scatter by their indices in Python (ops/sparse.py),
    # so they have no batch rules (torch.vmap has no sparse support either)
    **{
        name: "sparse tensors read their indices into Python"
        for name in (
            "sparse.to_dense",
            "sparse.mm",
            "spmm (vector)",
            "mm (dense @ sparse)",
            "sparse.addmm",
            "sparse.sum (dim 1)",
            "sparse.sum (all)",
            "coalesce values",
            "sparse pow",
            "sparse + sparse, scaled",
            "sparse.softmax",
            "sparse.log_softmax (dim 0)",
            "to_sparse and back",
            "sparse with dense values",
            "sparse @ sparse",
            "sparse_csr @ dense",
            "to_sparse_csr and back",
            "mul, sub, div, add: the function forms",
            "mul of two sparse tensors",
            "select, getitem and index_select",
            "cat and stack",
            "sparse_csc @ dense",
            "to_sparse_csc and back",
        )
    },
}

# Where chainrule's vmap and torch.vmap part ways today (found by this file, issue 17; the
# lead's to fix in func/vmap.py and the batch rules). strict: a fix makes the test say so.
_GAP = "vmap gap (issue 17): "
VMAP_GAPS = {
    "embedding_scale_grad_by_freq": _GAP + "scale_grad_by_freq reads batched indices",
}


# Where torch.vmap disagrees with torch called once per example, which is what vmap is defined
# to equal: chainrule's vmap follows the definition, and these specs are checked against it.
TORCH_VMAP_DIFFERS_FROM_PER_EXAMPLE = {
    **{
        name: "torch.vmap returns (B, 1) for a full reduction with keepdim=True; per example "
        "it keeps every dimension, (B, 1, ..., 1)"
        for name in ("argmax_all_keepdim", "argmin_all_keepdim", "aminmax_all_keepdim")
    },
    **{
        name: "torch.vmap reduces everything for dim=(); eager torch per example reduces nothing"
        for name in ("all_empty_tuple", "any_empty_tuple")
    },
    "index_select_0d_index": "torch.vmap selects every example's index in each example (B "
    "entries, not 1) when the 0-d index is batched",
}


class _Batched(Observer):
    """Records each op called with an input batched by vmap: the calls its batch rule runs.
    Registered inside the mapped function, so it is asked before the vmap level."""

    def __init__(self) -> None:
        self.ops: set[type] = set()

    def intercept(self, op: type, inputs: object, params: tuple) -> object:
        if any(type(t) is BatchedTensor for t in inputs):
            self.ops.add(op)
        return NotImplemented


def _flat(outputs: object) -> list:
    return list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]


def _batched_inputs(spec) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    examples = [_draw_inputs(spec, tuple(spec.shapes)[0], rng) for _ in range(B)]
    return [np.stack(column) for column in zip(*examples)]


def _torch_reference(spec, arrays: list[np.ndarray]) -> list:
    inputs = [torch.from_numpy(a.copy()) for a in arrays]

    def call(*example):
        return tuple(_flat(spec.torch_fn(*example, **spec.kwargs)))

    def per_example() -> list:
        calls = [call(*(t[i].clone() for t in inputs)) for i in range(B)]
        return [torch.stack(column) for column in zip(*calls)]

    if str(spec) in TORCH_VMAP_DIFFERS_FROM_PER_EXAMPLE:
        return per_example()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(torch.vmap(call)(*inputs))
    except Exception:  # torch.vmap cannot map it: the per-example definition instead
        return per_example()


def _run_spec(spec, recorder: _Batched | None = None) -> tuple[list, list]:
    arrays = _batched_inputs(spec)

    def mapped(*example):
        if recorder is not None:
            add_observer(recorder)
        try:
            return tuple(_flat(spec.fn(*example, **spec.kwargs)))
        finally:
            if recorder is not None:
                remove_observer(recorder)

    inputs = [chainrule.from_numpy(a.copy()) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = list(vmap(mapped)(*inputs))
    if spec.torch_fn is not None:
        theirs = [t.resolve_conj().numpy() for t in _torch_reference(spec, arrays)]
    else:  # no torch twin: the same function per example, unmapped
        per_example = [
            _flat(spec.fn(*(chainrule.from_numpy(np.array(a[i])) for a in arrays), **spec.kwargs))
            for i in range(B)
        ]
        theirs = [
            np.stack([o.resolve_conj().numpy() for o in column]) for column in zip(*per_example)
        ]
    return [o.detach().numpy() for o in ours], theirs


# Batch rules no vmap call reaches yet, with the reason: open work, listed so that a new rule
# without a test still fails the coverage test below.
_BACKWARD_ONLY = (
    "called only by a derivative; under vmap a per-example gradient runs the logical graph's "
    "recomputation, not this op's rule (reached by nothing today)"
)
UNREACHED = {
    "chainrule.ops.embedding.TakeAdjoint": _BACKWARD_ONLY,
    "chainrule.ops.indexing.IndexAddIntoZeros": _BACKWARD_ONLY,
    "chainrule.ops.indexing.UnfoldBackward": _BACKWARD_ONLY,
    "chainrule.ops.pooling.TileSpread": _BACKWARD_ONLY,  # tiled average pooling's derivative
    "chainrule.ops.reduction.PutAlongAxis": _BACKWARD_ONLY,
    "chainrule.ops.losses.TargetMask": _BACKWARD_ONLY,  # cross entropy's derivative; checked:
    # vmap(grad(cross_entropy)) matches torch.func without reaching it
    **{
        name: "random draws, whose numbers no reference matches: vmap(randomness='different' "
        "| 'same') reaches it in tests/test_vmap_randomness.py, which checks the semantics"
        for name in (
            "chainrule.ops.creation.Multinomial",
            "chainrule.ops.special.StandardGamma",
            "chainrule.ops.special.StandardGammaGrad",
        )
    },
    "chainrule.ops.shape.Reshape": (
        "reshape of a batched tensor always takes the View path (the physical array is "
        "contiguous per example), so the copying Reshape's rule is not reached"
    ),
}

MAPPED = [spec for spec in SPECS if str(spec) not in NOT_MAPPABLE]
CASES = [
    pytest.param(spec, marks=pytest.mark.xfail(strict=True, reason=VMAP_GAPS[str(spec)]))
    if str(spec) in VMAP_GAPS
    else spec
    for spec in MAPPED
]


@pytest.mark.parametrize("spec", CASES, ids=str)
def test_spec_under_vmap_matches_torch(spec):
    ours, theirs = _run_spec(spec)
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs):
        assert mine.shape == expected.shape, (mine.shape, expected.shape)
        np.testing.assert_allclose(mine, expected, spec.rtol, spec.atol, equal_nan=True)


def _recorded(function, recorder: _Batched):
    """`function(lib, nnf, *args)` with chainrule's batched op calls recorded."""

    def recorded(lib, nnf, *args):
        if lib is not chainrule:
            return function(lib, nnf, *args)
        add_observer(recorder)
        try:
            return function(lib, nnf, *args)
        finally:
            remove_observer(recorder)

    return recorded


def _cases_through_test_vmap(recorder: _Batched) -> None:
    for _, function, specs, in_dims in test_vmap.CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test_vmap._run_both(_recorded(function, recorder), specs, in_dims)


def _reached_by_nonzero(recorder: _Batched) -> None:
    """Nonzero's rule is a refusal; the call that reaches it raises."""
    with pytest.raises(RuntimeError, match="dynamic shape"):
        vmap(_recorded(lambda lib, nnf, x: lib.nonzero(x), recorder), in_dims=(None, None, 0))(
            chainrule, None, chainrule.zeros(2, 3)
        )


def test_every_batch_rule_is_reached():
    recorder = _Batched()
    for spec in MAPPED:
        if str(spec) not in VMAP_GAPS:
            _run_spec(spec, recorder)
    _cases_through_test_vmap(recorder)
    for _, function, specs, in_dims in EXTRA:
        test_vmap._run_both(_recorded(function, recorder), specs, in_dims)
    _reached_by_nonzero(recorder)
    with_rule = {op for op in _library_ops() if op.batch is not None}
    missing = sorted(_name(op) for op in with_rule - recorder.ops if _name(op) not in UNREACHED)
    assert not missing, f"batch rules that no vmap test reaches: {missing}"


def _per_sample_grad(function):
    """The function's gradient per example, each library's own grad inside its own vmap."""

    def mapped(lib, nnf, *args):
        grad = chainrule.func.grad if lib is chainrule else torch.func.grad
        return grad(lambda first, *rest: function(lib, nnf, first, *rest))(*args)

    return mapped


def _write_through_a_view(x):
    b = x * x
    stale = b[1:]
    b[0:2].mul_(x[2])
    return (stale * b[:2]).sum()


# Batch rules that no spec's forward reaches: masks, a reshape that copies, and the ops that
# only derivatives call (reached through per-example gradients).
EXTRA = [
    (
        "comparison_masks",
        lambda lib, nnf, x, y: ((x >= y) & ~(x <= 0)) | (x != y) & lib.isfinite(x),
        [test_vmap.F, ("f", (4,))],
        (0, None),
    ),
    (
        "logical_and_or",
        lambda lib, nnf, x, y: lib.logical_or(lib.logical_and(x > 0, y > 0), x < -1),
        [test_vmap.F, ("f", (4,))],
        (0, None),
    ),
    ("reshape_copy", lambda lib, nnf, x: x.transpose(0, 1).reshape(12), [test_vmap.F], 0),
    (
        "embedding_grad",
        _per_sample_grad(lambda lib, nnf, w, i: (nnf.embedding(i, w) ** 2).sum()),
        [("f", (test_vmap.B, 5, 3)), ("i", (4,), 5)],
        (0, None),
    ),
    (
        "getitem_grad",
        _per_sample_grad(lambda lib, nnf, x, i: (x[i] ** 2).sum()),
        [test_vmap.F, ("i", (5,), 3)],
        (0, None),
    ),
    (
        "unfold_grad",  # overlapping windows added back, per example
        _per_sample_grad(lambda lib, nnf, x: (x.unfold(1, 2, 1) ** 2).sum()),
        [test_vmap.F],
        0,
    ),
    (
        "take_along_dim_grad",
        _per_sample_grad(lambda lib, nnf, x, i: (lib.take_along_dim(x, i, 1) ** 2).sum()),
        [test_vmap.F, ("i", (3, 2), 4)],
        (0, None),
    ),
    (
        "write_into_a_view_grad",  # CopySlices for the base, ViewRegion for the stale view
        _per_sample_grad(lambda lib, nnf, x: _write_through_a_view(x)),
        [test_vmap.F],
        0,
    ),
    (
        "ldl_factor",  # symmetric, diagonally dominant examples: no pivoting ties
        lambda lib, nnf, a: lib.linalg.ldl_factor(a + a.mT + 8 * lib.eye(4, dtype=a.dtype)).LD,
        [("f", (test_vmap.B, 4, 4))],
        0,
    ),
]


@pytest.mark.parametrize("name, function, specs, in_dims", EXTRA, ids=[case[0] for case in EXTRA])
def test_extra_batch_rules_match_torch_vmap(name, function, specs, in_dims):
    ours, theirs = test_vmap._run_both(function, specs, in_dims)
    test_vmap._compare(ours, theirs)


def test_nonzero_is_refused_under_vmap_as_in_torch():
    x = np.array([[0.0, 1.0], [2.0, 0.0]])
    with pytest.raises(RuntimeError, match="dynamic shape"):
        torch.vmap(torch.nonzero)(torch.from_numpy(x))
    with pytest.raises(RuntimeError, match="dynamic shape"):
        vmap(chainrule.nonzero)(chainrule.from_numpy(x))


def test_sum_to_size_under_vmap_matches_torch():
    """SumTo's batch rule (issue 17: no test reached it): the example's own leading and
    size-1 dimensions are summed, never the batch."""
    ours, theirs = test_vmap._run_both(
        lambda lib, nnf, x: x.sum_to_size(3, 1) * 2 + x.sum_to_size(4), [test_vmap.F], 0
    )
    test_vmap._compare(ours, theirs)


def test_sum_to_size_of_a_shared_operand_under_vmap():
    """An unbatched operand broadcast inside vmap: its per-example gradient sums to its shape."""
    ours, theirs = test_vmap._run_both(
        _per_sample_grad(lambda lib, nnf, y, x: (x * y).sum()),
        [("f", (test_vmap.B, 1, 4)), ("f", (3, 4))],
        (0, None),
    )
    test_vmap._compare(ours, theirs)
