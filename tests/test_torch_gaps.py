"""Tensor methods and torch functions PyTorch programs reach for, against torch: in-place
index forms, apply_/map_, memory facts, legacy type conversions, jit pass-throughs and the
matmul-precision switch. Values and gradients of the composed functions are in
tests/op_specs/composites.py."""

import numpy as np
import pytest
import torch

import chainrule


def _both(array):
    return chainrule.tensor(array), torch.tensor(array)


def test_in_place_index_forms_write_like_torch():
    values = np.arange(12.0).reshape(3, 4)
    index = np.array([2, 0])
    ours, theirs = _both(values)
    ours.index_fill_(1, chainrule.tensor(index), 7.0)
    theirs.index_fill_(1, torch.tensor(index), 7.0)
    ours.index_copy_(0, chainrule.tensor(index), chainrule.ones(2, 4, dtype=chainrule.float64))
    theirs.index_copy_(0, torch.tensor(index), torch.ones(2, 4, dtype=torch.float64))
    ours.put_(chainrule.tensor([1, 1]), chainrule.tensor([1.0, 2.0]).double(), accumulate=True)
    theirs.put_(torch.tensor([1, 1]), torch.tensor([1.0, 2.0], dtype=torch.float64), True)
    mask = values > 6
    ours.masked_scatter_(chainrule.tensor(mask), -chainrule.arange(5.0).double())
    theirs.masked_scatter_(torch.tensor(mask), -torch.arange(5.0, dtype=torch.float64))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_index_fill_of_a_non_leaf_carries_the_gradient():
    base = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = base * 2
    y.index_fill_(0, chainrule.tensor([1]), 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), [2.0, 0.0, 2.0])


def test_index_and_mask_errors_match_torch():
    x = chainrule.zeros(2, 3)
    with pytest.raises(IndexError):
        x.index_fill(1, chainrule.tensor([3]), 1.0)
    with pytest.raises(RuntimeError, match="at least as many elements"):
        x.masked_scatter(chainrule.ones(2, 3, dtype=chainrule.bool), chainrule.ones(5))
    with pytest.raises(RuntimeError, match="same number of elements"):
        x.put(chainrule.tensor([0, 1]), chainrule.ones(3))


def test_apply_and_map_call_python_per_element_outside_autograd():
    ours, theirs = _both(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(
        ours.apply_(lambda v: v * v + 1).numpy(), theirs.apply_(lambda v: v * v + 1).numpy()
    )
    other = np.array([10.0, 20.0, 30.0])
    ours.map_(chainrule.tensor(other), lambda a, b: a - b)
    theirs.map_(torch.tensor(other), lambda a, b: a - b)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="requires grad"):
        chainrule.zeros(2, requires_grad=True).apply_(abs)


def test_memory_facts_match_torch():
    ours, theirs = _both(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    for pick in (
        lambda t: t,
        lambda t: t[1],
        lambda t: t[1:, 1:, 2:],
        lambda t: t[:, 2],
        lambda t: t.transpose(0, 2)[1],
    ):
        assert pick(ours).storage_offset() == pick(theirs).storage_offset()
        assert pick(ours).nbytes == pick(theirs).nbytes
    assert ours.itemsize == theirs.itemsize == 4
    assert chainrule.zeros(3, dtype=chainrule.int16).itemsize == 2


def test_storages_describe_the_shared_memory_as_torchs_do():
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    ours, theirs = _both(values)
    for pick in (
        lambda t: t,
        lambda t: t[1:],
        lambda t: t.transpose(0, 2)[1],
        lambda t: t.view(6, 4),
    ):
        mine, yours = pick(ours).untyped_storage(), pick(theirs).untyped_storage()
        assert mine.data_ptr() == ours.data_ptr()  # views share their base's block
        assert (mine.nbytes(), mine.size(), len(mine), mine.element_size()) == (
            yours.nbytes(),
            yours.size(),
            len(yours),
            yours.element_size(),
        )
        assert mine.tolist() == yours.tolist()
        assert mine[5] == yours[5]
    assert ours.clone().untyped_storage().data_ptr() != ours.untyped_storage().data_ptr()
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        typed = ours[1].storage()
    with pytest.warns(UserWarning):
        expected = theirs[1].storage()
    assert (typed.size(), typed.nbytes(), typed.element_size()) == (
        expected.size(),
        expected.nbytes(),
        expected.element_size(),
    )
    assert typed.tolist() == expected.tolist() and typed[3] == expected[3]
    assert str(typed.dtype) == "chainrule.float32" and typed.data_ptr() == ours.data_ptr()
    small, small_torch = _both(np.arange(3.0, dtype=np.float32))
    with pytest.warns(UserWarning):
        ours_text, theirs_text = repr(small.storage()), repr(small_torch.storage())
    assert ours_text == theirs_text.replace("torch", "chainrule")
    assert repr(small.untyped_storage()) == repr(small_torch.untyped_storage()).replace(
        "torch", "chainrule"
    )


def test_type_converts_to_legacy_types_by_class_or_name():
    x = chainrule.tensor([1.5, -2.0])
    assert x.type() == "chainrule.FloatTensor"
    assert x.type(chainrule.DoubleTensor).dtype == chainrule.float64
    assert x.type("torch.LongTensor").dtype == chainrule.int64
    assert x.type("chainrule.IntTensor").tolist() == torch.tensor([1.5, -2.0]).int().tolist()
    assert x.type(chainrule.float64).dtype == chainrule.float64
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.Foo")


def test_jit_decorators_return_what_they_are_given():
    model = chainrule.nn.Linear(2, 2)
    assert chainrule.jit.script(model) is model
    assert chainrule.jit.trace(model, chainrule.zeros(1, 2)) is model

    @chainrule.jit.ignore
    def helper(x):
        return x + 1

    @chainrule.jit.ignore(drop=True)
    def dropped(x):
        return x - 1

    assert helper(1) == 2 and dropped(1) == 0
    assert chainrule.jit.unused(helper) is helper and chainrule.jit.export(helper) is helper
    assert not chainrule.jit.is_scripting() and not chainrule.jit.is_tracing()


def test_a_module_annotated_with_jit_final_runs_as_in_torch():
    class Attention(chainrule.nn.Module):  # timm's layers annotate flags this way
        fused: chainrule.jit.Final[bool]

        def __init__(self):
            super().__init__()
            self.fused = True

    assert chainrule.jit.Final is torch.jit.Final
    assert Attention().fused


def test_eager_torchscript_helpers_answer_as_torchs_do_outside_the_compiler():
    """torchvision-style model code: annotate, isinstance over typing containers, Attribute,
    fork/wait, and the decorators and passes that return what they are given."""
    import typing

    features = chainrule.jit.annotate(typing.List[chainrule.Tensor], [])  # noqa: UP006
    assert features == [] and torch.jit.annotate(typing.List[torch.Tensor], []) == []  # noqa: UP006
    cases = [
        ([1, 2], typing.List[int]),  # noqa: UP006
        ([1, "a"], list[int]),
        ({"w": 1.5}, dict[str, float]),
        ({"w": "x"}, dict[str, float]),
        ((1, "a"), tuple[int, str]),
        ((1, 2, 3), tuple[int, ...]),  # False under both: elements are matched one to one
        ((1,), tuple[int, str]),
        (None, typing.Optional[int]),  # noqa: UP045
        (2.5, int | None),
        (3, int),
        ("s", list[str]),
    ]
    for obj, target in cases:
        assert chainrule.jit.isinstance(obj, target) == torch.jit.isinstance(obj, target), target
    with pytest.warns(UserWarning, match="inner type of a container is lost"):
        assert chainrule.jit.isinstance([], list[int])
    assert tuple(chainrule.jit.Attribute(3, int)) == tuple(torch.jit.Attribute(3, int))
    assert chainrule.jit.Attribute(3, int).value == 3
    future = chainrule.jit.fork(lambda a, b=0: a + b, 2, b=3)
    assert chainrule.jit.wait(future) == future.wait() == 5
    assert not issubclass(chainrule.jit.Error, RuntimeError)
    assert issubclass(torch.jit.Error, Exception) and not issubclass(torch.jit.Error, RuntimeError)
    model = chainrule.nn.Linear(2, 2)
    assert chainrule.jit.freeze(model) is model
    assert chainrule.jit.optimize_for_inference(model) is model
    assert chainrule.jit.script_if_tracing(len) is len
    assert chainrule.jit.interface(dict) is dict


def test_torchvision_model_code_finds_torch_assert_and_the_usage_logger():
    """torchvision's models call torch._C._log_api_usage_once in __init__ and check input
    sizes with torch._assert, which raises AssertionError as the assert statement does."""
    assert chainrule._C._log_api_usage_once("torchvision.models.vit") is None
    assert torch._C._log_api_usage_once("torchvision.models.vit") is None
    assert chainrule._C._get_tracing_state() is torch._C._get_tracing_state() is None
    for lib in (chainrule, torch):
        lib._assert(True, "unused")
        lib._assert(lib.tensor(4) == 4, "unused")
        for false in (False, lib.tensor(0.0), lib.tensor([False])):
            with pytest.raises(AssertionError, match="^Wrong image height!$"):
                lib._assert(false, "Wrong image height!")
        with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
            lib._assert(lib.tensor([True, False]), "ambiguous")


def test_backend_availability_queries_answer_for_chainrule():
    for name in ("mkldnn", "openmp", "mps"):
        assert getattr(chainrule.backends, name).is_available() is False
    assert chainrule.backends.mkldnn.enabled is True  # the flag a script may switch off


def test_float32_matmul_precision_is_recorded_as_torch_does():
    assert chainrule.get_float32_matmul_precision() == "highest"
    try:
        chainrule.set_float32_matmul_precision("high")
        assert chainrule.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="no effect"):
            chainrule.set_float32_matmul_precision("HIGH")
        assert chainrule.get_float32_matmul_precision() == "high"
    finally:
        chainrule.set_float32_matmul_precision("highest")


