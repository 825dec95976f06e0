"""LSTM and GRU layers over a padded sequence run each direction as one op
(ops/recurrent.py): a loop on raw arrays forward and back, with a differentiable recompute for
gradients of gradients. These check it against PyTorch and against the step-by-step ops."""

import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops import recurrent

CONFIGS = [
    ("LSTM", {}),
    ("LSTM", {"bidirectional": True, "num_layers": 2}),
    ("LSTM", {"bias": False, "batch_first": True}),
    ("GRU", {}),
    ("GRU", {"bidirectional": True, "bias": False}),
    ("GRU", {"num_layers": 2, "batch_first": True}),
]


def _pair(kind, options, seed=0):
    """The same float64 layer in torch and chainrule."""
    theirs = getattr(torch.nn, kind)(5, 4, **options).double()
    ours = getattr(chainrule.nn, kind)(5, 4, **options).double()
    rng = np.random.default_rng(seed)
    with torch.no_grad(), chainrule.no_grad():
        for p, q in zip(theirs.parameters(), ours.parameters()):
            values = rng.uniform(-0.6, 0.6, size=tuple(p.shape))
            p.copy_(torch.from_numpy(values))
            q.copy_(chainrule.from_numpy(values))
    return theirs, ours


def _run(layer, lib, x, h, kind):
    state = (h, h.tanh()) if kind == "LSTM" else h
    output, final = layer(x, state)
    finals = final if kind == "LSTM" else (final,)
    loss = (output * output.sin()).sum() + sum((f * f).sum() * 1.5 for f in finals)
    loss.backward()
    return output, finals


@pytest.mark.parametrize(("kind", "options"), CONFIGS)
def test_plain_backward_matches_torch(kind, options):
    theirs, ours = _pair(kind, options)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3, 5))  # (T, N, F), or (N, T, F) batch first
    batch = 6 if options.get("batch_first") else 3
    h = rng.standard_normal((layers, batch, 4))
    tx, th = (torch.tensor(a, requires_grad=True) for a in (x, h))
    cx, ch = (chainrule.tensor(a, requires_grad=True) for a in (x, h))
    t_out, t_finals = _run(theirs, torch, tx, th, kind)
    c_out, c_finals = _run(ours, chainrule, cx, ch, kind)
    np.testing.assert_allclose(c_out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)
    for c_final, t_final in zip(c_finals, t_finals):
        np.testing.assert_allclose(c_final.detach().numpy(), t_final.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), atol=1e-11)
    np.testing.assert_allclose(ch.grad.numpy(), th.grad.numpy(), atol=1e-11)
    for (name, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), atol=1e-11, err_msg=name)


