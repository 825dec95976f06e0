"""The exceptions chainrule raises are instances of the type PyTorch raises for the same call,
so a ported script's `except RuntimeError:` (or `except NotImplementedError:`) still catches
them. chainrule's own types add Python's ValueError / TypeError / IndexError on top."""

from __future__ import annotations

import importlib.util

import pytest
import torch
import torch.nn.functional as torch_functional

import chainrule
import chainrule.nn.functional as chainrule_functional

FUNCTIONAL = {chainrule: chainrule_functional, torch: torch_functional}

CALLS = {
    "gather past the end": lambda lib: lib.zeros(2, 3).gather(1, lib.tensor([[5]])),
    "gather negative": lambda lib: lib.zeros(2, 3).gather(1, lib.tensor([[-1]])),
    "scatter past the end": lambda lib: lib.zeros(2, 3).scatter(1, lib.tensor([[5]]), 1.0),
    "scatter_add past the end": lambda lib: lib.zeros(2, 3).scatter_add(
        1, lib.tensor([[3]]), lib.ones(1, 1)
    ),
    "index_select past the end": lambda lib: lib.zeros(2, 3).index_select(1, lib.tensor([3])),
    "index_add past the end": lambda lib: lib.zeros(2, 3).index_add(
        1, lib.tensor([5]), lib.ones(2, 1)
    ),
    "one_hot past num_classes": lambda lib: FUNCTIONAL[lib].one_hot(lib.tensor([5]), 3),
    "one_hot negative": lambda lib: FUNCTIONAL[lib].one_hot(lib.tensor([-1]), 3),
    "bincount negative": lambda lib: lib.bincount(lib.tensor([-1, 2])),
    "binary_cross_entropy outside [0, 1]": lambda lib: FUNCTIONAL[lib].binary_cross_entropy(
        lib.tensor([1.5]), lib.tensor([1.0])
    ),
    "randint empty range": lambda lib: lib.randint(5, 2, (2,)),
    "arange against the step": lambda lib: lib.arange(0, 5, -1),
    "arange downwards by default": lambda lib: lib.arange(5, 0),
    "arange to infinity": lambda lib: lib.arange(0, float("inf")),
    "softmax of integers": lambda lib: lib.softmax(lib.tensor([1, 2]), 0),
    "lerp of integers": lambda lib: lib.lerp(lib.tensor([1]), lib.tensor([2]), 0.5),
    "mean of integers": lambda lib: lib.tensor([1, 2]).mean(),
    "negating bools": lambda lib: -lib.tensor([True]),
    "integer floor division by zero": lambda lib: lib.tensor([1, 2]) // 0,
    "normal with a negative std tensor": lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
    "normal with a NaN std": lambda lib: lib.normal(lib.zeros(2), lib.tensor([1.0, float("nan")])),
    "normal with a negative std": lambda lib: lib.normal(0.0, -1.0, (2,)),
    "normal_ with a negative std": lambda lib: lib.empty(2).normal_(0.0, -0.5),
    "init.normal_ with a negative std": lambda lib: lib.nn.init.normal_(lib.empty(2), std=-1.0),
    # polar promotes nothing: mixed precisions, integers and complex operands are refused.
    "polar of float64 and float32": lambda lib: lib.polar(
        lib.ones(2, dtype=lib.float64), lib.ones(2)
    ),
    "polar of integers": lambda lib: lib.polar(lib.ones(2, dtype=lib.long), lib.ones(2)),
    "polar of complex": lambda lib: lib.polar(lib.ones(2) + 0j, lib.ones(2) + 0j),
    "polar of a number": lambda lib: lib.polar(lib.ones(2), 1.0),
    # softshrink's lambda must fit the dtype's range, and neither shrink has integer kernels.
    "softshrink with a negative lambda": lambda lib: FUNCTIONAL[lib].softshrink(lib.ones(2), -0.5),
    "softshrink with a lambda past float32": lambda lib: FUNCTIONAL[lib].softshrink(
        lib.ones(2), 1e39
    ),
    "Softshrink(-1)": lambda lib: lib.nn.Softshrink(-1.0)(lib.ones(2)),
    "softshrink of integers": lambda lib: FUNCTIONAL[lib].softshrink(lib.tensor([1, 2])),
    "hardshrink of integers": lambda lib: FUNCTIONAL[lib].hardshrink(lib.tensor([1, 2])),
}

