"""torch.autograd.graph beyond saved-tensor hooks: multi-grad hooks, gradient edges and
mutation of saved tensors, each run as the same program under chainrule and torch."""

import numpy as np
import pytest
import torch

import chainrule


def _multi_hook_log(lib):
    """Which gradients a mode="all" multi-grad hook sees, call by call."""
    log = []
    a = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = lib.tensor(np.ones((2, 3)), requires_grad=True)
    c = a * b
    d = a * b

    def fn(grads):
        log.append([None if g is None else g.tolist() for g in grads])

    handle = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn)
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    (c.sum() + 2 * d.sum()).backward(retain_graph=True)
    lib.autograd.grad((3 * c).sum(), c, retain_graph=True)  # only c's edge is needed
    handle.remove()
    c.sum().backward(retain_graph=True)
    return log


def test_all_mode_sees_each_call_once_with_none_for_gradients_not_computed():
    ours = _multi_hook_log(chainrule)
    assert ours == _multi_hook_log(torch)
    assert [[g is not None for g in grads] for grads in ours] == [
        [True, True, True, False],
        [True, False, True, False],  # backward(inputs=(a,)) does not wait for b
        [True, True, True, True],
        [False, False, True, False],
    ]  # and nothing after remove()


def _any_mode_log(lib):
    log = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    x = lib.ones(2)  # needs no gradient: skipped in "any" mode
    out = a * b
    handle = lib.autograd.graph.register_multi_grad_hook(
        (a, b, x, out), lambda grad: log.append(grad.tolist()), mode="any"
    )
    (2 * out).sum().backward(retain_graph=True)
    (3 * out).sum().backward(retain_graph=True)
    handle.remove()
    out.sum().backward()
    return log


def test_any_mode_calls_fn_with_the_first_gradient_once_per_backward():
    ours = _any_mode_log(chainrule)
    assert ours == _any_mode_log(torch)
    assert ours == [[2.0, 2.0], [3.0, 3.0]]  # out's gradient comes first


def test_multi_grad_hook_inside_autograd_grad_of_an_intermediate():
    def run(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        z = y.exp()
        lib.autograd.graph.register_multi_grad_hook((y, z), lambda gs: seen.append(len(gs)))
        (grad,) = lib.autograd.grad(z.sum(), x)
        return seen, grad.tolist()

    (ours_seen, ours), (theirs_seen, theirs) = run(chainrule), run(torch)
    assert ours_seen == theirs_seen == [2]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_multi_grad_hook_refuses_a_bad_mode_and_a_tensor_without_grad_before_registering():
    a = chainrule.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="mode"):
        chainrule.autograd.graph.register_multi_grad_hook((a,), print, mode="first")
    with pytest.raises(RuntimeError):
        chainrule.autograd.graph.register_multi_grad_hook((a, chainrule.ones(2)), print)
    (a * 2).sum().backward()  # no hook was left on `a`
    assert a.grad.tolist() == [2.0, 2.0]


def test_gradient_edge_names_the_node_and_output_as_torch():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        first, second = (x * 2).split(2)
        edges = [lib.autograd.graph.get_gradient_edge(t) for t in (x, x * 2, second)]
        return [(type(edge.node).__name__, edge.output_nr) for edge in edges]

    assert run(chainrule) == run(torch)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        chainrule.autograd.graph.get_gradient_edge(chainrule.ones(2))


def test_graph_task_is_only_visible_during_backward():
    from chainrule.autograd.engine import current_graph_task

    seen = []
    x = chainrule.ones(2, requires_grad=True)
    x.register_hook(lambda g: seen.append(current_graph_task().id))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert current_graph_task() is None
    assert len(set(seen)) == 2  # one id per backward call


def test_a_multi_grad_hook_whose_call_raises_leaves_nothing_behind():
    x = chainrule.ones(2, requires_grad=True)
    y = x * 2
    calls = []
    chainrule.autograd.graph.register_multi_grad_hook((x, y), calls.append)

    def fail(grad):
        raise KeyError("stop")

    handle = y.register_hook(fail)
    with pytest.raises(KeyError):
        (y * 3).sum().backward(retain_graph=True)
    handle.remove()
    (y * 3).sum().backward()
    assert len(calls) == 1 and all(g is not None for g in calls[0])


def _mutate_saved(lib):
    """Saved inputs and outputs modified in place between forward and backward."""
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.tensor([[0.5, 1.0, -2.0]], requires_grad=True)
        b = a.clone()
        loss = (b**2).sum()  # saves b
        b.sin_()
        loss.backward()
        c = lib.tensor([0.5, 1.0], requires_grad=True)
        y = c.exp()
        s = y.tanh().sum()  # saves y (tanh's input) and tanh's output
        y[0] = 10.0
        y.mul_(2)
        s.backward()
        q = lib.tensor([2.0, 3.0], requires_grad=True)
        r = lib.tensor([5.0, 7.0])
        out = (q * r).sum()
        r.add_(1)
        out.backward()
    return [t.grad.tolist() for t in (a, c, q)] + [b.tolist()]


def test_mutating_saved_tensors_inside_the_context_gives_the_forward_gradients():
    ours = _mutate_saved(chainrule)
    theirs = _mutate_saved(torch)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-5)
    assert ours[2] == [5.0, 7.0]  # r as it was when saved


