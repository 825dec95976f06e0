"""grad_fn names are PyTorch's: printing a tensor shows `grad_fn=<AddmmBackward0>`, so a
script's printed losses and outputs read the same under both libraries. PyTorch names one
call differently by its arguments (a Linear on a matrix is AddmmBackward0, on a batch
ViewBackward0; a sum over dims is SumBackward1), and so does chainrule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch.nn.attention import SDPBackend as TorchBackend
from torch.nn.attention import sdpa_kernel as torch_kernel

import chainrule
import chainrule.nn.functional as F
from chainrule.nn.attention import SDPBackend, sdpa_kernel

FUNCTIONAL = {chainrule: F, torch: TF}


def _inputs(lib):
    rng = np.random.default_rng(0)
    make = lambda *shape: lib.tensor(rng.random(shape) + 0.5, requires_grad=True)  # noqa: E731
    return {"x1": make(4), "x2": make(3, 4), "x3": make(2, 3, 4), "w": make(5, 4), "b": make(5)}


CALLS = {
    "linear matrix": lambda lib, fn, v: fn.linear(v["x2"], v["w"], v["b"]),
    "linear matrix, no bias": lambda lib, fn, v: fn.linear(v["x2"], v["w"]),
    "linear vector": lambda lib, fn, v: fn.linear(v["x1"], v["w"], v["b"]),
    "linear batch": lambda lib, fn, v: fn.linear(v["x3"], v["w"], v["b"]),
    "linear batch, no bias": lambda lib, fn, v: fn.linear(v["x3"], v["w"]),
    "matmul 2-D": lambda lib, fn, v: v["x2"] @ v["w"].T,
    "matmul matrix-vector": lambda lib, fn, v: v["x2"] @ v["x1"],
    "matmul vectors": lambda lib, fn, v: v["x1"] @ v["x1"],
    "matmul batched": lambda lib, fn, v: v["x3"] @ v["w"].T,
    "bmm": lambda lib, fn, v: lib.bmm(v["x3"], v["x3"].transpose(1, 2)),
    "cross_entropy": lambda lib, fn, v: fn.cross_entropy(v["x2"], lib.tensor([0, 3, 1])),
    "cross_entropy none": lambda lib, fn, v: fn.cross_entropy(
        v["x2"], lib.tensor([0, 3, 1]), reduction="none"
    ),
    "cross_entropy spatial": lambda lib, fn, v: fn.cross_entropy(v["x3"], lib.zeros(2, 4).long()),
    "nll_loss": lambda lib, fn, v: fn.nll_loss(v["x2"], lib.tensor([0, 3, 1])),
    "mse_loss": lambda lib, fn, v: fn.mse_loss(v["x2"], v["x2"].detach() * 2),
    "mse_loss sum": lambda lib, fn, v: fn.mse_loss(v["x2"], v["x2"].detach(), reduction="sum"),
    "binary_cross_entropy": lambda lib, fn, v: fn.binary_cross_entropy(
        v["x2"].sigmoid(), v["x2"].detach().sigmoid()
    ),
    "binary_cross_entropy_with_logits": lambda lib, fn, v: fn.binary_cross_entropy_with_logits(
        v["x2"], v["x2"].detach()
    ),
    "smooth_l1_loss": lambda lib, fn, v: fn.smooth_l1_loss(v["x2"], v["x2"].detach() * 3),
    "huber_loss": lambda lib, fn, v: fn.huber_loss(v["x2"], v["x2"].detach() * 3),
    "sum": lambda lib, fn, v: v["x2"].sum(),
    "sum over a dim": lambda lib, fn, v: v["x2"].sum(1, keepdim=True),
    "mean over dims": lambda lib, fn, v: v["x3"].mean((0, 2)),
    "nansum": lambda lib, fn, v: v["x2"].nansum(),
    "max": lambda lib, fn, v: v["x2"].max(),
    "max over a dim": lambda lib, fn, v: v["x2"].max(0).values,
    "min over a dim": lambda lib, fn, v: v["x2"].min(1)[0],
    "sort": lambda lib, fn, v: v["x2"].sort(1).values,
    "topk": lambda lib, fn, v: v["x2"].topk(2).values,
    "clamp": lambda lib, fn, v: v["x2"].clamp(0.6, 1.2),
    "clamp by tensors": lambda lib, fn, v: v["x2"].clamp(min=v["x1"].detach()),
    "t": lambda lib, fn, v: v["x2"].t(),
    "transpose": lambda lib, fn, v: v["x3"].transpose(0, 2),
    "unsqueeze": lambda lib, fn, v: v["x2"].unsqueeze(0),
    "squeeze()": lambda lib, fn, v: v["x2"][None].squeeze(),
    "squeeze(dim)": lambda lib, fn, v: v["x2"][None].squeeze(0),
    "x[0]": lambda lib, fn, v: v["x2"][0],
    "x[:, 0]": lambda lib, fn, v: v["x2"][:, 0],
    "x[1:]": lambda lib, fn, v: v["x2"][1:],
    "x[None]": lambda lib, fn, v: v["x2"][None],
    "select": lambda lib, fn, v: v["x2"].select(1, 0),
    "masked_fill": lambda lib, fn, v: v["x2"].masked_fill(v["x2"] > 1, 0.0),
    "norm": lambda lib, fn, v: v["x2"].norm(dim=1),
    "to float32": lambda lib, fn, v: v["x2"].to(lib.float32),
    "square": lambda lib, fn, v: v["x2"].square(),
    "log1p": lambda lib, fn, v: v["x2"].log1p(),
    "logsumexp": lambda lib, fn, v: v["x2"].logsumexp(1),
    "1 - x": lambda lib, fn, v: 1 - v["x2"],
    "1 / x": lambda lib, fn, v: 1 / v["x2"],
    "2 ** x": lambda lib, fn, v: 2 ** v["x2"],
    "x ** x": lambda lib, fn, v: v["x2"] ** v["x2"],
    "layer_norm": lambda lib, fn, v: fn.layer_norm(v["x2"], (4,)),
    "batch_norm": lambda lib, fn, v: fn.batch_norm(v["x2"], None, None, training=True),
    "embedding": lambda lib, fn, v: fn.embedding(lib.tensor([0, 2]), v["w"]),
    "max_pool2d": lambda lib, fn, v: fn.max_pool2d(v["x3"][None], 2),
    "avg_pool2d": lambda lib, fn, v: fn.avg_pool2d(v["x3"][None], 2),
    "global average pool": lambda lib, fn, v: fn.adaptive_avg_pool2d(v["x3"][None], 1),
    "conv_transpose2d": lambda lib, fn, v: fn.conv_transpose2d(
        v["x3"][None], v["x3"][:, None, :2, :2]
    ),
    "interpolate nearest": lambda lib, fn, v: fn.interpolate(v["x3"][None], scale_factor=2),
    "interpolate bilinear": lambda lib, fn, v: fn.interpolate(
        v["x3"][None], size=(5, 7), mode="bilinear"
    ),
    "interpolate linear": lambda lib, fn, v: fn.interpolate(v["x3"], size=7, mode="linear"),
    "adaptive_max_pool2d": lambda lib, fn, v: fn.adaptive_max_pool2d(v["x3"][None], 2),
    "prelu": lambda lib, fn, v: fn.prelu(v["x3"], lib.tensor([0.2], dtype=lib.float64)),
    "addmm": lambda lib, fn, v: lib.addmm(v["x1"], v["x2"].T, v["w"][:3]),
    "outer": lambda lib, fn, v: lib.outer(v["x1"], v["b"]),
    "trace": lambda lib, fn, v: v["x2"][:, :3].trace(),
    "pdist": lambda lib, fn, v: fn.pdist(v["x2"]),
    "pdist p=1": lambda lib, fn, v: fn.pdist(v["x2"], p=1),
    "embedding_bag sum, per-sample weights": lambda lib, fn, v: fn.embedding_bag(
        lib.tensor([0, 2, 4, 1]),
        v["w"],
        lib.tensor([0, 2]),
        mode="sum",
        per_sample_weights=v["x1"],
    ),
    "embedding_bag sum 2-D": lambda lib, fn, v: fn.embedding_bag(
        lib.tensor([[0, 2], [4, 1]]), v["w"], mode="sum", per_sample_weights=v["x2"][:2, :2]
    ),
    "embedding_bag max": lambda lib, fn, v: fn.embedding_bag(
        lib.tensor([0, 2, 4, 1]), v["w"], lib.tensor([0, 2]), mode="max"
    ),
    # indexing: a bare slice is the slice op even where it spans; full slices in a tuple alias
    "x[:]": lambda lib, fn, v: v["x2"][:],
    "x[0:5]": lambda lib, fn, v: v["x2"][0:5],
    "x[:, :]": lambda lib, fn, v: v["x2"][:, :],
    "x[(slice(None),)]": lambda lib, fn, v: v["x2"][(slice(None),)],
    "x[...]": lambda lib, fn, v: v["x2"][...],
    "t of a vector": lambda lib, fn, v: v["x1"].t(),
    "broadcast_to an int": lambda lib, fn, v: v["x1"].broadcast_to(v["x1"].shape[0]),
    # a number operand picks PyTorch's Scalar overload, named by its position
    "xlog1py(x, number)": lambda lib, fn, v: lib.special.xlog1py(v["x1"], 2.0),
    "xlog1py(number, x)": lambda lib, fn, v: lib.special.xlog1py(2.0, v["x1"]),
    "xlog1py(x, y)": lambda lib, fn, v: lib.special.xlog1py(v["x1"], v["x1"]),
    "float_power(number, x)": lambda lib, fn, v: lib.float_power(2, v["x1"]),
    "float_power(x, number)": lambda lib, fn, v: lib.float_power(v["x1"], 2),
    "float_power(x, y)": lambda lib, fn, v: lib.float_power(v["x1"], v["x1"]),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_grad_fn_is_named_as_pytorch_names_it(call):
    ours = call(chainrule, F, _inputs(chainrule))
    theirs = call(torch, TF, _inputs(torch))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]
    # scripts dispatch on the node's class: its name is PyTorch's too
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_t_of_a_vector_is_a_new_view_outside_the_graph_under_no_grad(lib):
    """t() of a 0-D or 1-D tensor is a view of it, not the tensor itself: made under no_grad,
    it is out of the graph (chainrule returned the input, whose gradient then flowed)."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    for source in (x, x[0]):
        with lib.no_grad():
            view = source.t()
        assert view is not source and view.grad_fn is None
        assert view._base is x and view.data_ptr() == source.data_ptr()


