"""chainrule.compile: a captured program replays what eager would have computed.

Every comparison below is bit for bit: replay runs the same forwards (the ops' own `forward`
on the same arrays, in the same order) that the eager run of the function does, including
the vjps the engine runs and the optimizer's own step, so nothing is reassociated.

These tests run the NumPy replay, with the optional numba fusion off (it is the path every
installation has); tests/test_compile_fusion.py tests the fused one.
"""

import copy
import warnings

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.compiler import fusion
from chainrule.errors import CompileError
from chainrule.testing.op_check import _draw_inputs
from tests.op_specs import SPECS


@pytest.fixture(autouse=True)
def _numpy_replay(monkeypatch):
    monkeypatch.setattr(fusion, "JIT", False)


def _same(a, b):
    return np.array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def _replays(compiled, *args):
    """Call `compiled` and say whether it replayed a program (no capture, no eager run)."""
    before = compiled.captures
    result = compiled(*args)
    return result, compiled.captures == before and compiled.program is not None


def _mlp(seed, sizes=(6, 16, 16, 3), dropout=0.0):
    chainrule.manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers[:-2] if dropout else layers[:-1])


def _training_step(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _batches(count, batch=8, features=6, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (
            chainrule.from_numpy(rng.standard_normal((batch, features)).astype(np.float32)),
            chainrule.from_numpy(rng.integers(0, classes, size=batch)),
        )
        for _ in range(count)
    ]


def _assert_same_training(make_optimizer, steps=5, dropout=0.0, scheduler=None):
    """N compiled steps leave the parameters (and losses) exactly where N eager steps do."""
    eager_model, compiled_model = _mlp(0, dropout=dropout), _mlp(0, dropout=dropout)
    eager_opt = make_optimizer(eager_model.parameters())
    compiled_opt = make_optimizer(compiled_model.parameters())
    eager_step = _training_step(eager_model, eager_opt)
    compiled_step = chainrule.compile(_training_step(compiled_model, compiled_opt))
    schedulers = [scheduler(eager_opt), scheduler(compiled_opt)] if scheduler else None
    replayed = 0
    for number, (x, y) in enumerate(_batches(steps)):
        chainrule.manual_seed(100 + number)
        eager_loss = eager_step(x, y)
        chainrule.manual_seed(100 + number)
        compiled_loss, replay = _replays(compiled_step, x, y)
        replayed += replay
        assert _same(eager_loss, compiled_loss), f"step {number}"
        if schedulers:
            for each in schedulers:
                each.step()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        assert _same(p, q)
    assert replayed == steps - 1  # captured once, replayed after
    return compiled_step


# ---- whole training steps --------------------------------------------------------------------


def test_sgd_training_step_replays_bit_for_bit():
    _assert_same_training(lambda params: chainrule.optim.SGD(params, lr=0.1))


def test_sgd_with_momentum_and_weight_decay_replays_bit_for_bit():
    _assert_same_training(
        lambda params: chainrule.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-2)
    )


def test_adam_training_step_replays_bit_for_bit():
    _assert_same_training(lambda params: chainrule.optim.Adam(params, lr=1e-2))


def test_adamw_amsgrad_training_step_replays_bit_for_bit():
    _assert_same_training(lambda params: chainrule.optim.AdamW(params, lr=1e-2, amsgrad=True))


def test_a_scheduler_changing_lr_between_steps_is_read_at_each_replay():
    _assert_same_training(
        lambda params: chainrule.optim.SGD(params, lr=0.5),
        steps=6,
        scheduler=lambda opt: chainrule.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1),
    )


def test_dropout_replays_with_fresh_numbers_from_the_same_generator():
    compiled = _assert_same_training(
        lambda params: chainrule.optim.SGD(params, lr=0.1), dropout=0.5
    )
    assert "DropoutMask" in str(compiled.program)


