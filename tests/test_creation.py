"""Factories, specified against PyTorch: dtype inference, filled tensors, ranges, and random
tensors (whose streams differ from PyTorch's, so only shapes, dtypes, ranges, statistics and
reproducibility are compared)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.errors import DTypeError, ShapeError
from tests.test_tensor import LIBS, dtype_name, same_tensor


def on_both(program) -> None:
    same_tensor(program(chainrule), program(torch))


# ---- tensor(): dtype inference -----------------------------------------------------------------


INFERENCE = {
    "python_floats": lambda lib: [1.5, 2.0],
    "python_ints": lambda lib: [1, 2],
    "python_bools": lambda lib: [True, False],
    "ints_and_floats": lambda lib: [1, 2.5],
    "bools_and_ints": lambda lib: [True, 2],
    "float_scalar": lambda lib: 2.5,
    "int_scalar": lambda lib: 7,
    "big_int": lambda lib: 2**40,
    "nested": lambda lib: [[1.0, 2.0], [3.0, 4.0]],
    "numpy_float64": lambda lib: np.array([1.5, 2.5]),
    "numpy_float32": lambda lib: np.array([1.5], dtype=np.float32),
    "numpy_int32": lambda lib: np.array([1, 2], dtype=np.int32),
    "numpy_uint8": lambda lib: np.array([1, 255], dtype=np.uint8),
    "numpy_scalar": lambda lib: np.float64(1.25),
    "list_of_float64_tensors": lambda lib: [lib.tensor(1.0, dtype=lib.float64), lib.tensor(2.0)],
    "list_of_int_tensors_and_floats": lambda lib: [lib.tensor(1), 2.5],
    "list_of_int_tensors": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "empty": lambda lib: [],
    "empty_nested": lambda lib: [[]],
}


@pytest.mark.parametrize("case", INFERENCE)
def test_tensor_infers_dtypes_like_torch(case):
    on_both(lambda lib: lib.tensor(INFERENCE[case](lib)))


@LIBS
def test_tensor_with_explicit_dtype_and_requires_grad(lib):
    x = lib.tensor([1, 2], dtype=lib.float64, requires_grad=True)
    assert dtype_name(x.dtype) == "float64" and x.requires_grad and x.is_leaf
    assert dtype_name(lib.tensor([1, 2], dtype=float).dtype) == "float64"
    assert dtype_name(lib.tensor([1.7], dtype=lib.int64).dtype) == "int64"


@LIBS
def test_tensor_copies_but_from_numpy_and_as_tensor_share(lib):
    array = np.array([1.0, 2.0])
    copied, shared, asarray = lib.tensor(array), lib.from_numpy(array), lib.as_tensor(array)
    array[0] = 9.0
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [9.0, 2.0] and asarray.tolist() == [9.0, 2.0]


# ---- filled tensors ----------------------------------------------------------------------------


FILLED = {
    "zeros": lambda lib: lib.zeros(2, 3),
    "zeros_tuple": lambda lib: lib.zeros((2, 3)),
    "zeros_list_dtype": lambda lib: lib.zeros([2], dtype=lib.int64),
    "zeros_scalar": lambda lib: lib.zeros(()),
    "ones": lambda lib: lib.ones(3, dtype=lib.float64),
    "full_float": lambda lib: lib.full((2,), 1.5),
    "full_int": lambda lib: lib.full((2, 2), 3),
    "full_bool": lambda lib: lib.full((2,), True),
    "full_cast": lambda lib: lib.full((2,), 1.5, dtype=lib.int64),
    "zeros_like": lambda lib: lib.zeros_like(lib.ones(2, 3, dtype=lib.int32)),
    "ones_like_dtype": lambda lib: lib.ones_like(lib.ones(2), dtype=lib.float64),
    "full_like": lambda lib: lib.full_like(lib.ones(2, dtype=lib.int64), 7),
    "eye": lambda lib: lib.eye(3),
    "eye_rectangular": lambda lib: lib.eye(2, 4, dtype=lib.int64),
    "python_float_dtype": lambda lib: lib.zeros(2, dtype=float),
}


@pytest.mark.parametrize("case", FILLED)
def test_filled_tensors(case):
    on_both(FILLED[case])


@LIBS
def test_empty_has_the_shape_and_dtype_asked_for(lib):
    for x in (lib.empty(2, 3), lib.empty_like(lib.ones(2, 3)), lib.empty((4,), dtype=lib.int64)):
        assert dtype_name(x.dtype) in ("float32", "int64") and x.numel() in (4, 6)


@LIBS
def test_factories_can_make_leaves_that_require_grad(lib):
    for x in (
        lib.zeros(2, requires_grad=True),
        lib.ones(2, requires_grad=True),
        lib.full((2,), 2.0, requires_grad=True),
        lib.randn(2, requires_grad=True),
        lib.rand_like(lib.ones(2), requires_grad=True),
        lib.randn_like(lib.ones(2), requires_grad=True),
        lib.normal(0.0, 1.0, (2,), requires_grad=True),
        lib.asarray([1.0, 2.0], requires_grad=True),
        lib.ones(2).new_empty_strided((2,), (1,), requires_grad=True),
        lib.randint_like(lib.ones(2), 5, requires_grad=True),
    ):
        assert x.requires_grad and x.is_leaf  # rand_like, randn_like, normal dropped the flag


@LIBS
def test_factories_write_into_out_as_torch(lib):
    """`torch.zeros(3, out=buffer)` fills the buffer and returns it (chainrule returned a new
    tensor and left the buffer as it was): out's dtype is the default, a buffer of another
    size is resized silently, `empty` only resizes."""
    buffer = lib.full((3,), -7.0)
    assert lib.zeros(3, out=buffer) is buffer and buffer.tolist() == [0.0] * 3
    assert lib.ones(size=(3,), out=buffer) is buffer and buffer.tolist() == [1.0] * 3
    assert lib.normal(2.5, 0.0, (3,), out=buffer) is buffer and buffer.tolist() == [2.5] * 3
    for draw in (lib.rand, lib.randn):
        buffer.fill_(-7.0)
        assert draw(3, out=buffer) is buffer and bool((buffer != -7.0).all())
    integers = lib.full((2,), 5, dtype=lib.int64)
    assert lib.ones(2, out=integers).tolist() == [1, 1] and integers.dtype == lib.int64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lib.zeros(2, 2, out=buffer).shape == (2, 2) and buffer.shape == (2, 2)
        kept = lib.full((4,), -7.0)
        assert lib.empty(2, out=kept) is kept and kept.tolist() == [-7.0, -7.0]


def test_asarray_shares_copies_and_sets_requires_grad_as_torch():
    """torch.asarray (not as_tensor): `copy=True` copies, `copy=False` refuses what cannot be
    shared, `requires_grad=` makes a leaf or detaches, and an unset requires_grad keeps a
    tensor's own (PyTorch warns once that the default changed)."""
    outcomes = []
    for lib in (chainrule, torch):
        array = np.ones(2, dtype=np.float32)
        shared, copied = lib.asarray(array), lib.asarray(array, copy=True)
        array[0] = 5.0
        leaf = lib.ones(2, requires_grad=True)
        detached = lib.asarray(leaf, requires_grad=False)
        plain = lib.ones(2)
        made = lib.asarray(plain, requires_grad=True)
        cast = lib.asarray(plain, dtype=lib.float64)
        refusals = []
        for call in (
            lambda lib=lib: lib.asarray([1.0], copy=False),
            lambda lib=lib, plain=plain: lib.asarray(plain, dtype=lib.float64, copy=False),
        ):
            with pytest.raises(ValueError) as error:
                call()
            refusals.append(str(error.value))
        outcomes.append(
            (
                shared.tolist(),
                copied.tolist(),
                detached.requires_grad,
                detached.data_ptr() == leaf.data_ptr(),
                made is plain and plain.requires_grad and made.is_leaf,
                dtype_name(cast.dtype),
                lib.asarray(leaf) is leaf,
                refusals,
            )
        )
    assert outcomes[0] == outcomes[1]


