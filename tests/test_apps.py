"""The main job: `chainrule train` and `chainrule evaluate`, run as a user runs them."""

import subprocess
import sys

import numpy as np
import pytest

from chainrule.apps.cli import main
from tests.test_data import write_idx


def train(tmp_path, *extra):
    return main(["train", "--quiet", "--out", str(tmp_path), *extra])


def last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


def accuracy_of(line):
    return float(line.split()[2])


def test_training_improves_accuracy_and_writes_checkpoint_and_plot(tmp_path, capsys):
    assert train(tmp_path, "--model", "mlp", "--epochs", "3") == 0
    line = last_line(capsys)
    assert accuracy_of(line) > 0.85  # a 10-class problem: chance is 0.1
    assert (tmp_path / "mlp" / "checkpoint.safetensors").exists()
    assert (tmp_path / "mlp" / "curves.png").stat().st_size > 1000


def test_history_shows_the_loss_falling(tmp_path):
    import chainrule

    assert train(tmp_path, "--model", "mlp", "--epochs", "3") == 0
    history = chainrule.load(tmp_path / "mlp" / "checkpoint.safetensors")["history"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_accuracy"][-1] > history["test_accuracy"][0]


def test_same_seed_gives_the_same_numbers_twice(tmp_path, capsys):
    train(tmp_path / "a", "--model", "cnn", "--epochs", "1", "--seed", "3")
    first = last_line(capsys)
    train(tmp_path / "b", "--model", "cnn", "--epochs", "1", "--seed", "3")
    second = last_line(capsys)
    assert accuracy_of(first) == accuracy_of(second)


def test_evaluate_reports_the_accuracy_training_reported(tmp_path, capsys):
    train(tmp_path, "--model", "lstm", "--epochs", "1")
    trained = accuracy_of(last_line(capsys))
    assert main(["evaluate", str(tmp_path / "lstm" / "checkpoint.safetensors")]) == 0
    assert accuracy_of(last_line(capsys)) == trained


def test_idx_files_on_disk_are_a_data_source(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for prefix, count in (("train", 40), ("t10k", 20)):
        labels = rng.integers(0, 3, count).astype(np.uint8)
        images = (rng.random((count, 12, 12)) * 40).astype(np.uint8)
        images[np.arange(count), labels * 4, :] = 255  # a learnable stripe per class
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, 0x08)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 0x08, compress=True)
    code = train(
        tmp_path, "--model", "cnn", "--epochs", "5", "--data", str(folder), "--batch-size", "8"
    )
    assert code == 0
    assert accuracy_of(last_line(capsys)) >= 0.6


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "transformer"], "invalid choice: 'transformer'"),
        (["train", "--data", "/no/such/folder"], "does not exist"),
        (["train", "--epochs", "0"], "must be positive"),
        (["evaluate", "/no/such/checkpoint.safetensors"], "does not exist"),
    ],
)
def test_bad_arguments_give_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert message in error


def test_a_checkpoint_from_another_architecture_is_one_clear_line(tmp_path, capsys):
    import chainrule

    train(tmp_path, "--model", "mlp", "--epochs", "1")
    path = tmp_path / "mlp" / "checkpoint.safetensors"
    state = chainrule.load(path)
    state["config"]["model"] = "cnn"
    chainrule.save(state, path)
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "does not fit a cnn model" in error


def test_console_entry_points_run():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--model", "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("chainrule: error:")
    assert "Traceback" not in result.stderr
