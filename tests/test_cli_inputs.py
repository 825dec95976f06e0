"""Every bad input to `chainrule train` / `evaluate` is one line on stderr and exit status 2,
found before anything is trained or written."""

import gzip
import hashlib
import os

import numpy as np
import pytest
import torch

import chainrule
from chainrule.apps.cli import main
from tests.test_data import write_idx


def write_digits_like(folder, train_labels=None, test_labels=None, extra_images=0, cut=0):
    """A folder of IDX files with 3 classes (by default 30 train and 30 test images);
    `extra_images` more training images than labels, `cut` bytes cut off the training images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, labels in (("train", train_labels), ("t10k", test_labels)):
        if labels is None:
            labels = np.arange(30) % 3
        labels = np.asarray(labels, dtype=np.uint8)
        extra = extra_images if prefix == "train" else 0
        images = (rng.random((len(labels) + extra, 8, 8)) * 255).astype(np.uint8)
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte",
            images,
            0x08,
            cut=cut if prefix == "train" else 0,
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, 0x08)
    return folder


def random_bytes(folder):
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in ("train-images", "train-labels", "t10k-images", "t10k-labels"):
        kind = "idx3" if "images" in name else "idx1"
        (folder / f"{name}-{kind}-ubyte").write_bytes(rng.bytes(1000))
    return folder


def truncated_gzip(folder):
    write_digits_like(folder)
    payload = gzip.compress((folder / "train-images-idx3-ubyte").read_bytes())
    (folder / "train-images-idx3-ubyte").unlink()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(payload[: len(payload) // 2])
    return folder


def missing_test_files(folder):
    write_digits_like(folder)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    return folder


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished one-epoch run to evaluate and resume."""
    out = tmp_path_factory.mktemp("trained")
    assert main(["train", "--quiet", "--model", "mlp", "--epochs", "1", "--out", str(out)]) == 0
    (run,) = out.iterdir()
    return run


def checkpoint_bytes(run):
    return (run / "last.safetensors").read_bytes()


def without_data_entry(run, path):
    state = chainrule.load(run / "last.safetensors")
    del state["config"]["data"]
    return save(path, state)


# Each case: (name, function(tmp, run) -> argv tail, the words the error must contain).
# `tmp` is a fresh folder for inputs; every train case writes to tmp/"out", which holds an
# earlier run that must come out untouched.
CASES = [
    ("lr nan", lambda t, r: ["train", "--lr", "nan"], "--lr: expected a finite number > 0"),
    ("lr inf", lambda t, r: ["train", "--lr", "inf"], "--lr: expected a finite number > 0"),
    ("lr negative", lambda t, r: ["train", "--lr", "-0.01"], "got -0.01"),
    ("lr zero", lambda t, r: ["train", "--lr", "0"], "got 0"),
    ("lr not a number", lambda t, r: ["train", "--lr", "fast"], "got 'fast'"),
    ("epochs zero", lambda t, r: ["train", "--epochs", "0"], "--epochs: expected a whole"),
    ("epochs fractional", lambda t, r: ["train", "--epochs", "2.5"], "got '2.5'"),
    ("batch size negative", lambda t, r: ["train", "--batch-size", "-3"], "--batch-size"),
    ("seed too large", lambda t, r: ["train", "--seed", str(2**64)], "[-2**63, 2**64)"),
    ("threads zero", lambda t, r: ["train", "--threads", "0"], "--threads"),
    ("val fraction 1", lambda t, r: ["train", "--val-fraction", "1"], "between 0 and 1"),
    ("one class", lambda t, r: ["train", "--num-classes", "1"], "--num-classes"),
    ("unknown model", lambda t, r: ["train", "--model", "gpt"], "invalid choice: 'gpt'"),
    ("unknown option", lambda t, r: ["train", "--frobnicate"], "unrecognized arguments"),
    (
        "out is a file",
        lambda t, r: ["train", "--out", str(t.parent / "out" / "notes.txt")],
        "is a file",
    ),
    (
        "out under a file",
        lambda t, r: ["train", "--out", str(t.parent / "out" / "notes.txt" / "runs")],
        "is a file",
    ),
    ("name taken", lambda t, r: ["train", "--name", "earlier"], "already exists"),
    ("name with a slash", lambda t, r: ["train", "--name", "../x"], "--name '../x'"),
    ("data missing", lambda t, r: ["train", "--data", str(t / "nothing")], "does not exist"),
    (
        "data random bytes",
        lambda t, r: ["train", "--data", str(random_bytes(t / "d"))],
        "not an IDX file",
    ),
    (
        "data truncated",
        lambda t, r: ["train", "--data", str(write_digits_like(t / "d", cut=7))],
        "truncated IDX file",
    ),
    (
        "data truncated gzip",
        lambda t, r: ["train", "--data", str(truncated_gzip(t / "d"))],
        "corrupted gzip data",
    ),
    (
        "data label count",
        lambda t, r: ["train", "--data", str(write_digits_like(t / "d", extra_images=1))],
        "expected 31 labels",
    ),
    (
        "data label out of range",
        lambda t, r: [
            "train",
            "--data",
            str(write_digits_like(t / "d", [*(np.arange(29) % 3), 200])),
        ],
        "never occur",
    ),
    (
        "data test label unseen",
        lambda t, r: ["train", "--data", str(write_digits_like(t / "d", None, [*range(29), 5]))],
        "not a training class",
    ),
    (
        "labels beyond --num-classes",
        lambda t, r: ["train", "--num-classes", "2", "--data", str(write_digits_like(t / "d"))],
        "out of range for --num-classes 2",
    ),
    (
        "data test files missing",
        lambda t, r: ["train", "--data", str(missing_test_files(t / "d"))],
        "no IDX file t10k-labels-idx1-ubyte",
    ),
    ("resume nothing", lambda t, r: ["train", "--resume", str(t / "none")], "expected a run"),
    ("resume with lr", lambda t, r: ["train", "--resume", str(r), "--lr", "1"], "--lr cannot"),
    ("resume finished", lambda t, r: ["train", "--resume", str(r)], "finished all its 1 epochs"),
    ("resume empty folder", lambda t, r: ["train", "--resume", str(t)], "no last.safetensors"),
    (
        "resume a mismatched checkpoint",
        lambda t, r: ["train", "--resume", str(mismatched_run(r, t / "m"))],
        "cannot be resumed",
    ),
    ("evaluate missing", lambda t, r: ["evaluate", str(t / "none")], "does not exist"),
    (
        "evaluate a text file",
        lambda t, r: ["evaluate", str(write(t / "a.txt", b"hello, world\n" * 5))],
        "not a safetensors file",
    ),
    ("evaluate an empty file", lambda t, r: ["evaluate", str(write(t / "e", b""))], "0 bytes"),
    (
        "evaluate a truncated checkpoint",
        lambda t, r: ["evaluate", str(write(t / "c", checkpoint_bytes(r)[:-100]))],
        "truncated",
    ),
    ("evaluate a folder without checkpoints", lambda t, r: ["evaluate", str(t)], "no best"),
    (
        "evaluate a checkpoint lacking data",
        lambda t, r: ["evaluate", str(without_data_entry(r, t / "c"))],
        "lacks 'data'",
    ),
    (
        "evaluate a bare safetensors file",
        lambda t, r: ["evaluate", str(save(t / "w", {"w": chainrule.ones(2)}))],
        "not a checkpoint written by `chainrule train`",
    ),
]


