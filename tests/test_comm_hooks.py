"""DistributedDataParallel's communication hooks in one process (the "single" backend): what a
hook is given, what DDP does with what it returns, and PyTorch's registration rules. The
numerics across ranks, against PyTorch's gloo DDP too, are tested under mpiexec in
tests/test_distributed_mpi.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import chainrule
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed.algorithms.ddp_comm_hooks import (
    DDPCommHookType,
    default_hooks,
    register_ddp_comm_hook,
)
from chainrule.distributed.algorithms.ddp_comm_hooks.powerSGD_hook import (
    PowerSGDState,
    powerSGD_hook,
)
from chainrule.futures import Future
from chainrule.nn.parallel import DistributedDataParallel


@pytest.fixture
def single():
    dist.init_process_group("single")
    yield
    dist.destroy_process_group()


def two_layers() -> nn.Module:
    chainrule.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def backward(ddp: DistributedDataParallel) -> None:
    ddp(chainrule.linspace(-1, 1, 15).reshape(5, 3)).pow(2).sum().backward()


def local_gradients() -> list[chainrule.Tensor]:
    model = two_layers()
    model(chainrule.linspace(-1, 1, 15).reshape(5, 3)).pow(2).sum().backward()
    return [p.grad for p in model.parameters()]


def completed(value) -> Future:
    fut = Future()
    fut.set_result(value)
    return fut


def test_a_hook_gets_each_bucket_with_its_gradients_and_parameters(single):
    seen = []

    def look(state: str, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        flat = chainrule.cat([g.reshape(-1) for g in bucket.gradients()])
        seen.append((state, bucket.index(), bucket.is_last(), bucket.parameters(), flat))
        assert chainrule.equal(flat, bucket.buffer())  # the gradients are views of the buffer
        return completed(bucket.buffer())

    ddp = DistributedDataParallel(two_layers(), bucket_cap_mb=0.00003)
    ddp.register_comm_hook("my state", look)
    backward(ddp)
    parameters = list(ddp.module.parameters())
    w1, b1, w2, b2 = parameters
    expected_order = [[b2, w2], [b1, w1]]  # reverse registration order
    assert [(s, i, last) for s, i, last, _, _ in seen] == [
        ("my state", 0, False),
        ("my state", 1, True),
    ]
    for (*_, params, _), expected in zip(seen, expected_order):
        assert len(params) == 2 and all(p is q for p, q in zip(params, expected))
    for param, grad in zip(parameters, local_gradients()):
        assert chainrule.equal(param.grad, grad)


@pytest.mark.parametrize("as_view", [False, True])
def test_ddp_copies_the_hooks_result_into_the_gradients(single, as_view):
    def doubled(state: object, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        return completed(bucket.buffer() * 2)

    ddp = DistributedDataParallel(two_layers(), gradient_as_bucket_view=as_view)
    ddp.register_comm_hook(None, doubled)
    backward(ddp)
    for param, grad in zip(ddp.module.parameters(), local_gradients()):
        assert chainrule.equal(param.grad, 2 * grad)
    views = ddp._buckets[0].views
    assert any(param.grad is view for view in views for param in ddp.parameters()) == as_view


def test_a_16_bit_result_is_cast_back_to_the_gradients_dtype(single):
    ddp = DistributedDataParallel(two_layers())
    ddp.register_comm_hook(None, default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook))
    backward(ddp)
    for param, grad in zip(ddp.module.parameters(), local_gradients()):
        assert param.grad.dtype is chainrule.float32
        assert chainrule.equal(param.grad, grad.half().float())


@pytest.mark.parametrize(
    ("hook", "dtype"),
    [
        (default_hooks.allreduce_hook, chainrule.float32),
        (default_hooks.fp16_compress_hook, chainrule.float16),
        (default_hooks.bf16_compress_hook, chainrule.bfloat16),
        (default_hooks.bf16_compress_wrapper(default_hooks.allreduce_hook), chainrule.bfloat16),
    ],
)
def test_the_default_hooks_in_one_process_round_the_gradients_once(single, hook, dtype):
    ddp = DistributedDataParallel(two_layers())
    ddp.register_comm_hook(None, hook)
    backward(ddp)
    for param, grad in zip(ddp.module.parameters(), local_gradients()):
        assert chainrule.equal(param.grad, grad.to(dtype).float())


def test_hooks_register_by_name(single):
    ddp = DistributedDataParallel(two_layers())
    register_ddp_comm_hook(DDPCommHookType.FP16_COMPRESS, ddp)
    assert ddp._comm_hook == (None, default_hooks.fp16_compress_hook)
    builtin = DistributedDataParallel(two_layers())
    builtin._register_builtin_comm_hook(dist.BuiltinCommHookType.ALLREDUCE)
    assert builtin._comm_hook == (builtin.process_group, default_hooks.allreduce_hook)
    DDPCommHookType.NOOP.value(model=DistributedDataParallel(two_layers()), state=None)


def test_registration_follows_pytorchs_rules(single):
    ddp = DistributedDataParallel(two_layers())
    backward(ddp)  # after a backward is allowed, as in PyTorch 2.13: the next one uses it
    ddp.register_comm_hook(None, lambda state, bucket: completed(bucket.buffer() * 0))
    backward(ddp)
    assert all(not p.grad.any() for p in ddp.parameters())
    with pytest.raises(
        RuntimeError, match=r"^register_comm_hook or register_builtin_comm_hook can only be"
    ):
        ddp._register_builtin_comm_hook(dist.BuiltinCommHookType.FP16_COMPRESS)
    fresh = DistributedDataParallel(two_layers())
    with pytest.raises(TypeError, match=r"^Communication hook must be callable\.$"):
        fresh.register_comm_hook(None, "allreduce")

    def wrong_bucket(state: object, bucket: chainrule.Tensor) -> Future[chainrule.Tensor]:
        return completed(bucket)

    def wrong_result(state: object, bucket: dist.GradBucket) -> chainrule.Tensor:
        return bucket.buffer()

    with pytest.raises(ValueError, match="bucket annotation should be dist.GradBucket"):
        fresh.register_comm_hook(None, wrong_bucket)
    with pytest.raises(ValueError, match=r"return annotation should be torch\.futures\.Future"):
        fresh.register_comm_hook(None, wrong_result)


def test_what_a_hook_returns_is_checked(single):
    def tensor(state, bucket):
        return bucket.buffer()

    def holds_a_list(state, bucket):
        return completed([bucket.buffer()])

    def too_long(state, bucket):
        return completed(chainrule.zeros(100))

    def failed(state, bucket):
        fut = Future()
        fut.set_exception(ValueError("the hook's own error"))
        return fut

    expected = {
        tensor: (RuntimeError, "must return a torch.futures.Future object, but got Tensor"),
        holds_a_list: (RuntimeError, "must hold a single Tensor .* got list"),
        too_long: (RuntimeError, r"bucket 0 holds 26 elements, .* tensor of shape \(100,\)"),
        failed: (ValueError, "the hook's own error"),
    }
    for hook, (error, message) in expected.items():
        ddp = DistributedDataParallel(two_layers())
        ddp.register_comm_hook(None, hook)
        with pytest.raises(error, match=message):
            backward(ddp)
        backward(DistributedDataParallel(two_layers()))  # nothing left behind


def test_no_sync_skips_the_hook(single):
    calls = []

    def counting(state: object, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        calls.append(bucket.index())
        return completed(bucket.buffer())

    ddp = DistributedDataParallel(two_layers())
    ddp.register_comm_hook(None, counting)
    with ddp.no_sync():
        backward(ddp)
    assert calls == []
    backward(ddp)
    assert calls == [0]
    for param, grad in zip(ddp.module.parameters(), local_gradients()):
        assert chainrule.allclose(param.grad, 2 * grad)


def test_pytorch_imports_of_the_hooks_resolve_under_as_torch(tmp_path):
    script = tmp_path / "imports.py"
    script.write_text(
        textwrap.dedent(
            """
            import torch
            import torch.distributed.algorithms.ddp_comm_hooks.default_hooks as default
            from torch.distributed.algorithms.ddp_comm_hooks import DDPCommHookType
            from torch.futures import Future, collect_all

            assert torch.futures.Future is Future and torch.distributed.GradBucket
            print(default.fp16_compress_hook.__module__, DDPCommHookType.ALLREDUCE.name)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.as_torch", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "chainrule.distributed.algorithms.ddp_comm_hooks.default_hooks",
        "ALLREDUCE",
    ]


