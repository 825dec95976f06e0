"""The main job: `chainrule train` and `chainrule evaluate`, run as a user runs them."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

import chainrule
from chainrule.apps.cli import main
from tests.test_data import write_idx


def train(out, *extra):
    return main(["train", "--quiet", "--out", str(out), *extra])


def last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


def accuracy_of(line):
    return float(line.split()[2])


def only_run(out):
    (folder,) = out.iterdir()
    return folder


def test_training_improves_accuracy_and_writes_checkpoints_and_plot(tmp_path, capsys):
    assert train(tmp_path, "--model", "mlp", "--epochs", "3") == 0
    line = last_line(capsys)
    assert line.startswith("test accuracy") and accuracy_of(line) > 0.85  # chance is 0.1
    run = only_run(tmp_path)
    assert run.name.startswith("mlp-")
    assert {p.name for p in run.iterdir()} == {
        "last.safetensors",
        "best.safetensors",
        "curves.png",
    }
    assert (run / "curves.png").stat().st_size > 1000


def test_the_run_header_says_what_is_trained_and_how(tmp_path, capsys):
    train(tmp_path, "--model", "mlp", "--epochs", "1", "--optimizer", "sgd", "--threads", "1")
    header = capsys.readouterr().out.splitlines()[:5]
    assert header[0] == "chainrule train: mlp, 26,122 parameters"
    assert "1,293 train / 144 validation / 360 test images, 8x8, 10 classes" in header[1]
    assert "sgd, lr 0.05" in header[2]
    assert "1 BLAS thread (--threads)" in header[3] and "device cpu" in header[3]
    assert str(tmp_path) in header[4]


def test_the_summary_table_has_a_row_per_epoch_and_marks_the_best(tmp_path, capsys):
    train(tmp_path, "--model", "mlp", "--epochs", "3", "--name", "table")
    out = capsys.readouterr().out.splitlines()
    start = out.index("epoch  train loss  train acc  val loss  val acc")
    rows = out[start + 1 : start + 4]
    assert [int(row.split()[0]) for row in rows] == [1, 2, 3]
    best = chainrule.load(tmp_path / "table" / "best.safetensors")["progress"]["best_epoch"]
    assert [row.endswith("*") for row in rows] == [i == best for i in (1, 2, 3)]


def test_history_shows_the_loss_falling(tmp_path):
    assert train(tmp_path, "--model", "mlp", "--epochs", "3", "--name", "r") == 0
    history = chainrule.load(tmp_path / "r" / "last.safetensors")["history"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_accuracy"][-1] > history["val_accuracy"][0]


def test_best_checkpoint_is_the_epoch_with_the_highest_validation_accuracy(tmp_path):
    train(tmp_path, "--model", "mlp", "--epochs", "4", "--lr", "0.02", "--name", "r")
    last = chainrule.load(tmp_path / "r" / "last.safetensors")
    best = chainrule.load(tmp_path / "r" / "best.safetensors")
    accuracies = last["history"]["val_accuracy"]
    assert best["progress"]["epoch"] == accuracies.index(max(accuracies)) + 1
    assert best["progress"]["best_epoch"] == last["progress"]["best_epoch"]


def test_same_seed_gives_the_same_numbers_twice(tmp_path, capsys):
    train(tmp_path / "a", "--model", "cnn", "--epochs", "1", "--seed", "3")
    first = last_line(capsys)
    train(tmp_path / "b", "--model", "cnn", "--epochs", "1", "--seed", "3")
    second = last_line(capsys)
    assert accuracy_of(first) == accuracy_of(second)


def test_a_negative_seed_is_a_seed_as_in_pytorch(tmp_path, capsys):
    assert train(tmp_path, "--model", "mlp", "--epochs", "1", "--seed", "-1") == 0
    assert accuracy_of(last_line(capsys)) > 0.5


def test_runs_never_overwrite_each_other(tmp_path):
    for _ in range(2):
        assert train(tmp_path, "--model", "mlp", "--epochs", "1") == 0
    first, second = sorted(tmp_path.iterdir())
    assert first.name.startswith("mlp-") and second.name.startswith("mlp-")
    assert (first / "last.safetensors").exists() and (second / "last.safetensors").exists()


def test_evaluate_reports_the_accuracy_training_reported(tmp_path, capsys):
    train(tmp_path, "--model", "lstm", "--epochs", "1", "--name", "r")
    trained = accuracy_of(last_line(capsys))
    assert main(["evaluate", str(tmp_path / "r")]) == 0
    line = last_line(capsys)
    assert accuracy_of(line) == trained and line.endswith("best.safetensors")
    assert main(["evaluate", str(tmp_path / "r" / "last.safetensors")]) == 0
    assert accuracy_of(last_line(capsys)) == trained  # one epoch: best is last


def test_evaluate_picks_best_or_last(tmp_path, capsys):
    train(tmp_path, "--model", "mlp", "--epochs", "2", "--name", "r")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "r"), "--which", "last"]) == 0
    assert last_line(capsys).endswith("last.safetensors")


def test_idx_files_on_disk_are_a_data_source(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for prefix, count in (("train", 60), ("t10k", 20)):
        labels = np.arange(count).astype(np.uint8) % 3
        images = (rng.random((count, 12, 12)) * 40).astype(np.uint8)
        images[np.arange(count), labels * 4, :] = 255  # a learnable stripe per class
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, 0x08)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 0x08, compress=True)
    code = train(
        tmp_path / "runs",
        *("--model", "cnn", "--epochs", "5", "--data", str(folder), "--batch-size", "8"),
        *("--val-fraction", "0.2"),
    )
    assert code == 0
    assert accuracy_of(last_line(capsys)) >= 0.6
    assert main(["evaluate", str(only_run(tmp_path / "runs"))]) == 0


def test_a_checkpoint_from_another_architecture_is_one_clear_line(tmp_path, capsys):
    train(tmp_path, "--model", "mlp", "--epochs", "1", "--name", "r")
    path = tmp_path / "r" / "last.safetensors"
    state = chainrule.load(path)
    state["config"]["model"] = "cnn"
    chainrule.save(state, path)
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "does not fit a cnn model" in error


def test_version_and_help_show_what_a_user_needs(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"chainrule {chainrule.__version__}"
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: cnn)" in text and "(default: 20)" in text and "(default: 1)" in text
    assert "0.05 for sgd, 0.002 for adam" in text


def test_console_entry_points_run():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--model", "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("chainrule: error:")
    assert "Traceback" not in result.stderr


def test_the_readme_main_job_examples_each_run_alone(tmp_path, monkeypatch, capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## The main job: `chainrule train`")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"README main job block {number}", "exec"), {})  # a fresh namespace


def _final_weights(run):
    state = chainrule.load(run / "last.safetensors")
    return {name: value.numpy() for name, value in state["model"].items()}


def test_compile_trains_to_the_same_weights_and_numbers_as_eager(tmp_path, capsys):
    """`--compile` replays the captured step: the same losses, accuracies and final weights,
    bit for bit, as the eager loop (the last, smaller batch of each epoch is a second
    capture)."""
    common = ("--epochs", "2", "--seed", "5", "--scheduler", "cosine", "--batch-size", "64")
    for model in ("mlp", "cnn", "lstm"):
        assert train(tmp_path / f"eager-{model}", "--model", model, *common) == 0
        eager = capsys.readouterr().out
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = train(tmp_path / f"compiled-{model}", "--model", model, "--compile", *common)
        assert status == 0
        compiled = capsys.readouterr().out
        assert not [w for w in caught if "chainrule.compile" in str(w.message)]  # no fallback
        assert "compiled step (--compile)" in compiled
        table = [line for line in eager.splitlines() if re.match(r"\s*\d+\s", line)]
        assert table and all(line in compiled for line in table)
        eager_weights = _final_weights(only_run(tmp_path / f"eager-{model}"))
        compiled_weights = _final_weights(only_run(tmp_path / f"compiled-{model}"))
        assert eager_weights.keys() == compiled_weights.keys()
        for name, value in eager_weights.items():
            np.testing.assert_array_equal(compiled_weights[name], value, err_msg=name)


def test_compile_with_distributed_is_refused_in_one_line(tmp_path, capsys):
    assert train(tmp_path, "--compile", "--distributed", "--epochs", "1") == 2
    assert "--compile cannot be given with --distributed" in capsys.readouterr().err
