"""chainrule.utils.checkpoint: gradients identical to the plain computation, with fewer arrays
held by the graph between forward and backward."""

from __future__ import annotations

import contextlib
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.errors import GradError
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential, noop_context_fn


def _mlp(depth: int, width: int, dropout: float = 0.0) -> nn.Sequential:
    chainrule.manual_seed(0)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).double()


def _gradients(model: nn.Module, x: chainrule.Tensor, run) -> list[np.ndarray]:
    """Every parameter's and the input's gradient of sum(run(model, x)**2)."""
    model.zero_grad()
    x = x.detach().requires_grad_(True)
    loss = (run(model, x) ** 2).sum()
    loss.backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def _plain(model, x):
    return model(x)


def _each_block(model, x):
    layers = list(model.children())
    for index in range(0, len(layers), 2):
        x = checkpoint(nn.Sequential(*layers[index : index + 2]), x, use_reentrant=False)
    return x


def _sequential(segments):
    def run(model, x):
        return checkpoint_sequential(model, segments, x, use_reentrant=False)

    return run


def _assert_all_close(actual, expected):
    assert len(actual) == len(expected)
    for index, (a, b) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"gradient {index}")


@pytest.mark.parametrize(
    "run",
    [_each_block, _sequential(3), _sequential(1)],
    ids=["checkpoint-each-block", "sequential-3-segments", "sequential-1-segment"],
)
def test_deep_mlp_gradients_equal_the_plain_ones(run):
    model = _mlp(depth=12, width=8)
    x = chainrule.randn(5, 8, dtype=chainrule.float64)
    _assert_all_close(_gradients(model, x, run), _gradients(model, x, _plain))


def test_dropout_recomputes_the_same_mask_and_leaves_the_rng_where_plain_code_does():
    model = _mlp(depth=6, width=8, dropout=0.5)
    x = chainrule.randn(4, 8, dtype=chainrule.float64)
    chainrule.manual_seed(7)
    expected = _gradients(model, x, _plain)
    after_plain = chainrule.rand(3).numpy()
    chainrule.manual_seed(7)
    actual = _gradients(model, x, _sequential(3))
    after_checkpoint = chainrule.rand(3).numpy()
    _assert_all_close(actual, expected)
    np.testing.assert_array_equal(after_checkpoint, after_plain)


def test_without_preserve_rng_state_dropout_masks_differ():
    model = _mlp(depth=2, width=64, dropout=0.5)
    x = chainrule.randn(4, 64, dtype=chainrule.float64)
    chainrule.manual_seed(7)
    expected = _gradients(model, x, _plain)
    chainrule.manual_seed(7)

    def run(model, x):
        return checkpoint(model, x, preserve_rng_state=False, use_reentrant=False)

    actual = _gradients(model, x, run)
    assert not np.allclose(actual[-1], expected[-1])


def test_autograd_grad_and_func_grad_reach_parameters_and_inputs():
    layer = nn.Linear(3, 2).double()
    x = chainrule.randn(4, 3, dtype=chainrule.float64, requires_grad=True)
    loss = checkpoint(lambda t: layer(t).tanh().sum(), x, use_reentrant=False)
    grads = chainrule.autograd.grad(loss, [x, layer.weight, layer.bias])
    plain = chainrule.autograd.grad(layer(x).tanh().sum(), [x, layer.weight, layer.bias])
    _assert_all_close([g.numpy() for g in grads], [g.numpy() for g in plain])
    assert layer.weight.grad is None  # autograd.grad accumulates nothing

    def f(t):
        return checkpoint(lambda u: (u.sin() * u).sum(), t, use_reentrant=False)

    value = np.array([0.3, -1.2])
    np.testing.assert_allclose(
        chainrule.func.grad(f)(value), np.sin(value) + value * np.cos(value), rtol=1e-12
    )


def test_second_derivatives_through_checkpoint_equal_the_plain_ones():
    weight = chainrule.tensor(
        [[0.5, -1.0], [2.0, 0.3]], dtype=chainrule.float64, requires_grad=True
    )

    def block(t):
        return (t @ weight).tanh() ** 2

    def hessian_vector(run):
        x = chainrule.tensor([0.4, -0.7], dtype=chainrule.float64, requires_grad=True)
        inner = 3 * weight.sum() * x  # an argument that itself depends on the parameter
        loss = run(inner).sum()
        gx, gw = chainrule.autograd.grad(loss, [x, weight], create_graph=True)
        vector = chainrule.tensor([1.0, -2.0], dtype=chainrule.float64)
        second = chainrule.autograd.grad((gx * vector).sum() + gw.sum(), [x, weight])
        return [g.detach().numpy() for g in (gx, gw, *second)]

    _assert_all_close(
        hessian_vector(lambda t: checkpoint(block, t, use_reentrant=False)), hessian_vector(block)
    )