@LIBS
def test_negative_sizes_raise(lib):
    with pytest.raises(RuntimeError):
        lib.zeros(-1)


# ---- ranges ------------------------------------------------------------------------------------


RANGES = {
    "arange_int": lambda lib: lib.arange(5),
    "arange_float": lambda lib: lib.arange(5.0),
    "arange_start_end": lambda lib: lib.arange(2, 7),
    "arange_step": lambda lib: lib.arange(1, 4, 0.5),
    "arange_tenths": lambda lib: lib.arange(0, 1, 0.1),
    "arange_descending": lambda lib: lib.arange(5, 0, -1),
    "arange_dtype": lambda lib: lib.arange(3, dtype=lib.float64),
    "arange_tensor_bound": lambda lib: lib.arange(lib.tensor(3)),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "linspace_steps_keyword": lambda lib: lib.linspace(-1.0, 1.0, steps=4),
    "linspace_float64": lambda lib: lib.linspace(0, 1, 3, dtype=lib.float64),
    "logspace": lambda lib: lib.logspace(0, 2, 3),
    "linspace_complex_bounds": lambda lib: lib.linspace(0, 1j, 3),
    "linspace_complex_tensor_bound": lambda lib: lib.linspace(lib.tensor(0j), 1, 3),
    "logspace_complex_bounds": lambda lib: lib.logspace(0, 1j, 3),
    "logspace_complex_base_2": lambda lib: lib.logspace(0, 1j, 3, base=2.0),
}