def test_replayed_dropout_masks_differ_between_steps():
    chainrule.manual_seed(0)
    compiled = chainrule.compile(lambda x: F.dropout(x, 0.5) * 1.0)
    x = chainrule.ones(64)
    compiled(x)  # the capture
    second, third = compiled(x), compiled(x)
    assert not _same(second, third)
    assert {float(v) for v in third.numpy()} <= {0.0, 2.0}


def test_gradients_accumulate_across_replays_without_zero_grad():
    """W1's shape: a chain of small ops on a leaf, backward, no zero_grad."""

    def make():
        x = chainrule.ones(8, requires_grad=True)

        def step():
            y = x
            for i in range(30):
                y = (y * 1.0001, y + 0.001, chainrule.tanh(y))[i % 3]
            y.sum().backward()

        return x, step

    eager_x, eager_step = make()
    compiled_x, compiled_step = make()
    compiled_step = chainrule.compile(compiled_step)
    for _ in range(4):
        eager_step()
        compiled_step()
    assert _same(eager_x.grad, compiled_x.grad)
    assert compiled_step.captures == 1


def _transformer(seed):
    chainrule.manual_seed(seed)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(11, 16)
            self.ln = nn.LayerNorm(16)
            self.qkv = nn.Linear(16, 48)
            self.up = nn.Linear(16, 32)
            self.down = nn.Linear(32, 16)
            self.head = nn.Linear(16, 11)

        def forward(self, tokens):
            batch, seq = tokens.shape
            x = self.embed(tokens)
            q, k, v = self.qkv(self.ln(x)).split(16, dim=-1)
            heads = [t.reshape(batch, seq, 2, 8).transpose(1, 2) for t in (q, k, v)]
            attended = F.scaled_dot_product_attention(*heads, is_causal=True)
            x = x + attended.transpose(1, 2).reshape(batch, seq, 16)
            x = x + self.down(F.gelu(self.up(x)))
            return self.head(x)

    return Block()


def test_transformer_block_with_adam_replays_bit_for_bit():
    """W7's shape: embedding, layer norm, causal attention, GELU MLP, Adam."""
    rng = np.random.default_rng(0)
    batches = [
        (
            chainrule.from_numpy(rng.integers(0, 11, (2, 5))),
            chainrule.from_numpy(rng.integers(0, 11, (2, 5))),
        )
        for _ in range(4)
    ]
    models = [_transformer(0), _transformer(0)]
    optimizers = [chainrule.optim.Adam(m.parameters(), lr=1e-2) for m in models]

    def make(model, optimizer):
        def step(tokens, targets):
            optimizer.zero_grad()
            logits = model(tokens)
            loss = F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
            loss.backward()
            optimizer.step()
            return loss

        return step

    eager = make(models[0], optimizers[0])
    compiled = chainrule.compile(make(models[1], optimizers[1]), fullgraph=True)
    for tokens, targets in batches:
        assert _same(eager(tokens, targets), compiled(tokens, targets))
    for p, q in zip(*(m.parameters() for m in models)):
        assert _same(p, q)
    assert compiled.captures == 1


def test_a_cnn_training_step_replays_bit_for_bit():
    """W4's shape: convolution, max pooling, linear."""

    def model(seed):
        chainrule.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4, 3),
        )

    rng = np.random.default_rng(0)
    data = [
        (
            chainrule.from_numpy(rng.standard_normal((2, 1, 8, 8)).astype(np.float32)),
            chainrule.from_numpy(rng.integers(0, 3, 2)),
        )
        for _ in range(3)
    ]
    models = [model(0), model(0)]
    steps = [
        _training_step(m, chainrule.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)) for m in models
    ]
    compiled = chainrule.compile(steps[1], fullgraph=True)
    for x, y in data:
        assert _same(steps[0](x, y), compiled(x, y))
    for p, q in zip(*(m.parameters() for m in models)):
        assert _same(p, q)