def test_func_hessian_and_jacrev_through_checkpoint():
    def plain(t):
        return (t.sin() * t).sum()

    def checkpointed(t):
        return checkpoint(plain, t, use_reentrant=False)

    x = chainrule.tensor([0.3, 1.0, -2.0], dtype=chainrule.float64)
    for transform in (
        chainrule.func.hessian,
        lambda f: chainrule.func.jacrev(chainrule.func.grad(f)),
    ):
        expected = transform(plain)(x).numpy()
        np.testing.assert_allclose(transform(checkpointed)(x).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(
        np.diag(expected), 2 * np.cos(x.numpy()) - x.numpy() * np.sin(x.numpy())
    )


def test_arguments_outputs_and_keywords_of_any_kind():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    y = chainrule.tensor([3.0, 4.0], dtype=chainrule.float64)  # needs no gradient

    def function(a, scale, b, *, shift):
        return a * b * scale + shift, (a > 1.5), "label"

    value, mask, label = checkpoint(function, x, 2.0, y, shift=1.0, use_reentrant=False)
    assert label == "label" and mask.dtype == chainrule.bool and not mask.requires_grad
    np.testing.assert_allclose(value.detach().numpy(), [7.0, 17.0])
    value.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])
    as_list = checkpoint(lambda a: [a * 2, a * 3], x, use_reentrant=False)
    assert isinstance(as_list, list) and as_list[1].requires_grad


def test_plain_call_when_nothing_needs_a_gradient():
    x = chainrule.tensor([1.0, 2.0])
    out = checkpoint(lambda t: t * 2, x, use_reentrant=False)
    assert out.grad_fn is None
    with chainrule.no_grad():
        out = checkpoint(lambda t: t * 2, x.requires_grad_(True), use_reentrant=False)
    assert out.grad_fn is None


def test_retain_graph_allows_a_second_backward():
    x = chainrule.tensor([0.5, 1.5], dtype=chainrule.float64, requires_grad=True)
    loss = checkpoint(lambda t: t.exp().sum(), x, use_reentrant=False)
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.5, 1.5]))
    again = checkpoint(lambda t: t.exp().sum(), x, use_reentrant=False)
    again.backward()
    with pytest.raises(GradError, match="second time"):
        again.backward()


def test_a_computed_tensor_read_from_the_enclosing_scope_is_refused():
    weight = chainrule.tensor([1.0, 2.0], requires_grad=True)
    scaled = weight * 3  # not a leaf, not an argument
    x = chainrule.tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(GradError, match="not one of its arguments"):
        checkpoint(lambda t: t * scaled, x, use_reentrant=False)
    out = checkpoint(
        lambda t, s: t * s, x, scaled, use_reentrant=False
    )  # as an argument it is fine
    out.sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), [3.0, 3.0])


def test_inputs_modified_in_place_before_backward_are_detected():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    out = checkpoint(lambda t: t * t, y, use_reentrant=False)
    with chainrule.no_grad():
        y.add_(1.0)
    with pytest.raises(GradError, match="modified by an inplace operation"):
        out.sum().backward()


def test_a_function_that_changes_between_runs_is_detected():
    calls = []

    def shifty(t):
        calls.append(1)
        return t[: len(calls)] * 2

    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = checkpoint(shifty, x, use_reentrant=False)
    with pytest.raises(GradError, match="deterministic"):
        out.sum().backward()


def _autocast_segment(library, checkpointed: bool):
    """Output dtype, and the float32 input's and weight's grads, of a bfloat16-autocast
    linear-gelu-linear segment (checkpointed or not) followed by a float32 loss."""
    x = library.linspace(-1.0, 1.0, 12).reshape(3, 4).requires_grad_(True)
    w1 = library.cos(library.arange(20.0)).reshape(5, 4).requires_grad_(True)
    w2 = library.sin(library.arange(10.0)).reshape(2, 5).requires_grad_(True)

    def segment(t):
        hidden = library.nn.functional.gelu(library.nn.functional.linear(t, w1))
        return library.nn.functional.linear(hidden, w2)

    run = library.utils.checkpoint.checkpoint if checkpointed else (lambda f, t, **_: f(t))
    with library.autocast("cpu", dtype=library.bfloat16):
        out = run(segment, x, use_reentrant=False)
    (out.float() ** 2).sum().backward()  # backward runs after the autocast block has closed
    return str(out.dtype), x.grad.numpy(), w1.grad.numpy()


