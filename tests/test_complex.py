"""Complex dtypes as PyTorch's: names, promotion, construction, printing, gradients of a real
loss, and the refusal of ops PyTorch has no complex kernel for. The ops' values and
derivatives are checked by the complex op specs (tests/op_specs/complex.py)."""

import numpy as np
import pytest
import torch

import chainrule
from chainrule.errors import DTypeError

DTYPE_NAMES = ["float16", "float32", "float64", "int64", "bool", "complex64", "complex128"]


def test_dtype_names_and_aliases_are_torchs():
    assert chainrule.cfloat is chainrule.complex64
    assert chainrule.cdouble is chainrule.complex128
    assert chainrule.complex64.is_complex and not chainrule.complex64.is_floating_point
    assert not chainrule.float32.is_complex
    assert chainrule.complex128.itemsize == torch.complex128.itemsize
    assert chainrule.complex64.is_signed


@pytest.mark.parametrize("a", DTYPE_NAMES)
@pytest.mark.parametrize("b", ["complex64", "complex128"])
def test_promote_types_matches_torch(a, b):
    mine = chainrule.promote_types(getattr(chainrule, a), getattr(chainrule, b))
    theirs = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert mine.name == str(theirs).replace("torch.", "")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex64", "complex128"])
@pytest.mark.parametrize("scalar", [1j, 2.5, 3])
def test_python_scalars_promote_as_torch(dtype, scalar):
    mine = chainrule.ones(2, dtype=getattr(chainrule, dtype)) * scalar
    theirs = torch.ones(2, dtype=getattr(torch, dtype)) * scalar
    assert mine.dtype.name == str(theirs.dtype).replace("torch.", "")


def test_a_zero_dim_complex_tensor_only_raises_the_category():
    mine = chainrule.ones(2) * chainrule.tensor(1j, dtype=chainrule.complex128)
    theirs = torch.ones(2) * torch.tensor(1j, dtype=torch.complex128)
    assert mine.dtype.name == str(theirs.dtype).replace("torch.", "") == "complex64"


def test_the_default_complex_dtype_follows_the_default_float_dtype():
    assert chainrule.tensor([1 + 2j]).dtype is chainrule.complex64
    chainrule.set_default_dtype(chainrule.float64)
    try:
        assert chainrule.tensor([1 + 2j]).dtype is chainrule.complex128
        assert (chainrule.ones(2, dtype=chainrule.float32) * 1j).dtype is chainrule.complex64
    finally:
        chainrule.set_default_dtype(chainrule.float32)


def test_is_complex_and_is_floating_point():
    z = chainrule.tensor([1 + 2j])
    assert z.is_complex() and chainrule.is_complex(z)
    assert not z.is_floating_point()
    assert not chainrule.tensor([1.0]).is_complex()
    assert complex(chainrule.tensor(1 + 2j)) == 1 + 2j


@pytest.mark.parametrize(
    "data",
    [[1 + 2j, -0.5 + 3.25j, 100], 1.5 + 2j, [[1 + 1j, 2], [3j, 4.5]], [1e-5 + 2j, 1e5], [1 - 2j]],
)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_printing_matches_torch(data, dtype):
    mine = repr(chainrule.tensor(data, dtype=getattr(chainrule, dtype)))
    theirs = repr(torch.tensor(data, dtype=getattr(torch, dtype)))
    assert mine == theirs.replace("torch.", "chainrule.")


def test_grad_of_a_real_loss_is_torchs_conjugate_wirtinger_convention():
    values = [1 + 2j, -0.5 + 3j, 0.25 - 1j]
    z = chainrule.tensor(values, dtype=chainrule.complex128, requires_grad=True)
    w = torch.tensor(values, dtype=torch.complex128, requires_grad=True)
    (chainrule.exp(z) * z.conj()).abs().pow(2).sum().backward()
    (torch.exp(w) * w.conj()).abs().pow(2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), w.grad.numpy(), rtol=1e-12)


