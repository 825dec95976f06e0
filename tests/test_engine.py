"""The backward engine, specified against PyTorch.

Most tests write one small program against a module `lib` and run it on chainrule and on torch,
then compare what both return: gradients, grad_fn names, error types. Where torch has nothing to
compare (memory release, the 100,000-op chain, blaming a broken op), the test states the
property directly.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
import warnings
import weakref

import pytest
import torch

import chainrule
from chainrule.autograd.node import AccumulateGrad
from chainrule.errors import GradError, ShapeError
from chainrule.ops.op import Op, apply
from tests.test_tensor import same_tensor


def assert_same(ours, theirs):
    """Tensors, None, numbers, or nested tuples/lists of them: equal values, shapes, None-ness."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    elif theirs is None:
        assert ours is None
    elif isinstance(theirs, torch.Tensor):
        same_tensor(ours, theirs)
    else:
        assert ours == theirs


def on_both(program):
    """Run `program(lib)` on chainrule and torch; their results must agree."""
    ours = program(chainrule)
    theirs = program(torch)
    assert_same(ours, theirs)
    return ours


def raises_on_both(program, our_error, match):
    """`program(lib)` must fail on torch (RuntimeError) and on chainrule (our typed error)."""
    with pytest.raises(RuntimeError):
        program(torch)
    with pytest.raises(our_error, match=match):
        program(chainrule)