def test_the_recomputation_casts_as_the_forward_did_under_autocast():
    """PyTorch's checkpoint recomputes under the autocast state of the forward, so a segment
    run in bfloat16 gets the same gradients as without checkpointing."""
    import torch
    import torch.utils.checkpoint  # noqa: F401 - torch.utils.checkpoint is not imported eagerly

    dtype, x_grad, w_grad = _autocast_segment(chainrule, checkpointed=True)
    plain_dtype, plain_x_grad, plain_w_grad = _autocast_segment(chainrule, checkpointed=False)
    assert dtype == plain_dtype == "chainrule.bfloat16"
    np.testing.assert_array_equal(x_grad, plain_x_grad)
    np.testing.assert_array_equal(w_grad, plain_w_grad)
    assert x_grad.dtype == w_grad.dtype == np.float32
    their_dtype, their_x_grad, their_w_grad = _autocast_segment(torch, checkpointed=True)
    assert their_dtype == "torch.bfloat16"
    np.testing.assert_allclose(x_grad, their_x_grad, rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(w_grad, their_w_grad, rtol=2e-2, atol=2e-2)


def test_autocast_turned_off_inside_a_checkpointed_region_stays_off_in_the_recomputation():
    x = chainrule.ones(2, 3, requires_grad=True)
    w = chainrule.ones(4, 3, requires_grad=True)
    with chainrule.autocast("cpu"), chainrule.autocast("cpu", enabled=False):
        out = checkpoint(lambda t: chainrule.nn.functional.linear(t, w), x, use_reentrant=False)
    with chainrule.autocast("cpu"):  # a different state around backward changes nothing
        out.sum().backward()
    assert out.dtype == w.grad.dtype == chainrule.float32
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 3), 2.0))


def test_checkpoint_sequential_arguments():
    model = _mlp(depth=4, width=3)
    x = chainrule.randn(2, 3, dtype=chainrule.float64, requires_grad=True)
    as_list = checkpoint_sequential(list(model.children()), 2, x, use_reentrant=False)
    np.testing.assert_allclose(as_list.detach().numpy(), model(x).detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(model, 0, x, use_reentrant=False)
    with pytest.raises(TypeError, match="unexpected keyword"):
        checkpoint_sequential(model, 2, x, foo=1, use_reentrant=False)


def _reentrant_contract(library, **options):
    """What a frozen input (no tensor argument requires grad) does in each variant: the
    warnings, whether the output has a graph, whether the layer's weight got a gradient."""
    layer = library.nn.Linear(2, 2)
    x = library.ones(1, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = library.utils.checkpoint.checkpoint(layer, x, **options)
    messages = sorted({str(w.message).split(".")[0][:40] for w in caught})
    if out.requires_grad:
        out.sum().backward()
    return messages, out.requires_grad, layer.weight.grad is not None


@pytest.mark.parametrize(
    "options", [{}, {"use_reentrant": True}, {"use_reentrant": False}], ids=str
)
def test_use_reentrant_keeps_pytorchs_contract(options):
    """Left out, use_reentrant warns and means True; the reentrant variant warns when no
    tensor argument requires grad and records nothing, so the parameters read inside get no
    gradient (PyTorch's pitfall with frozen embeddings); the other records them."""
    import torch.utils.checkpoint  # noqa: F401 - not imported by `import torch`

    assert _reentrant_contract(chainrule, **options) == _reentrant_contract(torch, **options)


def test_the_reentrant_variant_refuses_keywords_and_contexts_as_pytorchs():
    x = chainrule.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda t, scale: t * scale, x, scale=2.0, use_reentrant=True)
    out = checkpoint(lambda t: t * 2, x, use_reentrant=True, context_fn=noop_context_fn)
    assert out.requires_grad  # the default context_fn is accepted
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t * 2, x, use_reentrant=True, context_fn=lambda: (None, None))


