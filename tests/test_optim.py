"""chainrule.optim against torch.optim: the same program, step for step, to float32 rounding."""

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.errors
from chainrule import optim
from chainrule.optim.muon import zeropower_via_newtonschulz

SHAPES = [(3, 4), (5,), ()]
RTOL = 1e-6
ATOL = 1e-7


def make_params(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    ours = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def loss_terms(step, shapes=SHAPES):
    """Per-step coefficients of a quadratic loss sum(c * p**2 / 2 + b * p): fixed, but different
    every step, so the gradients depend on both the parameters and the step."""
    rng = np.random.default_rng(100 + step)
    return [
        (
            rng.uniform(0.5, 2.0, shape).astype(np.float32),
            rng.standard_normal(shape).astype(np.float32),
        )
        for shape in shapes
    ]


def backward(lib, params, step):
    for p, (c, b) in zip(params, loss_terms(step, [tuple(p.shape) for p in params])):
        (lib.tensor(c) * p * p / 2 + lib.tensor(b) * p).sum().backward()


def train_both(opt, topt, ours, theirs, steps, with_grad=slice(None)):
    """`steps` steps of both optimizers on the same losses; only params[with_grad] get grads."""
    for step in steps:
        opt.zero_grad()
        topt.zero_grad()
        backward(chainrule, ours[with_grad], step)
        backward(torch, theirs[with_grad], step)
        opt.step()
        topt.step()


def assert_close(ours, theirs, rtol=RTOL, atol=ATOL, what=""):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{what} {i}"
        )


def run_both(name, kwargs, steps=5):
    ours, theirs = make_params()
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(steps):
        train_both(opt, topt, ours, theirs, [step])
        assert_close(ours, theirs, what=f"{name}{kwargs} step {step} param")
    return opt, topt, ours, theirs


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.1, "betas": (0.3, 0.5), "eps": 1e-3, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
    ),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True, "eps": 1e-4}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {}),  # rho_t <= 5 for the first steps: plain momentum
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.8), "weight_decay": 0.1}),  # rectified from step 2
    (
        "RAdam",
        {"lr": 0.05, "betas": (0.5, 0.8), "decoupled_weight_decay": True, "weight_decay": 0.1},
    ),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1), "maximize": True}),
    ("Adafactor", {}),  # factored second moment for the matrix, whole for the vector and scalar
    (
        "Adafactor",
        {
            "lr": 0.05,
            "beta2_decay": -0.5,
            "eps": (1e-20, 1e-2),
            "d": 1.5,
            "weight_decay": 0.1,
            "maximize": True,
        },
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=lambda v: str(v))
def test_five_steps_match_torch(name, kwargs):
    opt, topt, ours, theirs = run_both(name, kwargs)
    # The state matches too, entry for entry (PyTorch's state_dict layout).
    state, tstate = opt.state_dict()["state"], topt.state_dict()["state"]
    assert state.keys() == tstate.keys()
    for index in tstate:
        assert state[index].keys() == tstate[index].keys()
        for key, value in tstate[index].items():
            np.testing.assert_allclose(
                np.asarray(state[index][key].numpy()), value.numpy(), rtol=1e-5, atol=1e-7
            )
            assert state[index][key].dtype.name == str(value.dtype).removeprefix("torch.")


BLOCKED_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("name", "kwargs"), BLOCKED_CASES, ids=lambda v: str(v))
def test_large_parameters_update_in_cache_sized_blocks_to_the_same_bits(monkeypatch, name, kwargs):
    """A parameter of many cache blocks (and a ragged last one) is updated piece by piece; the
    update is elementwise, so the pieces give exactly what one whole-array update gives, and
    PyTorch's numbers."""
    from chainrule.optim import optimizer as optimizer_module

    shapes = [(300_001,), (517, 613)]

    def train(block_bytes):
        monkeypatch.setattr(optimizer_module, "_CACHE_BLOCK_BYTES", block_bytes)
        ours, theirs = make_params(shapes=shapes)
        opt = getattr(optim, name)(ours, **kwargs)
        topt = getattr(torch.optim, name)(theirs, **kwargs)
        train_both(opt, topt, ours, theirs, range(3))
        return ours, theirs

    blocked, theirs = train(optimizer_module._CACHE_BLOCK_BYTES)
    whole, _ = train(1 << 40)
    for a, b in zip(blocked, whole):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert_close(blocked, theirs, atol=1e-6, what=f"{name}{kwargs}")