def test_manual_sgd_with_in_place_updates_replays():
    def make():
        w = chainrule.ones(3, requires_grad=True)

        def step(x):
            loss = (w * x).tanh().sum()
            loss.backward()
            with chainrule.no_grad():
                w.sub_(0.1 * w.grad)
            w.grad = None
            return loss

        return w, step

    (w1, eager), (w2, compiled) = make(), make()
    compiled = chainrule.compile(compiled)
    for value in (1.0, 2.0, -0.5):
        x = chainrule.full((3,), value)
        assert _same(eager(x), compiled(x))
    assert _same(w1, w2)
    assert compiled.captures == 1


# ---- forward only ------------------------------------------------------------------------------


def test_compiled_forward_replays_on_new_values():
    compiled = chainrule.compile(lambda x, y: (x @ y).relu().sum(-1))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = chainrule.from_numpy(rng.standard_normal((4, 5)))
        y = chainrule.from_numpy(rng.standard_normal((5, 2)))
        assert _same(compiled(x, y), (x @ y).relu().sum(-1))
    assert compiled.captures == 1


def test_decorator_with_and_without_options():
    @chainrule.compile
    def f(x):
        return x * 2

    @chainrule.compile(fullgraph=True, mode="reduce-overhead")
    def g(x):
        return x + 1

    x = chainrule.arange(3.0)
    assert _same(f(x), x * 2)
    assert _same(g(g(x)), x + 2)


def test_a_compiled_method_binds_its_instance():
    class Scaler:
        def __init__(self, factor):
            self.factor = factor

        @chainrule.compile
        def scale(self, x):
            return x * self.factor

    x = chainrule.ones(2)
    double, triple = Scaler(2.0), Scaler(3.0)
    assert _same(double.scale(x), x * 2.0)
    assert _same(triple.scale(x), x * 3.0)  # another instance: captured again
    assert _same(double.scale(x), x * 2.0)
    assert Scaler.scale.captures == 2


def test_an_unknown_mode_is_refused():
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        chainrule.compile(lambda x: x, mode="fastest")


def test_module_compile_in_place_replays_its_forward_under_no_grad():
    model = _mlp(0)
    expected = [model(x) for x, _ in _batches(3)]
    model.compile()
    with chainrule.no_grad():
        for (x, _), value in zip(_batches(3), expected):
            assert _same(model(x), value)
    assert model._compiled_call_impl.captures == 1


def test_compile_of_a_module_guards_on_training_flags():
    model = _mlp(0, dropout=0.5)
    compiled = chainrule.compile(model)
    x = _batches(1)[0][0]
    with chainrule.no_grad():
        compiled(x)
        model.eval()
        assert _same(compiled(x), model(x))  # captured again, without dropout
    assert compiled.captures == 2


def test_a_forward_whose_graph_leaves_the_function_runs_eagerly_with_a_warning():
    model = chainrule.compile(_mlp(0))
    x, y = _batches(1)[0]
    with pytest.warns(UserWarning, match="carries an autograd graph out"):
        loss = F.cross_entropy(model(x), y)
    loss.backward()  # eager, so the graph is there
    assert next(model.parameters()).grad is not None


# ---- guards and re-tracing --------------------------------------------------------------------


def test_a_new_shape_captures_again_and_the_old_program_is_kept():
    compiled = chainrule.compile(lambda x: (x * x).sum(0))
    compiled(chainrule.ones(2, 3))
    result = compiled(chainrule.ones(4, 3))
    assert _same(result, chainrule.full((3,), 4.0))
    _, replayed = _replays(compiled, chainrule.ones(2, 3))
    assert replayed and compiled.captures == 2


def test_python_arguments_are_guarded_by_value():
    compiled = chainrule.compile(lambda x, k: x * k)
    x = chainrule.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _same(compiled(x, 2.0), x * 2.0)
        assert _same(compiled(x, 3.0), x * 3.0)
        assert _same(compiled(x, 2.0), x * 2.0)
    assert compiled.captures == 2