def test_polar_differentiates_through_the_results_sign_as_torch():
    """PyTorch's polar backward takes d/d(abs) as sgn(result) e^(i angle): a zero modulus gets
    no gradient (a magnitude initialised at zero never moves) and a negative one a negated
    gradient, to second order; its forward mode is the exact derivative."""
    moduli, angles = [0.0, -1.5, 2.0, 0.0], [0.7, 0.7, -0.3, 0.0]
    weights = np.array([[0.3, -1.1], [0.5, 0.2], [-0.4, 0.9], [1.0, 1.0]])
    results = []
    for lib in (chainrule, torch):
        r = lib.tensor(moduli, dtype=lib.float64, requires_grad=True)
        t = lib.tensor(angles, dtype=lib.float64, requires_grad=True)
        out = lib.view_as_real(lib.polar(r, t))
        loss = (out * lib.tensor(weights)).sum()
        grads = lib.autograd.grad(loss, (r, t), create_graph=True)
        second = lib.autograd.grad(grads[0].pow(3).sum() + grads[1].pow(2).sum(), (r, t))
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(r.detach(), lib.ones(4, dtype=lib.float64))
            tangent = lib.autograd.forward_ad.unpack_dual(lib.polar(dual, t.detach())).tangent
        results.append([t.detach().numpy() for t in (out, *grads, *second)])
        results[-1].append(lib.view_as_real(tangent).numpy())
    assert results[0][1][0] == 0.0 and results[0][1][3] == 0.0
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_grad_of_a_real_input_through_complex_math_is_real():
    x = chainrule.tensor([0.5, -1.0], dtype=chainrule.float64, requires_grad=True)
    y = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    (x * (1 + 2j)).exp().abs().sum().backward()
    (y * (1 + 2j)).exp().abs().sum().backward()
    assert x.grad.dtype is chainrule.float64
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)


def test_casting_complex_to_real_keeps_the_real_part():
    z = chainrule.tensor([1 + 2j, -3 - 4j])
    assert z.to(chainrule.float32).tolist() == [1.0, -3.0]
    assert z.real.tolist() == [1.0, -3.0]
    assert z.imag.tolist() == [2.0, -4.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda z: chainrule.relu(z),
        lambda z: chainrule.maximum(z, z),
        lambda z: z < z,
        lambda z: z >= 1,
        lambda z: chainrule.clamp(z, min=0),
        lambda z: chainrule.sign(z),
        lambda z: chainrule.floor(z),
        lambda z: chainrule.atan2(z, z),
        lambda z: chainrule.remainder(z, 2),
        lambda z: chainrule.erf(z),
        lambda z: chainrule.max(z),
        lambda z: chainrule.sort(z),
        lambda z: chainrule.imag(z.real),
        lambda z: chainrule.softmax(z, 0),
        lambda z: chainrule.nn.functional.log_softmax(z, 0),
        lambda z: chainrule.special.softmax(z, 0),
    ],
)
def test_ops_without_a_complex_kernel_refuse_complex_tensors(call):
    z = chainrule.tensor([1 + 2j, -1 + 0.5j])
    with pytest.raises(DTypeError):
        call(z)


def test_equality_is_defined_for_complex():
    z = chainrule.tensor([1 + 2j, 3j])
    assert (z == chainrule.tensor([1 + 2j, 3])).tolist() == [True, False]
    assert chainrule.isreal(chainrule.tensor([1 + 0j, 1j])).tolist() == [True, False]