def test_param_groups_use_their_own_options():
    ours, theirs = make_params()
    opt = optim.SGD(
        [{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5, "momentum": 0.9}], lr=0.1
    )
    topt = torch.optim.SGD(
        [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.5, "momentum": 0.9}], lr=0.1
    )
    train_both(opt, topt, ours, theirs, range(5))
    assert_close(ours, theirs)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0


def test_add_param_group_and_packed_state_dict_layout():
    ours, theirs = make_params()
    opt = optim.Adam(ours[:2], lr=0.1)
    opt.add_param_group({"params": ours[2], "lr": 0.01})
    topt = torch.optim.Adam(theirs[:2], lr=0.1)
    topt.add_param_group({"params": theirs[2], "lr": 0.01})
    train_both(opt, topt, ours, theirs, range(3))
    assert_close(ours, theirs)
    packed, tpacked = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in packed["param_groups"]] == [[0, 1], [2]]
    assert [g["params"] for g in tpacked["param_groups"]] == [[0, 1], [2]]
    for group, tgroup in zip(packed["param_groups"], tpacked["param_groups"]):
        for key, value in group.items():
            assert tgroup[key] == value, key
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [ours[0]]})


def test_params_without_grad_are_skipped():
    ours, theirs = make_params()
    opt = optim.Adam(ours, lr=0.1)
    topt = torch.optim.Adam(theirs, lr=0.1)
    before = ours[1].detach().numpy().copy()
    train_both(opt, topt, ours, theirs, range(3), with_grad=slice(None, None, 2))
    assert_close(ours, theirs)
    np.testing.assert_array_equal(ours[1].detach().numpy(), before)
    assert ours[1] not in opt.state and len(opt.state_dict()["state"]) == 2


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("Adam", {"lr": 0.1, "amsgrad": True}),
        ("AdamW", {"lr": 0.1}),
        ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
        ("Adadelta", {}),
        ("NAdam", {"lr": 0.1}),
        ("RAdam", {"lr": 0.1, "betas": (0.9, 0.8)}),
        ("Adamax", {"lr": 0.1}),
        ("ASGD", {"lr": 0.1, "t0": 1}),
        ("Rprop", {"lr": 0.1}),
        ("Adafactor", {"lr": 0.1}),
    ],
)
def test_state_dict_round_trip_continues_identically(name, kwargs):
    ours, _ = make_params()
    opt = getattr(optim, name)(ours, **kwargs)
    for step in range(3):
        opt.zero_grad()
        backward(chainrule, ours, step)
        opt.step()
    copies = [p.detach().clone().requires_grad_(True) for p in ours]
    resumed = getattr(optim, name)(copies, lr=123.0)  # options come back from the state dict
    resumed.load_state_dict(opt.state_dict())
    assert resumed.param_groups[0]["lr"] == kwargs.get("lr", 1.0)
    for step in range(3, 6):
        for o, params in ((opt, ours), (resumed, copies)):
            o.zero_grad()
            backward(chainrule, params, step)
            o.step()
    for p, q in zip(ours, copies):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_copies_and_checks_sizes():
    ours, _ = make_params()
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    for p in ours:
        p.grad = chainrule.ones_like(p)
    opt.step()
    other = optim.SGD([p.detach().clone().requires_grad_(True) for p in ours], lr=0.1)
    saved = opt.state_dict()
    other.load_state_dict(saved)
    buffer = other.state[other.param_groups[0]["params"][0]]["momentum_buffer"]
    assert buffer is not saved["state"][0]["momentum_buffer"]
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD(ours[:2], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": ours[:1]}, {"params": ours[1:]}], lr=0.1).load_state_dict(saved)


def test_zero_grad_modes_and_step_bumps_version():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    version = w._version
    opt.step()
    assert w._version == version + 1
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_returns_the_closure_loss():
    w = chainrule.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 9.0
    assert float(w) == 1.5


TENSOR_LR_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax"]


@pytest.mark.parametrize("name", TENSOR_LR_OPTIMIZERS)
def test_a_tensor_lr_steps_as_its_number_and_stays_the_groups_tensor(name):
    """lr=torch.tensor(0.01) (code written for torch.compile): the step reads the float32
    tensor's value; the group keeps that very tensor."""
    ours, theirs = make_params()
    lr, tlr = chainrule.tensor(0.05), torch.tensor(0.05)
    opt = getattr(optim, name)(ours, lr=lr)
    topt = getattr(torch.optim, name)(theirs, lr=tlr)
    for step in range(3):
        train_both(opt, topt, ours, theirs, [step])
        assert_close(ours, theirs, what=f"{name} with a tensor lr, step {step}")
    assert opt.param_groups[0]["lr"] is lr


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"])
def test_tensor_betas_and_weight_decay_step_as_their_numbers(name):
    """betas=(torch.tensor(0.9), torch.tensor(0.99)) and a tensor weight_decay, as PyTorch
    documents them: each step reads the float32 tensors' values."""
    ours, theirs = make_params()

    def options(lib):
        return {
            "lr": lib.tensor(0.02),
            "betas": (lib.tensor(0.8), lib.tensor(0.95)),
            "weight_decay": lib.tensor(0.1),
        }

    opt = getattr(optim, name)(ours, **options(chainrule))
    topt = getattr(torch.optim, name)(theirs, **options(torch))
    for step in range(3):
        train_both(opt, topt, ours, theirs, [step])
        assert_close(ours, theirs, what=f"{name} with tensor options, step {step}")


def test_lbfgs_with_a_tensor_lr_iterates_as_with_its_number():
    def run(lr):
        w = chainrule.tensor([1.0, -2.0], requires_grad=True)
        opt = optim.LBFGS([w], lr=lr, max_iter=4)

        def closure():
            opt.zero_grad()
            loss = ((w - 0.3) ** 4).sum()
            loss.backward()
            return loss

        opt.step(closure)
        opt.step(closure)
        return w.tolist()

    assert run(chainrule.tensor(0.5)) == run(0.5)


def test_a_tensor_lr_must_hold_one_nonnegative_number():
    w, tw = chainrule.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    for lib, param in ((optim, w), (torch.optim, tw)):
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            lib.Adam([param], lr=(chainrule if lib is optim else torch).tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0\.10000000149011612"):
        optim.SGD([w], lr=chainrule.tensor(-0.1))
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0\.10000000149011612"):
        torch.optim.SGD([tw], lr=torch.tensor(-0.1))


def test_invalid_options_raise_like_torch():
    w = chainrule.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(w)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([w * 2])
    with pytest.raises(ValueError, match="LBFGS doesn't support"):
        optim.LBFGS([{"params": [w]}, {"params": [chainrule.zeros(1, requires_grad=True)]}])


def test_float64_params_keep_their_dtype():
    w = chainrule.tensor([1.0, -2.0], dtype=chainrule.float64, requires_grad=True)
    tw = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt, topt = optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)
    for _ in range(5):
        for o, p in ((opt, w), (topt, tw)):
            o.zero_grad()
            (p**3).sum().backward()
            o.step()
    assert w.dtype == chainrule.float64
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-13)