def test_layer_norm_with_weight_and_bias_is_one_node_as_in_pytorch():
    """NativeLayerNormBackward0 takes x, weight and bias directly (one op, AffineStandardize,
    not Standardize then a Mul and an Add), so its node's edges lead to the three leaves."""
    edges = {}
    for lib, fn in FUNCTIONAL.items():
        v = _inputs(lib)
        out = fn.layer_norm(v["x3"], (4,), v["x1"], v["x1"] * 0.5)
        edges[lib] = [type(node).__name__ for node, _ in out.grad_fn.next_functions]
    assert edges[chainrule] == edges[torch] == ["AccumulateGrad", "AccumulateGrad", "MulBackward0"]


def _square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    return Square


def test_node_classes_along_the_graph_are_named_as_pytorchs():
    names = {}
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        y = _square(lib).apply(x * 2 + 1).sum()
        node, seen = y.grad_fn, []
        while node is not None:
            seen.append(type(node).__name__)
            node = node.next_functions[0][0] if node.next_functions else None
        names[lib] = seen
        assert isinstance(y.grad_fn, lib.autograd.graph.Node)
    assert names[chainrule] == names[torch]
    assert names[torch] == [
        "SumBackward0",
        "SquareBackward",
        "AddBackward0",
        "MulBackward0",
        "AccumulateGrad",
    ]