@pytest.mark.parametrize(
    "hook",
    [
        default_hooks.allreduce_hook,
        default_hooks.fp16_compress_hook,
        default_hooks.bf16_compress_hook,
    ],
)
def test_hooks_run_on_another_backend_as_on_the_cpu(single, hook):
    """On the "fake" device (CuPy's behaviour on the host) the hooks give the CPU's result."""
    gradients = {}
    for device in ("cpu", "fake"):
        ddp = DistributedDataParallel(two_layers().to(device), gradient_as_bucket_view=True)
        ddp.register_comm_hook(None, hook)
        ddp(chainrule.linspace(-1, 1, 15, device=device).reshape(5, 3)).pow(2).sum().backward()
        gradients[device] = [p.grad for p in ddp.parameters()]
    for ours, cpu in zip(gradients["fake"], gradients["cpu"]):
        assert ours.device == chainrule.device("fake")
        assert chainrule.equal(ours.cpu(), cpu)


# ---- PowerSGD --------------------------------------------------------------------------------


def regressor() -> nn.Module:
    chainrule.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 5)).double()


INPUTS = chainrule.linspace(-2, 2, 60, dtype=chainrule.float64).reshape(10, 6).sin()


def powersgd_steps(state: PowerSGDState, steps: int) -> list[list[chainrule.Tensor]]:
    """Each step's gradients with PowerSGD (the same batch every step, one process)."""
    ddp = DistributedDataParallel(regressor())
    ddp.register_comm_hook(state, powerSGD_hook)
    history = []
    for _ in range(steps):
        ddp.zero_grad()
        ddp(INPUTS).pow(2).sum().backward()
        history.append([p.grad.clone() for p in ddp.parameters()])
    return history