def test_function_transforms_take_complex_inputs_as_torch_func():
    values = [1 + 2j, 3 - 1j]
    z = chainrule.tensor(values, dtype=chainrule.complex128)
    w = torch.tensor(values, dtype=torch.complex128)

    def loss(m):
        return lambda x: (m.exp(x) * x).abs().sum()

    def curve(m):
        return lambda x: m.sin(x) * x

    mine = chainrule.func.grad(loss(chainrule))(z)
    np.testing.assert_allclose(mine.numpy(), torch.func.grad(loss(torch))(w).numpy(), rtol=1e-12)
    tangent = chainrule.tensor([0.5 - 1j, 2j], dtype=chainrule.complex128)
    _, pushed = chainrule.func.jvp(curve(chainrule), (z,), (tangent,))
    _, expected = torch.func.jvp(curve(torch), (w,), (torch.tensor(tangent.numpy()),))
    np.testing.assert_allclose(pushed.numpy(), expected.numpy(), rtol=1e-12)
    _, pull = chainrule.func.vjp(curve(chainrule), z)
    _, pull_torch = torch.func.vjp(curve(torch), w)
    np.testing.assert_allclose(
        pull(tangent)[0].numpy(), pull_torch(torch.tensor(tangent.numpy()))[0].numpy(), rtol=1e-12
    )


def test_random_complex_tensors_are_drawn_as_torchs():
    chainrule.manual_seed(0)
    z = chainrule.randn(20000, dtype=chainrule.complex64)
    assert z.dtype is chainrule.complex64
    assert abs(float((z.abs() ** 2).mean()) - 1.0) < 0.05  # E|z|^2 = 1: each part N(0, 1/2)
    assert abs(float(z.real.var()) - 0.5) < 0.05
    u = chainrule.rand(1000, dtype=chainrule.complex128)
    assert u.dtype is chainrule.complex128
    assert 0 <= float(u.real.min()) and float(u.imag.max()) < 1


def test_complex_tensors_save_and_load(tmp_path):
    z = chainrule.tensor([1 + 2j, -3j])
    chainrule.save({"z": z, "w": z.to(chainrule.complex128)}, tmp_path / "z.safetensors")
    loaded = chainrule.load(tmp_path / "z.safetensors")
    assert loaded["z"].dtype is chainrule.complex64 and loaded["z"].tolist() == z.tolist()
    assert loaded["w"].dtype is chainrule.complex128 and loaded["w"].tolist() == z.tolist()


def test_a_complex_parameter_descends_with_sgd():
    weight = chainrule.nn.Parameter(chainrule.tensor([1 + 1j, -2 + 0.5j]))
    optimizer = chainrule.optim.SGD([weight], lr=0.25)
    (weight.abs() ** 2).sum().backward()  # grad = 2 z: the step halves z
    optimizer.step()
    assert chainrule.allclose(weight.detach(), chainrule.tensor([0.5 + 0.5j, -1 + 0.25j]))


OPTIMIZERS_ON_COMPLEX = [
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("LBFGS", {"max_iter": 4}),
]


