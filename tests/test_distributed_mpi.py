"""chainrule.distributed for real: each test launches `mpiexec -n N` on
tests/distributed/worker.py (one scenario per test) and reads what the ranks print.

The worker checks every rank's results itself (a failed check aborts the job, so the exit code
says it); these tests then assert on the ranks' reports and, for the fault cases, on the error
messages and on the job ending instead of hanging (each run has a timeout). They need mpiexec:
MPICH's PyPI wheel puts it beside the interpreter (`pip install 'chainrule[mpi]'`, which
`make test` does); they skip only where neither that nor one on PATH exists.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chainrule
from chainrule.apps.cli import main

WORKER = Path(__file__).parent / "distributed" / "worker.py"
SOURCE = Path(chainrule.__file__).resolve().parents[1]


def _find_mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


MPIEXEC = _find_mpiexec()
HAVE_MPI4PY = chainrule.distributed.is_mpi_available()
pytestmark = [
    pytest.mark.skipif(
        MPIEXEC is None or not HAVE_MPI4PY,
        reason="needs mpiexec and mpi4py: pip install 'chainrule[mpi]'",
    ),
    # one MPI job at a time under pytest-xdist: the orphaned-segment cleanup below must not
    # see another job's segments
    pytest.mark.xdist_group("mpi"),
]


def launch(scenario: str, ranks: int = 2, timeout: float = 60, **env: str) -> tuple[int, str]:
    """Run the worker's scenario on `ranks` processes; (exit code, stdout and stderr)."""
    return run_on(ranks, [str(WORKER), scenario], timeout, **env)


def run_on(ranks: int, arguments: list[str], timeout: float = 60, **env: str) -> tuple[int, str]:
    """`mpiexec -n ranks python *arguments`; (exit code, stdout and stderr together)."""
    environment = dict(os.environ)
    environment.pop("CHAINRULE_DISTRIBUTED_DEBUG", None)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(SOURCE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    # Open MPI refuses root and more ranks than cores unless told; MPICH ignores these.
    environment.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    environment["OMP_NUM_THREADS"] = environment["OPENBLAS_NUM_THREADS"] = "1"
    environment.update(env)
    command = [MPIEXEC, "-n", str(ranks), sys.executable, *arguments]
    segments_before = _mpich_segments()
    # A session of its own, so that a job that overruns is ended whole (launcher and ranks).
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"mpiexec {' '.join(arguments)} did not end within {timeout} s:\n{output}")
    finally:
        _remove_orphans(_mpich_segments() - segments_before)
    return process.returncode, output


def _mpich_segments() -> set[Path]:
    return set(Path("/dev/shm").glob("mpich_shm_*")) if Path("/dev/shm").is_dir() else set()


def _remove_orphans(segments: set[Path], wait_s: float = 3.0) -> None:
    """MPICH unlinks its shared-memory segments when a job ends cleanly, not when it aborts (as
    the fault tests make it): remove those a job left once no live process maps them, or each
    aborted job would leave megabytes of the machine's memory in /dev/shm for good. The ranks
    of an aborted job may still be exiting when mpiexec returns, so a segment still mapped is
    looked at again for up to `wait_s` seconds."""
    deadline = time.monotonic() + wait_s
    remaining = set(segments)
    while remaining:
        mapped = _mapped_paths()
        for segment in [s for s in remaining if str(s) not in mapped]:
            segment.unlink(missing_ok=True)
            remaining.discard(segment)
        if not remaining or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def _mapped_paths() -> set[str]:
    """The files some live process maps (the last field of each /proc/PID/maps line)."""
    mapped: set[str] = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            mapped.update(line.rsplit(" ", 1)[-1].strip() for line in maps.read_text().splitlines())
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
    return mapped


def reports(output: str, ranks: int) -> dict[int, str]:
    """What each rank said (`rank R: ...` lines), by rank; every rank must have reported."""
    said = {
        int(rank): text
        for rank, text in re.findall(r"rank (\d+): ([^\n]*?)(?=rank \d+:|\n|$)", output)
    }
    assert sorted(said) == list(range(ranks)), output
    return said