# ---- LBFGS ---------------------------------------------------------------------------------


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def lbfgs_run(lib, start, steps, dtype="float32", **kwargs):
    x = lib.tensor(start, dtype=getattr(lib, dtype), requires_grad=True)
    opt = (optim if lib is chainrule else torch.optim).LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    state = opt.state[x]
    counts = (state["n_iter"], state["func_evals"])
    return losses, float(rosenbrock(x.detach())), x.detach().numpy().copy(), counts


LBFGS_CASES = [
    {"lr": 1, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "history_size": 5, "line_search_fn": "strong_wolfe", "max_iter": 10},
    {"lr": 0.1, "max_iter": 20},
    {"lr": 1, "max_eval": 15, "tolerance_change": 1e-6},
]


@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=str)
def test_lbfgs_follows_torch_iterate_for_iterate_in_float64(kwargs):
    """In float64 rounding cannot hide a logic difference: the same iterations, the same
    function evaluations, the same losses (Rosenbrock amplifies 1e-16 differences over 100+
    iterations, hence rtol 1e-4 on the later losses)."""
    losses, final, x, counts = lbfgs_run(chainrule, [-1.5, 2.0], 6, "float64", **kwargs)
    tlosses, tfinal, tx, tcounts = lbfgs_run(torch, [-1.5, 2.0], 6, "float64", **kwargs)
    assert counts == tcounts
    np.testing.assert_allclose(losses[:3], tlosses[:3], rtol=1e-9)
    np.testing.assert_allclose(losses, tlosses, rtol=1e-4, atol=1e-9)
    assert abs(final - tfinal) < 1e-5


