"""Nothing is lost: SIGINT/SIGTERM save the whole training state and exit 130, `--resume`
continues to the same weights bit for bit, and a diverged run exits 3 keeping its last good
checkpoint.

The interrupted runs are real processes sent a real signal; to make the step it arrives at
known in advance, CHAINRULE_TEST_SIGNAL_AT_STEP makes the process signal itself in the middle
of that step (after the forward pass), and the handler under test does the rest.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule.apps.cli import main
from chainrule.apps.training import SIGNAL_AT_STEP

ROOT = Path(__file__).resolve().parents[1]
BATCHES_PER_EPOCH = 41  # 1,293 training digits in batches of 32


def chainrule_cli(*argv, env=None):
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *argv],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def assert_same_state(a, b, path="checkpoint"):
    """Equal nested checkpoints: tensors bit for bit (dtype and every bit), the rest by ==."""
    if isinstance(a, chainrule.Tensor):
        assert isinstance(b, chainrule.Tensor) and a.dtype == b.dtype, path
        assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes(), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same_state(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.parametrize(
    "options, signal_at",
    [
        (["--model", "mlp", "--scheduler", "cosine"], "SIGINT:50"),  # mid-epoch 2
        (["--model", "mlp", "--optimizer", "sgd"], f"SIGTERM:{BATCHES_PER_EPOCH}"),  # epoch end
        (["--model", "cnn", "--optimizer", "adamw"], "SIGINT:1"),  # the first step
    ],
)
def test_interrupted_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one(
    options, signal_at, tmp_path
):
    common = ["train", "--quiet", "--epochs", "3", "--out", str(tmp_path), *options]
    assert main([*common, "--name", "whole"]) == 0

    stopped = chainrule_cli(*common, "--name", "cut", env={SIGNAL_AT_STEP: signal_at})
    signal_name, step = signal_at.split(":")
    run = tmp_path / "cut"
    assert stopped.returncode == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert f"{signal_name}: stopping after this step" in stopped.stderr
    assert f"resume with: chainrule train --resume {run}" in stopped.stderr
    saved = chainrule.load(run / "last.safetensors")
    assert saved["progress"]["step"] == int(step)  # the step the signal arrived in finished

    resumed = chainrule_cli("train", "--quiet", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr
    # the position saved: inside the epoch that step belongs to (a signal in an epoch's last
    # step stops before that epoch's validation, so it is still inside epoch 1 at step 41)
    epoch, batches = saved["progress"]["epoch"], saved["progress"]["batches"]
    assert batches, "each signal here stops inside an epoch"
    assert f"resuming   from epoch {epoch + 1}, step {step}" in resumed.stdout

    whole = chainrule.load(tmp_path / "whole" / "last.safetensors")
    assert_same_state(whole, chainrule.load(run / "last.safetensors"))
    assert_same_state(
        chainrule.load(tmp_path / "whole" / "best.safetensors")["model"],
        chainrule.load(run / "best.safetensors")["model"],
    )


def test_the_checkpoint_holds_the_whole_training_state(tmp_path):
    argv = ["train", "--quiet", "--model", "mlp", "--epochs", "1", "--scheduler", "cosine"]
    assert main([*argv, "--out", str(tmp_path), "--name", "r"]) == 0
    state = chainrule.load(tmp_path / "r" / "last.safetensors")
    assert state["format"] == "chainrule-train/1"
    assert set(state) == {
        "format",
        "config",
        "model",
        "optimizer",
        "scheduler",
        "rng",
        "progress",
        "history",
    }
    assert set(state["rng"]) == {"default", "data_order"}
    assert state["optimizer"]["state"][0]["exp_avg"].shape == state["model"]["1.weight"].shape
    assert state["scheduler"]["last_epoch"] == 1
    assert state["progress"]["epoch"] == 1
    assert state["progress"]["step"] == BATCHES_PER_EPOCH
    assert state["config"]["lr"] == 2e-3 and state["config"]["seed"] == 0


def test_a_diverging_run_exits_3_naming_epoch_and_step(tmp_path, capsys):
    argv = ["train", "--quiet", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e6"]
    assert main([*argv, "--out", str(tmp_path), "--name", "r"]) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    # NumPy's overflow warnings from the ops may come first (issue 12 silences them in ops/)
    messages = [line for line in lines if line.startswith("chainrule")]
    assert len(messages) == 1 and messages[0] == lines[-1]
    error = messages[0]
    assert error.startswith("chainrule: error: training diverged: the loss is nan at epoch 1")
    assert "a lower --lr" in error
    state = chainrule.load(tmp_path / "r" / "last.safetensors")  # the start, kept
    assert state["progress"]["step"] == 0
    assert not (tmp_path / "r" / "curves.png").exists()  # no curves before an epoch ends
    assert all(bool(chainrule.isfinite(t).all()) for t in state["model"].values())


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, capsys):
    argv = ["train", "--quiet", "--model", "mlp", "--epochs", "3", "--out", str(tmp_path)]
    stopped = chainrule_cli(*argv, "--name", "r", env={SIGNAL_AT_STEP: "SIGINT:40"})
    assert stopped.returncode == 130
    last = tmp_path / "r" / "last.safetensors"
    state = chainrule.load(last)
    state["optimizer"]["param_groups"][0]["lr"] = 1e30  # the next step overflows float32
    chainrule.save(state, last)

    assert main(["train", "--quiet", "--resume", str(tmp_path / "r")]) == 3
    error = capsys.readouterr().err.strip().splitlines()[-1]
    # step 41 ends epoch 1 (saved), step 42 goes through at 1e30, step 43's loss is NaN
    assert error.startswith("chainrule: error: training diverged: the loss is nan at epoch 2")
    assert f"{last} holds the end of epoch 1, the last good state" in error
    kept = chainrule.load(last)
    assert (kept["progress"]["epoch"], kept["progress"]["step"]) == (1, BATCHES_PER_EPOCH)
    assert all(bool(chainrule.isfinite(t).all()) for t in kept["model"].values())


def test_a_named_run_is_never_overwritten(tmp_path, capsys):
    argv = ["train", "--quiet", "--model", "mlp", "--epochs", "1", "--out", str(tmp_path)]
    assert main([*argv, "--name", "mine"]) == 0
    before = (tmp_path / "mine" / "last.safetensors").read_bytes()
    assert main([*argv, "--name", "mine", "--seed", "1"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "mine" / "last.safetensors").read_bytes() == before