@contextlib.contextmanager
def gc_disabled():
    """Objects must die by reference counting alone: no reference cycles allowed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def graph_nodes(tensor):
    """Every Node reachable from tensor.grad_fn, by an explicit stack."""
    seen, stack = {}, [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return list(seen.values())


# ---- accumulation and seeding ------------------------------------------------------------------


def test_backward_accumulates_gradients_across_calls():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * x * x).sum().backward()
        return first, x.grad

    on_both(program)


def test_accumulation_updates_the_same_grad_tensor_in_place():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        grad = x.grad
        (x * x).sum().backward()
        return grad is x.grad, grad

    on_both(program)


def test_a_leaf_used_twice_receives_the_sum_of_both_paths():
    def program(lib):
        x = lib.tensor([0.5, -1.5], requires_grad=True)
        (x.sin() * x + x.exp()).sum().backward()
        return x.grad

    on_both(program)


def test_backward_of_a_non_scalar_takes_the_gradient_argument():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).backward(lib.tensor([1.0, 10.0, 100.0]))
        return x.grad

    on_both(program)


def test_backward_of_a_non_scalar_without_gradient_raises_clearly():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward()

    raises_on_both(program, GradError, "implicitly created only for scalar outputs")


def test_backward_with_a_gradient_of_the_wrong_shape_raises():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(lib.ones(3))

    raises_on_both(program, ShapeError, r"Mismatch in shape")


def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    def program(lib):
        lib.tensor([1.0, 2.0]).sum().backward()

    raises_on_both(program, GradError, "does not require grad")


def test_backward_on_a_leaf_itself_sets_its_grad():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.backward(lib.tensor([3.0, 4.0]))
        return x.grad

    on_both(program)


def test_the_gradient_reaching_a_leaf_is_cast_to_its_dtype():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (x.float() * 3).sum().backward()
        return x.grad

    on_both(program)


# ---- retain_graph ------------------------------------------------------------------------------


def test_a_second_backward_through_freed_saved_values_raises_naming_retain_graph():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp().sum()
        y.backward()
        y.backward()

    raises_on_both(program, GradError, "retain_graph")


def test_retain_graph_allows_a_second_backward():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    on_both(program)


# ---- autograd.grad -----------------------------------------------------------------------------


def test_grad_returns_gradients_without_touching_dot_grad():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        return g, x.grad

    on_both(program)


def test_grad_with_grad_outputs_for_several_outputs():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        outputs = [x * 2, x * x]
        seeds = [lib.tensor([1.0, -1.0]), lib.tensor([0.5, 3.0])]
        return lib.autograd.grad(outputs, x, grad_outputs=seeds)

    on_both(program)


def test_grad_with_respect_to_several_inputs():
    def program(lib):
        a = lib.tensor(2.0, requires_grad=True)
        b = lib.tensor(3.0, requires_grad=True)
        return lib.autograd.grad(a * a * b, [a, b])

    on_both(program)


def test_second_and_third_derivatives_of_a_cube_are_exact():
    x = chainrule.tensor(2.0, dtype=chainrule.float64, requires_grad=True)
    (d1,) = chainrule.autograd.grad(x**3, x, create_graph=True)
    (d2,) = chainrule.autograd.grad(d1, x, create_graph=True)
    (d3,) = chainrule.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)  # 3x^2, 6x, 6
    assert d1.requires_grad and d2.requires_grad and not d3.requires_grad


def test_higher_derivatives_of_sin_cycle_through_cos_and_sin():
    x0 = 0.7
    x = chainrule.tensor(x0, dtype=chainrule.float64, requires_grad=True)
    derivative = x.sin()
    expected = [math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0)]
    for want in expected:
        (derivative,) = chainrule.autograd.grad(derivative, x, create_graph=True)
        assert derivative.item() == pytest.approx(want, abs=1e-15)


def test_higher_derivatives_match_torch():
    def program(lib):
        x = lib.tensor([0.3, -1.2], dtype=lib.float64, requires_grad=True)
        y = (x.exp() * x.sin()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return g, h, t

    on_both(program)


def test_hessian_vector_product_through_backward_with_create_graph():
    def program(lib):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([1.0, -2.0], dtype=lib.float64)
        (g,) = lib.autograd.grad((x * x * x).sum(), x, create_graph=True)
        (g * v).sum().backward()
        return x.grad

    on_both(program)


def test_grad_with_no_inputs_raises_before_running_the_graph():
    """PyTorch refuses `grad(out, [])` (a RuntimeError) rather than returning (); the graph is
    left as it was, so a backward afterwards still works."""
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = (x**2).sum()
        for empty in ([], ()):
            with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be"):
                lib.autograd.grad(out, empty)
        out.backward()
        assert x.grad.tolist() == [2.0, 4.0]


def test_grad_of_an_unused_input_raises_unless_allow_unused():
    def program(lib):
        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0, requires_grad=True)
        lib.autograd.grad(a * 2, [a, b])

    raises_on_both(program, GradError, "allow_unused=True")
    with pytest.raises(RuntimeError, match="Tensor at index 1 appears to not have been used"):
        program(torch)
    with pytest.raises(GradError, match="Tensor at index 1 appears to not have been used"):
        program(chainrule)

    def allowed(lib):
        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0, requires_grad=True)
        return lib.autograd.grad(a * 2, [a, b], allow_unused=True)

    assert on_both(allowed)[1] is None


def test_materialize_grads_gives_zeros_for_unused_inputs():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        return lib.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)

    on_both(program)


def test_materialize_grads_with_allow_unused_false_is_refused():
    a = chainrule.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="allow_unused"):  # PyTorch's type
        chainrule.autograd.grad(a * 2, a, allow_unused=False, materialize_grads=True)
    with pytest.raises(ValueError, match="allow_unused"):
        torch.autograd.grad(
            torch.tensor(1.0, requires_grad=True) * 2,
            [],
            materialize_grads=True,
            allow_unused=False,
        )


def test_grad_with_respect_to_non_leaf_tensors():
    def program(lib):
        a = lib.tensor(2.0, requires_grad=True)
        h = a * 3
        z = h * h
        return lib.autograd.grad(z, [h, a])  # h is captured and also passed through

    on_both(program)


def test_grad_with_respect_to_the_output_itself_is_the_seed():
    def program(lib):
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        y = a * 2
        return lib.autograd.grad(y, y, grad_outputs=lib.tensor([5.0, 7.0]))

    on_both(program)


def test_grad_with_respect_to_a_tensor_that_does_not_require_grad_raises():
    def program(lib):
        a = lib.tensor(2.0, requires_grad=True)
        lib.autograd.grad(a * 2, lib.tensor(1.0))

    raises_on_both(program, GradError, "does not require grad")


def test_backward_inputs_accumulates_only_into_those_tensors():
    def program(lib):
        a = lib.tensor(2.0, requires_grad=True)
        b = lib.tensor(5.0, requires_grad=True)
        h = a * 3
        (h * h * b).backward(inputs=[h, b])
        return h.grad, b.grad, a.grad

    on_both(program)


def test_backward_inputs_must_not_be_empty():
    def program(lib):
        a = lib.tensor(2.0, requires_grad=True)
        (a * 3).backward(inputs=[])

    raises_on_both(program, GradError, "cannot be empty")


# ---- no recursion, no leaks --------------------------------------------------------------------


def test_a_chain_of_100000_ops_back_propagates_without_recursion():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    start = time.perf_counter()
    y.sum().backward()
    elapsed = time.perf_counter() - start
    assert x.grad.tolist() == [1.0, 1.0]
    assert elapsed < 10.0
    first_node = weakref.ref(graph_nodes(x * 1.0)[0])  # a node of a fresh graph dies at once
    assert first_node() is None
    with gc_disabled():
        deep_node = weakref.ref(y.grad_fn)
        del y
        assert deep_node() is None  # the whole chain was released by reference counting


def test_backward_frees_saved_arrays_unless_retain_graph():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with gc_disabled():
        out = x.exp()  # Exp saves its output array
        saved_array = weakref.ref(out._array)
        loss = (out * out).sum()  # Mul saves its inputs
        nodes = graph_nodes(loss)
        del out
        loss.backward(retain_graph=True)
        assert saved_array() is not None
        loss.backward()
        assert saved_array() is None
        assert all(node._saved is None for node in nodes)


def test_deleting_the_output_frees_the_whole_graph_without_the_cycle_collector():
    x = chainrule.tensor([0.5, 1.5], requires_grad=True)
    with gc_disabled():
        h = x.exp()
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        loss = (h * h).sin().sum()
        nodes = [weakref.ref(n) for n in graph_nodes(loss) if type(n) is not AccumulateGrad]
        assert len(nodes) == 4
        del h, loss
        assert all(node() is None for node in nodes)


def test_a_leaf_is_not_kept_alive_by_the_graph_or_its_hooks():
    with gc_disabled():
        x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g)
        (x * x).sum().backward()
        leaf = weakref.ref(x)
        del x
        assert leaf() is None


# ---- hooks -------------------------------------------------------------------------------------


def test_a_hook_on_a_leaf_modifies_its_gradient_until_removed():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        handle = x.register_hook(lambda g: g * 2)
        (x * x).sum().backward()
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad

    on_both(program)


def test_a_leaf_hook_also_runs_under_autograd_grad():
    def program(lib):
        x = lib.tensor(2.0, requires_grad=True)
        x.register_hook(lambda g: g * 100)
        return lib.autograd.grad(x * x, x)

    on_both(program)


def test_a_hook_on_a_non_leaf_changes_what_flows_on():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        return x.grad

    on_both(program)


def test_hooks_and_retain_grad_on_a_non_leaf():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        handle = y.register_hook(lambda g: g * 10)
        (y * y).sum().backward(retain_graph=True)
        first = (x.grad.clone(), y.grad.clone())
        handle.remove()
        x.grad = y.grad = None
        (y * y).sum().backward()
        return first, x.grad, y.grad, y.retains_grad, x.retains_grad

    on_both(program)


def test_post_accumulate_grad_hook_sees_the_updated_grad():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_post_accumulate_grad_hook(lambda tensor: seen.append(tensor.grad.clone()))
        (x * x).sum().backward()
        (x * 3).sum().backward()
        lib.autograd.grad((x * x).sum(), x)  # grad() accumulates nothing, so no call
        return seen

    on_both(program)


def _queue_callback(lib):
    """The engine's end-of-backward callback queue: PyTorch keeps it on Variable's engine."""
    if lib is torch:
        return torch.autograd.Variable._execution_engine.queue_callback
    return chainrule.autograd.engine.queue_callback


def test_a_queued_callback_runs_after_every_gradient_has_accumulated():
    def program(lib):
        queue = _queue_callback(lib)
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        seen = []

        def at_end():
            seen.append(("end", a.grad.clone(), b.grad.clone()))
            queue(lambda: seen.append("queued by a callback"))

        def hook(tensor):
            seen.append("hook")
            if len(seen) == 1:
                queue(at_end)

        a.register_post_accumulate_grad_hook(hook)
        b.register_post_accumulate_grad_hook(hook)
        ((a * b).sum() * 2).backward()
        b.register_hook(lambda g: queue(lambda: seen.append("after grad")))
        lib.autograd.grad((a * b).sum(), b)
        return seen

    on_both(program)


def test_queue_callback_outside_a_backward_raises():
    def program(lib):
        _queue_callback(lib)(print)

    raises_on_both(program, GradError, "only be installed during backward pass")


def test_hooks_on_tensors_that_cannot_have_them_raise():
    def no_grad_hook(lib):
        lib.tensor([1.0]).register_hook(lambda g: g)

    raises_on_both(no_grad_hook, GradError, "doesn't require gradient")

    def post_hook_on_non_leaf(lib):
        (lib.tensor([1.0], requires_grad=True) * 2).register_post_accumulate_grad_hook(print)

    raises_on_both(post_hook_on_non_leaf, GradError, "non-leaf")

    def post_hook_returning_a_value(lib):
        x = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda tensor: tensor.grad.mul_(10))
        (x * 2).sum().backward()

    raises_on_both(post_hook_returning_a_value, GradError, "hooks should return None")


@pytest.mark.parametrize("write", ["mul_", "view_mul_", "zero_"])
def test_retain_grad_follows_the_tensor_to_its_new_grad_fn_after_an_in_place_op(write):
    """retain_grad() is the tensor's: after y.mul_(3) its .grad is the gradient of the new
    y, not of the value the in-place op overwrote."""

    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        {"mul_": lambda: y.mul_(3), "view_mul_": lambda: y[:1].mul_(3), "zero_": y.zero_}[write]()
        (y * y).sum().backward()
        return y.grad, x.grad, y.retains_grad

    on_both(program)


def test_retain_grad_before_an_in_place_op_off_the_backward_path_leaves_grad_none():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = y.exp()  # backward reaches the old y only
        y[:1].zero_()
        (z * z).sum().backward()
        return y.grad, x.grad

    on_both(program)


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non_leaf"])
def test_a_hook_may_not_change_the_gradients_size_or_type(leaf):
    """The op downstream of a hook expects the gradient it would have got: PyTorch refuses a
    replacement of another shape or dtype, or one that is not a tensor at all."""

    def program(hook):
        def run(lib):
            x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x if leaf else x * 2
            y.register_hook(hook)
            (y * y).sum().backward()

        return run

    raises_on_both(program(lambda g: g[:1]), GradError, "hook '<lambda>' has changed the size")
    raises_on_both(program(lambda g: g.double()), GradError, "changed the type of value")
    for lib in (torch, chainrule):
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            program(lambda g: 3)(lib)


# ---- in-place operations -----------------------------------------------------------------------


def test_in_place_ops_bump_the_version_counter_shared_with_views_and_detach():
    def program(lib):
        x = lib.zeros(4)
        view = x[1:3]
        detached = x.detach()
        versions = [x._version]
        x.add_(1)
        versions.append(x._version)
        view.mul_(2)
        versions.append(x._version)
        detached[0] = 5.0
        versions += [x._version, view._version, detached._version]
        return versions, x

    on_both(program)


def test_modifying_a_saved_output_then_backward_raises_naming_the_op_and_versions():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()  # Exp saves its output for the derivative
        y.add_(1)
        y.sum().backward()

    raises_on_both(program, GradError, r"ExpBackward0.*version 0.*version 1")


def test_modifying_a_saved_input_then_backward_raises():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = h * h  # Mul saves h
        h.mul_(3)
        y.sum().backward()

    raises_on_both(program, GradError, r"modified by an inplace operation.*MulBackward0")


def test_in_place_on_a_leaf_that_requires_grad_raises_except_under_no_grad():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.add_(1)

    raises_on_both(program, GradError, "leaf Variable that requires grad")

    def under_no_grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            x.mul_(3)
        return x, x.is_leaf, x.requires_grad

    on_both(under_no_grad)


def test_in_place_ops_on_a_non_leaf_record_history():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.add_(x)
        y.mul_(x)
        y.sub_(x, alpha=0.5)
        y.div_(2.0)
        y.sum().backward()
        return x.grad, y, y.grad_fn.name(), y.is_leaf

    on_both(program)


def test_augmented_assignment_is_in_place_and_differentiable():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        alias = y
        y += x * x
        y *= 3
        y.sum().backward()
        return alias is y, x.grad

    on_both(program)


def test_setitem_on_a_non_leaf_gives_torchs_gradients():
    def program(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([5.0, 6.0], requires_grad=True)
        y = x * 2
        y[1:] = w * w
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x.grad, w.grad, y

    on_both(program)


def test_setitem_gives_history_to_a_tensor_that_had_none():
    def program(lib):
        w = lib.tensor(3.0, requires_grad=True)
        z = lib.zeros(3)
        z[1] = w * w
        (z * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return w.grad, z.requires_grad, z.is_leaf

    on_both(program)


def test_overwriting_a_non_leaf_cuts_the_gradient_to_its_old_history():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        ((x * 2).fill_(1.5) + (x * 3).zero_() + x).sum().backward()
        return x.grad

    on_both(program)


def test_fill_and_zero_on_a_non_leaf_keep_a_grad_fn_that_sends_zeros():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        value = lib.tensor(4.0, requires_grad=True)
        filled, zeroed, copied = (x * 2).fill_(1.5), (x * 3).zero_(), (x * 4).fill_(value)
        kept = [(t.requires_grad, t.is_leaf, t.grad_fn is not None) for t in (filled, zeroed)]
        (grad_x,) = lib.autograd.grad((filled + zeroed).sum(), x)  # reached: zeros, not None
        copied.sum().backward()
        return kept, grad_x, x.grad, value.grad

    on_both(program)


def test_detach_shares_memory_but_not_history():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        d[0] = 10.0
        return x.detach(), d.requires_grad, d.is_leaf, d.grad_fn

    on_both(program)


def test_requires_grad_is_refused_for_integer_tensors():
    def program(lib):
        lib.tensor([1, 2]).requires_grad_()

    raises_on_both(program, GradError, "floating point")


def test_requires_grad_cannot_be_switched_off_on_a_non_leaf():
    def program(lib):
        (lib.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)

    raises_on_both(program, GradError, "leaf variables")


# ---- graph introspection -----------------------------------------------------------------------


def test_grad_fn_names_next_functions_and_is_leaf():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.tensor([3.0, 4.0])
        y = (x * c).exp() + x
        add = y.grad_fn
        exp, accumulate = (edge[0] for edge in add.next_functions)
        mul = exp.next_functions[0][0]
        names = [type(n).__name__ if lib is torch else n.name() for n in (add, exp, mul)]
        names.append(type(accumulate).__name__)
        constant_edge = mul.next_functions[1]
        return names, constant_edge, x.is_leaf, c.is_leaf, y.is_leaf, (x * 2).detach().is_leaf

    on_both(program)


# ---- the engine checks every rule ----------------------------------------------------------------


class BrokenSum(Op):
    """sum(x) whose vjp forgets to expand g back to x's shape."""

    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def vjp(ctx, g):
        return (g,)