def test_channel_shuffle_matches_torch():
    values = np.arange(2 * 6 * 3, dtype=np.float64).reshape(2, 6, 3)
    ours = chainrule.nn.ChannelShuffle(3)(chainrule.tensor(values))
    theirs = torch.nn.ChannelShuffle(3)(torch.tensor(values))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="divisible by groups"):
        chainrule.nn.functional.channel_shuffle(chainrule.tensor(values), 4)


def test_gumbel_softmax_samples_the_softmax_distribution():
    logits = chainrule.tensor([1.0, 0.0, -1.0, 0.5])
    expected = chainrule.softmax(logits, 0).numpy()
    chainrule.manual_seed(0)
    samples = chainrule.nn.functional.gumbel_softmax(logits.expand(4000, 4), hard=True)
    assert set(np.unique(samples.numpy())) == {0.0, 1.0}
    np.testing.assert_array_equal(samples.sum(-1).numpy(), np.ones(4000))
    np.testing.assert_allclose(samples.mean(0).numpy(), expected, atol=0.03)


def test_hard_gumbel_softmax_passes_the_soft_gradient_straight_through():
    weights = chainrule.arange(5.0)
    grads = []
    for hard in (False, True):
        logits = chainrule.tensor([[0.3, -0.2, 0.1, 0.0, 0.5]], requires_grad=True)
        chainrule.manual_seed(3)
        sample = chainrule.nn.functional.gumbel_softmax(logits, tau=0.7, hard=hard)
        (sample * weights).sum().backward()
        grads.append(logits.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_weighted_random_sampler_draws_by_weight():
    from chainrule.data import WeightedRandomSampler

    weights = [1.0, 2.0, 7.0, 0.0]
    counts = np.bincount(list(WeightedRandomSampler(weights, 20000)), minlength=4)
    np.testing.assert_allclose(counts / 20000, np.array(weights) / 10, atol=0.015)
    drawn = list(WeightedRandomSampler(weights, 3, replacement=False))
    assert sorted(drawn) == [0, 1, 2]
    assert len(WeightedRandomSampler(weights, 7)) == 7
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler(weights, 0)
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)


BAG_WEIGHT = np.random.default_rng(5).standard_normal((6, 3))
BAG_INPUT = np.array([1, 2, 4, 5, 4, 3, 2, 0, 5])
BAG_OFFSETS = np.array([0, 2, 2, 6])  # the second bag is empty


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_matches_torch(mode, padding_idx, include_last_offset):
    offsets = np.append(BAG_OFFSETS, len(BAG_INPUT)) if include_last_offset else BAG_OFFSETS
    cotangent = np.random.default_rng(6).standard_normal((4, 3))
    results = []
    for lib, functional in ((chainrule, chainrule.nn.functional), (torch, torch.nn.functional)):
        weight = lib.tensor(BAG_WEIGHT, requires_grad=True)
        out = functional.embedding_bag(
            lib.tensor(BAG_INPUT),
            weight,
            lib.tensor(offsets),
            mode=mode,
            padding_idx=padding_idx,
            include_last_offset=include_last_offset,
        )
        (out * lib.tensor(cotangent)).sum().backward()
        results.append((out.detach().numpy(), weight.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_embedding_bag_module_with_per_sample_weights_and_2d_input():
    bag = chainrule.nn.EmbeddingBag.from_pretrained(
        chainrule.tensor(BAG_WEIGHT), freeze=False, mode="sum"
    )
    reference = torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(BAG_WEIGHT), freeze=False, mode="sum"
    )
    scales = np.linspace(-1.0, 2.0, len(BAG_INPUT))
    ours_scales = chainrule.tensor(scales, requires_grad=True)
    theirs_scales = torch.tensor(scales, requires_grad=True)
    ours = bag(chainrule.tensor(BAG_INPUT), chainrule.tensor(BAG_OFFSETS), ours_scales)
    theirs = reference(torch.tensor(BAG_INPUT), torch.tensor(BAG_OFFSETS), theirs_scales)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_scales.grad.numpy(), theirs_scales.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bag.weight.grad.numpy(), reference.weight.grad.numpy(), rtol=1e-12)
    rows = np.array([[0, 1, 5], [2, 2, 3]])
    np.testing.assert_allclose(
        chainrule.nn.EmbeddingBag.from_pretrained(chainrule.tensor(BAG_WEIGHT))(
            chainrule.tensor(rows)
        ).numpy(),
        torch.nn.EmbeddingBag.from_pretrained(torch.tensor(BAG_WEIGHT))(torch.tensor(rows))
        .detach()
        .numpy(),
        rtol=1e-12,
    )
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        chainrule.nn.functional.embedding_bag(
            chainrule.tensor(BAG_INPUT),
            chainrule.tensor(BAG_WEIGHT),
            chainrule.tensor(BAG_OFFSETS),
            per_sample_weights=ours_scales,
        )