@pytest.mark.parametrize("case", RANGES)
def test_ranges(case):
    on_both(RANGES[case])


@LIBS
def test_arange_with_a_zero_step_raises(lib):
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        lib.arange(0, 5, 0)


@LIBS
@pytest.mark.parametrize("name", ["linspace", "logspace"])
def test_a_negative_number_of_steps_raises(lib, name):
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        getattr(lib, name)(0, 1, -1)


OVERFLOWING_DATA = {
    "int_past_int8": lambda lib: lib.tensor([1, 300], dtype=lib.int8),
    "int_past_uint8": lambda lib: lib.tensor([300], dtype=lib.uint8),
    "float_past_int8": lambda lib: lib.tensor([[127.9]], dtype=lib.int8),
    "nan_into_int64": lambda lib: lib.tensor([1.0, float("nan")], dtype=lib.int64),
    "negative_fraction_into_uint8": lambda lib: lib.tensor([2.5, -0.5], dtype=lib.uint8),
    "linspace_bound_past_uint8": lambda lib: lib.linspace(0, 300, 3, dtype=lib.uint8),
    "linspace_bound_past_float16": lambda lib: lib.linspace(0, 1e10, 3, dtype=lib.float16),
    "logspace_bound_below_uint8": lambda lib: lib.logspace(-0.5, 2, 3, dtype=lib.uint8),
    "logspace_one_power_past_int32": lambda lib: lib.logspace(1000.0, 1, 1, dtype=lib.int32),
    "inf_into_int32": lambda lib: lib.tensor(float("inf"), dtype=lib.int32),
    "complex_fill_into_float": lambda lib: lib.full((2,), 1 + 2j, dtype=lib.float32),
    "complex_into_scalar_tensor": lambda lib: lib.scalar_tensor(1 + 2j),
}


@LIBS
@pytest.mark.parametrize("name", OVERFLOWING_DATA)
def test_python_numbers_a_dtype_cannot_hold_raise(lib, name):
    """NumPy's cast would wrap 300 into int8 (44) or turn NaN into garbage; PyTorch refuses."""
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        OVERFLOWING_DATA[name](lib)


@LIBS
def test_python_numbers_a_dtype_can_hold_convert_as_pytorchs(lib):
    assert lib.tensor([-1, 255], dtype=lib.uint8).tolist() == [255, 255]  # negative ints wrap
    assert lib.tensor([-128.5, 1.9], dtype=lib.int16).tolist() == [-128, 1]  # floats truncate
    assert lib.tensor([1e10], dtype=lib.float16).tolist() == [float("inf")]
    assert lib.full((1,), 2 + 0j, dtype=lib.int64).tolist() == [2]
    # a range's values wrap, once its bounds fit
    assert lib.logspace(0, 7.0, 2, dtype=lib.uint8).tolist() == [1, 128]
    assert lib.logspace(2.5, 1000.0, 2, dtype=lib.int32).tolist() == [100, -(2**31)]
    assert lib.linspace(1000.0, 1000.0, 0, dtype=lib.uint8).tolist() == []
    # an integer linspace steps between its bounds as the dtype holds them (-2 is 254)
    assert lib.linspace(-2, 1, 4, dtype=lib.uint8).tolist() == [254, 169, 85, 1]