@pytest.mark.parametrize("kwargs", LBFGS_CASES[:2], ids=str)
def test_lbfgs_on_rosenbrock_reaches_torchs_final_loss_in_float32(kwargs):
    _, final, x, _ = lbfgs_run(chainrule, [-1.5, 2.0], 8, **kwargs)
    _, tfinal, tx, _ = lbfgs_run(torch, [-1.5, 2.0], 8, **kwargs)
    assert abs(final - tfinal) < 1e-5
    np.testing.assert_allclose(x, tx, atol=1e-3)


def _lbfgs_state_layout(lib, **kwargs):
    """Each entry of LBFGS's state as (type name, dtype name or None, list length or None)."""
    x = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    opt = (optim if lib is chainrule else torch.optim).LBFGS([x], history_size=4, **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)

    def layout(value):
        if isinstance(value, list):
            return ("list", len(value), sorted({layout(v) for v in value}, key=str))
        dtype = getattr(value, "dtype", None)
        return (type(value).__name__, None if dtype is None else str(dtype).split(".")[-1])

    return {key: layout(value) for key, value in opt.state[x].items()}


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.5, "line_search_fn": "strong_wolfe"}], ids=str)
def test_lbfgs_state_holds_pytorchs_entries_with_pytorchs_types(kwargs):
    """The scratch list `al` is state too, and ro, H_diag are 0-d tensors (t the lr) there:
    a script that prints or checkpoints the state sees what it sees under PyTorch."""
    assert _lbfgs_state_layout(chainrule, **kwargs) == _lbfgs_state_layout(torch, **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"line_search_fn": "strong_wolfe"}], ids=str)
def test_lbfgs_reads_the_closures_loss_without_the_scalar_warning(kwargs, monkeypatch):
    """LBFGS takes float() of each loss outside grad mode, as PyTorch 2.13's does: no
    "Converting a tensor with requires_grad=True to a scalar" warning from the optimizer."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lbfgs_run(chainrule, [-1.5, 2.0], 2, lr=0.5, max_iter=4, **kwargs)
    assert not [w for w in caught if "Converting a tensor" in str(w.message)]


def test_lbfgs_converges_with_strong_wolfe():
    _, final, x, _ = lbfgs_run(chainrule, [-1.5, 2.0], 10, lr=1, line_search_fn="strong_wolfe")
    assert final < 1e-8
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-4)


def test_lbfgs_with_several_params_follows_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4)).astype(np.float32)
    spd = a @ a.T + 4 * np.eye(4, dtype=np.float32)
    b = rng.standard_normal(4).astype(np.float32)

    def run(lib):
        x = lib.zeros(2, requires_grad=True)
        y = lib.zeros(2, 1, requires_grad=True)
        opt = (optim if lib is chainrule else torch.optim).LBFGS([x, y], history_size=3)
        matrix, vector = lib.tensor(spd), lib.tensor(b)

        def closure():
            opt.zero_grad()
            loss = quadratic(lib, x, y, matrix, vector)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return x.detach().numpy(), y.detach().numpy()

    x, y = run(chainrule)
    tx, ty = run(torch)
    np.testing.assert_allclose(x, tx, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-5)


def quadratic(lib, x, y, matrix, vector):
    """0.5 z^T A z - b^T z with z = (x, y) written without concatenation."""
    loss = 0
    z = [x[0], x[1], y[0, 0], y[1, 0]]
    for i in range(4):
        for j in range(4):
            loss = loss + 0.5 * matrix[i, j] * z[i] * z[j]
        loss = loss - vector[i] * z[i]
    return loss


def test_lbfgs_returns_immediately_at_a_stationary_point():
    x = chainrule.tensor([1.0, 1.0], requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1
    assert math.isclose(float(x[0]), 1.0)


IMPLEMENTATION_SWITCHES = {
    "SGD": ("foreach", "differentiable", "fused"),
    "Adam": ("foreach", "capturable", "differentiable", "fused"),
    "AdamW": ("foreach", "capturable", "differentiable", "fused"),
    "RMSprop": ("capturable", "foreach", "differentiable"),
    "Adagrad": ("foreach", "differentiable", "fused"),
    "Adadelta": ("foreach", "capturable", "differentiable"),
    "NAdam": ("foreach", "capturable", "differentiable"),
    "RAdam": ("foreach", "capturable", "differentiable"),
    "Adamax": ("foreach", "capturable", "differentiable"),
    "ASGD": ("foreach", "capturable", "differentiable"),
    "Rprop": ("foreach", "capturable", "differentiable"),
}


@pytest.mark.parametrize("name", sorted(IMPLEMENTATION_SWITCHES))
def test_implementation_switches_are_accepted_and_change_nothing(name):
    """foreach / fused / capturable pick PyTorch kernels; chainrule has one, so the steps are
    the same with any of them, and the groups carry PyTorch's option names and defaults, in
    PyTorch's order (a printed `param_groups[0]` or state dict reads alike)."""
    switches = IMPLEMENTATION_SWITCHES[name]
    lr = {"SGD": {"lr": 0.1}}.get(name, {})
    plain, _ = make_params()
    switched, _ = make_params()
    opt = getattr(optim, name)(plain, **lr)
    on = {key: True for key in switches if key != "differentiable"}
    if "fused" in on and "foreach" in on:
        del on["foreach"]
    opt_switched = getattr(optim, name)(switched, **lr, **on)
    topt = getattr(torch.optim, name)(make_params()[1], **lr)
    assert list(opt.param_groups[0]) == list(topt.param_groups[0])
    for key in switches:
        assert opt.param_groups[0][key] == topt.param_groups[0][key], key
    for step in range(3):
        for o, params in ((opt, plain), (opt_switched, switched)):
            o.zero_grad()
            backward(chainrule, params, step)
            o.step()
    for p, q in zip(plain, switched):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(optim, name)(plain, **lr, differentiable=True)