@pytest.mark.parametrize(
    ("make_lazy", "make_eager", "example"),
    [
        (lambda: chainrule.nn.LazyLinear(2), lambda: chainrule.nn.Linear(3, 2), (4, 3)),
        (
            lambda: chainrule.nn.LazyConv1d(4, 3, groups=2),
            lambda: chainrule.nn.Conv1d(2, 4, 3, groups=2),
            (1, 2, 6),
        ),
        (
            lambda: chainrule.nn.LazyConv2d(3, 2, bias=False),
            lambda: chainrule.nn.Conv2d(5, 3, 2, bias=False),
            (5, 4, 4),  # unbatched: channels from dimension 0
        ),
        (
            lambda: chainrule.nn.LazyConv3d(2, 1),
            lambda: chainrule.nn.Conv3d(1, 2, 1),
            (2, 1, 2, 2, 2),
        ),
    ],
)
def test_lazy_layers_become_the_eager_layer_on_first_call(make_lazy, make_eager, example):
    x = chainrule.randn(*example)
    chainrule.manual_seed(11)
    eager = make_eager()
    chainrule.manual_seed(11)
    lazy = make_lazy()
    placeholders = list(lazy.parameters())
    assert all(isinstance(p, chainrule.nn.UninitializedParameter) for p in placeholders)
    optimizer = chainrule.optim.SGD(lazy.parameters(), lr=0.5)  # built before the first call
    chainrule.manual_seed(11)  # the first call draws the initial weights as the eager init did
    out = lazy(x)
    assert type(lazy) is type(eager)
    assert list(lazy.parameters()) == placeholders  # the same objects, now with memory
    for mine, reference in zip(lazy.parameters(), eager.parameters()):
        assert type(mine) is chainrule.nn.Parameter
        np.testing.assert_array_equal(mine.detach().numpy(), reference.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), eager(x).detach().numpy(), rtol=1e-6)
    out.sum().backward()
    before = placeholders[0].detach().clone()
    optimizer.step()
    assert not np.array_equal(placeholders[0].detach().numpy(), before.numpy())


def test_as_strided_is_a_view_of_the_memory_block_as_torch():
    ours, theirs = _both(np.arange(12.0).reshape(3, 4))
    for lib_tensor in (ours, theirs):
        view = lib_tensor[1:].as_strided((2, 2), (4, 1))  # offset: the slice's own (4)
        view[0, 0] = -1.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(
        ours.as_strided((3,), (5,), 0).numpy(), theirs.as_strided((3,), (5,), 0).numpy()
    )
    with pytest.raises(RuntimeError, match="out of bounds"):
        ours.as_strided((4,), (4,))


def test_empty_strided_has_the_strides_asked_for():
    ours = chainrule.empty_strided((2, 3), (1, 2), dtype=chainrule.float64)
    theirs = torch.empty_strided((2, 3), (1, 2), dtype=torch.float64)
    assert ours.stride() == theirs.stride() and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == chainrule.float64


LAYOUTS = {
    "transposed": lambda lib: lib.arange(6.0).reshape(2, 3).t(),
    "permuted": lambda lib: lib.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1),
    "strided slice": lambda lib: lib.arange(12.0).reshape(3, 4)[:, ::2],
    "transposed slice": lambda lib: lib.arange(12.0).reshape(3, 4).t()[1:],
    "expanded": lambda lib: lib.arange(3.0).expand(2, 3),
    "size-1 dims": lambda lib: lib.arange(3.0).reshape(3, 1).t(),
    "unfolded windows": lambda lib: lib.arange(24.0).view(2, 3, 4).unfold(2, 3, 1),
    "contiguous": lambda lib: lib.arange(6.0).reshape(2, 3),
}
COPIES = {
    "clone": lambda lib, x: x.clone(),
    "clone preserve_format": lambda lib, x: x.clone(memory_format=lib.preserve_format),
    "clone contiguous_format": lambda lib, x: x.clone(memory_format=lib.contiguous_format),
    "contiguous": lambda lib, x: x.contiguous(),
    "zeros_like": lambda lib, x: lib.zeros_like(x),
    "ones_like": lambda lib, x: lib.ones_like(x, dtype=lib.float64),
    "empty_like": lambda lib, x: lib.empty_like(x),
    "full_like": lambda lib, x: lib.full_like(x, 7),
    "zeros_like contiguous_format": lambda lib, x: lib.zeros_like(
        x, memory_format=lib.contiguous_format
    ),
    "rand_like": lambda lib, x: lib.rand_like(x),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "randint_like": lambda lib, x: lib.randint_like(x, 5),
}
UNSET_OR_RANDOM = {"empty_like", "rand_like", "randn_like", "randint_like"}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("name", COPIES)
def test_copies_keep_the_layout_as_pytorchs_preserve_format(name, layout):
    """clone() and the *_like functions default to preserve_format: a dense input's strides
    are kept (x.t().clone() is still transposed in memory), others come out dense in the
    order of their strides."""
    copy = COPIES[name]
    ours, theirs = copy(chainrule, layout(chainrule)), copy(torch, layout(torch))
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    if name not in UNSET_OR_RANDOM:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


CHANNELS_LAST_FACTORIES = {
    "empty": lambda lib, fmt, shape: lib.empty(*shape, memory_format=fmt),
    "zeros_like": lambda lib, fmt, shape: lib.zeros_like(lib.ones(*shape), memory_format=fmt),
    "ones_like": lambda lib, fmt, shape: lib.ones_like(lib.ones(*shape), memory_format=fmt),
    "empty_like": lambda lib, fmt, shape: lib.empty_like(lib.ones(*shape), memory_format=fmt),
    "full_like": lambda lib, fmt, shape: lib.full_like(lib.ones(*shape), 2.5, memory_format=fmt),
    "rand_like": lambda lib, fmt, shape: lib.rand_like(lib.ones(*shape), memory_format=fmt),
    "randn_like": lambda lib, fmt, shape: lib.randn_like(lib.ones(*shape), memory_format=fmt),
    "randint_like": lambda lib, fmt, shape: lib.randint_like(
        lib.ones(*shape), 5, memory_format=fmt
    ),
}


@pytest.mark.parametrize("name", CHANNELS_LAST_FACTORIES)
@pytest.mark.parametrize(
    ("fmt", "shape"), [("channels_last", (2, 3, 4, 5)), ("channels_last_3d", (1, 2, 3, 2, 2))]
)
def test_factories_lay_out_an_explicit_channels_last_memory_format_as_torch(name, fmt, shape):
    """torch.empty(..., memory_format=torch.channels_last) and the *_like functions given a
    channels-last format from a row-major input: the channels innermost, as PyTorch's."""
    make = CHANNELS_LAST_FACTORIES[name]
    ours = make(chainrule, getattr(chainrule, fmt), shape)
    theirs = make(torch, getattr(torch, fmt), shape)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous(memory_format=getattr(chainrule, fmt))
    if name in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match=f"required rank {len(shape)} tensor to use {fmt}"):
        make(chainrule, getattr(chainrule, fmt), shape[1:])


COMPARISONS = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_", "not_equal_"]


@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("other", ["number", "tensor", "tensor requiring grad"])
def test_a_comparison_in_place_on_a_graph_tensor_stays_in_the_graph(name, other):
    """x.lt_(y) on a float tensor that requires grad (or with a y that does) writes 1s and 0s
    and keeps requiring grad, with PyTorch's LtBackward0/1 node and a zero gradient: it
    silently left the graph before, so a later backward() raised."""
    seen = []
    for lib in (chainrule, torch):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = {
            "number": 2.0,
            "tensor": lib.tensor([1.0, 3.0, 2.0]),
            "tensor requiring grad": a * 0 + 2,
        }[other]
        x = a * 1 if other != "tensor requiring grad" else lib.ones(3)
        written = getattr(x, name)(y)
        assert written is x
        (x * a).sum().backward()
        grad_fn = type(x.grad_fn).__name__ if x.grad_fn is not None else None
        seen.append((x.tolist(), x.dtype is lib.float32, x.requires_grad, grad_fn, a.grad.tolist()))
    assert seen[0] == seen[1]