@LIBS
@pytest.mark.parametrize("dtype", ["float16", "int64"])
def test_a_complex_number_in_real_data_is_a_type_error(lib, dtype):
    with pytest.raises(TypeError):
        lib.tensor([1.0, 2 + 1j], dtype=getattr(lib, dtype))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
@pytest.mark.parametrize(
    "bounds", [(2.5, -0.5, -1), (-0.5, 2.5, 1), (0.5, 3.7, 1), (1.9, 5.2, 1.5), (0, 5, 2.5)]
)
def test_arange_with_fractional_bounds_in_an_integer_dtype(dtype, bounds):
    """int64 truncates the bounds before counting; PyTorch's kernel for the narrower integer
    dtypes counts from the exact bounds ([2, 1] in int64 but [2, 1, 0] in int32)."""
    on_both(lambda lib: lib.arange(*bounds, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("bounds", [(-0.5, 3, 1), (0.5, 3, 1), (-0.5, 3, 3), (0.3, 2, 2)])
def test_logspace_in_an_integer_dtype(dtype, bounds):
    """One step is base ** start with the start uncast (10 ** 0.5 -> 3); more cast both
    bounds first; a power the dtype cannot hold raises."""
    try:
        expected = torch.logspace(*bounds, dtype=getattr(torch, dtype))
    except RuntimeError:
        with pytest.raises(RuntimeError, match="without overflow"):
            chainrule.logspace(*bounds, dtype=getattr(chainrule, dtype))
        return
    same_tensor(chainrule.logspace(*bounds, dtype=getattr(chainrule, dtype)), expected)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "float16"])
@pytest.mark.parametrize(
    "value",
    [np.float16(-0.5), np.float64(2.7), np.int64(-1), np.bool_(True), np.uint8(200)]
    + [np.float32(300.0)],
    ids=repr,
)
def test_full_with_a_numpy_scalar_converts_it_as_torch(dtype, value):
    """A NumPy scalar fills as the number it holds: np.float16(-0.5) into uint8 overflows as
    -0.5 does (it filled zeros), np.int64(-1) wraps to 255."""
    try:
        expected = torch.full((2,), value, dtype=getattr(torch, dtype))
    except RuntimeError:
        with pytest.raises(RuntimeError, match="without overflow"):
            chainrule.full((2,), value, dtype=getattr(chainrule, dtype))
        return
    same_tensor(chainrule.full((2,), value, dtype=getattr(chainrule, dtype)), expected)


def test_arange_with_a_zero_step_is_a_shape_error():
    with pytest.raises(ShapeError):
        chainrule.arange(0, 5, 0)


# ---- random tensors ----------------------------------------------------------------------------


@LIBS
def test_random_factories_shapes_and_dtypes(lib):
    cases = [
        (lib.rand(2, 3), (2, 3), "float32"),
        (lib.rand((4,), dtype=lib.float64), (4,), "float64"),
        (lib.randn(3, dtype=lib.float16), (3,), "float16"),
        (lib.randint(0, 10, (3,)), (3,), "int64"),
        (lib.randint(5, (2, 2)), (2, 2), "int64"),
        (lib.randperm(5), (5,), "int64"),
        (lib.normal(2.0, 3.0, size=(4,)), (4,), "float32"),
        (lib.normal(lib.zeros(3, dtype=lib.float64), 1.0), (3,), "float64"),
        (lib.normal(lib.zeros(2, 1), lib.ones(3)), (2, 3), "float32"),
        (lib.rand_like(lib.zeros(2, dtype=lib.float64)), (2,), "float64"),
        (lib.randn_like(lib.zeros(2)), (2,), "float32"),
        (lib.randint_like(lib.zeros(2, 2), 5), (2, 2), "float32"),
        (lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64)), (3,), "float64"),
        (lib.multinomial(lib.tensor([1.0, 2.0]), 1), (1,), "int64"),
        (lib.multinomial(lib.tensor([[1.0, 2.0, 3.0]]), 2), (1, 2), "int64"),
    ]
    for x, shape, dtype in cases:
        assert tuple(x.shape) == shape and dtype_name(x.dtype) == dtype