def test_fused_and_foreach_together_raise_as_torch():
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        optim.Adam(make_params()[0], foreach=True, fused=True)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "ASGD", "Rprop"])
def test_new_optimizers_follow_an_lr_schedule_as_torch(name):
    ours, theirs = make_params()
    opt = getattr(optim, name)(ours, lr=0.05)
    topt = getattr(torch.optim, name)(theirs, lr=0.05)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    tschedule = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    for step in range(6):
        train_both(opt, topt, ours, theirs, [step])
        schedule.step()
        tschedule.step()
        assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
    assert_close(ours, theirs, what=f"{name} with StepLR")


def test_adafactor_factors_a_matrix_second_moment_into_rows_and_columns():
    """The memory saving is the point: a (3, 4) weight keeps (3, 1) and (1, 4) statistics."""
    ours, _ = make_params()
    opt = optim.Adafactor(ours)
    backward(chainrule, ours, 0)
    opt.step()
    matrix_state, vector_state = opt.state[ours[0]], opt.state[ours[1]]
    assert matrix_state["row_var"].shape == (3, 1) and matrix_state["col_var"].shape == (1, 4)
    assert vector_state["variance"].shape == (5,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1.0}, "Learning rate should be >= 0"),
        ({"beta2_decay": 0.1}, "beta2_decay should be <= 0"),
        ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0"),
        ({"eps": (None, -1.0)}, "epsilon2 should be >= 0"),
        ({"d": 0.5}, "Clipping threshold d should be >= 1"),
        ({"weight_decay": -1.0}, "weight_decay should be >= 0"),
    ],
)
def test_adafactor_refuses_torchs_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        torch.optim.Adafactor(make_params()[1], **kwargs)
    with pytest.raises(ValueError, match=message):
        optim.Adafactor(make_params()[0], **kwargs)


MATRICES = [(4, 3), (3, 5)]  # tall and wide: Newton-Schulz runs on the transpose of a tall one


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
        {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.0, "adjust_lr_fn": "original"},
    ],
    ids=str,
)
def test_muon_steps_as_torch(kwargs):
    """Muon orthogonalizes each update in bfloat16, rounding where PyTorch's kernels round,
    so its steps are PyTorch's."""
    ours, theirs = make_params(shapes=MATRICES)
    opt = optim.Muon(ours, **kwargs)
    topt = torch.optim.Muon(theirs, **kwargs)
    for step in range(5):
        train_both(opt, topt, ours, theirs, [step])
        assert_close(ours, theirs, rtol=1e-5, atol=1e-6, what=f"Muon step {step}")
    state, tstate = opt.state_dict()["state"], topt.state_dict()["state"]
    assert state.keys() == tstate.keys()
    assert all(state[i].keys() == tstate[i].keys() == {"momentum_buffer"} for i in tstate)