def test_a_comparison_in_place_outside_the_graph_records_nothing():
    x = chainrule.tensor([1.0, 2.0, 3.0])
    x.lt_(2.5)
    assert x.tolist() == [1.0, 1.0, 0.0] and x.grad_fn is None and not x.requires_grad
    with chainrule.no_grad():
        y = chainrule.tensor([1.0, 2.0], requires_grad=True) * 1
    assert y.ge_(2).grad_fn is None


LAYOUT_RESULTS = {
    "sum over a dim": lambda lib, x: x.sum(0),
    "mean keepdim": lambda lib, x: x.mean(1, keepdim=True),
    "amax": lambda lib, x: x.amax(0),
    "prod": lambda lib, x: x.prod(2),
    "var": lambda lib, x: x.var(0),
    "std": lambda lib, x: x.std(1),
    "norm": lambda lib, x: x.norm(dim=0),
    "logsumexp": lambda lib, x: x.logsumexp(0),
    "all": lambda lib, x: (x > 0).all(0),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x, 0),
    "to(int32)": lambda lib, x: x.to(lib.int32),
    "double() of expanded": lambda lib, x: x[:1].expand(3, -1, -1).double(),
    "bfloat16 relu of expanded": lambda lib, x: x[:1].expand(3, -1, -1).bfloat16().relu(),
    "repeat by ones": lambda lib, x: x.repeat(1, 1, 1),
}


@pytest.mark.parametrize("call", LAYOUT_RESULTS.values(), ids=LAYOUT_RESULTS.keys())
def test_results_are_laid_out_as_pytorchs(call):
    """Reductions of a permuted tensor are row-major in PyTorch (NumPy kept the input's
    order), a cast keeps a dense layout and makes an expanded one dense (NumPy's astype put
    the broadcast dimensions innermost), and repeat copies into row-major memory: so a later
    .view() works, or fails, as there."""
    ours, theirs = (
        call(lib, lib.arange(24.0).reshape(4, 3, 2).permute(2, 1, 0)) for lib in (chainrule, torch)
    )
    assert ours.stride() == theirs.stride()
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-6)


FILLS = [
    ("uint8", -1),
    ("uint8", -255),
    ("uint8", -256),
    ("uint8", 256),
    ("uint8", -1.0),
    ("uint8", 1.5),
    ("int8", 127),
    ("int8", 128),
    ("int8", -129),
    ("int32", 2**31),
    ("float32", 1e39),
    ("float32", float("inf")),
    ("bool", 5),
]


@pytest.mark.parametrize(("dtype", "value"), FILLS, ids=[f"{d} {v}" for d, v in FILLS])
def test_filling_checks_the_value_fits_as_pytorch(dtype, value):
    """fill_ and full convert their number as PyTorch (c10's checked_convert): an overflow is
    a RuntimeError, -1 wraps into uint8 as 255, a float truncates into an integer dtype.
    chainrule wrapped every value silently, and full raised OverflowError for uint8 and -1."""
    for make in (
        lambda lib: lib.zeros(3, dtype=getattr(lib, dtype)).fill_(value),
        lambda lib: lib.full((3,), value, dtype=getattr(lib, dtype)),
    ):
        try:
            expected = make(torch).tolist()
        except RuntimeError:
            with pytest.raises(RuntimeError, match="without overflow"):
                make(chainrule)
        else:
            assert make(chainrule).tolist() == expected


LIBS_PAIR = (chainrule, torch)
FLOATING_RESULTS = {
    "uint8 / -3": lambda lib, x: x / -3,
    "-3 / uint8": lambda lib, x: -3 / x,
    "uint8 / 300": lambda lib, x: lib.true_divide(x, 300),
    "uint8 / 0-dim int64 -3": lambda lib, x: x / lib.tensor(-3),
    "float_power(uint8, -1)": lambda lib, x: lib.float_power(x, -1),
    "float_power(-2, uint8)": lambda lib, x: lib.float_power(-2, x),
    "atan2(uint8, 0-dim -3)": lambda lib, x: lib.atan2(x, lib.tensor(-3)),
    "xlogy(-300, uint8)": lambda lib, x: lib.xlogy(-300, x),
    "bool / -2": lambda lib, x: x.bool() / -2,
}


@pytest.mark.parametrize("call", FLOATING_RESULTS.values(), ids=FLOATING_RESULTS.keys())
def test_an_integer_tensor_and_a_number_with_a_floating_result_keep_the_numbers_value(call):
    """An op whose result is floating casts each integer operand to float on its own: the
    number -3 never passes through uint8 (it wrapped to 253: uint8 [2] / -3 was 0.0079)."""
    ours, theirs = (call(lib, lib.tensor([2, 0, 1], dtype=lib.uint8)) for lib in LIBS_PAIR)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_integer_division_by_zero_of_nothing_is_empty():
    """PyTorch refuses an integer division by zero only where there is something to divide."""
    for lib in LIBS_PAIR:
        empty = lib.zeros(2, 0, dtype=lib.int32)
        assert (empty // 0).shape == (2, 0)
        assert lib.remainder(empty, lib.zeros(1, dtype=lib.int32)).shape == (2, 0)
    with pytest.raises(ZeroDivisionError):
        chainrule.ones(2, dtype=chainrule.int32) // 0


def test_an_in_place_write_into_an_empty_view_is_allowed():
    """An empty view shares no element (NumPy may give it stride 0): nothing to refuse."""
    for lib in LIBS_PAIR:
        y = lib.zeros(2, 0, 2)
        y[:1].neg_()
        y.unsqueeze(0).lt_(2.0)
        assert y.shape == (2, 0, 2)


@pytest.mark.parametrize("method", ["expand", "permute"])
def test_a_shape_method_without_its_sizes_is_a_type_error(method):
    """`x.expand()` and `x.permute()` miss their argument in PyTorch's binding (a 0-dim x
    returned itself here); `x.expand(())` gives the sizes, none."""
    for lib in LIBS_PAIR:
        with pytest.raises(TypeError, match="missing 1 required positional argument"):
            getattr(lib.zeros(()), method)()
        assert getattr(lib.zeros(()), method)(()).shape == ()


SIZE_KEYWORD_CALLS = {
    "reshape(shape=)": lambda lib, x: x.reshape(shape=(3, 2)),
    "torch.reshape(input=, shape=)": lambda lib, x: lib.reshape(input=x, shape=[6]),
    "view(size=)": lambda lib, x: x.view(size=(3, -1)),
    "view(dtype=)": lambda lib, x: x.view(dtype=lib.int32),
    "expand(size=, implicit=)": lambda lib, x: x[:1].expand(size=(2, 2, 3), implicit=False),
    "permute(dims=)": lambda lib, x: x.permute(dims=(1, 0)),
    "torch.permute(dims=)": lambda lib, x: lib.permute(x, dims=[1, 0]),
    "repeat(repeats=)": lambda lib, x: x.repeat(repeats=(2, 1, 1)),
    "tile(dims=)": lambda lib, x: lib.tile(x, dims=(2,)),
    "sum_to_size(size=)": lambda lib, x: x.sum_to_size(size=(1, 3)),
    "Tensor.split(split_size=)": lambda lib, x: x.split(split_size=2, dim=1)[1],
    "new_zeros(size=)": lambda lib, x: x.new_zeros(size=(2,)) + x.sum(),
    "new_ones(size=)": lambda lib, x: x.new_ones(size=[1, 3]) * x,
}


@pytest.mark.parametrize("call", SIZE_KEYWORD_CALLS.values(), ids=SIZE_KEYWORD_CALLS.keys())
def test_shape_methods_take_their_sizes_by_keyword_as_torch(call):
    """MAE's `imgs.reshape(shape=(n, c, h, p, w, q))`, `x.permute(dims=...)`, `x.view(size=)`:
    PyTorch's bindings name the varargs (shape, size, dims, repeats), so the keyword form
    runs; the result and its gradient are the positional form's."""
    values = np.arange(6.0).reshape(2, 3) - 2.5
    theirs_x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    ours_x = chainrule.tensor(values, dtype=chainrule.float32, requires_grad=True)
    theirs, ours = call(torch, theirs_x), call(chainrule, ours_x)
    assert (
        tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[10:] == str(theirs.dtype)[6:]
    )
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    if theirs.is_floating_point():
        weights = np.cos(np.arange(theirs.numel())).reshape(tuple(theirs.shape))
        (theirs * torch.tensor(weights, dtype=torch.float32)).sum().backward()
        (ours * chainrule.tensor(weights, dtype=chainrule.float32)).sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(2, 3).reshape(2, 3, shape=(3, 2)),
        lambda lib: lib.zeros(6).reshape(shape=6),
        lambda lib: lib.zeros(6).permute(dims=(0,), order=1),
        lambda lib: lib.zeros(6).new_zeros(2, size=(2,)),
        lambda lib: lib.zeros(6).split(split_size_or_sections=2),
        lambda lib: lib.split(lib.zeros(6), split_size=2),
        lambda lib: lib.zeros(6).repeat(repeats=2),
    ],
    ids=[
        "twice",
        "a bare int",
        "an unknown keyword",
        "new_zeros twice",
        "method's name",
        "function's name",
        "repeats an int",
    ],
)
def test_a_size_keyword_given_twice_or_wrong_is_a_type_error_as_torch(call):
    for lib in LIBS_PAIR:
        with pytest.raises(TypeError):
            call(lib)