@LIBS
def test_random_values_lie_in_their_ranges(lib):
    lib.manual_seed(0)
    uniform = lib.rand(10_000).numpy()
    integers = lib.randint(3, 10, (10_000,)).numpy()
    assert uniform.min() >= 0.0 and uniform.max() < 1.0
    assert set(integers.tolist()) == set(range(3, 10))
    assert sorted(lib.randperm(6).tolist()) == list(range(6))
    normal = lib.randn(20_000, dtype=lib.float64).numpy()
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1.0) < 0.05
    shifted = lib.normal(2.0, 3.0, size=(20_000,)).numpy()
    assert abs(shifted.mean() - 2.0) < 0.15 and abs(shifted.std() - 3.0) < 0.15


@LIBS
def test_manual_seed_makes_draws_reproducible(lib):
    def draw():
        return [
            lib.rand(3),
            lib.randn(2, 2),
            lib.randint(0, 100, (4,)),
            lib.randperm(5),
            lib.multinomial(lib.ones(5), 3),
            lib.bernoulli(lib.full((4,), 0.5)),
        ]

    lib.manual_seed(1234)
    first = draw()
    lib.manual_seed(1234)
    second = draw()
    assert all(lib.equal(a, b) for a, b in zip(first, second))
    assert lib.initial_seed() == 1234
    state = lib.get_rng_state()
    after = lib.rand(3)
    lib.set_rng_state(state)
    assert lib.equal(lib.rand(3), after)


@LIBS
def test_generator_objects_are_independent_streams(lib):
    def draw(generator):
        return (
            lib.randn(4, generator=generator),
            lib.randint(0, 9, (3,), generator=generator),
            lib.randint_like(lib.ones(5), 9, generator=generator),  # dropped the generator
        )

    first = draw(lib.Generator().manual_seed(7))
    lib.manual_seed(0)
    lib.rand(100)  # advancing the default generator changes nothing below
    second = draw(lib.Generator().manual_seed(7))
    assert all(lib.equal(a, b) for a, b in zip(first, second))
    assert lib.Generator().manual_seed(3).initial_seed() == 3


@LIBS
def test_the_random_state_is_a_byte_tensor_that_restores_the_stream(lib, tmp_path):
    """get_rng_state and Generator.get_state give a 1-D uint8 tensor (the bytes are each
    library's own), which set_rng_state / set_state take back, also after clone() and a
    torch.save / torch.load(weights_only=True) round trip; set_state restores the seed too."""
    lib.manual_seed(11)
    state = lib.get_rng_state()
    assert state.dtype == lib.uint8 and state.dim() == 1 and state.shape[0] > 0
    after = lib.rand(3)
    lib.save({"rng": state.clone()}, tmp_path / "rng.pt")
    lib.set_rng_state(lib.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    assert lib.equal(lib.rand(3), after)

    generator = lib.Generator().manual_seed(5)
    saved = generator.get_state()
    first = lib.randn(4, generator=generator)
    generator.manual_seed(7)
    assert generator.set_state(saved) is generator
    assert generator.initial_seed() == 5
    assert lib.equal(lib.randn(4, generator=generator), first)
    now = generator.get_state()
    now[0] = now[0] + 1  # a copy: writing to it leaves the generator as it was
    assert not lib.equal(generator.get_state(), now)

    with pytest.raises(TypeError, match="ByteTensor"):
        lib.set_rng_state(state.float())
    with pytest.raises(TypeError, match="ByteTensor"):
        lib.set_rng_state({"seed": 1})
    with pytest.raises(RuntimeError, match="size to be 10"):
        generator.set_state(lib.zeros(10, dtype=lib.uint8))


def test_a_random_state_saved_by_an_earlier_chainrule_still_restores():
    """Before the state was a uint8 tensor it was NumPy's bit-generator dict, and checkpoints
    (chainrule train's among them) hold that form."""
    chainrule.manual_seed(3)
    old_form = chainrule.default_generator.rng.bit_generator.state
    after = chainrule.rand(3)
    chainrule.set_rng_state(old_form)
    assert chainrule.equal(chainrule.rand(3), after)


@LIBS
def test_multinomial(lib):
    lib.manual_seed(0)
    with_replacement = lib.multinomial(lib.tensor([1.0, 0.0, 3.0]), 20_000, replacement=True)
    counts = np.bincount(with_replacement.numpy(), minlength=3) / 20_000
    assert counts[1] == 0 and abs(counts[2] - 0.75) < 0.02
    rows = lib.multinomial(lib.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]), 2)
    assert sorted(rows[0].tolist()) == [0, 1] and rows[1, 0].item() == 2
    assert sorted(lib.multinomial(lib.tensor([0.0, 0.0, 1.0]), 3).tolist()) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        lib.multinomial(lib.tensor([1.0, 1.0]), 3)
    with pytest.raises((RuntimeError, ValueError), match="sum of probabilities"):
        lib.multinomial(lib.tensor([0.0, 0.0]), 1)  # chainrule: ValueError, as for randint
    with pytest.raises(RuntimeError, match="only supports floating-point dtypes.*got: Long"):
        lib.multinomial(lib.tensor([1, 2]), 1)  # integer counts are not read as weights
    for count in (0, -1):
        with pytest.raises(RuntimeError, match="cannot sample n_sample <= 0 samples"):
            lib.multinomial(lib.tensor([1.0, 2.0]), count)