@pytest.mark.parametrize("ranks", [2, 3])
def test_every_collective_equals_the_local_reduction_of_all_ranks_inputs(ranks):
    """all_reduce (each op, sync and async, strided), broadcast from each rank, all_gather,
    all_gather_into_tensor (cat and stack), reduce_scatter_tensor, reduce, gather and scatter,
    for every dtype; a send/recv ring and recv from any rank; all_to_all_single with equal and
    uneven parts; object collectives, new_group and barrier."""
    code, output = launch("collectives", ranks)
    assert code == 0, output
    said = reports(output, ranks)
    counts = {re.match(r"(\d+) tensor collectives checked", said[r]).group(1) for r in said}
    assert len(counts) == 1, said


@pytest.mark.parametrize(
    "ranks, shared_memory", [(2, "1"), (3, "1"), (2, "0")], ids=["2", "3", "2-through-mpi"]
)
def test_ddp_on_several_ranks_trains_as_one_process_on_the_whole_batch(ranks, shared_memory):
    """5 SGD steps, each rank on its part of the batch: parameters within 1e-6 (float64) of one
    process's, bit-identical across ranks after every step; one bucket, several, two dtypes.
    The buckets are memory the ranks share (their all-reduces move no message), or with
    CHAINRULE_DISTRIBUTED_SHARED_MEMORY=0 private, all-reduced by MPI."""
    code, output = launch("ddp", ranks, CHAINRULE_DISTRIBUTED_SHARED_MEMORY=shared_memory)
    assert code == 0, output
    for text in reports(output, ranks).values():
        assert "parameters bit-identical across ranks" in text
        assert f"buckets in shared memory: {shared_memory == '1'}" in text


@pytest.mark.parametrize("ranks", [2, 3])
def test_all_reduces_of_shared_memory_equal_the_local_reduction(ranks):
    code, output = launch("shared_memory", ranks)
    assert code == 0, output
    for text in reports(output, ranks).values():
        assert "shared-memory all-reduces checked; the same bits on every rank" in text


def test_batch_share_splits_global_batches_so_ddp_equals_one_process():
    code, output = launch("batch_share")
    assert code == 0, output
    said = reports(output, 2)
    assert said[0].startswith("batch_share [4, 4, 3]") and said[1].startswith(
        "batch_share [4, 4, 2]"
    )


def test_no_sync_accumulates_locally_then_averages_the_sum():
    code, output = launch("no_sync")
    assert code == 0, output
    assert all("equals one big batch" in t for t in reports(output, 2).values())


def test_batchnorm_buffers_are_broadcast_from_rank_0_before_each_forward():
    code, output = launch("batchnorm")
    assert code == 0, output
    assert all("follow rank 0" in t for t in reports(output, 2).values())


def test_sync_batchnorm_refuses_cpu_tensors_across_processes_as_torch():
    code, output = launch("sync_batchnorm")
    assert code == 0, output
    assert all("refuses CPU tensors" in t for t in reports(output, 2).values())


def test_find_unused_parameters_averages_partly_used_and_leaves_unused_alone():
    code, output = launch("unused")
    assert code == 0, output
    assert all("left alone" in t for t in reports(output, 2).values())


def test_distributed_sampler_pads_uneven_shards_over_three_ranks():
    code, output = launch("sampler", 3)
    assert code == 0, output
    assert all("as PyTorch" in t for t in reports(output, 3).values())


def test_float16_and_bfloat16_sums_round_each_addition_to_16_bits():
    """Every 16-bit pattern: MPI's float16 type, and the words-plus-user-op path that bfloat16
    (and float16 on an MPI without MPIX_C_FLOAT16) takes, both as 16-bit arithmetic."""
    code, output = launch("half_sums")
    assert code == 0, output
    assert all("bfloat16 (16-bit words)" in t for t in reports(output, 2).values())