@pytest.mark.parametrize("device", ["cpu", "fake"])
@pytest.mark.parametrize(("name", "options"), OPTIMIZERS_ON_COMPLEX, ids=str)
def test_adaptive_optimizers_step_complex_parameters_as_torch(name, options, device):
    """PyTorch steps a complex parameter as its view_as_real pair of real numbers: each part
    has its own second moment, and the state tensors stay complex (on every device)."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    target = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    runs = []
    for lib in (chainrule, torch):
        place = {"device": device} if lib is chainrule else {}
        weight = lib.tensor(start, requires_grad=True, **place)
        goal = lib.tensor(target, **place)
        optimizer = getattr(lib.optim, name)([weight], lr=0.1, **options)

        def closure(weight=weight, goal=goal, optimizer=optimizer):
            optimizer.zero_grad()
            loss = ((weight - goal).abs() ** 2).sum() + 0.3 * (weight**2).real.sum()
            loss.backward()
            return loss

        for _ in range(4):
            optimizer.step(closure)
        runs.append((weight, optimizer.state[weight]))
    (mine, my_state), (theirs, their_state) = runs
    np.testing.assert_allclose(mine.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-10)
    for key, value in their_state.items():
        if isinstance(value, torch.Tensor) and value.is_complex():
            assert my_state[key].dtype is chainrule.complex128
            np.testing.assert_allclose(my_state[key].cpu().numpy(), value.numpy(), rtol=1e-10)


_DISCARDS = "Casting complex values to real discards the imaginary part"


@pytest.mark.parametrize(
    "cast",
    [
        lambda lib, z: z.double(),
        lambda lib, z: z.to(lib.int64),
        lambda lib, z: lib.zeros(2).copy_(z),
        lambda lib, z: lib.zeros(2).__setitem__(slice(None), z),
        lambda lib, z: lib.tensor(z, dtype=lib.float32),
        lambda lib, z: lib.as_tensor(z, dtype=lib.float64),
    ],
    ids=["double", "to_int64", "copy_", "setitem", "tensor", "as_tensor"],
)
def test_a_complex_to_real_cast_keeps_the_real_part_and_warns_as_torch(cast):
    """PyTorch warns (a UserWarning, once per process) that the imaginary part is dropped;
    chainrule said nothing, or let NumPy's ComplexWarning through (another category, which a
    UserWarning filter misses)."""
    import warnings

    import chainrule.errors

    for lib in (chainrule, torch):
        chainrule.errors._warned.discard(_DISCARDS)  # (shown once per process)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cast(lib, lib.tensor([1.5 + 2j, -3 - 1j]))
        if lib is chainrule:  # PyTorch's own warning may have been shown in this process
            assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, _DISCARDS)]
    ours, theirs = (cast(lib, lib.tensor([1.5 + 2j, -3 - 1j])) for lib in (chainrule, torch))
    if ours is not None:
        assert (
            ours.tolist() == theirs.tolist()
            and str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        )


def test_a_real_leafs_gradient_through_complex_ops_takes_the_real_part_silently():
    """The engine's cast of a complex gradient for a real input is no user cast: no warning,
    as under PyTorch, and the gradient is its real part."""
    import warnings

    import chainrule.errors

    grads = []
    for lib in (chainrule, torch):
        chainrule.errors._warned.discard(_DISCARDS)
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (grad,) = lib.autograd.grad((x * (1 + 1j)).abs().sum() + (x * 2j).real.sum(), x)
        grads.append(grad.tolist())
    assert grads[0] == pytest.approx(grads[1], rel=1e-15)


@pytest.mark.parametrize(
    "difference",
    [
        lambda lib, z, w, r: z - w,
        lambda lib, z, w, r: z - 0j,
        lambda lib, z, w, r: z - 0.0,
        lambda lib, z, w, r: lib.sub(z, w, alpha=2),
        lambda lib, z, w, r: r - z,
        lambda lib, z, w, r: z - r,
        lambda lib, z, w, r: z.clone().sub_(w),
        lambda lib, z, w, r: z * 1,
        lambda lib, z, w, r: -z,
        lambda lib, z, w, r: z.conj().resolve_conj(),
    ],
)
def test_complex_zeros_keep_the_signs_pytorchs_arithmetic_gives_them(difference):
    """PyTorch subtracts complex numbers as x + (-1 + 0j) y: (-0.0 - 0.0j) - 0j is -0.0 + 0.0j,
    where x - y would give -0.0 - 0.0j; the printed signs of zeros follow."""
    parts = [(a, b) for a in (0.0, -0.0) for b in (0.0, -0.0)]
    results = []
    for lib in (torch, chainrule):
        z = lib.complex(lib.tensor([a for a, _ in parts]), lib.tensor([b for _, b in parts]))
        w = lib.zeros(4, dtype=lib.complex64)
        r = lib.tensor([0.0, -0.0, 0.0, -0.0])
        out = difference(lib, z, w, r)
        pairs = np.stack([out.real.numpy(), out.imag.numpy()])
        results.append((np.signbit(pairs).tolist(), repr(out).split("(")[1]))
    assert results[0] == results[1]
