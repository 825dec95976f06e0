"""SummaryWriter writes the event files PyTorch's does: the same calls through chainrule's and
torch's writers give the same events (every field but the wall-clock time), read back with
TensorBoard's own loader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto.event_pb2 import Event
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import chainrule
from chainrule.utils.tensorboard import SummaryWriter

matplotlib.use("Agg")


def events_under(log_dir: Path, clear_times: bool = True) -> dict[str, list]:
    """Each event file's events as written, by directory (relative), wall times cleared."""
    found = {}
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        events = []
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
            if clear_times:
                event.wall_time = 0
            events.append(event)
        found[str(path.parent.relative_to(log_dir))] = events
    return found


def log_everything(lib, writer_class, log_dir: Path) -> None:
    """The same calls for either library: `lib` makes the tensors."""
    import matplotlib.pyplot as plt

    generator = np.random.default_rng(0)
    weights = lib.tensor(generator.standard_normal((40, 30)).astype(np.float32))
    image = lib.tensor(generator.random((3, 8, 10)).astype(np.float32))
    batch = lib.tensor((generator.random((11, 1, 5, 6)) * 255).astype(np.uint8))
    with writer_class(str(log_dir), purge_step=2) as writer:
        for step in range(3):
            writer.add_scalar("loss/train", lib.tensor(1.0 / (step + 1)), step)
            writer.add_scalar("lr", 0.1 * 0.5**step, global_step=step, new_style=True)
            writer.add_scalar("exact", 1 / 3, step, new_style=True, double_precision=True)
            writer.add_scalars("loss", {"train": 1.0 - step / 10, "val": 1.2 - step / 20}, step)
        writer.add_histogram("weights", weights, 0)
        writer.add_histogram("weights", weights * 3 + 1, 1, bins="auto")
        writer.add_histogram("few", lib.tensor([0.0, 1.0, 1.0, 2.0, 5.0]), 2, bins=10, max_bins=3)
        writer.add_histogram_raw("raw", 0.0, 3.0, 4, 6.0, 14.0, [1.0, 2.0, 3.0], [1, 2, 1], 0)
        writer.add_text("notes", "**epoch** one", 0)
        writer.add_image("picture", image, 0)
        writer.add_image("picture_hwc", image.permute(1, 2, 0), 0, dataformats="HWC")
        writer.add_image("plane", image[0], 0, dataformats="HW")
        writer.add_images("batch", batch, 0)
        figure = plt.figure(figsize=(2, 1.5), dpi=40)
        plt.plot([0, 1, 2], [2, 0, 1])
        writer.add_figure("curve", figure, 0)
        writer.add_scalar("walltime", 2.0, 7, walltime=12345.5)
        writer.add_hparams(
            {"lr": 0.1, "batch": 32, "optimizer": "sgd", "nesterov": True, "decay": None},
            {"hparam/accuracy": 0.9, "hparam/loss": lib.tensor(0.25)},
            hparam_domain_discrete={"optimizer": ["sgd", "adam"], "batch": [32, 64]},
            run_name="trial",
            global_step=3,
        )


def test_summary_writer_writes_the_events_pytorch_writes(tmp_path):
    log_everything(chainrule, SummaryWriter, tmp_path / "ours")
    log_everything(torch, TorchWriter, tmp_path / "theirs")
    ours, theirs = events_under(tmp_path / "ours"), events_under(tmp_path / "theirs")
    assert sorted(ours) == sorted(theirs) == [".", "loss_train", "loss_val", "trial"]
    for directory in theirs:
        assert len(ours[directory]) == len(theirs[directory]), directory
        for mine, reference in zip(ours[directory], theirs[directory]):
            assert mine == reference, (directory, mine, reference)


def test_an_explicit_walltime_and_the_default_log_dir_follow_pytorch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.add_scalar("x", 1.0, 0, walltime=12.5)
    writer.close()
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.endswith("_lr0.1") and writer.get_logdir() == os.path.join("runs", run.name)
    (events,) = events_under(run, clear_times=False).values()
    assert events[0].file_version == "brain.Event:2"
    assert events[-1].summary.value[0].simple_value == 1.0 and events[-1].wall_time == 12.5


def test_unsupported_summaries_say_so():
    writer = SummaryWriter.__new__(SummaryWriter)
    with pytest.raises(NotImplementedError, match="add_embedding is not supported"):
        writer.add_embedding(chainrule.ones(3, 2))


def test_a_pytorch_script_logging_to_tensorboard_runs_unchanged_under_as_torch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\n"
        "import torch\n"
        "from torch.utils.tensorboard import SummaryWriter\n"
        "model = torch.nn.Linear(3, 1)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "writer = SummaryWriter(sys.argv[1])\n"
        "x, y = torch.ones(8, 3), torch.zeros(8, 1)\n"
        "for step in range(3):\n"
        "    optimizer.zero_grad()\n"
        "    loss = torch.nn.functional.mse_loss(model(x), y)\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
        "    writer.add_scalar('loss', loss.item(), step)\n"
        "    writer.add_histogram('weight', model.weight, step)\n"
        "writer.close()\n"
        "print('logged', type(writer).__module__)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "chainrule.as_torch", str(script), str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "logged chainrule.utils.tensorboard.writer" in run.stdout
    (events,) = events_under(tmp_path / "logs").values()
    assert [e.step for e in events if e.summary.value and e.summary.value[0].tag == "loss"] == [
        0,
        1,
        2,
    ]
