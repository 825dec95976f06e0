"""PyTorch's process-wide defaults (set_default_device, the deprecated set_default_tensor_type),
torch.typename, and autocast for custom Functions (torch.amp.custom_fwd / custom_bwd), each
against torch itself."""

from __future__ import annotations

import warnings

import pytest
import torch

import chainrule
from chainrule import nn


@pytest.fixture
def restore_defaults():
    yield
    chainrule.set_default_device(None)
    chainrule.set_default_dtype(chainrule.float32)


def test_factories_without_a_device_use_the_default_device(restore_defaults):
    assert chainrule.get_default_device() == chainrule.device("cpu")
    chainrule.set_default_device("fake")
    assert chainrule.get_default_device() == chainrule.device("fake")
    made = [
        chainrule.zeros(2),
        chainrule.ones(2, 3),
        chainrule.empty(1),
        chainrule.full((2,), 3.0),
        chainrule.tensor([1.0, 2.0]),
        chainrule.arange(3),
        chainrule.linspace(0, 1, 4),
        chainrule.eye(2),
        chainrule.randn(2),
        chainrule.rand(2),
        chainrule.randint(0, 3, (2,)),
        nn.Linear(2, 3).weight,
    ]
    assert all(t.device.type == "fake" for t in made), [t.device for t in made]
    assert chainrule.zeros(2, device="cpu").device.type == "cpu"
    chainrule.set_default_device(None)
    assert chainrule.zeros(2).device.type == "cpu"


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_a_device_is_a_context_that_sets_the_default_device_for_its_block(lib, restore_defaults):
    """`with torch.device("meta"):` (Hugging Face's empty-weights initialisation, a model
    built straight on its device): factories and layers inside make their tensors there;
    the block's end restores the default it found, also set_default_device's and nested."""
    meta = lib.device("meta")
    with meta as entered:
        assert entered is meta
        made = [lib.ones(2), lib.tensor([1.0]), lib.nn.Linear(2, 3).weight]
        assert [t.device.type for t in made] == ["meta"] * 3
        with lib.device("cpu"):
            assert lib.zeros(1).device.type == "cpu"
        assert lib.get_default_device().type == "meta"
    assert lib.zeros(1).device.type == "cpu" and lib.get_default_device().type == "cpu"
    lib.set_default_device("meta")
    try:
        with lib.device("cpu"):
            assert lib.zeros(1).device.type == "cpu"
        assert lib.zeros(1).device.type == "meta"
    finally:
        lib.set_default_device(None)  # torch's too: the fixture restores only chainrule's


def test_set_default_tensor_type_sets_the_dtype_and_warns_as_pytorch(restore_defaults):
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
        chainrule.set_default_tensor_type(chainrule.DoubleTensor)
    assert chainrule.get_default_dtype() is chainrule.float64
    assert chainrule.tensor([1.0]).dtype is chainrule.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chainrule.set_default_tensor_type("torch.FloatTensor")
        assert chainrule.get_default_dtype() is chainrule.float32
        with pytest.raises(TypeError, match="only floating-point types"):
            chainrule.set_default_tensor_type(chainrule.LongTensor)
        with pytest.raises(AttributeError, match="has no attribute 'Foo'"):
            chainrule.set_default_tensor_type("torch.Foo")


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.ones(2),
        lambda lib: lib.ones(2, dtype=lib.int64),
        lambda lib: 3,
        lambda lib: "text",
        lambda lib: lib.nn.Linear,
        lambda lib: lib.nn.Linear(1, 1),
        lambda lib: lib.nn.functional.relu,
    ],
    ids=["float", "long", "int", "str", "class", "module", "function"],
)
def test_typename_names_like_pytorch(make):
    ours = chainrule.typename(make(chainrule)).replace("chainrule.", "torch.")
    theirs = torch.typename(make(torch))
    if theirs.startswith("torch.nn"):  # the module paths differ; the names do not
        theirs = "torch.nn." + theirs.rsplit(".", 1)[-1]
        ours = "torch.nn." + ours.rsplit(".", 1)[-1]
    assert ours == theirs


def _square(lib, cast_inputs):
    class Square(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, x, scale=None):
            ctx.save_for_backward(x)
            ctx.forward_dtype = lib.get_autocast_dtype("cpu") if lib.is_autocast_enabled() else None
            product = lib.mm(x, x.t())  # an autocast-listed op
            return product * (1 if scale is None else scale)

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            ctx.backward_autocast = lib.is_autocast_enabled("cpu")
            return lib.mm(grad + grad.t(), x), None

    return Square


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
def test_custom_fwd_and_bwd_run_under_the_autocast_state_pytorch_gives_them(cast_inputs):
    results = {}
    for lib in (chainrule, torch):
        square = _square(lib, None if cast_inputs is None else getattr(lib, cast_inputs))
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = square.apply(x)
        y.sum().backward()
        node = y.grad_fn
        results[lib.__name__] = (str(y.dtype).split(".")[-1], str(x.grad.dtype).split(".")[-1])
        results[lib.__name__ + " grad"] = x.grad.float().tolist()
        results[lib.__name__ + " bwd autocast"] = getattr(node, "backward_autocast", None)
    assert results["chainrule"] == results["torch"]
    assert results["chainrule grad"] == results["torch grad"]