def test_ddp_communication_hooks_follow_pytorchs_rules_and_numerics():
    """allreduce_hook is bit-identical to no hook; the fp16/bf16 hooks and wrappers give the
    16-bit average of the ranks' own gradients (also after no_sync); a user's then() hook; a
    hook with find_unused_parameters; the registration errors."""
    code, output = launch("comm_hooks")
    assert code == 0, output
    reports(output, 2)
    assert output.count("allreduce_hook equals no hook bit for bit") == 2, output
    assert output.count("hook rules as PyTorch's") == 2, output


def test_powersgd_over_two_ranks_keeps_the_replicas_identical():
    code, output = launch("powersgd")
    assert code == 0, output
    assert output.count("PowerSGD: full rank equals plain DDP") == 2, output


HOOKS_SCRIPT = Path(__file__).parent / "distributed" / "hooks_script.py"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")
def test_ddp_communication_hooks_match_pytorchs_gloo_ddp(tmp_path):
    """The same PyTorch script, under PyTorch (gloo) and under chainrule.as_torch (MPI): each
    hook's first averaged gradients and the parameters after 3 steps agree, to float32 rounding
    without compression and to 16-bit rounding with it; compression changes the result."""
    code, output = run_on(2, ["-m", "chainrule.as_torch", str(HOOKS_SCRIPT), str(tmp_path / "a")])
    assert code == 0, output
    ours = json.loads(output.strip().splitlines()[-1])
    environment = {"PYTHONPATH": ""}  # real PyTorch: no chainrule on the path
    code, output = run_on(2, [str(HOOKS_SCRIPT), str(tmp_path / "b")], timeout=120, **environment)
    assert code == 0, output
    theirs = json.loads(output.strip().splitlines()[-1])
    assert ours.keys() == theirs.keys()
    # (relative tolerance on the gradients, absolute on the parameters after 3 steps)
    tolerances = {"fp16": (2.0**-10, 1e-4), "bf16": (2.0**-7, 1e-3), "": (1e-5, 1e-6)}
    for name in theirs:
        compressed = next(key for key in tolerances if key in name)
        rtol, atol = tolerances[compressed]
        grad, expected = (chainrule.tensor(r[name]["grad"]) for r in (ours, theirs))
        assert chainrule.allclose(grad, expected, rtol=rtol, atol=1e-7), name
        params, expected = (chainrule.tensor(r[name]["params"]) for r in (ours, theirs))
        assert chainrule.allclose(params, expected, rtol=0, atol=atol), name
        unhooked = chainrule.tensor(ours["none"]["grad"])
        assert chainrule.equal(grad, unhooked) == (not compressed), name


@pytest.mark.parametrize("scenario", ["fault", "shared_fault"])
def test_a_rank_that_raises_stops_every_rank_with_an_error_naming_it(scenario):
    code, output = launch(scenario, timeout=30)
    assert code != 0
    assert "ValueError: rank one gives up" in output  # rank 1's own traceback
    assert "all_reduce: rank 1 failed (ValueError: rank one gives up); rank 0 stops too" in output
    assert "not reached" not in output


def test_mismatched_collectives_are_reported_in_debug_mode():
    code, output = launch("mismatch", timeout=30, CHAINRULE_DISTRIBUTED_DEBUG="1")
    assert code != 0
    shapes = (
        "all_reduce: the ranks called mismatched collectives (CHAINRULE_DISTRIBUTED_DEBUG=1): "
        "rank 0 called all_reduce(shape=(3,), dtype=chainrule.float32, op=SUM); "
        "rank 1 called all_reduce(shape=(4,), dtype=chainrule.float32, op=SUM)"
    )
    assert output.count("caught: " + shapes) == 2, output  # on both ranks
    kinds = (
        "rank 0 called all_reduce(shape=(2,), dtype=chainrule.float64, op=SUM); "
        "rank 1 called broadcast(shape=(2,), dtype=chainrule.float32, src=0)"
    )
    assert kinds in output
    assert "not reached" not in output


