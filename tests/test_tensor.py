"""The Tensor API, specified against PyTorch: metadata, conversions, Python protocols, repr."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.errors
from chainrule.errors import GradError, ShapeError

LIBS = pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.").removeprefix("chainrule.")


def same_tensor(ours, theirs) -> None:
    """A chainrule tensor equal to a torch tensor: shape, dtype, and values (to float32 noise)."""
    assert isinstance(ours, chainrule.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    np.testing.assert_allclose(
        np.asarray(ours.detach().numpy(), dtype=np.float64),
        theirs.detach().numpy().astype(np.float64),
        rtol=1e-6,
        atol=1e-7,
    )


# ---- metadata ----------------------------------------------------------------------------------


def test_metadata_matches_torch():
    data = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    for lib in (chainrule, torch):
        x = lib.tensor(data)
        assert tuple(x.shape) == (2, 3) and tuple(x.size()) == (2, 3)
        assert x.size(1) == 3 and x.size(-1) == 3
        assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
        assert dtype_name(x.dtype) == "float32" and x.is_floating_point()
        assert str(x.device) == "cpu" and x.device == lib.device("cpu")
        assert tuple(x.T.shape) == (3, 2) and tuple(x.mT.shape) == (3, 2)
        assert x.element_size() == 4 and x.stride() == (3, 1) and x.T.stride() == (1, 3)
        assert x.is_contiguous() and not x.T.is_contiguous() and x.T.contiguous().is_contiguous()


@LIBS
def test_mT_needs_at_least_two_dimensions(lib):
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        _ = lib.zeros(3).mT


@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")
def test_T_and_mT_values():
    x = np.arange(24.0).reshape(2, 3, 4)
    same_tensor(chainrule.tensor(x).T, torch.tensor(x).T.contiguous())
    same_tensor(chainrule.tensor(x).mT, torch.tensor(x).mT)


# ---- Python protocols --------------------------------------------------------------------------


@LIBS
def test_scalar_conversions(lib):
    assert lib.tensor(3.5).item() == 3.5 and type(lib.tensor(3).item()) is int
    assert type(lib.tensor(True).item()) is bool
    assert float(lib.tensor([2.5])) == 2.5 and int(lib.tensor(-2.7)) == -2
    assert bool(lib.tensor(0.0)) is False and bool(lib.tensor([1])) is True
    assert [10, 20, 30][lib.tensor(1)] == 20
    assert lib.tensor(2.0, requires_grad=True).item() == 2.0
    assert f"{lib.tensor(math.pi):.2f}" == "3.14"


@LIBS
def test_conversions_of_several_elements_raise(lib):
    x = lib.ones(2, 3)
    with pytest.raises((RuntimeError, ValueError)):
        x.item()
    with pytest.raises((RuntimeError, ValueError)):
        float(x)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="index"):
        [1, 2][lib.tensor(1.0)]


@LIBS
@pytest.mark.parametrize("convert", [float, int, complex])
@pytest.mark.parametrize("shape", [(2, 3), (0,)])
def test_python_number_of_several_or_no_elements_is_pytorchs_value_error(lib, convert, shape):
    """float(), int() and complex() said item()'s 'cannot be converted to Scalar'."""
    pattern = "^only one element tensors can be converted to Python scalars$"
    with pytest.raises(ValueError, match=pattern):
        convert(lib.ones(shape))


def test_our_conversion_errors_are_typed():
    with pytest.raises(ShapeError, match="6 elements cannot be converted to Scalar"):
        chainrule.ones(2, 3).item()
    with pytest.raises(ShapeError, match="ambiguous"):
        bool(chainrule.ones(2))