def mismatched_run(run, folder):
    """A run folder whose checkpoint says cnn (unfinished) but holds an MLP's weights."""
    state = chainrule.load(run / "last.safetensors")
    state["config"].update(model="cnn", epochs=5)
    folder.mkdir()
    save(folder / "last.safetensors", state)
    return folder


def write(path, payload):
    path.write_bytes(payload)
    return path


def save(path, obj):
    chainrule.save(obj, path)
    return path


def snapshot(folder):
    """Every file under `folder` with a digest of its bytes."""
    return {
        path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name, make_argv, words", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    name, make_argv, words, tmp_path, trained_run, capsys
):
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    inputs.mkdir()
    (out / "earlier").mkdir(parents=True)
    (out / "earlier" / "last.safetensors").write_bytes(b"an earlier run's checkpoint")
    (out / "notes.txt").write_text("not a folder")
    argv = make_argv(inputs, trained_run)
    if argv[0] == "train" and "--out" not in argv and "--resume" not in argv:
        argv += ["--out", str(out)]
    before, before_run = snapshot(tmp_path), snapshot(trained_run)
    capsys.readouterr()

    status = main(argv)

    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, captured
    assert len(lines) == 1, lines
    assert lines[0].startswith("chainrule: error: ") and words in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert snapshot(tmp_path) == before
    assert snapshot(trained_run) == before_run


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_an_out_folder_that_cannot_be_written_is_one_line(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["train", "--quiet", "--epochs", "1", "--out", str(locked / "runs")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("chainrule: error: cannot create a run folder") and "\n" not in error


def test_debug_shows_the_traceback(tmp_path, capsys):
    argv = ["train", "--data", str(random_bytes(tmp_path / "d")), "--debug"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Traceback") and "read_idx" in error
    assert error.strip().splitlines()[-1].startswith("chainrule: error: ")


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**64 - 1, 12])
def test_manual_seed_takes_pytorchs_seed_range(seed):
    chainrule.manual_seed(seed)
    torch.manual_seed(seed)
    assert chainrule.initial_seed() == torch.initial_seed()
    assert chainrule.Generator().manual_seed(seed).initial_seed() == torch.initial_seed()


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_manual_seed_refuses_what_pytorch_refuses(seed):
    with pytest.raises(ValueError):
        torch.manual_seed(seed)
    with pytest.raises(ValueError, match="seed must be in"):
        chainrule.manual_seed(seed)