class TooManyGradients(Op):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def vjp(ctx, g):
        return (g * 2, g)


class ArrayGradient(Op):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def vjp(ctx, g):
        return (g._array * 2,)


def test_the_engine_blames_an_op_whose_vjp_returns_a_wrong_shape():
    x = chainrule.ones(2, 3, requires_grad=True)
    with pytest.raises(
        GradError, match=r"BrokenSum\.vjp returned shape \(\) for input 0 of shape \(2, 3\)"
    ):
        apply(BrokenSum, (x,)).backward()


def test_the_engine_blames_an_op_returning_the_wrong_number_of_gradients():
    x = chainrule.ones(2, requires_grad=True)
    with pytest.raises(GradError, match=r"TooManyGradients\.vjp returned 2 gradients for 1 inputs"):
        apply(TooManyGradients, (x,)).sum().backward()


def test_the_engine_blames_an_op_returning_something_other_than_a_tensor():
    x = chainrule.ones(2, requires_grad=True)
    with pytest.raises(GradError, match=r"ArrayGradient\.vjp returned a ndarray for input 0"):
        apply(ArrayGradient, (x,)).sum().backward()


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_reading_the_grad_of_a_non_leaf_warns_as_pytorch(lib):
    """backward() never fills a non-leaf's .grad, so PyTorch warns when one is read (a view
    of a leaf included), but not for leaves, for tensors outside the graph, or once
    retain_grad() asked for it."""
    x = lib.ones(2, requires_grad=True)
    retained = x * 2
    retained.retain_grad()
    (retained * x).sum().backward()
    quiet = [x, lib.ones(2), (x * 2).detach(), retained]
    loud = [x * 3, x[0]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [t.grad is None for t in quiet] == [False, True, True, False]
    assert not caught
    for tensor in loud:
        with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
            assert tensor.grad is None