@LIBS
def test_len_and_iteration(lib):
    x = lib.tensor([[1, 2], [3, 4], [5, 6]])
    rows = list(x)
    assert len(x) == 3 and [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(TypeError, match="0-d tensor"):
        len(lib.tensor(1.0))
    with pytest.raises(TypeError, match="0-d tensor"):
        iter(lib.tensor(1.0))


def test_iteration_is_differentiable():
    def program(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        first, second = x
        (first * 2 + second * second).sum().backward()
        return x.grad

    same_tensor(program(chainrule), program(torch))


@LIBS
def test_tolist(lib):
    assert lib.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert lib.tensor(3).tolist() == 3
    assert lib.tensor([True, False]).tolist() == [True, False]
    assert lib.tensor([2.0], requires_grad=True).tolist() == [2.0]


@LIBS
def test_numpy_shares_memory_and_refuses_tensors_that_require_grad(lib):
    x = lib.tensor([1.0, 2.0])
    x.numpy()[0] = 100.0
    assert x.tolist() == [100.0, 2.0]
    leaf = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\) instead"):
        leaf.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(leaf)
    leaf.detach().numpy()[0] = 7.0
    assert leaf.tolist() == [7.0]


@LIBS
def test_array_protocol(lib):
    x = lib.tensor([[1, 2], [3, 4]], dtype=lib.int32)
    array = np.asarray(x)
    assert array.dtype == np.int32 and array.tolist() == [[1, 2], [3, 4]]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


NUMPY_FUNCTIONS_OF_TENSORS = {
    "exp": lambda lib: np.exp(lib.tensor([1.0, 2.0])),
    "exp_0d": lambda lib: np.exp(lib.tensor(1.0)),
    "add_scalar": lambda lib: np.add(lib.tensor([1.0, 2.0]), 1),
    "maximum": lambda lib: np.maximum(lib.tensor([1.0, 2.0]), 1.5),
    "sqrt_int": lambda lib: np.sqrt(lib.tensor([4, 9])),
    "sin_half": lambda lib: np.sin(lib.tensor([1.0], dtype=lib.float16)),
    "isnan_is_uint8": lambda lib: np.isnan(lib.tensor([1.0, float("nan")])),
    "logical_not_is_uint8": lambda lib: np.logical_not(lib.tensor([True, False])),
    "add_reduce": lambda lib: np.add.reduce(lib.tensor([1.0, 2.0, 4.0])),
    "clip": lambda lib: np.clip(lib.tensor([1.0, 2.0]), 0, 1.5),
    "cumsum": lambda lib: np.cumsum(lib.tensor([1.0, 2.0])),
    "argmax": lambda lib: np.argmax(lib.tensor([1.0, 3.0, 2.0])),
    "divmod_first": lambda lib: np.divmod(lib.tensor([1.0, 3.0]), 2)[0],
}


@pytest.mark.parametrize("name", NUMPY_FUNCTIONS_OF_TENSORS)
def test_numpy_ufuncs_of_tensors_return_tensors(name):
    """A NumPy ufunc applied to a tensor gives a tensor (through __array__ and __array_wrap__),
    as in PyTorch, booleans as uint8 included."""
    function = NUMPY_FUNCTIONS_OF_TENSORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array_wrap__ signature
        expected = function(torch)
    same_tensor(function(chainrule), expected)


@LIBS
def test_numpy_ufuncs_refuse_tensors_that_require_grad(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(leaf)
    with lib.no_grad():
        assert isinstance(np.exp(leaf), lib.Tensor)


@LIBS
def test_numpy_ufunc_result_shares_memory_with_numpys_array(lib):
    result = np.exp(lib.tensor([0.0, 1.0]))
    result.numpy()[0] = 5.0
    assert result.tolist()[0] == 5.0


# ---- dtype and device conversions --------------------------------------------------------------


CONVERSIONS = {
    "float": lambda lib, x: x.float(),
    "double": lambda lib, x: x.double(),
    "half": lambda lib, x: x.half(),
    "long": lambda lib, x: x.long(),
    "int": lambda lib, x: x.int(),
    "bool": lambda lib, x: x.bool(),
    "to_dtype": lambda lib, x: x.to(lib.float64),
    "to_dtype_keyword": lambda lib, x: x.to(dtype=lib.int32),
    "to_device_and_dtype": lambda lib, x: x.to("cpu", lib.float16),
    "to_other": lambda lib, x: x.to(lib.zeros(1, dtype=lib.int64)),
    "type_as": lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.float64)),
    "type_dtype": lambda lib, x: x.type(lib.int16),
}


@pytest.mark.parametrize("name", CONVERSIONS)
def test_dtype_conversions(name):
    data = [[-1.5, 0.0], [2.25, 3.0]]
    convert = CONVERSIONS[name]
    same_tensor(convert(chainrule, chainrule.tensor(data)), convert(torch, torch.tensor(data)))


@LIBS
def test_conversions_to_the_same_dtype_and_device_return_self(lib):
    x = lib.ones(2)
    assert x.float() is x and x.to("cpu") is x and x.to(lib.float32) is x
    assert x.to(lib.float32, copy=True) is not x
    assert x.contiguous() is x