def test_context_fn_wraps_the_forward_and_the_recomputation():
    """context_fn() gives two contexts: one entered around the forward, one around the
    recomputation in backward (selective checkpointing builds on it)."""
    log = []

    @contextlib.contextmanager
    def tagged(name):
        log.append(f"enter {name}")
        yield
        log.append(f"exit {name}")

    x = chainrule.tensor([0.5, 1.0], requires_grad=True)
    out = checkpoint(
        lambda t: (t * 2).exp(),
        x,
        use_reentrant=False,
        context_fn=lambda: (tagged("forward"), tagged("recompute")),
    )
    assert log == ["enter forward", "exit forward"]
    out.sum().backward()
    assert log[2:] == ["enter recompute", "exit recompute"]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize("reentrant", [True, False])
def test_a_lone_output_prints_the_node_pytorch_gives_it(reentrant):
    """The reentrant variant's output is CheckpointFunctionBackward's; the other keeps the
    region's own graph in PyTorch, so its output shows the region's last op (MulBackward0)."""
    import torch.utils.checkpoint  # noqa: F401 - not imported by `import torch`

    names = []
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        out = lib.utils.checkpoint.checkpoint(lambda t: t.exp() * 2, x, use_reentrant=reentrant)
        names.append((repr(out).split("grad_fn=")[1], type(out.grad_fn).__name__))
    assert names[0] == names[1]


def test_the_helper_names_older_checkpoint_code_imports():
    """detach_variable (a tuple's tensors detached, requires_grad kept), noop_context_fn,
    set_checkpoint_early_stop (accepted: every recomputation runs the whole region) and
    CheckpointError (a RuntimeError), as torch.utils.checkpoint's."""
    import torch.utils.checkpoint as theirs

    for lib, module in ((chainrule, chainrule.utils.checkpoint), (torch, theirs)):
        x = lib.ones(2, requires_grad=True) * 2
        detached, label = module.detach_variable((x, "label"))
        assert detached.grad_fn is None and detached.requires_grad and label == "label"
        with pytest.raises(RuntimeError, match="Only tuple of tensors is supported"):
            module.detach_variable([x])
        assert all(isinstance(c, contextlib.nullcontext) for c in module.noop_context_fn())
        assert issubclass(module.CheckpointError, RuntimeError)
        with module.set_checkpoint_early_stop(False):
            out = module.checkpoint(lambda t: t.sin(), x, use_reentrant=False)
        out.sum().backward()


# ---- memory ------------------------------------------------------------------------------


def _saved_bytes(root: chainrule.Tensor, exclude: set[int]) -> int:
    """The bytes of the arrays the graph of `root` keeps for backward (each node's saved
    values, walked through next_functions), each array counted once, `exclude` left out."""
    seen: set[int] = set()
    arrays: dict[int, int] = {}
    stack = [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        saved = node._saved
        entries = saved.values() if isinstance(saved, dict) else (saved or ())
        for entry in entries:
            value = getattr(entry, "value", entry)
            array = _base(getattr(value, "_array", value))
            if isinstance(array, np.ndarray) and id(array) not in exclude:
                arrays[id(array)] = array.nbytes
        stack.extend(edge[0] for edge in node.next_functions)
    return sum(arrays.values())


def _base(array):
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return array


def _memory(run, model, x, exclude):
    """(bytes the graph holds after forward, tracemalloc peak of forward, gradients)."""
    model.zero_grad()
    tracemalloc.start()
    try:
        loss = (run(model, x) ** 2).sum()
        _, forward_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = _saved_bytes(loss, exclude)
    loss.backward()
    return held, forward_peak, [p.grad.numpy().copy() for p in model.parameters()]


def test_a_deep_stack_holds_several_times_fewer_activations():
    model = _mlp(depth=50, width=64)
    x = chainrule.randn(256, 64, dtype=chainrule.float64, requires_grad=True)
    parameters = {id(_base(p._array)) for p in model.parameters()}
    held_plain, peak_plain, grads_plain = _memory(_plain, model, x, parameters)
    held_ckpt, peak_ckpt, grads_ckpt = _memory(_sequential(7), model, x, parameters)
    activation = 256 * 64 * 8
    assert held_plain >= 50 * activation  # one saved activation per block at least
    assert held_plain >= 3 * held_ckpt, (held_plain, held_ckpt)
    assert peak_plain >= 2.5 * peak_ckpt, (peak_plain, peak_ckpt)
    _assert_all_close(grads_ckpt, grads_plain)