def test_randint_takes_high_and_size_by_keyword_as_torch():
    """`torch.randint(high=5, size=(3,))` starts at 0; `randint(5, size=..., low=1)` and a
    missing size are refused."""
    for lib in LIBS_PAIR:
        drawn = lib.randint(high=5, size=(200,))
        assert drawn.shape == (200,) and drawn.dtype == lib.int64
        assert 0 <= int(drawn.min()) and int(drawn.max()) < 5
        assert lib.randint(low=3, high=4, size=[2]).tolist() == [3, 3]
        assert lib.randint(size=(2,), high=1).tolist() == [0, 0]
        with pytest.raises(TypeError):
            lib.randint(5, size=(2,), low=1)
        with pytest.raises(TypeError):
            lib.randint(5)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(0).topk(1),
        lambda lib: lib.zeros(3).topk(4),
        lambda lib: lib.zeros(3).kthvalue(5),
        lambda lib: lib.zeros(0).kthvalue(1),
    ],
    ids=["topk of empty", "topk past the size", "kthvalue past the size", "kthvalue of empty"],
)
def test_k_out_of_range_raises_what_pytorch_raises(call):
    """PyTorch raises RuntimeError for k past a non-empty size, IndexError for an empty one:
    chainrule's IndexRangeError is both (topk and kthvalue raised a plain IndexError)."""
    with pytest.raises(Exception) as theirs:  # noqa: PT011 - the type is the point
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(chainrule)


CHANNELS_LAST = {
    "contiguous(channels_last)": lambda lib, x: x.contiguous(memory_format=lib.channels_last),
    "to(memory_format)": lambda lib, x: x.to(memory_format=lib.channels_last),
    "clone(channels_last)": lambda lib, x: x.clone(memory_format=lib.channels_last),
    "then relu": lambda lib, x: x.to(memory_format=lib.channels_last).relu(),
    "then + 1": lambda lib, x: x.to(memory_format=lib.channels_last) + 1,
    "then clone": lambda lib, x: x.to(memory_format=lib.channels_last).clone(),
    "then zeros_like": lambda lib, x: lib.zeros_like(x.to(memory_format=lib.channels_last)),
    "then contiguous": lambda lib, x: x.to(memory_format=lib.channels_last).contiguous(),
    "channels_last_3d": lambda lib, x: x[None].contiguous(memory_format=lib.channels_last_3d),
}


@pytest.mark.parametrize("call", CHANNELS_LAST.values(), ids=CHANNELS_LAST.keys())
def test_channels_last_lays_out_the_channels_innermost(call):
    """`x.to(memory_format=torch.channels_last)` was accepted and changed nothing, and
    `is_contiguous(memory_format=...)` was a TypeError: both are PyTorch's now."""
    results = [call(lib, lib.arange(120.0).view(2, 3, 4, 5)) for lib in LIBS_PAIR]
    ours, theirs = results
    assert ours.stride() == theirs.stride()
    for name in ("contiguous_format", "channels_last", "channels_last_3d"):
        fmt = {lib: getattr(lib, name) for lib in LIBS_PAIR}
        assert ours.is_contiguous(memory_format=fmt[chainrule]) == theirs.is_contiguous(
            memory_format=fmt[torch]
        )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_module_moved_to_channels_last_moves_its_4d_weights():
    for lib in LIBS_PAIR:
        conv = lib.nn.Conv2d(3, 4, 3).to(memory_format=lib.channels_last)
        assert conv.weight.is_contiguous(memory_format=lib.channels_last)
        assert conv.weight.stride() == (27, 1, 9, 3) and conv.bias.stride() == (1,)
        with pytest.raises(RuntimeError, match="required rank 4"):
            lib.zeros(2, 3).contiguous(memory_format=lib.channels_last)


def _channels_last(lib, shape, start=0.0):
    x = lib.sin(lib.arange(float(np.prod(shape))) * 0.37 + start).view(*shape)
    return x.contiguous(
        memory_format=lib.channels_last if len(shape) == 4 else lib.channels_last_3d
    )