@LIBS
def test_legacy_type_names(lib):
    prefix = lib.__name__
    names = [lib.ones(1, dtype=d).type() for d in (lib.float32, lib.float64, lib.int64, lib.bool)]
    assert names == [f"{prefix}.{n}Tensor" for n in ("Float", "Double", "Long", "Bool")]


def test_conversions_are_differentiable():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        ((x.double() * 3).float() + x.clone() * x.to(lib.float64).float()).sum().backward()
        return x.grad, x.clone().grad_fn is not None

    ours, theirs = program(chainrule), program(torch)
    same_tensor(ours[0], theirs[0])
    assert ours[1] == theirs[1]


@LIBS
def test_clone_copies_memory(lib):
    x = lib.tensor([1.0, 2.0])
    y = x.clone()
    y[0] = -1.0
    assert x.tolist() == [1.0, 2.0]


# ---- the legacy constructor --------------------------------------------------------------------


@LIBS
def test_legacy_constructor(lib):
    assert dtype_name(lib.Tensor([1, 2]).dtype) == "float32"
    assert lib.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert dtype_name(lib.Tensor(np.array([1.5], dtype=np.float64)).dtype) == "float32"
    assert (
        tuple(lib.Tensor(2, 3).shape) == (2, 3) and dtype_name(lib.Tensor(2, 3).dtype) == "float32"
    )
    assert tuple(lib.Tensor().shape) == (0,)
    assert isinstance(lib.tensor([1.0]), lib.Tensor)


# ---- comparisons of whole tensors --------------------------------------------------------------


@LIBS
def test_allclose_equal_isclose(lib):
    x = lib.tensor([1.0, 2.0, float("nan")])
    assert lib.allclose(x[:2], x[:2] + 1e-9) and not lib.allclose(x[:2], x[:2] + 1e-3)
    assert not lib.allclose(x, x) and lib.allclose(x, x, equal_nan=True)
    assert lib.equal(x[:2], x[:2].clone()) and not lib.equal(lib.ones(2), lib.ones(3))
    assert lib.isclose(x, x + 1e-9).tolist() == [True, True, False]
    assert lib.isclose(x, x, equal_nan=True).tolist() == [True, True, True]
    assert x[:2].allclose(x[:2]) and x[:2].equal(x[:2])


# ---- repr, in PyTorch's format -----------------------------------------------------------------


REPR_CASES = {
    "floats": ([1.5, 2.0, 300.0], {}),
    "whole_floats": ([1.0, -2.0, 30.0], {}),
    "ints": ([[1, 2], [30, 4]], {}),
    "negative_ints": ([1, -200], {}),
    "bools": ([[True, False], [False, True]], {}),
    "scalar": (3.0, {}),
    "int_scalar": (-7, {}),
    "bool_scalar": (True, {}),
    "zero_scalar": (0.0, {}),
    "zeros": ([0.0, 0.0], {}),
    "scientific_by_ratio": ([1.0, 2000.0], {}),
    "scientific_small": ([1e-5, 1.0], {}),
    "scientific_large": ([1e9, 1.0], {}),
    "non_finite": ([float("nan"), 1.0, float("-inf")], {}),
    "decimals": ([-0.5, 1.25, 0.125], {}),
    "3d": ([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.5]]], {}),
    "long_row_wraps": ([x / 7 for x in range(30)], {}),
    "float64": ([1.5, 2.0], {"dtype": "float64"}),
    "float16": ([1.5, 2.0], {"dtype": "float16"}),
    "int32": ([1, 2], {"dtype": "int32"}),
    "requires_grad": ([1.5, 2.0], {"requires_grad": True}),
    "float64_requires_grad": ([[1.0, 2.0]], {"dtype": "float64", "requires_grad": True}),
    "empty": ([], {}),
    "empty_int": ([], {"dtype": "int64"}),
}


def _make(lib, data, options):
    options = dict(options)
    if "dtype" in options:
        options["dtype"] = getattr(lib, options["dtype"])
    return lib.tensor(data, **options)


@pytest.mark.parametrize("case", REPR_CASES)
def test_repr_matches_torch(case):
    data, options = REPR_CASES[case]
    ours = repr(_make(chainrule, data, options))
    theirs = repr(_make(torch, data, options))
    assert ours == theirs.replace("torch.", "chainrule.")