def test_muon_orthogonalizes_the_update():
    """Newton-Schulz drives every singular value of the update towards 1 (0.5 to 1.5)."""
    grad = chainrule.tensor(np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32))
    singular_values = chainrule.linalg.svdvals(
        zeropower_via_newtonschulz(grad, (3.4445, -4.775, 2.0315), 5, 1e-7).float()
    )
    assert singular_values.min() > 0.5 and singular_values.max() < 1.5


def test_muon_refuses_what_torch_refuses():
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
            lib.optim.Muon([lib.zeros(3, requires_grad=True)])
        with pytest.raises(ValueError, match="Adjust learning rate function"):
            lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], adjust_lr_fn="other")
        with pytest.raises(ValueError, match="momentum should be >= 0"):
            lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], momentum=-1.0)


def test_an_optimizer_prints_its_groups_as_pytorch_does_a_blank_line_between():
    ours = [chainrule.zeros(2, requires_grad=True), chainrule.zeros(3, requires_grad=True)]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    groups = [{"params": [0]}, {"params": [1], "lr": 0.1}]

    def build(library, params):
        split = [{**g, "params": [params[i] for i in g["params"]]} for g in groups]
        return library.optim.SGD(split, lr=0.01, momentum=0.9)

    assert repr(build(chainrule, ours)) == repr(build(torch, theirs))


def _hooked_run(lib):
    """The calls every kind of optimizer hook sees over a step, a state_dict and a
    load_state_dict, in order, under `lib` (chainrule or torch)."""
    from importlib import import_module

    optimizer_module = import_module(f"{lib.__name__}.optim.optimizer")
    calls = []
    w = lib.nn.Parameter(lib.ones(2))

    class Doubling(lib.optim.SGD):
        def step(self, closure=None):  # a subclass calling super(): hooks run once
            calls.append("Doubling.step")
            return super().step(closure)

    optimizer = Doubling([w], lr=0.5)
    handles = [
        optimizer_module.register_optimizer_step_pre_hook(
            lambda opt, args, kwargs: calls.append("global pre")
        ),
        optimizer_module.register_optimizer_step_post_hook(
            lambda opt, args, kwargs: calls.append(f"global post {len(args)} {sorted(kwargs)}")
        ),
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre")),
        optimizer.register_step_post_hook(lambda opt, args, kwargs: calls.append("post")),
        optimizer.register_state_dict_pre_hook(lambda opt: calls.append("sd pre")),
        optimizer.register_state_dict_pre_hook(
            lambda opt: calls.append("sd pre first"), prepend=True
        ),
        optimizer.register_state_dict_post_hook(
            lambda opt, state: {**state, "extra": 1} if calls.append("sd post") is None else None
        ),
        optimizer.register_load_state_dict_pre_hook(
            lambda opt, state: calls.append(f"load pre {'extra' in state}")
        ),
        optimizer.register_load_state_dict_post_hook(lambda opt: calls.append("load post")),
    ]
    (w * w).sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    calls.append(f"state has extra {state.get('extra')}")
    optimizer.load_state_dict(state)
    for handle in handles:
        handle.remove()
    optimizer.step()  # no hook left
    return calls, w.detach().numpy()


def test_optimizer_hooks_run_in_torchs_order_and_are_removed_by_their_handles():
    calls, value = _hooked_run(chainrule)
    expected_calls, expected_value = _hooked_run(torch)
    assert calls == expected_calls
    np.testing.assert_array_equal(value, expected_value)


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_a_step_pre_hook_may_replace_the_steps_arguments_as_torch(lib):
    seen = []
    w = lib.nn.Parameter(lib.ones(1))
    optimizer = lib.optim.SGD([w], lr=0.1)

    def closure():
        seen.append("closure")
        return lib.tensor(0.0)

    optimizer.register_step_pre_hook(lambda opt, args, kwargs: (args, {"closure": closure}))
    optimizer.step()
    assert seen == ["closure"]
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        optimizer.step()