LAYOUT_KEEPING = {
    "conv2d, input channels last": lambda lib, x, fn: fn.conv2d(
        x, lib.cos(lib.arange(72.0)).view(6, 3, 2, 2), lib.ones(6), padding=1
    ),
    "conv2d, weight channels last": lambda lib, x, fn: fn.conv2d(
        x.contiguous(), _channels_last(lib, (6, 3, 2, 2))
    ),
    "depthwise conv2d": lambda lib, x, fn: fn.conv2d(x, lib.ones(3, 1, 3, 3), groups=3),
    "conv_transpose2d": lambda lib, x, fn: fn.conv_transpose2d(
        x, lib.cos(lib.arange(24.0)).view(3, 2, 2, 2), stride=2, output_padding=1
    ),
    "conv3d, channels_last_3d": lambda lib, x, fn: fn.conv3d(
        _channels_last(lib, (2, 3, 3, 4, 5)), lib.ones(4, 3, 2, 2, 2)
    ),
    "conv2d of a channels-last slice": lambda lib, x, fn: fn.conv2d(
        x[:, :, 1:, :-1], lib.ones(2, 3, 1, 1)
    ),
    "max_pool2d": lambda lib, x, fn: fn.max_pool2d(x, 2),
    "max_pool2d indices": lambda lib, x, fn: fn.max_pool2d(x, 2, return_indices=True)[1],
    "adaptive_max_pool2d": lambda lib, x, fn: fn.adaptive_max_pool2d(x, (3, 2)),
    "cat of channels-last tensors": lambda lib, x, fn: lib.cat([x, x * 2], dim=1),
    "cat of mixed layouts": lambda lib, x, fn: lib.cat([x, x.contiguous()], dim=1),
    "conv2d to 1x1 (ambiguous)": lambda lib, x, fn: fn.conv2d(x, lib.ones(2, 3, 4, 5)),
    "batch_norm": lambda lib, x, fn: fn.batch_norm(x, None, None, lib.ones(3), None, True),
    "group_norm": lambda lib, x, fn: fn.group_norm(x, 3),
    "instance_norm (row-major, as PyTorch's)": lambda lib, x, fn: fn.instance_norm(x),
    "avg_pool2d": lambda lib, x, fn: fn.avg_pool2d(x, 2),
    "adaptive_avg_pool2d to 1x1": lambda lib, x, fn: fn.adaptive_avg_pool2d(x, 1),
    "adaptive_avg_pool2d": lambda lib, x, fn: fn.adaptive_avg_pool2d(x, (3, 2)),
    "interpolate bilinear": lambda lib, x, fn: fn.interpolate(x, scale_factor=2, mode="bilinear"),
    "interpolate nearest": lambda lib, x, fn: fn.interpolate(x, size=(3, 7)),
    "pixel_shuffle": lambda lib, x, fn: fn.pixel_shuffle(lib.cat([x, x, x, x], 1)[:, :8], 2),
    # 3-D: PyTorch's max pooling and global average keep channels_last_3d, the rest do not
    "max_pool3d": lambda lib, x, fn: fn.max_pool3d(_channels_last(lib, (2, 3, 2, 4, 5)), 2),
    "avg_pool3d (row-major)": lambda lib, x, fn: fn.avg_pool3d(
        _channels_last(lib, (2, 3, 2, 4, 5)), 2
    ),
    "adaptive_avg_pool3d (row-major)": lambda lib, x, fn: fn.adaptive_avg_pool3d(
        _channels_last(lib, (2, 3, 2, 4, 5)), (1, 2, 2)
    ),
    "adaptive_avg_pool3d to 1": lambda lib, x, fn: fn.adaptive_avg_pool3d(
        _channels_last(lib, (2, 3, 2, 4, 5)), 1
    ),
    "adaptive_max_pool3d (row-major)": lambda lib, x, fn: fn.adaptive_max_pool3d(
        _channels_last(lib, (2, 3, 2, 4, 5)), (1, 2, 2)
    ),
}


@pytest.mark.parametrize("call", LAYOUT_KEEPING.values(), ids=LAYOUT_KEEPING.keys())
def test_convolutions_pooling_and_cat_keep_a_channels_last_layout(call):
    """PyTorch's conv, transposed conv, pooling, batch and group norm, interpolation, pixel
    shuffle and cat give a channels-last output when their input (or a conv's weight) is
    channels-last (`suggest_memory_format`): the strides a program prints and
    `is_contiguous(memory_format=...)` follow. The values and the input's gradient are
    unchanged."""
    results = []
    for lib in LIBS_PAIR:
        x = _channels_last(lib, (2, 3, 4, 5)).requires_grad_(True)
        out = call(lib, x, lib.nn.functional)
        layout = (
            out.stride(),
            out.is_contiguous(),
            out.is_contiguous(memory_format=lib.channels_last),
        )
        if out.requires_grad:
            (out * lib.cos(lib.arange(float(out.numel()))).view(out.shape)).sum().backward()
        grad = None if x.grad is None else (x.grad.numpy(), x.grad.stride())
        results.append((out.detach().numpy(), layout, grad))
    (ours, our_layout, our_grad), (theirs, their_layout, their_grad) = results
    assert our_layout == their_layout
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    if their_grad is not None:
        np.testing.assert_allclose(our_grad[0], their_grad[0], rtol=1e-5, atol=1e-6)
        assert our_grad[1] == their_grad[1]


def test_a_channels_last_leaf_keeps_its_layout_when_its_gradient_is_copied():
    """The gradient layout contract holds when backward hands `.grad` an array it does not own
    (a permuted view's gradient is already in the leaf's layout): the copy kept the C order."""
    strides = []
    for lib in LIBS_PAIR:
        x = _channels_last(lib, (2, 3, 4, 5)).requires_grad_(True)
        (x.permute(0, 2, 3, 1).reshape(-1) * lib.arange(120.0)).sum().backward()
        assert x.grad.permute(0, 2, 3, 1).reshape(-1).tolist() == list(range(120))
        strides.append((x.grad.stride(), x.grad.is_contiguous(memory_format=lib.channels_last)))
    assert strides[0] == strides[1] == ((60, 1, 15, 3), True)


AUGMENTED = {
    "int %= float": ("int64", "%=", 1.5),
    "int //= float": ("int64", "//=", 0.5),
    "uint8 %= 2": ("uint8", "%=", 2),
    "bool &= int": ("bool", "&=", 3),
    "bool |= bool": ("bool", "|=", True),
    "int ^= int": ("int32", "^=", 6),
    "float16 %= float64 tensor": ("float16", "%=", "tensor"),
}


@pytest.mark.parametrize("case", AUGMENTED.values(), ids=AUGMENTED.keys())
def test_augmented_assignments_write_in_place_or_refuse_as_pytorch(case):
    """`x %= y`, `//=`, `&=`, `|=`, `^=` write into x (Python fell back to `x = x % y`: a new
    tensor, whose dtype could change: an int64 x %= 1.5 became float32)."""
    dtype, symbol, other = case
    outcomes = []
    for lib in LIBS_PAIR:
        x = lib.tensor([3, 4, 5]).to(getattr(lib, dtype))
        y = lib.tensor([2.0, 3.0, 4.0], dtype=lib.float64) if other == "tensor" else other
        alias = x
        scope = {"x": x, "y": y}
        try:
            exec(f"x {symbol} y", scope)
        except RuntimeError as error:
            outcomes.append(("raised", "can't be cast" in str(error)))
            continue
        assert scope["x"] is alias
        outcomes.append((str(alias.dtype).split(".")[-1], alias.tolist()))
    assert outcomes[0] == outcomes[1]


SETITEMS = {
    "x[idx] = float64 tensor": lambda lib, x: x.__setitem__(
        lib.tensor([0, 1]), lib.ones(3, dtype=lib.float64)
    ),
    "x[idx] = 0-dim float64": lambda lib, x: x.__setitem__(
        lib.tensor([1, 0]), lib.tensor(1.0, dtype=lib.float64)
    ),
    "x[mask] = 0-dim float64": lambda lib, x: x.__setitem__(x > 1, lib.tensor(7.0).double()),
    "x[mask] = 1-element float64": lambda lib, x: x.__setitem__(x > 1, lib.ones(1).double()),
    "x[mask] = 5-element float64": lambda lib, x: x.__setitem__(x > 1, lib.ones(5).double()),
    "x[0, idx] = int tensor": lambda lib, x: x.__setitem__((0, lib.tensor([1])), lib.tensor([3])),
    "x[0:2] = float64 tensor": lambda lib, x: x.__setitem__(slice(0, 2), lib.ones(3).double()),
    "x[list] = float64 tensor": lambda lib, x: x.__setitem__([0, 1], lib.ones(3).double()),
    "uint8[mask] = -3.0": lambda lib, x: x.to(lib.uint8).__setitem__(x > 1, -3.0),
    "uint8[0] = -1": lambda lib, x: x.to(lib.uint8).__setitem__(0, -1),
    "uint8[1:] = 256": lambda lib, x: x.to(lib.uint8).__setitem__(slice(1, None), 256),
    "int8[idx] = 1.5": lambda lib, x: x.to(lib.int8).__setitem__(lib.tensor([1]), 1.5),
}