def test_a_rank_that_exits_early_fails_the_ranks_waiting_for_it():
    code, output = launch("early_exit", timeout=30)  # the group's timeout is 60 s
    assert code != 0
    expected = (
        "all_reduce: rank 1 left the job (destroy_process_group, or its script ended) while "
        "rank 0 waits for it in all_reduce"
    )
    assert expected in output, output


def test_a_collective_that_another_rank_never_calls_times_out():
    code, output = launch("timeout", timeout=30)
    assert code != 0
    assert "all_reduce: rank 0 timed out after 1" in output, output


def test_init_process_group_times_out_when_a_rank_does_not_start():
    code, output = launch("init_timeout", timeout=30)
    assert code != 0
    assert "init_process_group timed out after 1 s on rank 0 of 2" in output, output


def test_init_process_group_times_out_when_a_rank_joins_late():
    code, output = launch("join_timeout", timeout=30)
    assert code != 0
    assert "DistBackendError: init_process_group: rank 0 timed out after 1" in output, output


def test_an_unmodified_pytorch_ddp_script_trains_under_as_torch():
    """torch.distributed, DistributedDataParallel and DistributedSampler resolve to chainrule's
    (backend="gloo" is taken as MPI, with a warning)."""
    script = str(Path(__file__).parent / "distributed" / "torch_script.py")
    code, output = run_on(2, ["-m", "chainrule.as_torch", script])
    assert code == 0, output
    loss = float(re.search(r"rank 0: final loss (\S+),", output).group(1))
    assert loss < 1e-2, output
    assert "same weights on all ranks: True" in output


@pytest.mark.parametrize("method", [[], ["--separate"]], ids=["interleaved", "separate"])
def test_the_scaling_benchmark_runs(method):
    """benchmarks/distributed.py end to end, a step or two per run (its figures mean nothing),
    both methods, with the fp16 compression hook (the default differs only in not registering
    it)."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.distributed", "--quick", "--comm-hook", "fp16", *method],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["scaling efficiency"]["value"] > 0
    if not method:
        assert figures["without DDP (no communication): scaling efficiency"]["value"] > 0
    assert len(figures["comm wait per step, 2 ranks"]["value"]) == 2
    assert figures["comm hook"] == "fp16_compress_hook"


def test_the_all_reduce_paths_benchmark_runs():
    """benchmarks/distributed_paths.py under mpiexec, one timed round (its figures mean
    nothing here): a row for each of shared memory, MPI and no DDP."""
    code, output = run_on(2, ["-m", "benchmarks.distributed_paths", "--rounds", "1"], timeout=120)
    assert code == 0, output
    for name in ("shared memory", "MPI", "no DDP"):
        assert re.search(rf"{name}: median [0-9.]+ ms, fastest [0-9.]+ ms per step", output)


def test_chainrule_train_distributed_follows_the_one_process_run(tmp_path):
    """`mpiexec -n 2 chainrule train --distributed`: each process takes half of every batch,
    only rank 0 prints and writes, and the run follows the one-process run (same history,
    weights equal to float rounding: the batch's loss is summed in two parts)."""
    common = ["train", "--model", "mlp", "--epochs", "2", "--quiet", "--out", str(tmp_path)]
    code, output = run_on(
        2, ["-m", "chainrule.apps.cli", *common, "--name", "two", "--distributed"]
    )
    assert code == 0, output
    assert output.count("chainrule train: mlp") == 1  # the header, from rank 0 only
    assert "2 processes (--distributed" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two"]
    assert main([*common, "--name", "one"]) == 0
    two = chainrule.load(tmp_path / "two" / "last.safetensors")
    one = chainrule.load(tmp_path / "one" / "last.safetensors")
    for name, value in one["model"].items():
        assert chainrule.allclose(two["model"][name], value, rtol=1e-4, atol=1e-6), name
    for key, values in one["history"].items():
        assert values == pytest.approx(two["history"][key], rel=1e-4, abs=1e-6), key