def exact_gradients() -> list[chainrule.Tensor]:
    model = regressor()
    model(INPUTS).pow(2).sum().backward()
    return [p.grad for p in model.parameters()]


def test_powersgd_state_refuses_to_start_before_iteration_2_as_torch():
    from torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook import (
        PowerSGDState as TorchPowerSGDState,
    )

    with pytest.raises(ValueError) as theirs:
        TorchPowerSGDState(None, start_powerSGD_iter=1)
    with pytest.raises(ValueError) as ours:
        PowerSGDState(None, start_powerSGD_iter=1)
    assert str(ours.value) == str(theirs.value)
    PowerSGDState(None, start_powerSGD_iter=0, use_error_feedback=False, warm_start=False)


@pytest.mark.parametrize("batched", [False, True])
def test_powersgd_at_full_rank_loses_nothing(single, batched):
    """Plain all-reduce before start_powerSGD_iter; after it, P and Q of rank min(n, m) carry
    each matrix whole (min_compression_rate=0 compresses every gradient, biases too)."""
    state = PowerSGDState(
        None,
        matrix_approximation_rank=8,
        start_powerSGD_iter=2,
        min_compression_rate=0,
        batch_tensors_with_same_shape=batched,
    )
    history = powersgd_steps(state, 4)
    exact = exact_gradients()
    for step, gradients in enumerate(history):
        for ours, expected in zip(gradients, exact):
            if step < 2:
                assert chainrule.equal(ours, expected), step
            else:
                assert chainrule.allclose(ours, expected, rtol=1e-10, atol=1e-12), step
    assert state.iter == 4
    assert state.error_dict[0].abs().max().item() < 1e-12
    assert state.compression_stats()[1:] == (2 * 101, 2 * 164)


def test_powersgd_rank_1_sends_rank_1_matrices_and_feeds_back_the_error(single):
    state = PowerSGDState(None, matrix_approximation_rank=1, start_powerSGD_iter=2)
    first, second, third = powersgd_steps(state, 4)[1:]
    exact = exact_gradients()
    for ours, expected in zip(third, exact):
        if ours.ndim == 1:  # vectors are not worth compressing: averaged as they are
            assert chainrule.equal(ours, expected)
        else:
            singular = chainrule.linalg.svdvals(ours)
            assert singular[1] < 1e-12 * singular[0], "not a rank-1 approximation"
    # The error kept after step 3 is what step 3 lost: its gradient plus step 2's error,
    # minus what it sent.
    sent = chainrule.cat([g.reshape(-1) for g in third[::-1]])
    owed = chainrule.cat([g.reshape(-1) for g in exact[::-1]])
    lost_before = owed - chainrule.cat([g.reshape(-1) for g in second[::-1]])
    assert chainrule.allclose(state.error_dict[0], owed + lost_before - sent, atol=1e-12)
    assert not chainrule.equal(first[0], third[0])
    assert state.compression_stats()[0] > 2


def test_powersgd_registers_by_name(single):
    ddp = DistributedDataParallel(regressor())
    DDPCommHookType.POWER_SGD_RANK2.value(model=ddp, state=None)
    state, hook = ddp._comm_hook
    assert hook is powerSGD_hook and state.matrix_approximation_rank == 2
    assert state.start_powerSGD_iter == 1_000
