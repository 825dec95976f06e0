"""saved_tensors_hooks: what ops save goes through pack at save time and unpack at use, as in
PyTorch, with gradients unchanged."""

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd.graph import disable_saved_tensors_hooks, observers, saved_tensors_hooks
from chainrule.errors import GradError


def _program(lib, x, y):
    return ((x * y).exp() + y.sin()).sum()


def _pack_log(lib, hooks_module):
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    x = lib.ones(2, 3, requires_grad=True)
    y = lib.ones(3, requires_grad=True)
    with hooks_module.saved_tensors_hooks(pack, lambda t: t):
        _program(lib, x, y)
    return sorted(packed)


def test_pack_sees_the_same_saved_tensors_as_torch():
    ours = _pack_log(chainrule, chainrule.autograd.graph)
    theirs = _pack_log(torch, torch.autograd.graph)
    assert ours == theirs
    assert len(ours) == 4  # x and y for mul, the output for exp, y for sin


def test_offloading_hooks_give_the_same_gradients():
    rng = np.random.default_rng(0)
    x_np, y_np = rng.standard_normal((2, 3)), rng.standard_normal(3)
    plain = [chainrule.tensor(a, requires_grad=True) for a in (x_np, y_np)]
    _program(chainrule, *plain).backward()

    store: dict[int, np.ndarray] = {}

    def pack(t):  # "offload": keep a host copy under a key, hand back only the key
        key = len(store)
        store[key] = t.detach().numpy().copy()
        return key

    def unpack(key):
        return chainrule.from_numpy(store.pop(key))

    hooked = [chainrule.tensor(a, requires_grad=True) for a in (x_np, y_np)]
    with saved_tensors_hooks(pack, unpack):
        loss = _program(chainrule, *hooked)
    assert len(store) == 4
    loss.backward()
    assert store == {}  # every saved value was unpacked exactly once
    for a, b in zip(plain, hooked):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_hooks_apply_only_inside_the_context():
    calls = []
    x = chainrule.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: calls.append(1) or t, lambda t: t):
        pass
    (x * x).sum().backward()
    assert calls == []
    assert observers.get() is None  # the per-op hot path is back to its single check


def test_second_derivatives_through_unpacked_values():
    a = chainrule.tensor(2.0, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        b = a * a * a
    (g,) = chainrule.autograd.grad(b, a, create_graph=True)
    (gg,) = chainrule.autograd.grad(g, a)
    assert g.item() == 12.0
    assert gg.item() == 12.0


def test_nested_hooks_use_the_innermost_pair():
    seen = []
    x = chainrule.ones(3, requires_grad=True)
    outer = saved_tensors_hooks(lambda t: seen.append("outer") or t, lambda t: t)
    inner = saved_tensors_hooks(lambda t: seen.append("inner") or t, lambda t: t)
    with outer, inner:
        x.exp()
    assert seen == ["inner"]


def test_pack_runs_with_grad_mode_off():
    modes = []
    x = chainrule.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: modes.append(chainrule.is_grad_enabled()) or t, lambda t: t):
        x.exp()
    assert modes == [False]


def test_pack_hook_must_not_modify_its_input():
    def bad(t):
        t.add_(1)
        return t

    x = chainrule.ones(3, requires_grad=True).clone()
    with saved_tensors_hooks(bad, lambda t: t), pytest.raises(GradError, match="in place"):
        x.exp()


def test_unpack_hook_must_return_a_tensor_of_the_saved_shape():
    x = chainrule.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.sum().backward()
    with saved_tensors_hooks(lambda t: t, lambda t: t[:1]):
        y = x.exp()
    with pytest.raises(GradError, match=r"ExpBackward0.*shape \(1,\).*\(3,\)"):
        y.sum().backward()


@pytest.mark.parametrize("copy", [False, True], ids=["kept", "copied"])
def test_backward_reads_what_unpack_gives_even_after_an_inplace_change(copy):
    """PyTorch checks no version for hooked saved tensors: a hook that kept the tensor reads its
    new values, one that packed a copy reads the old ones."""
    torch = pytest.importorskip("torch")

    def run(lib, hooks):
        x = lib.ones(3, requires_grad=True)
        pack = (lambda t: t.clone()) if copy else (lambda t: t)
        with hooks(pack, lambda t: t):
            y = x.clone()
            z = y * y
        y.add_(1)
        z.sum().backward()
        return x.grad.tolist()

    ours = run(chainrule, saved_tensors_hooks)
    assert ours == run(torch, torch.autograd.graph.saved_tensors_hooks)
    assert ours == ([2.0] * 3 if copy else [4.0] * 3)


def test_save_on_cpu_keeps_host_tensors_as_they_are_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        with lib.autograd.graph.save_on_cpu():
            a = x * 2
            b = a.sin()
        a.mul_(3)  # kept, not copied: backward sees it
        b.sum().backward()
        return x.grad.tolist()

    assert run(chainrule) == pytest.approx(run(torch), rel=1e-6)


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(GradError, match="no hooks here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(GradError, match="not now"):
            with disable_saved_tensors_hooks("not now"):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again after the block
        pass


def test_inspection_lists_what_a_model_keeps_alive():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(4, 8), chainrule.nn.Tanh())
    sizes = []

    def pack(t):
        sizes.append(t.numel() * t.element_size())
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        model(chainrule.ones(5, 4)).sum().backward()
    assert sum(sizes) > 0
    assert model[0].weight.grad is not None


class _Cube(chainrule.autograd.Function):
    """x**3 with a hand-written backward that reads the input it saved."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


def test_what_a_custom_function_saves_is_packed_and_unpacked_as_torch():
    class TorchCube(torch.autograd.Function):
        forward = staticmethod(_Cube.forward)
        backward = staticmethod(_Cube.backward)

    results = []
    for lib, cube in ((chainrule, _Cube), (torch, TorchCube)):
        log = []

        def pack(t, log=log):
            log.append(("pack", tuple(t.shape)))
            return t * 1  # a copy: what backward reads must be what unpack returns

        def unpack(t, log=log):
            log.append(("unpack", tuple(t.shape)))
            return t

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = cube.apply(x).sum()
        y.backward()
        results.append((log, x.grad.tolist()))
    assert results[0] == results[1]
    assert results[0][0] == [("pack", (2,)), ("unpack", (2,))]