@pytest.mark.parametrize("write", SETITEMS.values(), ids=SETITEMS.keys())
def test_setitem_refuses_what_pytorch_refuses(write):
    """Through a tensor or list index PyTorch's index_put wants the value's dtype (only a
    one-element value through a lone mask is cast, by masked_fill), and a number must fit
    the dtype: chainrule cast and wrapped silently."""
    outcomes = []
    for lib in LIBS_PAIR:
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        try:
            write(lib, x)
            outcomes.append("wrote")
        except RuntimeError as error:
            outcomes.append(str(error).split(",")[0].split(":")[-1].strip()[:30])
    assert outcomes[0] == outcomes[1]


def test_bfloat16_split_and_chunk_are_views():
    """split, chunk and unbind of a bfloat16 tensor are views, as PyTorch's (they went through
    the float32 widening of bfloat16 arithmetic, so came back as copies)."""
    x = chainrule.arange(24.0).reshape(2, 3, 4).to(chainrule.bfloat16)
    for piece in (x.chunk(2, 2)[0], x.split(1)[0], x.unbind(1)[0], x.tensor_split(2, 2)[1]):
        assert piece._base is x
        assert x.data_ptr() <= piece.data_ptr() < x.data_ptr() + x.numel() * x.element_size()


def test_variance_with_a_correction_past_the_count_has_pytorchs_gradient():
    """var_backward scales by 2 / (N - correction) as it is, negative past N (chainrule gave
    inf, so nan where x equals its mean), while the value divides by max(0, N - correction)."""
    grads = []
    for lib in LIBS_PAIR:
        x = lib.tensor([[1.5, 3.0], [2.0, 2.0]], requires_grad=True)
        with pytest.warns(UserWarning, match="degrees of freedom"):
            value = x.var(dim=1, correction=3)
        value.sum().backward()
        grads.append((value.tolist(), x.grad.tolist()))
    assert str(grads[0]) == str(grads[1])


def test_cov_with_weights_matches_torch_and_warns_as_torch_past_the_observations():
    """Frequency and analytic weights together (the normalizer subtracts correction times
    sum(w * a) / sum(w)): values and gradients as torch's; a correction at or past the count
    of observations warns with PyTorch's UserWarning (chainrule's was a RuntimeWarning a
    `filterwarnings("ignore", category=UserWarning)` let through)."""
    table = np.array([[0.0, 1.0, 2.0, 0.5, 1.0], [1.0, 1.0, -1.0, 0.5, 1.0]])
    results = []
    for lib in LIBS_PAIR:
        x = lib.tensor(table, requires_grad=True)
        counts = lib.tensor([1, 2, 1, 3, 1])
        importance = lib.tensor([0.1, 2.0, 1.0, 3.0, 1.0], dtype=lib.float64)
        value = lib.cov(x, fweights=counts, aweights=importance)
        cotangent = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        (grad,) = lib.autograd.grad((value * cotangent).sum(), x)
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0") as caught:
            lib.cov(x[:, :2].detach(), correction=2)
        results.append((value.detach().numpy(), grad.numpy(), caught[0].category))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][2] is results[1][2] is UserWarning


def test_tril_and_triu_of_a_transposed_tensor_are_row_major():
    for lib in LIBS_PAIR:
        x = lib.arange(8.0).view(2, 2, 2).transpose(0, 2)
        assert x.tril(-1).is_contiguous() and x.triu().view(-1).shape == (8,)


def test_a_copy_of_an_unsqueezed_tensor_has_pytorchs_strides():
    """NumPy gives a new axis stride 0; PyTorch's unsqueeze gives it the next dimension's
    extent, and a copy keeps that (x[None].clone() is (3, 1, 1), not (0, 1, 1))."""
    for make in (
        lambda lib: lib.zeros(3, 1)[None].clone(),
        lambda lib: lib.zeros(2, 3).t()[None].clone(),
        lambda lib: lib.zeros_like(lib.zeros(2, 3).t()[:, None]),
        lambda lib: lib.zeros(3, 1).t().double(),
    ):
        assert make(chainrule).stride() == make(torch).stride()


def test_module_hooks_on_every_module_run_before_each_modules_own_as_torch():
    def run(lib):
        calls = []
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh())
        model[0].register_forward_hook(lambda m, a, out: calls.append(("own", type(m).__name__)))
        registry = lib.nn.modules.module
        handles = [
            registry.register_module_forward_pre_hook(
                lambda m, a: calls.append(("pre", type(m).__name__))
            ),
            registry.register_module_forward_hook(
                lambda m, a, out: calls.append(("post", type(m).__name__))
            ),
            registry.register_module_full_backward_hook(
                lambda m, gi, go: calls.append(("backward", type(m).__name__))
            ),
        ]
        try:
            model(lib.ones(1, 2, requires_grad=True)).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        model(lib.ones(1, 2))  # removed: nothing more recorded
        return calls

    assert run(chainrule) == run(torch)


def test_state_dict_pre_hooks_and_set_submodule_as_torch():
    def run(lib):
        seen = []
        model = lib.nn.Sequential(lib.nn.Linear(2, 2))
        model[0].register_state_dict_pre_hook(lambda m, prefix, keep: seen.append(prefix))

        def rename_old_keys(module, state, prefix, *rest):
            if prefix + "w" in state:
                state[prefix + "weight"] = state.pop(prefix + "w")
            seen.append(("load", prefix))

        model[0].register_load_state_dict_pre_hook(rename_old_keys)
        state = model.state_dict()
        state["0.w"] = state.pop("0.weight") * 0 + 3
        model.load_state_dict(state)
        model.set_submodule("1", lib.nn.ReLU())
        with pytest.raises(AttributeError, match="has no attribute"):
            model.set_submodule("2", lib.nn.ReLU(), strict=True)
        return seen, model[0].weight.tolist(), [type(m).__name__ for m in model]

    assert run(chainrule) == run(torch)


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_state_dict_post_hooks_public_and_private_as_torch(lib):
    """register_state_dict_post_hook edits in place and must return None; the older private
    _register_state_dict_hook (which libraries still call) may return a new state_dict,
    which the root module's state_dict() then returns; one function cannot be both."""
    model = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False))

    def drop_prefix(module, state, prefix, local_metadata):
        return {key.removeprefix("0."): value for key, value in state.items()}

    model._register_state_dict_hook(drop_prefix)
    model[0].register_state_dict_post_hook(lambda m, state, prefix, meta: state.update(seen=1))
    assert sorted(model.state_dict()) == ["seen", "weight"]

    def returns_state(module, state, prefix, local_metadata):
        return state

    bad = lib.nn.Linear(1, 1)
    bad.register_state_dict_post_hook(returns_state)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        bad.state_dict()
    with pytest.raises(RuntimeError, match="Cannot register the same function"):
        bad._register_state_dict_hook(returns_state)


def test_replace_all_batch_norm_modules_and_increment_version_as_torch():
    for lib in (chainrule, torch):
        model = lib.nn.Sequential(
            lib.nn.BatchNorm1d(3), lib.nn.InstanceNorm1d(3, track_running_stats=True)
        )
        lib.func.replace_all_batch_norm_modules_(model)
        assert model[0].running_mean is None and not model[0].track_running_stats
        assert model[1].track_running_stats  # instance norm is left alone
        x = lib.ones(2)
        lib.autograd.graph.increment_version([x, x])
        assert x._version == 2


def test_attention_kernel_switches_are_kept_as_torch():
    switches = chainrule.backends.cuda
    assert switches.flash_sdp_enabled() == torch.backends.cuda.flash_sdp_enabled()
    with pytest.warns(FutureWarning, match="sdp_kernel"):
        with switches.sdp_kernel(enable_flash=False, enable_math=True):
            assert not switches.flash_sdp_enabled() and switches.math_sdp_enabled()
    assert switches.flash_sdp_enabled()
    switches.enable_mem_efficient_sdp(False)
    assert not switches.mem_efficient_sdp_enabled()
    switches.enable_mem_efficient_sdp(True)