@LIBS
def test_bernoulli(lib):
    assert lib.bernoulli(lib.tensor([0.0, 1.0, 1.0])).tolist() == [0.0, 1.0, 1.0]
    assert lib.bernoulli(lib.tensor([0.0, 1.0, 1.0]), 0.0).tolist() == [0.0, 0.0, 0.0]
    lib.manual_seed(0)
    draws = lib.bernoulli(lib.full((20_000,), 0.3)).numpy()
    assert abs(draws.mean() - 0.3) < 0.02


@LIBS
def test_in_place_random_fills(lib):
    x = lib.zeros(1000, dtype=lib.float64)
    x.uniform_(2.0, 3.0)
    assert dtype_name(x.dtype) == "float64" and 2.0 <= x.min().item() and x.max().item() < 3.0
    x.normal_(5.0, 0.1)
    assert abs(x.mean().item() - 5.0) < 0.05


def test_random_argument_errors_are_typed():
    with pytest.raises(DTypeError):
        chainrule.rand(2, dtype=chainrule.int64)
    with pytest.raises(ValueError, match="less than"):
        chainrule.randint(5, 5, (2,))
    with pytest.raises(ShapeError, match="without replacement"):
        chainrule.multinomial(chainrule.tensor([1.0, 1.0]), 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([np.float64(1.0), np.float64(2.5)]),
        lambda lib: lib.tensor([np.float64(1.0), 2.5]),
        lambda lib: lib.tensor([[np.float32(1.0)], [np.float32(2.0)]]),
        lambda lib: lib.tensor([np.int32(1), np.int32(2)]),
        lambda lib: lib.tensor([np.int32(1), 2.5]),
        lambda lib: lib.tensor([np.array([1.0]), np.array([2.0])]),
        lambda lib: lib.tensor([np.array([1], dtype=np.int16), np.array([2], dtype=np.int16)]),
        lambda lib: lib.arange(np.int64(3)),
        lambda lib: lib.arange(0, np.int32(5), 2),
        lambda lib: lib.arange(np.float32(2.0)),
        lambda lib: lib.full((2,), np.int64(3)),
        lambda lib: lib.full((2,), np.float64(1.5)),
    ],
)
def test_numpy_scalars_and_arrays_in_data_keep_their_dtypes_as_torch(make):
    """Rewards collected as np.float64 make a float64 tensor in PyTorch, and np.int64 bounds
    an int64 arange: NumPy data enters the inference with its own dtype."""
    ours, theirs = make(chainrule), make(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("data", [2**63, [2**63], [3, 2**64], -(2**63) - 1])
def test_python_ints_past_int64_are_refused_as_torch(data):
    """NumPy keeps them as uint64 or objects; chainrule wrapped 2**63 to -2**63 silently."""
    with pytest.raises(ValueError, match="Overflow"):
        torch.tensor(data)
    with pytest.raises(ValueError, match="Overflow"):
        chainrule.tensor(data)
    assert chainrule.tensor([2**63 - 1]).tolist() == [2**63 - 1]


BIT_EXACT_RANGES = [
    ("linspace", (-1, 1, 7)),
    ("linspace", (-3.3, 7.7, 11)),
    ("linspace", (0.1, 0.9, 9)),
    ("linspace", (1, 0, 6)),
    ("linspace", (0, 10, 4)),
    ("arange", (-1, 1, 0.3)),
    ("arange", (0.5, 3.2, 0.7)),
    ("logspace", (-2, 2, 7)),
    ("logspace", (0, 1, 1)),
]
RANGE_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64"]


@pytest.mark.parametrize("dtype", RANGE_DTYPES)
@pytest.mark.parametrize(
    ("name", "args"), BIT_EXACT_RANGES, ids=[f"{n}{a}" for n, a in BIT_EXACT_RANGES]
)
def test_ranges_hold_pytorchs_values_to_the_last_bit(name, args, dtype):
    """linspace counts up from start for the first half and down from end for the rest, with
    a fused multiply-add in float32 and float64 and per-operation rounding in float16 and
    bfloat16 (NumPy's linspace made torch.linspace(-1, 1, 7)[3] 0.0 where PyTorch prints
    -2.9802e-08); arange is start + i * step fused (NumPy adds a rounded delta)."""
    if name == "logspace" and dtype in ("float16", "bfloat16", "int64"):
        pytest.skip("powers: compared in the wider dtypes")
    try:
        theirs = getattr(torch, name)(*args, dtype=getattr(torch, dtype))
    except ValueError:  # a fractional step in an integer dtype is 0 there
        with pytest.raises(ValueError, match="step must be nonzero"):
            getattr(chainrule, name)(*args, dtype=getattr(chainrule, dtype))
        return
    ours = getattr(chainrule, name)(*args, dtype=getattr(chainrule, dtype))
    if name == "logspace":  # NumPy's and C's pow may differ in the last bit
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-15)
    else:
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("args", [(0, 5, 2.5), (0.5, 4, 1), (0, 3.5), (1.5,), (-2.5, 2, 1.5)])
def test_an_integer_arange_takes_its_bounds_in_the_integer_dtype(args):
    """PyTorch converts start, end and step to the integer dtype first: arange(0, 5, 2.5,
    dtype=int64) steps by 2 (chainrule stepped by 2.5: [0, 2]), arange(0, 3.5) ends at 3."""
    ours = chainrule.arange(*args, dtype=chainrule.int64)
    assert ours.tolist() == torch.arange(*args, dtype=torch.int64).tolist()


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_the_shape_as_the_size_keyword_as_torch(name):
    for lib in (chainrule, torch):
        factory = getattr(lib, name)
        assert tuple(factory(size=(2, 3)).shape) == (2, 3)  # empty(size=...) gave shape ()
        assert tuple(factory(size=[4]).shape) == (4,)
        assert tuple(factory(2, 3, layout=lib.strided, pin_memory=False).shape) == (2, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        getattr(chainrule, name)(2, colour=1)


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_a_generators_clone_state_draws_the_same_numbers_and_its_device_is_a_device(lib):
    generator = lib.Generator().manual_seed(3)
    lib.rand(4, generator=generator)  # advance it
    clone = generator.clone_state()
    assert type(clone) is type(generator) and clone is not generator
    first = lib.rand(5, generator=generator)
    assert lib.equal(lib.rand(5, generator=clone), first)
    assert generator.device == lib.device("cpu") and generator.device.type == "cpu"
    with pytest.raises(RuntimeError, match="CPU Generator does not use offset"):
        generator.get_offset()
    with pytest.raises(RuntimeError, match="CPU Generator does not use offset"):
        generator.set_offset(0)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_a_factory_without_a_size_is_refused_as_torch(name):
    for lib in (chainrule, torch):
        with pytest.raises(TypeError):
            getattr(lib, name)()
        assert getattr(lib, name)(()).shape == ()