@pytest.mark.parametrize(
    "shape", [(2000,), (40, 40), (3, 500), (2, 3, 400), (0, 3), (2, 0)], ids=str
)
def test_repr_of_large_and_empty_tensors_matches_torch(shape):
    data = np.arange(math.prod(shape), dtype=np.float32).reshape(shape) / 3
    assert repr(chainrule.tensor(data)) == repr(torch.tensor(data))
    assert repr(chainrule.tensor(data.astype(np.int64))).replace("chainrule.", "torch.") == repr(
        torch.tensor(data.astype(np.int64))
    )


def test_repr_of_computed_tensors_shows_grad_fn():
    def program(lib):
        x = lib.tensor([[0.25, -1.5], [2.0, 3.0]], dtype=lib.float64, requires_grad=True)
        return repr(x * 2), repr((x * 2).sum()), repr((x * 2).detach())

    ours, theirs = program(chainrule), program(torch)
    assert ours == tuple(text.replace("torch.", "chainrule.") for text in theirs)


def test_repr_of_random_values_matches_torch():
    values = torch.randn(6, 7, generator=torch.Generator().manual_seed(0)) * 50
    ours = chainrule.tensor(values.numpy(), requires_grad=True) * 1
    assert repr(ours) == repr(values.requires_grad_() * 1)


# ---- grad and requires_grad ------------------------------------------------------------------


@LIBS
def test_assigning_grad_checks_its_shape(lib):
    x = lib.ones(2, requires_grad=True)
    x.grad = lib.ones(2) * 3
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError):
        x.grad = lib.ones(3)


@LIBS
def test_assigning_grad_checks_its_dtype(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype"):
        x.grad = lib.ones(2, dtype=lib.float64)
    assert x.grad is None


def test_assigning_a_grad_of_the_wrong_shape_is_a_shape_error():
    with pytest.raises(ShapeError):
        chainrule.ones(2, requires_grad=True).grad = chainrule.ones(3)


@LIBS
def test_requires_grad_property(lib):
    x = lib.ones(2)
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    with pytest.raises(RuntimeError):
        lib.ones(2, dtype=lib.int64).requires_grad = True


def test_integer_tensors_refuse_requires_grad_with_a_grad_error():
    with pytest.raises(GradError, match="floating point"):
        chainrule.tensor([1, 2], requires_grad=True)


def test_view_dtype_reinterprets_the_bits_as_torch():

    cases = [
        (np.array([1.0, -2.0], np.float32), "int32"),
        (np.array([1.0, -2.0], np.float32), "int16"),
        (np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), "float64"),
        (np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), "uint8"),
        (np.array([7, 300], np.int64), "float64"),
        (np.array([1, 0, 2], np.uint8), "bool"),
    ]
    for array, name in cases:
        mine = chainrule.from_numpy(array.copy()).view(getattr(chainrule, name))
        theirs = torch.from_numpy(array.copy()).view(getattr(torch, name))
        assert mine.dtype.name == name and tuple(mine.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_view_dtype_shares_memory_is_not_differentiable_and_refuses_as_torch():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    same = x.view(chainrule.float32)
    assert not same.requires_grad and same.grad_fn is None  # as torch's view(dtype)
    y = chainrule.tensor([1.0, -2.0])
    bits = y.view(chainrule.int32)
    bits[0] = 0
    assert y.tolist() == [0.0, -2.0] and y._version == 1
    for tensor, message in [
        (chainrule.tensor([1.0, 2.0, 3.0]), "size.-1. must be divisible by 2"),
        (chainrule.tensor(1.0), "dim.. cannot be 0"),
        (chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]).t(), "stride.-1. must be 1"),
    ]:
        with pytest.raises(ShapeError, match=message):
            tensor.view(chainrule.float64)


# ---- Size: what shape and size() return ----------------------------------------------------


def test_shape_and_size_are_sizes_as_in_pytorch():
    x, reference = chainrule.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for mine, theirs in ((x.shape, reference.shape), (x.size(), reference.size())):
        assert isinstance(mine, chainrule.Size) and isinstance(mine, tuple)
        assert repr(mine) == repr(theirs).replace("torch", "chainrule")
        assert mine == tuple(theirs) and hash(mine) == hash(tuple(theirs))
        assert mine.numel() == theirs.numel() == 24
    assert x.size(1) == 3 and type(x.size(-1)) is int
    assert repr(chainrule.zeros(()).shape) == "chainrule.Size([])"