WRITES = {
    "x[0] = 1": lambda lib, x: x.__setitem__(0, 1.0),
    "x[:, 1:] = 1": lambda lib, x: x.__setitem__((slice(None), slice(1, None)), 1.0),
    "x[..., 0] = 1": lambda lib, x: x.__setitem__((Ellipsis, 0), 1.0),
    "x[None, 0] = 1": lambda lib, x: x.__setitem__((None, 0), 1.0),
    "x[0, idx] = 1": lambda lib, x: x.__setitem__((0, lib.tensor([1, 2])), 1.0),
    "x[idx] = 1": lambda lib, x: x.__setitem__(lib.tensor([1, 0]), 1.0),
    "x[:, idx] = 1": lambda lib, x: x.__setitem__((slice(None), lib.tensor([1, 0])), 1.0),
    "x[mask] = 0": lambda lib, x: x.__setitem__(x > 1, 0.0),
    "x[:] = 1": lambda lib, x: x.__setitem__(slice(None), 1.0),
    "x[0:3] = 1": lambda lib, x: x.__setitem__(slice(0, 3), 1.0),
    "x[...] = row": lambda lib, x: x.__setitem__(Ellipsis, lib.ones(4)),
    "x[...] = 0-dim": lambda lib, x: x.__setitem__(Ellipsis, lib.tensor(2.0)),
    "fill_(number)": lambda lib, x: x.fill_(1.0),
    "fill_(0-dim)": lambda lib, x: x.fill_(lib.tensor(1.0)),
    "zero_": lambda lib, x: x.zero_(),
    "copy_": lambda lib, x: x.copy_(lib.zeros(4)),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_in_place_names_its_node_as_pytorch_does(write):
    """What a printed tensor shows after `x[0] = 1` (`grad_fn=<CopySlices>`), `fill_` ..."""
    shown = []
    for lib in (chainrule, torch):
        x = lib.ones(3, 4, requires_grad=True) * 2
        write(lib, x)
        shown.append((type(x.grad_fn).__name__, repr(x).split("grad_fn=")[1]))
    assert shown[0] == shown[1]


def test_a_renamed_call_leaves_its_input_alone():
    x = chainrule.ones(3, requires_grad=True) * 2
    x.t()  # a 1-D t() returns its input: it must not rename the input's node
    x.sum(0)
    assert x.grad_fn.name() == "MulBackward0"


def _heads(lib, *shape):
    values = np.cos(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape)
    return lib.tensor(values, dtype=lib.float32, requires_grad=True)


ATTENTION = {
    "4-D": lambda lib, fn: fn.scaled_dot_product_attention(*[_heads(lib, 2, 2, 5, 4)] * 3),
    "causal, scaled": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, is_causal=True, scale=0.3
    ),
    "bool mask": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, attn_mask=lib.ones(5, 5, dtype=lib.bool).tril()
    ),
    "4-D mask": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, attn_mask=lib.zeros(2, 1, 1, 5)
    ),
    "3-D mask": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, attn_mask=lib.zeros(1, 5, 5)
    ),
    "mask with grad": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, attn_mask=lib.zeros(5, 5, requires_grad=True)
    ),
    "grouped heads": lambda lib, fn: fn.scaled_dot_product_attention(
        _heads(lib, 2, 4, 5, 4), _heads(lib, 2, 2, 5, 4), _heads(lib, 2, 2, 5, 4), enable_gqa=True
    ),
    "3-D": lambda lib, fn: fn.scaled_dot_product_attention(*[_heads(lib, 2, 5, 4)] * 3),
    "dropout": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4)] * 3, dropout_p=0.5
    ),
    "value head size differs": lambda lib, fn: fn.scaled_dot_product_attention(
        _heads(lib, 2, 2, 5, 4), _heads(lib, 2, 2, 3, 4), _heads(lib, 2, 2, 3, 6)
    ),
    "key batch broadcast": lambda lib, fn: fn.scaled_dot_product_attention(
        _heads(lib, 2, 2, 5, 4), _heads(lib, 1, 2, 5, 4), _heads(lib, 1, 2, 5, 4)
    ),
    "key not unit-strided": lambda lib, fn: fn.scaled_dot_product_attention(
        _heads(lib, 2, 2, 5, 4), _heads(lib, 2, 2, 4, 5).transpose(-1, -2), _heads(lib, 2, 2, 5, 4)
    ),
    "bfloat16": lambda lib, fn: fn.scaled_dot_product_attention(
        *[_heads(lib, 2, 2, 5, 4).bfloat16()] * 3
    ),
}