def _operands(kind, bias, rng):
    gates = 4 if kind == "LSTM" else 3
    arrays = [rng.standard_normal((5 * 3, gates * 4))]  # 5 steps of 3 rows
    arrays += [rng.standard_normal((3, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    arrays += [rng.standard_normal((gates * 4, 4)) * 0.4]
    if bias:
        arrays.append(rng.standard_normal(gates * 4))
    return [chainrule.tensor(a, requires_grad=True) for a in arrays]


def _loss(kind, operands, bias, reverse, whole):
    x_gates, *rest = operands
    parts = 2 if kind == "LSTM" else 1
    state, w_hh = tuple(rest[:parts]), rest[parts]
    b_hh = rest[parts + 1] if bias else None
    sizes = (3,) * 5
    if whole:
        outputs, final = recurrent.recurrent_sequence(
            kind, x_gates, state, w_hh, b_hh, sizes, reverse
        )
    else:  # the same cells as ordinary ops, step by step
        math = recurrent._TENSOR_MATH
        outputs, final, _ = recurrent._run(math, kind, x_gates, state, w_hh, b_hh, sizes, reverse)
    return (outputs**3).sum() + sum((f * f).sum() * 1.3 for f in final)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_the_sequence_op_equals_its_steps_as_ops_to_second_order(kind, reverse, bias):
    operands = _operands(kind, bias, np.random.default_rng(2))

    def gradients(whole, order):
        grads = chainrule.autograd.grad(
            _loss(kind, operands, bias, reverse, whole), operands, create_graph=order == 2
        )
        if order == 1:
            return grads
        return chainrule.autograd.grad(sum((g * g).sum() for g in grads), operands)

    for order in (1, 2):
        for ours, steps in zip(gradients(True, order), gradients(False, order)):
            np.testing.assert_allclose(ours.numpy(), steps.numpy(), rtol=1e-10, atol=1e-12)


def test_a_second_backward_needs_retain_graph():
    lstm = chainrule.nn.LSTM(3, 2)
    output, _ = lstm(chainrule.randn(4, 2, 3))
    loss = output.sum()
    loss.backward(retain_graph=True)
    first = lstm.weight_hh_l0.grad.clone()
    loss.backward()
    np.testing.assert_allclose(lstm.weight_hh_l0.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_a_compiled_train_step_equals_the_eager_one():
    def make():
        chainrule.manual_seed(0)
        model = chainrule.nn.GRU(3, 4, batch_first=True)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        x = chainrule.randn(2, 5, 3)

        def step():
            optimizer.zero_grad()
            loss = model(x)[0].pow(2).mean()
            loss.backward()
            optimizer.step()
            return loss

        return model, step

    eager_model, eager_step = make()
    compiled_model, compiled_step = make()
    compiled_step = chainrule.compile(compiled_step)
    for _ in range(3):
        assert eager_step().item() == compiled_step().item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_vmap_over_sequences_equals_one_call_per_sequence():
    lstm = chainrule.nn.LSTM(3, 2).double()
    sequences = chainrule.randn(4, 5, 1, 3, dtype=chainrule.float64)  # 4 sequences of (5, 1, 3)

    def last_output(x):
        return lstm(x)[0][-1]

    with pytest.warns(UserWarning, match="performance drop"):  # one op call per sequence
        mapped = chainrule.func.vmap(last_output)(sequences)
    looped = chainrule.stack([last_output(x) for x in sequences])
    np.testing.assert_allclose(mapped.detach().numpy(), looped.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_autocast_dtypes_are_pytorchs(kind):
    """On CPU PyTorch's LSTM layer is on autocast's lower-precision list (its GRU is not)."""
    theirs, ours = _pair(kind, {})
    theirs, ours = theirs.float(), ours.float()
    x = np.random.default_rng(3).standard_normal((6, 3, 5)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        t_out, t_final = theirs(torch.from_numpy(x))
    with chainrule.autocast("cpu", dtype=chainrule.bfloat16):
        c_out, c_final = ours(chainrule.from_numpy(x))
    t_finals = t_final if kind == "LSTM" else (t_final,)
    c_finals = c_final if kind == "LSTM" else (c_final,)
    for c_value, t_value in zip((c_out, *c_finals), (t_out, *t_finals)):
        assert str(c_value.dtype).split(".")[-1] == str(t_value.dtype).split(".")[-1]
        np.testing.assert_allclose(
            c_value.float().detach().numpy(), t_value.float().detach().numpy(), atol=3e-2
        )
    c_out.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == chainrule.float32 for p in ours.parameters())


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_empty_batches_run_and_empty_sequences_raise_as_pytorch(kind):
    layer = getattr(chainrule.nn, kind)(3, 4)
    x = chainrule.randn(5, 0, 3, requires_grad=True)  # five steps of no sequences
    output, _ = layer(x)
    output.sum().backward()
    assert tuple(output.shape) == (5, 0, 4) and tuple(x.grad.shape) == (5, 0, 3)
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        layer(chainrule.randn(0, 2, 3))


@pytest.mark.parametrize(("kind", "options"), [("LSTM", {"bidirectional": True}), ("GRU", {})])
def test_gradients_of_gradients_match_torch(kind, options):
    theirs, ours = _pair(kind, options, seed=4)
    x = np.random.default_rng(5).standard_normal((4, 2, 5))

    def second(layer, lib):
        inputs = lib.tensor(x, requires_grad=True)
        output = layer(inputs)[0]
        (grad,) = lib.autograd.grad((output**2).sum(), inputs, create_graph=True)
        weights = [p for name, p in layer.named_parameters() if "hh" in name]
        return lib.autograd.grad((grad**2).sum(), weights)

    for c_grad, t_grad in zip(second(ours, chainrule), second(theirs, torch)):
        np.testing.assert_allclose(c_grad.numpy(), t_grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_packed_sequences_match_torch_with_a_plain_backward(kind):
    theirs, ours = _pair(kind, {"bidirectional": True, "num_layers": 2}, seed=6)
    rng = np.random.default_rng(7)
    x, h = rng.standard_normal((5, 4, 5)), rng.standard_normal((4, 4, 4))
    lengths = [3, 5, 1, 4]  # unsorted: packing sorts them, the sequence op sees 4, 3, 3, 2, 1 rows

    def run(layer, lib):
        inputs, start = lib.tensor(x, requires_grad=True), lib.tensor(h, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(inputs, lengths, enforce_sorted=False)
        state = (start, start.tanh()) if kind == "LSTM" else start
        output, final = layer(packed, state)
        finals = final if kind == "LSTM" else (final,)
        loss = (output.data * output.data.cos()).sum() + sum((f**2).sum() for f in finals)
        loss.backward()
        grads = [inputs.grad, start.grad, *(p.grad for p in layer.parameters())]
        return [output.data, *finals, *grads]

    for ours_value, theirs_value in zip(run(ours, chainrule), run(theirs, torch)):
        np.testing.assert_allclose(
            ours_value.detach().numpy(), theirs_value.detach().numpy(), atol=1e-11
        )


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_sequence_op_on_packed_rows_equals_its_steps_to_second_order(kind, reverse):
    sizes = (3, 3, 2, 1)  # sequences of lengths 4, 3, 2 (rows ordered longest first)
    rng = np.random.default_rng(8)
    gates = 4 if kind == "LSTM" else 3
    arrays = [rng.standard_normal((sum(sizes), gates * 4))]
    arrays += [rng.standard_normal((3, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    arrays += [rng.standard_normal((gates * 4, 4)) * 0.4, rng.standard_normal(gates * 4)]
    operands = [chainrule.tensor(a, requires_grad=True) for a in arrays]

    def gradients(whole, order):
        x_gates, *state, w_hh, b_hh = operands
        if whole:
            outputs, final = recurrent.recurrent_sequence(
                kind, x_gates, tuple(state), w_hh, b_hh, sizes, reverse
            )
        else:
            math = recurrent._TENSOR_MATH
            outputs, final, _ = recurrent._run(
                math, kind, x_gates, tuple(state), w_hh, b_hh, sizes, reverse
            )
        loss = (outputs**3).sum() + sum((f * f).sum() * 1.3 for f in final)
        grads = chainrule.autograd.grad(loss, operands, create_graph=order == 2)
        if order == 1:
            return grads
        return chainrule.autograd.grad(sum((g * g).sum() for g in grads), operands)

    for order in (1, 2):
        for ours, steps in zip(gradients(True, order), gradients(False, order)):
            np.testing.assert_allclose(ours.numpy(), steps.numpy(), rtol=1e-10, atol=1e-12)


FUNCTIONAL_CELLS = {"lstm_cell": 4, "gru_cell": 3, "rnn_tanh_cell": 1, "rnn_relu_cell": 1}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL_CELLS))
@pytest.mark.parametrize("biases", [True, False])
def test_the_functional_cells_match_torchs_values_and_gradients(name, biases):
    gates = FUNCTIONAL_CELLS[name]
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (3, 5), (3, 5), (gates * 5, 4), (gates * 5, 5)]
    shapes += [(gates * 5,), (gates * 5,)] if biases else []
    arrays = [rng.standard_normal(shape) for shape in shapes]
    cotangent = rng.standard_normal((3, 5))
    results = []
    for library in (chainrule, torch):
        operands = [library.tensor(a, requires_grad=True) for a in arrays]
        hx = (operands[1], operands[2]) if name == "lstm_cell" else operands[1]
        out = getattr(library, name)(operands[0], hx, *operands[3:])
        if name == "lstm_cell":
            assert isinstance(out, tuple) and len(out) == 2
            out = out[0] + 2 * out[1]
        (out * library.tensor(cotangent)).sum().backward()
        grads = [o.grad.numpy() for o in operands if o.grad is not None]
        results.append([out.detach().numpy(), *grads])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_the_functional_cells_check_their_operands_as_torch():
    x, h = chainrule.ones(3, 4), chainrule.ones(3, 5)
    with pytest.raises(RuntimeError, match="weight_ih first dim must be 3 \\* hidden_size = 15"):
        chainrule.gru_cell(x, h, chainrule.ones(14, 4), chainrule.ones(15, 5))
    with pytest.raises(RuntimeError):
        torch.gru_cell(torch.ones(3, 4), torch.ones(3, 5), torch.ones(14, 4), torch.ones(15, 5))
    with pytest.raises(IndexError):
        chainrule.lstm_cell(
            chainrule.ones(4), (h[0], h[0]), chainrule.ones(20, 4), chainrule.ones(20, 5)
        )
    with pytest.raises(IndexError):
        torch.lstm_cell(
            torch.ones(4), (torch.ones(5), torch.ones(5)), torch.ones(20, 4), torch.ones(20, 5)
        )