def test_custom_fwd_needs_a_device_type_string():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        chainrule.amp.custom_fwd(lambda ctx: None, device_type=None)


def test_the_cuda_spellings_are_deprecated_as_in_pytorch():
    from chainrule.amp.cuda import custom_bwd, custom_fwd

    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.custom_fwd\(args...\)` is deprecated"):
        custom_fwd(lambda ctx, x: x)
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.custom_bwd\(args...\)` is deprecated"):
        custom_bwd(lambda ctx, g: g)


@pytest.mark.parametrize(
    "dtype, low, high",
    [
        ("float32", -9, 9),
        ("float64", -9, 9),
        ("int64", -9, 10),
        ("int8", -9, 10),
        ("uint8", 0, 10),
        ("bool", 0, 2),
    ],
)
def test_make_tensor_draws_from_pytorchs_default_ranges(dtype, low, high):
    x = chainrule.testing.make_tensor(2000, dtype=getattr(chainrule, dtype), device="cpu")
    values = x.to(chainrule.float64)
    assert x.dtype is getattr(chainrule, dtype) and x.shape == (2000,)
    assert values.min().item() >= low and values.max().item() < high
    assert values.min().item() < low + 1 and values.max().item() >= high - 1.5  # spans it


def test_make_tensor_options_follow_pytorch():
    make = chainrule.testing.make_tensor
    x = make(2, 3, dtype=chainrule.float32, device="cpu", noncontiguous=True, requires_grad=True)
    theirs = torch.testing.make_tensor(2, 3, dtype=torch.float32, device="cpu", noncontiguous=True)
    assert x.stride() == theirs.stride() and not x.is_contiguous() and x.requires_grad
    assert (make(50, dtype=chainrule.int64, device="cpu", exclude_zero=True) != 0).all()
    z = make(4, dtype=chainrule.complex64, device="cpu", low=-1, high=1)
    assert z.dtype is chainrule.complex64 and (z.real.abs() <= 1).all() and (z.imag != 0).all()
    with pytest.raises(ValueError, match="`requires_grad=True` is not supported"):
        make(2, dtype=chainrule.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="`low` must be less than `high`"):
        make(2, dtype=chainrule.float32, device="cpu", low=2, high=1)
    with pytest.raises(ValueError, match="mutually exclusive"):
        make(2, 2, dtype=chainrule.float32, device="cpu", noncontiguous=True, memory_format=1)


def test_assert_allclose_is_deprecated_with_pytorchs_older_tolerances():
    ours = chainrule.testing.assert_allclose
    with pytest.warns(FutureWarning, match="assert_allclose\\(\\)` is deprecated"):
        ours(chainrule.tensor([1.0, float("nan")]), [1.00005, float("nan")])  # rtol 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError):
            ours(chainrule.tensor([1.0]), [1.001])
        with pytest.raises(AssertionError):
            torch.testing.assert_allclose(torch.tensor([1.0]), [1.001])
        torch.testing.assert_allclose(torch.tensor([1.0, float("nan")]), [1.00005, float("nan")])


def test_functionalize_computes_what_the_function_computes_and_checks_remove():
    def f(x):
        y = x.clone()
        y.mul_(2).add_(1)
        x.add_(10)  # a mutation of the input, kept as functionalize keeps it
        return y

    results = {}
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0])
        y = lib.func.functionalize(f)(x)
        results[lib.__name__] = (y.tolist(), x.tolist())
        grads = lib.func.grad(lambda t, lib=lib: lib.func.functionalize(f)(t.clone()).sum())(x)
        results[lib.__name__ + " grad"] = grads.tolist()
        with pytest.raises(RuntimeError, match="received invalid argument for remove=views"):
            lib.func.functionalize(f, remove="views")
    assert results["chainrule"] == results["torch"]
    assert results["chainrule grad"] == results["torch grad"]


def test_set_multithreading_enabled_is_accepted_as_pytorchs():
    x = chainrule.ones(2, requires_grad=True)
    with chainrule.autograd.set_multithreading_enabled(False):
        (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    decorated = chainrule.autograd.set_multithreading_enabled(True)(lambda: 5)
    assert decorated() == 5
