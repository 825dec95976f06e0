"""`.grad` takes backward's gradient without a copy only when nothing else can see it.

PyTorch steals a gradient buffer nobody else references; chainrule does the same by counting
references. These tests pin down both sides: the copy is skipped in the common case, and a
gradient that is shared (two leaves, a user's seed, a retained non-leaf) is never aliased.
"""

import numpy as np
import pytest

import chainrule
from chainrule.autograd.engine import apply_node


def test_a_fresh_gradient_is_kept_without_a_copy():
    seen = []
    original = apply_node

    weight = chainrule.randn(3, 4, requires_grad=True)
    x = chainrule.randn(5, 3)

    def remember(node, grads, buffers, retain_graph):
        input_grads = original(node, grads, buffers, retain_graph)
        seen.extend(g.data_ptr() for g in input_grads if g is not None)  # no references kept
        return input_grads

    import chainrule.autograd.engine as engine

    engine.apply_node = remember
    try:
        (x @ weight).sum().backward()
    finally:
        engine.apply_node = original
    assert weight.grad.data_ptr() in seen


def test_two_leaves_given_the_same_gradient_get_separate_memory():
    a = chainrule.ones(3, requires_grad=True)
    b = chainrule.ones(3, requires_grad=True)
    (a * 1 + b * 1).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_a_users_seed_is_never_aliased():
    seed = chainrule.ones(3)
    x = chainrule.zeros(3, requires_grad=True)
    x.clone().backward(seed)
    x.grad.add_(5.0)
    assert seed.tolist() == [1.0, 1.0, 1.0]


def test_a_retained_gradient_and_a_leaf_gradient_are_separate():
    p = chainrule.ones(3, requires_grad=True)
    q = p * 2
    q.retain_grad()
    (q * 1).sum().backward()
    assert not np.shares_memory(p.grad.numpy(), q.grad.numpy())


def test_accumulation_across_backwards_still_adds():
    w = chainrule.ones(2, requires_grad=True)
    for _ in range(3):
        (w * 2).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


# ---- PyTorch's gradient layout contract ----------------------------------------------------


def _leaves(library):
    """Leaves of three layouts (contiguous, transposed, with gaps), each given a gradient whose
    layout is another: a product's transposed result, a plain result, a transposed one."""
    rng = np.random.default_rng(0)
    plain = library.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    other = library.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    transposed = library.tensor(rng.standard_normal((5, 4))).t().requires_grad_()
    gappy = library.tensor(rng.standard_normal((4, 6)))[:, ::2].detach().requires_grad_()
    loss = library.einsum("ij,jk->ik", plain, other).sum()
    loss = loss + (transposed * 2).sum() + (gappy.t() * 3).sum()
    return loss, (plain, other, transposed, gappy)


def _layouts(tensors):
    return [(t.grad.stride(), t.grad.is_contiguous()) for t in tensors]


def test_grad_has_the_leafs_strides_or_is_contiguous_as_torch():
    """A dense leaf's `.grad` has the leaf's strides; any other leaf's is contiguous
    (PyTorch's AccumulateGrad), whatever layout the last vjp produced: so `p.grad.view(-1)`
    works on a contiguous parameter, as LBFGS and gradient-flattening code expect."""
    import torch

    results = {}
    for library in (chainrule, torch):
        loss, leaves = _leaves(library)
        loss.backward()
        results[library.__name__] = _layouts(leaves)
        assert leaves[0].grad.view(-1).shape == (12,)
    assert results["chainrule"] == results["torch"]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_grad_made_with_create_graph_obeys_the_same_contract_and_stays_differentiable():
    import torch

    results = {}
    for library in (chainrule, torch):
        loss, leaves = _leaves(library)
        loss.backward(create_graph=True)
        results[library.__name__] = _layouts(leaves)
        assert all(leaf.grad.requires_grad for leaf in leaves[:2])
        library.autograd.grad(leaves[0].grad.sum(), leaves[1])  # the copy is in the graph
    assert results["chainrule"] == results["torch"]