def test_size_arithmetic_gives_sizes_as_in_pytorch():
    mine, theirs = chainrule.Size([2, 3]), torch.Size([2, 3])
    cases = {
        "slice": (mine[1:], theirs[1:]),
        "size + size": (mine + chainrule.Size([4]), theirs + torch.Size([4])),
        "size + tuple": (mine + (4,), theirs + (4,)),
        "tuple + size": ((4,) + mine, (4,) + theirs),
        "size * int": (mine * 2, theirs * 2),
        "int * size": (2 * mine, 2 * theirs),
    }
    for case, (got, want) in cases.items():
        assert type(got) is chainrule.Size, case
        assert tuple(got) == tuple(want), case
    assert type(mine[0]) is int and mine.index(3) == 1 and mine.count(2) == 1


def test_size_takes_ints_only_and_pickles():
    import pickle

    assert chainrule.Size([chainrule.tensor(3), np.int64(2)]) == (3, 2)
    with pytest.raises(TypeError, match=r"item 0 is 'float'"):
        chainrule.Size([2.5])
    size = chainrule.zeros(2, 5).shape
    assert pickle.loads(pickle.dumps(size)) == size
    assert type(pickle.loads(pickle.dumps(size))) is chainrule.Size
    assert chainrule.zeros(size).shape == (2, 5)  # a Size is accepted wherever sizes are


def test_size_prints_as_pytorch_and_formats_as_a_tuple_in_messages():
    size = chainrule.zeros(2, 3).shape
    assert str(size) == repr(size) == "chainrule.Size([2, 3])"
    assert f"{size}" == "(2, 3)"  # error messages name shapes as tuples
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        chainrule.zeros(2, 3) @ chainrule.zeros(4, 5)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.max(0),
        lambda lib, x: lib.sort(x, dim=1, descending=True),
        lambda lib, x: lib.topk(x, 1),
        lambda lib, x: lib.linalg.slogdet(x),
        lambda lib, x: lib.linalg.qr(x),
        lambda lib, x: lib.aminmax(x),
    ],
    ids=["max", "sort", "topk", "slogdet", "qr", "aminmax"],
)
def test_named_results_print_as_torch_return_types(call):
    """A (values, indices) result prints as PyTorch's torch.return_types: one field per line."""
    data = [[1.0, 4.0], [3.0, 2.0]]
    ours = repr(call(chainrule, chainrule.tensor(data)))
    theirs = repr(call(torch, torch.tensor(data)))
    assert ours == theirs.replace("torch.", "chainrule.")


@pytest.mark.parametrize("shape", [(2, 3, 4), (3,), ()])
def test_T_off_a_matrix_warns_once_as_pytorch_and_reverses_the_dims(shape, monkeypatch):
    """PyTorch deprecates `x.T` except on matrices: one warning per process (0-D has its own),
    the dimensions still reversed (0-D: the identity, a view)."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    x = np.arange(float(np.prod(shape))).reshape(shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours, again = chainrule.tensor(x).T, chainrule.tensor(x).T
    assert [w.category for w in caught] == [UserWarning] and caught[0].filename == __file__
    expected = "deprecated on 0-D tensors" if shape == () else "dimension other than 2"
    assert expected in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's, once per process: not ours to count
        theirs = torch.tensor(x).T
    same_tensor(ours, theirs.contiguous())
    assert tuple(again.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("convert", [float, complex], ids=["float", "complex"])
def test_a_scalar_taken_out_of_the_graph_warns_once_as_pytorch(convert, monkeypatch):
    """float() / complex() of a tensor that requires grad, with grad mode on, warn once per
    process (PyTorch's "Converting a tensor with requires_grad=True to a scalar"), blaming
    the caller; int(), item() and anything under no_grad stay silent, as in PyTorch."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    x = chainrule.tensor([1.5], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with chainrule.no_grad():
            convert(x)
        int(x), x.item(), convert(x.detach())
        assert caught == []
        values = convert(x), convert(x * 2)
    assert values[0] == 1.5 and values[1] == 3.0
    assert [w.category for w in caught] == [UserWarning] and caught[0].filename == __file__
    assert "Converting a tensor with requires_grad=True to a scalar" in str(caught[0].message)


@LIBS
def test_H_is_for_matrices_and_0_d_tensors_only(lib):
    for shape, advice in [((3,), ""), ((2, 2, 2), "consider using tensor.mH")]:
        with pytest.raises(RuntimeError, match=f"only supported on matrices.*{advice}"):
            _ = lib.zeros(shape).H
    z = lib.tensor([[1 + 2j, 3j]])
    assert lib.equal(z.H, z.conj().transpose(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lib.tensor(1 + 2j).H.item() == 1 - 2j