@pytest.mark.parametrize("call", ATTENTION.values(), ids=ATTENTION.keys())
def test_attention_is_named_for_the_kernel_pytorchs_cpu_runs(call):
    """PyTorch's CPU runs its flash kernel for 4-D attention without dropout (one batch size
    and head size, a 2-D or 4-D mask without grad, ...) and the math kernel otherwise: the
    result's grad_fn is ScaledDotProductFlashAttentionForCpuBackward0 or the math's last op."""
    ours = call(chainrule, F)
    theirs = call(torch, TF)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


def test_pinning_the_math_kernel_names_the_math_kernels_node():
    """sdpa_kernel([MATH]) turns the flash switch off for its block, as PyTorch's: the result
    is the math kernel's (UnsafeViewBackward0) inside, the flash kernel's again after."""
    names = {}
    for lib, fn, kernel, math in [
        (chainrule, F, sdpa_kernel, SDPBackend.MATH),
        (torch, TF, torch_kernel, TorchBackend.MATH),
    ]:
        operands = [_heads(lib, 1, 2, 3, 4)] * 3
        with kernel([math]):
            inside = fn.scaled_dot_product_attention(*operands).grad_fn.name()
            switch = lib.backends.cuda.flash_sdp_enabled()
        after = fn.scaled_dot_product_attention(*operands).grad_fn.name()
        names[lib] = (inside, switch, after, lib.backends.cuda.flash_sdp_enabled())
    assert names[chainrule] == names[torch]
    assert names[torch][0] == "UnsafeViewBackward0"