def test_grad_mode_is_a_guard():
    w = chainrule.ones(2, requires_grad=True)

    def f(x):
        loss = (w * x).sum()
        if loss.requires_grad:
            loss.backward()
        return loss.detach()

    compiled = chainrule.compile(f)
    compiled(chainrule.ones(2))
    with chainrule.no_grad():
        compiled(chainrule.ones(2))
    compiled(chainrule.ones(2))
    assert compiled.captures == 2
    assert _same(w.grad, chainrule.full((2,), 2.0))


def test_re_tracing_stops_at_the_cache_limit_with_a_warning():
    compiled = chainrule.compile(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for size in range(1, 12):
            assert _same(compiled(chainrule.zeros(size)), chainrule.ones(size))
    assert compiled.captures == 8
    assert any("limit is 8" in str(w.message) for w in caught)


# ---- graph breaks -----------------------------------------------------------------------------


def _breaking_item(x):
    y = x * 2
    if y.sum().item() > 0:  # a graph break: Python reads a value
        return y
    return -y


def test_item_is_a_graph_break_that_runs_eagerly_with_one_warning_naming_the_line():
    compiled = chainrule.compile(_breaking_item)
    with pytest.warns(UserWarning, match=r"`item`.*test_compile.py:\d+"):
        assert _same(compiled(chainrule.ones(2)), chainrule.full((2,), 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        assert _same(compiled(-chainrule.ones(2)), chainrule.full((2,), 2.0))


def test_fullgraph_makes_a_graph_break_an_error():
    compiled = chainrule.compile(_breaking_item, fullgraph=True)
    with pytest.raises(CompileError, match="item"):
        compiled(chainrule.ones(2))


def test_truth_value_and_printing_are_graph_breaks():
    def branch(x):
        return x * 2 if x.sum() else x

    def show(x):
        print(x)
        return x + 1

    for function in (branch, show):
        with pytest.raises(CompileError, match="graph break"):
            chainrule.compile(function, fullgraph=True)(chainrule.ones(2))


def test_a_tensor_hook_forces_eager_with_a_warning():
    w = chainrule.ones(2, requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g) or None)

    def step():
        (w * 3).sum().backward()

    compiled = chainrule.compile(step)
    with pytest.warns(UserWarning, match="hook"):
        compiled()
    compiled()
    assert len(seen) == 2  # both calls ran the hook: eager


def test_anomaly_mode_forces_eager_with_a_warning():
    compiled = chainrule.compile(lambda x: x * 2)
    with chainrule.autograd.detect_anomaly(), pytest.warns(UserWarning, match="anomaly"):
        assert _same(compiled(chainrule.ones(2)), chainrule.full((2,), 2.0))
    assert compiled.captures == 0


def test_a_module_with_forward_hooks_runs_eagerly_with_a_warning():
    model = _mlp(0)
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(1))
    compiled = chainrule.compile(model)
    with chainrule.no_grad(), pytest.warns(UserWarning, match="hooks"):
        compiled(_batches(1)[0][0])
    with chainrule.no_grad():
        compiled(_batches(1)[0][0])
    assert calls == [1, 1]


# ---- the program ------------------------------------------------------------------------------


def test_the_program_lists_forward_backward_and_the_optimizer_step():
    model = _mlp(0)
    step = chainrule.compile(_training_step(model, chainrule.optim.SGD(model.parameters(), 0.1)))
    step(*_batches(1)[0])
    text = str(step.program)
    for expected in ("Linear(", "ThresholdBackward(", "accumulate_grad(", "SGD.step()"):
        assert expected in text
    assert "SGD.zero_grad(True)" in text


def test_inline_steps_write_into_dead_buffers_but_never_into_arguments_or_kept_values():
    def function(x):
        t = (x * 2 + 1).tanh()
        return t * 3 + 1, t, x + 1

    compiled = chainrule.compile(function)
    for seed in (0, 1):
        x = chainrule.from_numpy(np.random.default_rng(seed).standard_normal(5).astype("f"))
        before = x.numpy().copy()
        expected, actual = function(x), compiled(x)
        np.testing.assert_array_equal(x.numpy(), before)
        for e, a in zip(expected, actual):
            np.testing.assert_array_equal(a.numpy(), e.numpy())
    source = compiled.program.source
    assert "_add(" in source and "out=" in source  # `x * 2` is new; `+ 1` writes into it
    assert source.count("out=") == 3  # + 1, tanh, + 1 after * 3; t is returned: not reused


def test_a_replay_on_the_fake_device_writes_dead_buffers_and_equals_eager():
    """CuPy's arrays (which the fake device imitates) have no `writeable` flag."""

    def make():
        x = chainrule.ones(8, device="fake", requires_grad=True)

        def step():
            y = x
            for i in range(12):
                y = (y * 1.0001, y + 0.001, chainrule.tanh(y))[i % 3]
            y.sum().backward()

        return x, step

    (eager_x, eager_step), (compiled_x, compiled_step) = make(), make()
    compiled_step = chainrule.compile(compiled_step)
    for _ in range(3):
        eager_step()
        compiled_step()
    assert "out=" in compiled_step.program.source
    assert _same(eager_x.grad.cpu(), compiled_x.grad.cpu())


def test_dead_code_is_removed():
    compiled = chainrule.compile(lambda x: ((x * 3).exp(), x + 1)[1])
    compiled(chainrule.ones(2))
    assert "Exp" not in str(compiled.program)


# ---- every op spec, through compile ------------------------------------------------------------


def _spec_inputs(spec, seed):
    """The spec's first input case as the op checker draws it (complex where the spec says)."""
    arrays = _draw_inputs(spec, spec.shapes[0] if spec.shapes else (), np.random.default_rng(seed))
    tensors = []
    for array in arrays:
        tensor = chainrule.from_numpy(np.array(array, copy=True))
        if tensor.is_floating_point() or tensor.is_complex():
            tensor.requires_grad_(True)
        tensors.append(tensor)
    return tensors


def _float_tensors(outputs):
    flat = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [
        t
        for t in flat
        if isinstance(t, chainrule.Tensor) and (t.is_floating_point() or t.is_complex())
    ]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_every_op_spec_compiled_forward_and_gradient_equal_eager(spec):
    def forward(*xs):
        return spec.fn(*xs, **spec.kwargs)

    def gradient(*xs):
        outputs = _float_tensors(spec.fn(*xs, **spec.kwargs))
        total = sum((out * out.conj()).real.sum() for out in outputs if out.requires_grad)
        if isinstance(total, chainrule.Tensor):
            total.backward()
        return outputs

    compiled_forward = chainrule.compile(forward)
    compiled_gradient = chainrule.compile(gradient)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # graph breaks (data-dependent ops) run eagerly
        for seed in (0, 1, 2):  # capture, then replay on new values
            with chainrule.no_grad():
                expected = _float_tensors(forward(*_spec_inputs(spec, seed)))
                actual = _float_tensors(compiled_forward(*_spec_inputs(spec, seed)))
            assert len(actual) == len(expected)
            for a, e in zip(actual, expected):
                np.testing.assert_array_equal(a.detach().numpy(), e.detach().numpy())
            eager_inputs, compiled_inputs = _spec_inputs(spec, seed), _spec_inputs(spec, seed)
            gradient(*eager_inputs)
            compiled_gradient(*compiled_inputs)
            for e, a in zip(eager_inputs, compiled_inputs):
                if e.grad is not None or a.grad is not None:
                    np.testing.assert_array_equal(a.grad.numpy(), e.grad.numpy())


# ---- the module PyTorch's compile returns -----------------------------------------------------


@pytest.fixture
def torch_validation_restored():
    """torch.compile's first use turns PyTorch's distribution argument checks off for the
    whole process (torch/_dynamo/eval_frame.py): turned back on after the test, so the
    distribution tests that compare with PyTorch's ValueErrors still see them."""
    yield
    torch = pytest.importorskip("torch")
    torch.distributions.Distribution.set_default_validate_args(True)


def test_a_compiled_module_is_an_optimized_module_holding_the_model_as_torch(
    torch_validation_restored,
):
    torch = pytest.importorskip("torch")
    model = _mlp(0)
    compiled = chainrule.compile(model)
    torch_compiled = torch.compile(torch.nn.Sequential(torch.nn.Linear(6, 16)))
    assert type(compiled).__name__ == type(torch_compiled).__name__ == "OptimizedModule"
    assert isinstance(compiled, nn.Module)
    assert compiled._orig_mod is model
    assert list(compiled.children()) == [model]
    assert (
        repr(compiled)
        == "OptimizedModule(\n  (_orig_mod): " + repr(model).replace("\n", "\n  ") + "\n)"
    )
    assert [name for name, _ in compiled.named_parameters()] == [
        "_orig_mod." + name for name, _ in model.named_parameters()
    ]
    assert list(compiled.state_dict()) == ["_orig_mod." + key for key in model.state_dict()]


def test_a_compiled_module_reads_and_writes_the_models_attributes_and_training_flag():
    model = _mlp(0, dropout=0.5)
    compiled = chainrule.compile(model)
    assert len(compiled) == len(model)  # len only: PyTorch's is not subscriptable either
    with pytest.raises(TypeError, match="not subscriptable"):
        compiled[0]
    compiled.scale = 3.0  # written on the model, as PyTorch's OptimizedModule does
    assert model.scale == 3.0 and "scale" not in compiled.__dict__
    assert compiled.eval() is compiled
    assert not model.training and not compiled.training
    assert all(not m.training for m in model.modules())
    compiled.train()
    assert model.training and all(m.training for m in model.modules())
    assert [p is q for p, q in zip(compiled.parameters(), model.parameters())] == [True] * 6


def test_a_compiled_modules_state_dict_loads_only_with_its_prefix_as_torch():
    model, source = _mlp(0), _mlp(1)
    compiled = chainrule.compile(model)
    prefixed = {"_orig_mod." + key: value for key, value in source.state_dict().items()}
    assert str(compiled.load_state_dict(prefixed)) == "<All keys matched successfully>"
    assert all(_same(p, q) for p, q in zip(model.parameters(), source.parameters()))
    with pytest.raises(RuntimeError, match="Missing key.*_orig_mod.0.weight"):
        compiled.load_state_dict(source.state_dict())
    with pytest.raises(RuntimeError, match="Unexpected key.*_orig_mod.0.weight"):
        model.load_state_dict(compiled.state_dict())
    missing, unexpected = compiled.load_state_dict(source.state_dict(), strict=False)
    assert missing == list(prefixed) and unexpected == list(source.state_dict())


def test_module_compile_disabled_leaves_calls_eager():
    model = _mlp(0)
    model.compile(disable=True)
    x = _batches(1)[0][0]
    with chainrule.no_grad():
        assert model(x).shape == (x.shape[0], 3)


def test_a_copied_compiled_module_compiles_a_copy_of_the_model_as_torch():
    model = _mlp(0)
    compiled = chainrule.compile(model)
    x = _batches(1)[0][0]
    with chainrule.no_grad():
        compiled(x)
        compiled(x)  # a captured program, which holds what cannot be copied
    copied = copy.deepcopy(compiled)
    assert type(copied).__name__ == "OptimizedModule" and copied._orig_mod is not model
    with chainrule.no_grad():
        for parameter in copied.parameters():
            parameter.zero_()
        assert _same(copied(x), chainrule.zeros(x.shape[0], 3))
        assert _same(compiled(x), model(x))