MESSAGES = {
    "normal of a tensor std": lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
    "normal of a number std": lambda lib: lib.normal(lib.zeros(2), -1.0),
    "normal_": lambda lib: lib.empty(2).normal_(0.0, -0.5),
    "mean of int64": lambda lib: lib.tensor([1, 2]).mean(),
    "mean of int32": lambda lib: lib.tensor([1, 2], dtype=lib.int32).mean(),
    "mean of bool": lambda lib: lib.tensor([True]).mean(),
    "uniform_ with from > to": lambda lib: lib.empty(2).uniform_(2.5, 1.0),
    "init.uniform_ with a > b": lambda lib: lib.nn.init.uniform_(lib.empty(2), 3, 1),
}

# The same refusals, whose text chainrule prefixes with the op's name.
MESSAGE_GISTS = {
    "softshrink of bfloat16 with a negative lambda": lambda lib: FUNCTIONAL[lib].softshrink(
        lib.ones(2, dtype=lib.bfloat16), -1.0
    ),
    "softshrink of float64 with a negative lambda": lambda lib: FUNCTIONAL[lib].softshrink(
        lib.ones(2, dtype=lib.float64), -0.25
    ),
    "polar of float32 and float64": lambda lib: lib.polar(
        lib.ones(2), lib.ones(2, dtype=lib.float64)
    ),
    "polar of int64 and float32": lambda lib: lib.polar(lib.ones(2, dtype=lib.long), lib.ones(2)),
}


@pytest.mark.parametrize("call", MESSAGES.values(), ids=MESSAGES.keys())
def test_the_message_is_torchs(call):
    """A negative standard deviation or an inverted uniform range was drawn from (now refused
    before any draw, as PyTorch's); mean() of integers named the dtype Int64 where PyTorch
    says Long."""
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(chainrule)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call", MESSAGE_GISTS.values(), ids=MESSAGE_GISTS.keys())
def test_the_message_is_torchs_after_the_ops_name(call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(chainrule)
    assert str(ours.value).split(": ", 1)[1] == str(theirs.value)


def test_a_zero_std_is_accepted_and_the_stream_is_untouched_by_a_refusal():
    chainrule.manual_seed(0)
    expected = chainrule.randn(3)
    chainrule.manual_seed(0)
    with pytest.raises(RuntimeError):
        chainrule.normal(0.0, -1.0, (3,))
    assert chainrule.randn(3).tolist() == expected.tolist()
    assert chainrule.normal(chainrule.ones(2), chainrule.zeros(2)).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_the_error_is_an_instance_of_torchs(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(chainrule)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))


def test_an_empty_range_is_still_empty():
    assert chainrule.arange(0, 0, -1).tolist() == torch.arange(0, 0, -1).tolist() == []
    assert chainrule.arange(3, 0, -1).tolist() == torch.arange(3, 0, -1).tolist()


EMPTY_REDUCTIONS = {
    "amax of an empty tensor": lambda lib: lib.ones(0, 3).amax(),
    "amin over an empty dim": lambda lib: lib.ones(0, 3).amin(0),
    "argmax of an empty tensor": lambda lib: lib.ones(0).argmax(),
    "max over an empty dim": lambda lib: lib.ones(0, 3).max(0),
}


@pytest.mark.parametrize("call", EMPTY_REDUCTIONS.values(), ids=EMPTY_REDUCTIONS.keys())
def test_extremes_of_nothing_raise_an_instance_of_torchs_error(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(chainrule)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))


def test_sending_a_tensor_to_cuda_without_it_raises_an_assertion_error_as_pytorchs_cpu_build():
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: PyTorch would move the tensor")
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed: chainrule would move the tensor")
    for lib in (chainrule, torch):
        with pytest.raises(AssertionError):
            lib.ones(2).to("cuda")
        with pytest.raises(AssertionError):
            lib.nn.Linear(2, 2).cuda()
    with pytest.raises(RuntimeError, match="needs CuPy"):
        chainrule.zeros(2, device="cuda")