def test_lazy_layers_are_lazy_module_mixins_until_their_first_input_as_torch():
    for lib in (chainrule, torch):
        mixin = lib.nn.modules.lazy.LazyModuleMixin
        for layer, x in (
            (lib.nn.LazyLinear(2), lib.zeros(1, 3)),
            (lib.nn.LazyConv2d(2, 3), lib.zeros(1, 4, 5, 5)),
            (lib.nn.LazyBatchNorm1d(), lib.zeros(2, 3)),
        ):
            assert isinstance(layer, mixin) and layer.has_uninitialized_params()
            assert isinstance(layer.weight, lib.nn.parameter.UninitializedParameter)
            layer(x)
            assert not isinstance(layer, mixin)


def test_cond_and_while_loop_run_eagerly_as_torch():
    def run(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = lib.cond(x.sum() > 0, lambda t: t.sin(), lambda t: t.cos(), (x,))
        y.sum().backward()
        flipped = lib.cond(True, lambda t: t + 1, lambda t: t - 1, [lib.ones(2)])
        count, value = lib.while_loop(
            lambda i, v: i < 3, lambda i, v: (i + 1, v * 2), (lib.tensor(0), lib.ones(2))
        )
        return y.tolist(), x.grad.tolist(), flipped.tolist(), count.item(), value.tolist()

    ours, theirs = run(chainrule), run(torch)
    assert ours[2:] == theirs[2:]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="single-element tensor"):
            lib.cond(lib.tensor([True, False]), lambda t: t, lambda t: t, (lib.ones(1),))


def test_heaviside_of_a_tensor_requiring_grad_is_recorded_without_a_derivative():
    """As PyTorch: the step's output is in the graph (grad_fn NotImplemented, so it prints
    so), and a backward through it raises; chainrule gave a constant, silently dropping the
    gradient of whatever else the loss held."""
    for lib in LIBS_PAIR:
        x = lib.tensor([0.5, 0.0, -1.0], requires_grad=True)
        step = lib.heaviside(x, lib.tensor([0.5, 0.5, 0.5]))
        assert step.requires_grad and step.grad_fn.name().endswith("NotImplemented")
        assert "grad_fn=<NotImplemented>" in repr(step)
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            (step.sum() + x.sum()).backward()


RECORDED_WITHOUT_DERIVATIVE = {
    # name: (call, node name, error type, message); every call reads x and w (float32, 4,)
    "floor_divide": (lambda lib, x, w: x // 2, "NotImplemented", RuntimeError, "floor_divide"),
    "floor_divide_tensor": (
        lambda lib, x, w: lib.floor_divide(x, w),
        "NotImplemented",
        RuntimeError,
        "aten::floor_divide",
    ),
    "rfloordiv": (lambda lib, x, w: 7 // x, "NotImplemented", RuntimeError, "floor_divide"),
    "unique": (
        lambda lib, x, w: lib.unique(x),
        "Unique2Backward0",
        NotImplementedError,
        "_unique2",
    ),
    "unique_counts": (
        lambda lib, x, w: lib.unique(x, return_counts=True)[0],
        "Unique2Backward0",
        NotImplementedError,
        "'_unique2'",
    ),
    "unique_dim": (
        lambda lib, x, w: lib.unique(x.reshape(2, 2), dim=0),
        "UniqueDimBackward0",
        NotImplementedError,
        "'unique_dim'",
    ),
    "unique_consecutive": (
        lambda lib, x, w: lib.unique_consecutive(x, return_inverse=True)[0],
        "UniqueConsecutiveBackward0",
        NotImplementedError,
        "'unique_consecutive'",
    ),
    "histogram": (
        lambda lib, x, w: lib.histogram(x, bins=3)[0],
        "NotImplemented",
        RuntimeError,
        "aten::histogram",
    ),
    "histogram_edges": (
        lambda lib, x, w: lib.histogram(x, bins=3)[1],
        "NotImplemented",
        RuntimeError,
        "aten::histogram",
    ),
    "histogram_weight": (
        lambda lib, x, w: lib.histogram(x.detach(), bins=2, weight=w)[0],
        "NotImplemented",
        RuntimeError,
        "aten::histogram",
    ),
    "histogramdd": (
        lambda lib, x, w: lib.histogramdd(x.reshape(2, 2), bins=2)[0],
        "NotImplemented",
        RuntimeError,
        "aten::_histogramdd_from_bin_cts",
    ),
    "histogramdd_edges": (
        lambda lib, x, w: lib.histogramdd(x.reshape(2, 2), bins=2)[1][1],
        "NotImplemented",
        RuntimeError,
        "aten::_histogramdd_bin_edges",
    ),
    "bincount_weights": (
        lambda lib, x, w: lib.bincount(lib.tensor([0, 2, 2, 1]), weights=w),
        "NotImplemented",
        RuntimeError,
        "aten::bincount",
    ),
}


@pytest.mark.parametrize("name", RECORDED_WITHOUT_DERIVATIVE)
def test_ops_without_a_derivative_are_recorded_and_refuse_backward(name):
    """As PyTorch: the output of an input that requires grad is in the graph, under PyTorch's
    node name, and a backward through it raises PyTorch's error type; chainrule gave constants
    (the gradient of the rest of the loss came back as if the op were not there)."""
    call, node, error, message = RECORDED_WITHOUT_DERIVATIVE[name]
    for lib in LIBS_PAIR:
        x = lib.tensor([1.0, 2.0, 2.0, 3.5], requires_grad=True)
        w = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        out = call(lib, x, w)
        assert out.requires_grad and type(out.grad_fn).__name__ == node, lib.__name__
        with pytest.raises(error, match=message):
            (out.sum() + x.sum() + w.sum()).backward()
        with lib.no_grad():
            assert not call(lib, x, w).requires_grad


def test_div_with_floor_rounding_keeps_its_zero_derivative():
    for lib in LIBS_PAIR:
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        lib.div(x, 2, rounding_mode="floor").sum().backward()
        assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("call", "aten"),
    [
        (lambda lib, x, out: lib.diag(x, out=out), "diag_embed"),
        (lambda lib, x, out: lib.diag(x.reshape(2, 2), out=out), "diagonal_copy"),
        (lambda lib, x, out: lib.heaviside(x, lib.tensor(0.5), out=out), "heaviside"),
        (lambda lib, x, out: lib.conj_physical(x, out=out), "conj_physical"),
    ],
)
def test_out_of_an_op_without_a_derivative_joins_the_graph_and_refuses_backward(call, aten):
    """PyTorch writes the values, gives `out` a NotImplemented grad_fn, and raises only when a
    backward reaches it; an `out` that itself requires grad is refused at once."""
    for lib in (torch, chainrule):
        x = lib.tensor([1.0, -2.0, 0.0, 3.0], requires_grad=True)
        out = lib.empty(0)
        assert call(lib, x, out) is out
        with lib.no_grad():
            expected = call(lib, x, lib.empty(0))
        assert out.tolist() == expected.tolist()
        assert out.requires_grad and out._version == 1
        assert type(out.grad_fn).__name__ == "NotImplemented" or out.grad_fn.name().endswith(
            "NotImplemented"
        )
        with pytest.raises(RuntimeError, match=f"derivative for aten::{aten} is not implemented"):
            out.sum().backward()
        with pytest.raises(RuntimeError, match="functions with out=... arguments don't support"):
            call(lib, x, lib.empty(out.shape, requires_grad=True))
