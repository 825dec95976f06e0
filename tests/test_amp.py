"""Automatic mixed precision against torch 2.13: autocast's dtypes, op by op, in a small MLP and
CNN with their losses, and GradScaler's scaling, inf skipping and scale schedule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F
from chainrule import amp

BF16_RTOL, BF16_ATOL = 1.6e-2, 2e-2


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.").removeprefix("chainrule.")


def _weights(seed: int, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) * 0.3 for shape in shapes]


def _program(lib, functional, tensors, labels, regression):
    """An MLP and a CNN with their losses; every intermediate, by name, in order."""
    x, w1, b1, w2, b2, image, kernel, kernel_bias, w3 = tensors
    steps = {}
    steps["linear"] = h = functional.linear(x, w1, b1)
    steps["relu"] = h = functional.relu(h)
    steps["gelu"] = functional.gelu(h)
    steps["layer_norm"] = functional.layer_norm(h, (h.shape[-1],))
    steps["matmul"] = logits = h @ w2.t()
    steps["add_float32_bias"] = logits = logits + b2
    steps["softmax"] = functional.softmax(logits, dim=-1)
    steps["log_softmax"] = functional.log_softmax(logits, dim=-1)
    steps["cross_entropy"] = functional.cross_entropy(logits, labels)
    steps["mse_loss"] = functional.mse_loss(logits, regression)
    steps["conv2d"] = maps = functional.conv2d(image, kernel, kernel_bias, padding=1)
    steps["batch_norm"] = maps = functional.batch_norm(maps, None, None, training=True)
    steps["max_pool2d"] = maps = functional.max_pool2d(functional.relu(maps), 2)
    steps["flatten"] = flat = maps.flatten(1)
    steps["linear_no_bias"] = scores = functional.linear(flat, w3)
    steps["cnn_loss"] = functional.cross_entropy(scores, labels[:2])
    steps["bmm"] = lib.bmm(image[:, 0], image[:, 1].transpose(1, 2))
    steps["addmm"] = lib.addmm(b2, h, w2.t())
    steps["sum"] = h.sum()
    steps["prod"] = logits[:1, :2].prod()
    steps["total"] = steps["cross_entropy"] + steps["mse_loss"] + steps["cnn_loss"]
    return steps


def _inputs():
    arrays = _weights(0, (4, 6), (5, 6), (5,), (3, 5), (3,), (2, 2, 6, 6), (4, 2, 3, 3), (4,))
    arrays.append(_weights(1, (3, 36))[0])
    labels = np.array([0, 2, 1, 2])
    regression = _weights(2, (4, 3))[0]
    return arrays, labels, regression


def test_autocast_cpu_bfloat16_gives_torchs_dtype_for_every_intermediate():
    arrays, labels, regression = _inputs()
    mine_in = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    with chainrule.autocast(device_type="cpu", dtype=chainrule.bfloat16):
        mine = _program(
            chainrule, F, mine_in, chainrule.tensor(labels), chainrule.tensor(regression)
        )
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        theirs = _program(
            torch,
            torch.nn.functional,
            theirs_in,
            torch.tensor(labels),
            torch.tensor(regression),
        )
    for name, expected in theirs.items():
        got = mine[name]
        assert _name(got.dtype) == _name(expected.dtype), name
        np.testing.assert_allclose(
            got.detach().double().numpy(),
            expected.detach().double().numpy(),
            rtol=BF16_RTOL,
            atol=BF16_ATOL,
            err_msg=name,
        )
    # gradients come back in each parameter's own dtype (float32), close to torch's
    mine["total"].backward()
    theirs["total"].backward()
    for index, (a, b) in enumerate(zip(mine_in, theirs_in)):
        assert a.grad.dtype is chainrule.float32
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.numpy(), rtol=5e-2, atol=5e-2, err_msg=f"grad {index}"
        )


def test_autocast_lists_and_modes():
    x, w = chainrule.ones(2, 3), chainrule.ones(4, 3)
    assert not chainrule.is_autocast_enabled("cpu")
    assert chainrule.get_autocast_dtype("cpu") is chainrule.bfloat16
    with chainrule.autocast("cpu"):
        assert chainrule.is_autocast_enabled("cpu")
        assert F.linear(x, w).dtype is chainrule.bfloat16
        assert F.linear(x.double(), w.double()).dtype is chainrule.float64  # float64 stays
        assert (x + 1).dtype is chainrule.float32  # not listed: runs as is
        with chainrule.autocast("cpu", enabled=False):
            assert F.linear(x, w).dtype is chainrule.float32
            assert not chainrule.is_autocast_enabled("cpu")
        # the float32 list: a bfloat16 input to a loss is computed in float32
        loss = F.mse_loss(x.bfloat16(), x.bfloat16())
        assert loss.dtype is chainrule.float32
    assert not chainrule.is_autocast_enabled("cpu")
    with chainrule.autocast("cpu", dtype=chainrule.float16):
        assert (x @ w.t()).dtype is chainrule.float16


def _square(lib, x):
    return x[:3, :3] @ x[:3, :3].transpose(0, 1) + 3 * lib.eye(3, dtype=x.dtype)


# Ops on PyTorch's CPU float32 list, each given bfloat16 operands (and the lower-precision
# linalg.vecdot): under autocast they run in float32 (complex64) and return that.
FLOAT32_LIST = {
    "cdist": lambda lib, x: lib.cdist(x, x * 0.5),
    "quantile": lambda lib, x: lib.quantile(x, 0.3, dim=1),
    "nanquantile": lambda lib, x: lib.nanquantile(x, 0.7),
    "trace": lambda lib, x: lib.trace(x),
    "polar": lambda lib, x: lib.polar(x.abs(), x),
    "view_as_complex": lambda lib, x: lib.view_as_complex(x.reshape(4, 3, 2)),
    "stft": lambda lib, x: lib.stft(x.flatten(), 8, window=lib.hann_window(8), return_complex=True),
    "rfft": lambda lib, x: lib.fft.rfft(x),
    "irfft": lambda lib, x: lib.fft.irfft(x),
    "fft2": lambda lib, x: lib.fft.fft2(x),
    "linalg.cholesky": lambda lib, x: lib.linalg.cholesky(_square(lib, x)),
    "linalg.inv": lambda lib, x: lib.linalg.inv(_square(lib, x)),
    "inverse": lambda lib, x: lib.inverse(_square(lib, x)),
    "linalg.solve": lambda lib, x: lib.linalg.solve(_square(lib, x), x[:3]),
    "cholesky_solve": lambda lib, x: lib.cholesky_solve(x[:3], _square(lib, x).tril()),
    "linalg.eigh": lambda lib, x: lib.linalg.eigh(_square(lib, x))[0],
    "linalg.svdvals": lambda lib, x: lib.linalg.svdvals(x),
    "linalg.qr": lambda lib, x: lib.linalg.qr(x)[1],
    "linalg.lstsq": lambda lib, x: lib.linalg.lstsq(_square(lib, x), x[:3]).solution,
    "pinverse": lambda lib, x: lib.pinverse(x),
    "margin_ranking_loss": lambda lib, x: lib.nn.functional.margin_ranking_loss(
        x[0], x[1], lib.ones(6)
    ),
    "hinge_embedding_loss": lambda lib, x: lib.nn.functional.hinge_embedding_loss(
        x, lib.ones(4, 6)
    ),
    "soft_margin_loss": lambda lib, x: lib.nn.functional.soft_margin_loss(x, lib.ones(4, 6)),
    "triplet_margin_loss": lambda lib, x: lib.nn.functional.triplet_margin_loss(
        x[:2], x[2:], x[:2] * 0.5
    ),
    "multi_margin_loss": lambda lib, x: lib.nn.functional.multi_margin_loss(
        x, lib.tensor([0, 2, 5, 1])
    ),
    "poisson_nll_loss": lambda lib, x: lib.nn.functional.poisson_nll_loss(x, x.abs()),
    "grid_sample": lambda lib, x: lib.nn.functional.grid_sample(
        x.reshape(1, 2, 3, 4), lib.zeros(1, 2, 2, 2), align_corners=False
    ),
    "avg_pool3d": lambda lib, x: lib.nn.functional.avg_pool3d(x.reshape(1, 1, 2, 3, 4), 2),
    "reflection_pad1d": lambda lib, x: lib.nn.functional.pad(x[None], (2, 1), mode="reflect"),
    "replication_pad2d": lambda lib, x: lib.nn.ReplicationPad2d(1)(x[None, None]),
    "circular_pad_stays": lambda lib, x: lib.nn.functional.pad(x[None], (1, 1), mode="circular"),
    "linalg.vecdot": lambda lib, x: lib.linalg.vecdot(x, x * 0.5),  # the lower-precision list
}


@pytest.mark.parametrize("name", FLOAT32_LIST)
def test_ops_on_torchs_float32_list_compute_in_float32_under_autocast(name):
    """A bfloat16 operand of an op on PyTorch's float32 list is cast to float32 first (one
    kernel: autocast does not reach the matmuls inside), so the result is float32 and as
    accurate as float32 allows, with gradients back in bfloat16; a composite such as
    cholesky_solve or pinv no longer fails on bfloat16 products inside."""
    rng = np.random.default_rng(7)
    data = (rng.standard_normal((4, 6)) + 1.5).astype(np.float32)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data).bfloat16().requires_grad_()
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = FLOAT32_LIST[name](lib, x)
        out_real = lib.view_as_real(out) if out.is_complex() else out
        out_real.double().sum().backward()
        results.append((_name(out.dtype), out_real.detach().double().numpy(), x.grad))
    (ours, our_value, our_grad), (theirs, their_value, their_grad) = results
    assert ours == theirs
    np.testing.assert_allclose(our_value, their_value, rtol=1e-4, atol=1e-4)
    assert _name(our_grad.dtype) == _name(their_grad.dtype) == "bfloat16"
    np.testing.assert_allclose(
        our_grad.double().numpy(), their_grad.double().numpy(), rtol=BF16_RTOL, atol=BF16_ATOL
    )


def test_autocast_is_a_decorator_too_and_has_torchs_aliases():
    @chainrule.autocast(device_type="cpu")
    def forward(x, w):
        return x @ w

    assert forward(chainrule.ones(2, 2), chainrule.ones(2, 2)).dtype is chainrule.bfloat16
    assert amp.autocast is chainrule.autocast
    with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
        context = chainrule.cpu.amp.autocast()
    with context:
        assert chainrule.get_autocast_dtype("cpu") is chainrule.bfloat16
        assert chainrule.is_autocast_enabled("cpu")
    assert chainrule.cuda.amp.GradScaler.__name__ == "GradScaler"


def test_autocast_refuses_an_unsupported_dtype_as_torch():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        context = chainrule.autocast("cpu", dtype=chainrule.float64)
    with torch.autocast("cpu", dtype=torch.float64), context:
        assert not chainrule.is_autocast_enabled("cpu")


# ---- GradScaler ------------------------------------------------------------------------------


def _scaled_training(lib, inject, steps=6, **scaler_options):
    """A float32 model trained on float16 activations under autocast with a GradScaler; an inf
    injected into one gradient at the steps in `inject`. Returns the scales, the growth
    trackers, whether each step changed the weight, and the final weight."""
    lib.manual_seed(0) if lib is torch else None
    weight = lib.tensor(_weights(3, (3, 4))[0], requires_grad=True)
    optimizer = lib.optim.SGD([weight], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_options)
    data = lib.tensor(_weights(4, (5, 4))[0])
    scales, trackers, stepped = [], [], []
    for step in range(steps):
        optimizer.zero_grad()
        with lib.autocast("cpu", dtype=lib.float16):
            out = data @ weight.t()
            loss = (out.float() ** 2).mean()
        scaler.scale(loss).backward()
        if step in inject:
            weight.grad[0, 0] = float("inf")
        before = weight.detach().clone()
        scaler.step(optimizer)
        stepped.append(not bool((weight.detach() == before).all()))
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
    return scales, trackers, stepped, weight.detach().numpy()


def test_grad_scaler_skips_inf_steps_and_backs_off_as_torch():
    options = {"init_scale": 2.0**10, "growth_interval": 2}
    mine = _scaled_training(chainrule, inject={1, 4}, **options)
    theirs = _scaled_training(torch, inject={1, 4}, **options)
    assert mine[0] == theirs[0]  # the scale after each update: 1024 -> 512 -> ... as torch
    assert mine[1] == theirs[1]
    assert mine[2] == theirs[2] == [True, False, True, True, False, True]
    np.testing.assert_allclose(mine[3], theirs[3], rtol=2e-3, atol=2e-3)


def test_grad_scaler_scales_loss_and_unscales_grads():
    weight = chainrule.tensor([1.0, 2.0], requires_grad=True)
    optimizer = chainrule.optim.SGD([weight], lr=1.0)
    scaler = amp.GradScaler("cpu", init_scale=8.0)
    scaled = scaler.scale((weight * weight).sum())
    assert scaled.item() == 40.0
    scaled.backward()
    assert weight.grad.tolist() == [16.0, 32.0]
    scaler.unscale_(optimizer)
    assert weight.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(optimizer)
    scaler.update()
    assert weight.tolist() == [-1.0, -2.0]


def test_grad_scaler_state_dict_and_settings_as_torch():
    mine, theirs = amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    assert mine.state_dict() == theirs.state_dict()
    assert mine.get_scale() == theirs.get_scale() == 65536.0
    state = {
        "scale": 4.0,
        "growth_factor": 3.0,
        "backoff_factor": 0.25,
        "growth_interval": 7,
        "_growth_tracker": 2,
    }
    mine.load_state_dict(state)
    theirs.load_state_dict(state)
    assert mine.state_dict() == theirs.state_dict()
    assert mine.is_enabled() and mine.get_growth_interval() == 7
    off = amp.GradScaler("cpu", enabled=False)
    assert off.state_dict() == {} and off.get_scale() == 1.0
    loss = chainrule.ones(())
    assert off.scale(loss) is loss


def test_grad_scaler_refuses_float16_gradients_as_torch():
    weight = chainrule.ones(2, dtype=chainrule.float16, requires_grad=True)
    optimizer = chainrule.optim.SGD([weight], lr=0.1)
    scaler = amp.GradScaler("cpu")
    scaler.scale(weight.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(optimizer)


def test_cuda_grad_scaler_without_a_gpu_disables_itself():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if chainrule.cuda.is_available():
            pytest.skip("a GPU is present")
        with pytest.warns(UserWarning, match="CUDA is not available.  Disabling."):
            scaler = chainrule.cuda.amp.GradScaler()
    assert not scaler.is_enabled()


def _state_trace(lib):
    """What PyTorch's autocast state functions report through a script that sets them by hand,
    inside and outside a block, and the dtype a product gets at each point."""
    x = lib.ones(2, 2)
    trace = []

    def record(label):
        trace.append(
            (
                label,
                lib.is_autocast_enabled("cpu"),
                _name(lib.get_autocast_dtype("cpu")),
                _name((x @ x).dtype),
            )
        )

    record("start")
    lib.set_autocast_enabled("cpu", True)
    record("enabled by hand")
    lib.set_autocast_dtype("cpu", lib.float16)
    record("dtype set while enabled")
    with lib.autocast("cpu", enabled=False):
        record("disabled block")
    record("after the block")
    lib.set_autocast_enabled("cpu", False)
    record("disabled by hand")
    with lib.autocast("cpu"):
        record("block without a dtype")
    lib.set_autocast_dtype("cpu", lib.bfloat16)
    record("dtype restored")
    return trace


def test_the_autocast_state_functions_follow_torchs_through_a_script():
    assert _state_trace(chainrule) == _state_trace(torch)


def test_the_deprecated_autocast_spellings_warn_and_answer_as_torchs():
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answers = (
                lib.is_autocast_cpu_enabled(),
                _name(lib.get_autocast_cpu_dtype()),
                _name(lib.get_autocast_gpu_dtype()),
            )
        assert answers == (False, "bfloat16", "float16")
        assert [w.category for w in caught] == [DeprecationWarning] * 3
    assert chainrule.is_autocast_cache_enabled() is torch.is_autocast_cache_enabled() is True
    assert chainrule.autocast_increment_nesting() == torch.autocast_increment_nesting() == 1
    assert chainrule.autocast_decrement_nesting() == torch.autocast_decrement_nesting() == 0