def test_a_write_through_a_view_of_a_saved_tensor_is_copied_too():
    """PyTorch matches saved tensors by data pointer, so a write through a view at an offset
    (`x[1:]`) escapes it and backward reads the new values; chainrule matches by the memory's
    version counter, which views share, and gives the gradient of the forward."""
    with chainrule.autograd.graph.allow_mutation_on_saved_tensors():
        x = chainrule.tensor([1.0, 2.0, 3.0])
        p = chainrule.ones(3, requires_grad=True)
        loss = (x * p).sum()
        with chainrule.no_grad():
            x[1:].mul_(100)
        loss.backward()
    assert p.grad.tolist() == [1.0, 2.0, 3.0]
    assert x.tolist() == [1.0, 200.0, 300.0]


def test_custom_function_saved_tensors_are_copied_before_mutation():
    class Mul(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, q, r):
            ctx.save_for_backward(q, r)
            return q * r

        @staticmethod
        def backward(ctx, g):
            q, r = ctx.saved_tensors
            return g * r, g * q

    with chainrule.autograd.graph.allow_mutation_on_saved_tensors():
        q = chainrule.tensor([2.0, 3.0], requires_grad=True)
        r = chainrule.tensor([5.0, 7.0])
        out = Mul.apply(q, r).sum()
        r.zero_()
        out.backward()
    assert q.grad.tolist() == [5.0, 7.0]


def test_outside_the_context_mutation_of_a_saved_tensor_still_raises():
    with chainrule.autograd.graph.allow_mutation_on_saved_tensors() as state:
        pass
    assert state.savers == {}  # cleared on exit
    x = chainrule.tensor([1.0, 2.0])
    p = chainrule.ones(2, requires_grad=True)
    loss = (x * p).sum()
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_allow_mutation_contexts_cannot_be_nested():
    with chainrule.autograd.graph.allow_mutation_on_saved_tensors():
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with chainrule.autograd.graph.allow_mutation_on_saved_tensors():
                pass


def _node_hook_log(lib):
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    node = y.grad_fn
    pre = node.register_prehook(lambda grad_outputs: (grad_outputs[0] * 7,))
    node.register_hook(lambda grad_inputs, grad_outputs: log.append(("post", len(grad_inputs))))
    node.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 0, grad_inputs[1]))
    accumulate = lib.autograd.graph.get_gradient_edge(x).node
    accumulate.register_hook(lambda grad_inputs, grad_outputs: log.append(("acc", grad_inputs)))
    y.sum().backward(retain_graph=True)
    log.append(x.grad.tolist())
    pre.remove()
    x.grad = None
    y.sum().backward()
    log.append(x.grad.tolist())
    return log


def test_node_pre_and_post_hooks_replace_gradients_and_remove_as_torch():
    ours = _node_hook_log(chainrule)
    assert ours == _node_hook_log(torch)
    assert ours[2] == [7.0, 14.0]  # the pre hook's 7 g, then only the second input's x


def test_a_post_hook_must_return_a_tuple_of_the_right_length():
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * x
        y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: 5)
        with pytest.raises(TypeError, match="expected tuple, but hook returned 'int'"):
            y.sum().backward(retain_graph=True)
        z = x * x
        z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: grad_inputs[:1])
        with pytest.raises(RuntimeError, match="incorrect number of values"):
            z.sum().backward()


def test_autograd_names_programs_read():
    for lib in (chainrule, torch):
        assert lib.autograd.function.Function is lib.autograd.Function
        assert lib.autograd.is_multithreading_enabled()
        with lib.autograd.set_multithreading_enabled(False):
            assert not lib.autograd.is_multithreading_enabled()
        assert lib.autograd.is_multithreading_enabled()
        assert issubclass(lib.autograd.function.InplaceFunction, lib.autograd.Function)

        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        node = Double.apply(lib.ones(1, requires_grad=True)).grad_fn
        assert isinstance(node, lib.autograd.function.BackwardCFunction)


def test_autograd_grad_takes_gradient_edges_as_inputs():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        edge = lib.autograd.graph.get_gradient_edge(y)
        loss = (y * 2).sum()
        y.mul_(5)  # the edge still names the value loss was computed from
        through_edge, through_x = lib.autograd.grad(loss, [edge, x], retain_graph=True)
        (alone,) = lib.autograd.grad(loss, lib.autograd.graph.get_gradient_edge(x))
        return through_edge.tolist(), through_x.tolist(), alone.tolist()

    assert run(chainrule) == run(torch) == ([2.0, 2.0], [6.0, 6.0], [6.0, 6.0])


def test_a_tensor_hook_sees_none_for_an_output_no_gradient_reached():
    def run(lib):
        x = lib.ones(4, requires_grad=True)
        first, second = (x * 2).split(2)
        seen = []
        second.register_hook(lambda grad: seen.append(grad))
        lib.autograd.graph.register_multi_grad_hook(
            (first, second), lambda grads: seen.append([g is not None for g in grads])
        )
        (first * 3).sum().backward(retain_graph=True)
        replaced = second.register_hook(lambda grad: lib.ones(2))
        with pytest.raises(RuntimeError, match="can't replace a None gradient"):
            (first * 3).sum().backward()
        replaced.remove()
        return seen[:2]

    assert run(chainrule) == run(torch) == [None, [True, False]]


def test_a_training_loop_inside_the_context_does_not_accumulate_state():
    w = chainrule.ones(8, requires_grad=True)
    with chainrule.autograd.graph.allow_mutation_on_saved_tensors() as state:
        for _ in range(1000):  # two saved memories a step: 2000 without forgetting
            h = w * 2
            loss = (h * h).sum() + (h.exp() * h).sum()
            loss.backward()
        assert len(state.savers) <= 1024 + 8  # freed graphs are forgotten as it goes