@pytest.mark.parametrize("widths", [(1, 2), (-1, 1, 0, 0), (0, 0)], ids=str)
def test_circular_pad_prints_as_pytorchs_copy_slices(widths):
    """PyTorch's circular pad writes slices into a new tensor: its result prints
    `grad_fn=<CopySlices>` and its node's class is CopySlices, whatever the widths (name()
    carries PyTorch's C++ namespace there, "torch::autograd::CopySlices", for CopySlices
    wherever it appears)."""
    ours = F.pad(_inputs(chainrule)["x3"], widths, mode="circular")
    theirs = TF.pad(_inputs(torch)["x3"], widths, mode="circular")
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "CopySlices"


RECURRENT = {
    "rnn": ("RNN", {}),
    "rnn relu, 2 layers": ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    "rnn batch_first": ("RNN", {"batch_first": True}),
    "gru": ("GRU", {}),
    "gru bidirectional": ("GRU", {"bidirectional": True}),
    "gru batch_first": ("GRU", {"batch_first": True}),
    "lstm": ("LSTM", {}),
    "lstm 2 layers": ("LSTM", {"num_layers": 2}),
    "lstm bidirectional": ("LSTM", {"bidirectional": True}),
    "lstm batch_first": ("LSTM", {"batch_first": True}),
    "lstm with projections": ("LSTM", {"proj_size": 2}),
}


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("layer", RECURRENT.values(), ids=RECURRENT.keys())
def test_a_recurrent_layers_output_prints_pytorchs_node(layer, packed):
    """A tutorial prints an nn.RNN's output: PyTorch's CPU kernels stack the steps (RNN, GRU,
    an LSTM with projections), run a one-direction LSTM as one oneDNN layer, cat the two
    directions and a packed sequence's steps, and transpose batch_first outputs."""
    kind, options = layer
    names = []
    for lib in (chainrule, torch):
        x = _inputs(lib)["x3"].float()  # (2, 3, 4): 3 sequences of 2 steps, or the reverse
        module = getattr(lib.nn, kind)(4, 3, **options)
        if packed:
            first = options.get("batch_first", False)
            lengths = lib.tensor([3, 2] if first else [2, 2, 1])
            x = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=first)
        output, state = module(x)
        output = output.data if packed else output
        h_n = state[0] if kind == "LSTM" else state
        names.append((type(output.grad_fn).__name__, h_n.grad_fn.name()))
    assert names[0] == names[1]
