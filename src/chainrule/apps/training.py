"""The training loop of `chainrule train`, and the checkpoints that make it lose nothing.

A checkpoint holds the whole training state: the model, the optimizer with its state, the
learning-rate schedule, both random streams (the default generator and the one that orders
the data) with the position in the current epoch, the epoch and step counters, the history
and the config. `last.safetensors` is written after every epoch and when a stop is requested;
`best.safetensors` whenever the validation accuracy improves. Resuming restores all of it, so
an interrupted and resumed run ends with the same weights, bit for bit, as one never stopped.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import chainrule
import chainrule.distributed as dist
from chainrule.apps.data import Data, build_loaders
from chainrule.apps.errors import EXIT_INTERRUPTED, EXIT_OK, DivergedError
from chainrule.apps.models import build_model, build_optimizer, build_scheduler
from chainrule.apps.report import HISTORY_KEYS, plot_history, progress, summary_table
from chainrule.data import DataLoader
from chainrule.nn import functional as F
from chainrule.nn.parallel import DistributedDataParallel

CHECKPOINT_FORMAT = "chainrule-train/1"
LAST = "last.safetensors"
BEST = "best.safetensors"
# Tests only: "SIGINT:37" makes the process send itself SIGINT in the middle of step 37 (after
# the forward pass), so the real signal handling is tested at a step known in advance.
SIGNAL_AT_STEP = "CHAINRULE_TEST_SIGNAL_AT_STEP"
UNSTABLE_FALL = 0.2  # a fall of validation accuracy from its best worth a note


class StopRequest:
    """While active, SIGINT and SIGTERM ask the loop to stop after the current step instead of
    killing it; a second signal stops at once (KeyboardInterrupt), as impatient users expect."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread may handle signals: Ctrl-C stops at once there
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(number).name
        print(
            f"\nchainrule: {self.signal_name}: stopping after this step to save a checkpoint "
            "(send it again to stop at once)",
            file=sys.stderr,
        )

    @property
    def requested(self) -> bool:
        return self.signal_name is not None


def _signal_at_step() -> tuple[int, int] | None:
    value = os.environ.get(SIGNAL_AT_STEP)
    if not value:
        return None
    name, _, step = value.partition(":")
    return int(step), int(signal.Signals[name])


def evaluate_accuracy(
    model: Any, dataset: Any, batch_size: int = 256, device: str = "cpu"
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on `dataset`, in eval mode without grad;
    each batch is copied to `device`, where the model is."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with chainrule.no_grad():
        # A generator of its own: each pass draws a worker seed from it, as in PyTorch, and must
        # not advance the default stream that the checkpoints hold.
        loader = DataLoader(dataset, batch_size=batch_size, generator=chainrule.Generator())
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            count += labels.shape[0]
    return total_loss / count, correct / count


@dataclass
class Progress:
    """Where the run is: finished epochs, optimizer steps, and the running sums of the epoch
    in progress (its batches so far)."""

    epoch: int = 0
    step: int = 0
    batches: int = 0
    seen: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    best_epoch: int = 0
    best_val_accuracy: float = -1.0

    def start_epoch(self) -> None:
        self.batches, self.seen, self.loss_sum, self.correct = 0, 0, 0.0, 0


class Trainer:
    """One run: the model and its optimizer, the loaders, and the run folder it saves into.

    `is_main` is False in the processes of a distributed run other than the first: they train
    but neither print nor write files.
    """

    def __init__(
        self,
        config: dict[str, Any],
        data: Data,
        folder: Path,
        *,
        quiet: bool,
        is_main: bool,
        distributed: bool = False,
        compiled: bool = False,
    ) -> None:
        self.config = config
        self.distributed = distributed and dist.is_initialized()
        self.data = data
        self.folder = folder
        self.quiet = quiet
        self.is_main = is_main
        self.device = config.get("device", "cpu")
        chainrule.manual_seed(config["seed"])
        model = build_model(config["model"], data.image_size, data.num_classes)
        self.model = model.to(self.device)  # built on the CPU: the same weights everywhere
        self.optimizer = build_optimizer(config["optimizer"], self.model.parameters(), config["lr"])
        # What trains: the model, or its DistributedDataParallel wrapper (which averages the
        # gradients over the processes). Evaluation and checkpoints use the bare model.
        self.net = DistributedDataParallel(self.model) if self.distributed else self.model
        self.scheduler = build_scheduler(config["scheduler"], self.optimizer, config["epochs"])
        self.loader, self.sampler = build_loaders(data, config["batch_size"], config["seed"])
        self.progress = Progress()
        self.saved_at: str | None = None  # what the last checkpoint written holds
        # `--compile`: the whole step (forward, backward, the optimizer's update) captured
        # once by chainrule.compile and replayed; the same numbers as the eager loop (to float
        # rounding where numba fuses a tanh: compiler/fusion.py).
        self.compiled_step = chainrule.compile(self._step) if compiled else None

    # ---- checkpoints ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The whole training state, as `chainrule.save` stores it (no pickle)."""
        p = self.progress
        used = p.batches * self.config["batch_size"]
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": {
                "default": chainrule.get_rng_state(),
                "data_order": self.sampler.position(used),
            },
            "progress": {
                "epoch": p.epoch,
                "step": p.step,
                "batches": p.batches,
                "seen": p.seen,
                "loss_sum": p.loss_sum,
                "correct": p.correct,
                "best_epoch": p.best_epoch,
                "best_val_accuracy": p.best_val_accuracy,
            },
            "history": p.history,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint `state()` wrote."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        chainrule.set_rng_state(state["rng"]["default"])
        self.sampler.resume(state["rng"]["data_order"])
        saved = state["progress"]
        self.progress = Progress(
            epoch=int(saved["epoch"]),
            step=int(saved["step"]),
            batches=int(saved["batches"]),
            seen=int(saved["seen"]),
            loss_sum=float(saved["loss_sum"]),
            correct=int(saved["correct"]),
            history={key: [float(v) for v in state["history"][key]] for key in HISTORY_KEYS},
            best_epoch=int(saved["best_epoch"]),
            best_val_accuracy=float(saved["best_val_accuracy"]),
        )
        self.saved_at = self._position()

    def save(self, name: str = LAST) -> Path:
        path = self.folder / name
        if self.is_main:
            chainrule.save(self.state(), path)
        if name == LAST:
            self.saved_at = self._position()
        return path

    def _position(self) -> str:
        p = self.progress
        if p.batches:
            return f"epoch {p.epoch + 1}, step {p.step}"
        return f"the end of epoch {p.epoch}" if p.epoch else "the start of training"

    # ---- the loop -------------------------------------------------------------------------

    def fit(self) -> int:
        """Train to the configured number of epochs: EXIT_OK, or EXIT_INTERRUPTED when a signal
        stopped it (the checkpoint is written first). A non-finite loss raises DivergedError."""
        epochs = self.config["epochs"]
        with StopRequest() as stop:
            while self.progress.epoch < epochs:
                finished = self._train_epoch(stop)
                if finished:
                    self._end_epoch()
                if stop.requested:
                    return self._interrupted(stop.signal_name)
        return EXIT_OK

    def _train_epoch(self, stop: StopRequest) -> bool:
        """The rest of the current epoch's batches; False when a stop request cut it short."""
        p = self.progress
        epoch, epochs = p.epoch + 1, self.config["epochs"]
        signal_at = _signal_at_step()
        self.model.train()
        batches = progress(
            self.loader,
            desc=f"epoch {epoch}/{epochs}",
            total=p.batches + len(self.loader),
            initial=p.batches,
            quiet=self.quiet or not self.is_main,
        )
        try:
            for images, labels in batches:
                images, labels = images.to(self.device), labels.to(self.device)
                if self.compiled_step is not None:
                    value, correct = self._compiled(images, labels)
                else:
                    loss, value, correct = self._forward(images, labels)
                if signal_at is not None and signal_at[0] == p.step + 1:
                    os.kill(os.getpid(), signal_at[1])
                if not math.isfinite(value):
                    self._diverged(value)
                if self.compiled_step is None:
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                batch = labels.shape[0]
                p.step += 1
                p.batches += 1
                p.seen += batch
                p.loss_sum += value * batch
                p.correct += correct
                if hasattr(batches, "set_postfix"):
                    batches.set_postfix(
                        loss=f"{p.loss_sum / p.seen:.4f}", acc=f"{p.correct / p.seen:.3f}"
                    )
                if self._stop_agreed(stop):
                    return False
        finally:
            if hasattr(batches, "close"):
                batches.close()
        return True

    def _forward(self, images: Any, labels: Any) -> tuple[Any, float, int]:
        """(the loss to differentiate, the batch's mean loss, its correct predictions). In a
        distributed run each process takes its share of the batch and the figures are summed
        over all of them, so every process sees the same numbers (and stops on the same ones)."""
        if not self.distributed:
            logits, loss = self._loss(images, labels)
            return loss, loss.item(), int((logits.argmax(dim=1) == labels).sum().item())
        rows, scale = dist.batch_share(labels.shape[0])
        logits = self.net(images[rows])
        summed = F.cross_entropy(logits, labels[rows], reduction="sum")
        correct = (logits.argmax(dim=1) == labels[rows]).sum()
        totals = chainrule.stack([summed.detach(), correct]).to(chainrule.float64)
        dist.all_reduce(totals)
        return summed * scale, totals[0].item() / labels.shape[0], int(totals[1].item())

    def _step(self, images: Any, labels: Any) -> tuple[Any, Any]:
        """One whole training step, as `--compile` captures it: the loss and the logits
        (their graph already used and freed by backward)."""
        self.optimizer.zero_grad()
        logits, loss = self._loss(images, labels)
        loss.backward()
        self.optimizer.step()
        return loss, logits

    def _loss(self, images: Any, labels: Any) -> tuple[Any, Any]:
        logits = self.net(images)
        return logits, F.cross_entropy(logits, labels)

    def _compiled(self, images: Any, labels: Any) -> tuple[float, int]:
        """`_forward`'s figures after a compiled step. The update is already made when the
        loss is read, so a diverged step leaves the model (not the checkpoint) updated."""
        loss, logits = self.compiled_step(images, labels)
        return loss.item(), int((logits.argmax(dim=1) == labels).sum().item())

    def _stop_agreed(self, stop: StopRequest) -> bool:
        """Whether to stop after this step: in a distributed run, when any process was asked
        (a signal reaches the processes at slightly different moments), so all stop together."""
        if not self.distributed:
            return stop.requested
        flag = chainrule.tensor([1.0 if stop.requested else 0.0], dtype=chainrule.float64)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item() and not stop.requested:
            stop.signal_name = "a signal to another process"
        return bool(flag.item())

    def _end_epoch(self) -> None:
        p = self.progress
        val_loss, val_accuracy = evaluate_accuracy(
            self.model, self.data.validation, device=self.device
        )
        p.history["train_loss"].append(p.loss_sum / p.seen)
        p.history["train_accuracy"].append(p.correct / p.seen)
        p.history["val_loss"].append(val_loss)
        p.history["val_accuracy"].append(val_accuracy)
        if self.scheduler is not None:
            self.scheduler.step()
        p.epoch += 1
        p.start_epoch()
        improved = val_accuracy > p.best_val_accuracy
        if improved:
            p.best_epoch, p.best_val_accuracy = p.epoch, val_accuracy
            self.save(BEST)
        self.save(LAST)

    def _interrupted(self, signal_name: str | None) -> int:
        path = self.save(LAST)
        self.plot()
        if self.is_main:
            print(
                f"chainrule: {signal_name} at {self._position()}: saved {path}; resume with: "
                f"chainrule train --resume {self.folder}",
                file=sys.stderr,
            )
        return EXIT_INTERRUPTED

    def _diverged(self, value: float) -> None:
        p = self.progress
        self.plot()
        raise DivergedError(
            f"training diverged: the loss is {value} at epoch {p.epoch + 1}, step {p.step + 1}; "
            f"{self.folder / LAST} holds {self.saved_at}, the last good state. "
            f"Try a lower --lr (this run used {self.config['lr']:g})"
        )

    # ---- results --------------------------------------------------------------------------

    def plot(self, test_accuracy: float | None = None) -> Path | None:
        """The curves so far as curves.png (nothing before the first epoch ends)."""
        if not self.is_main or not self.progress.history["train_loss"]:
            return None
        c = self.config
        title = f"{c['model']} on {self.data.spec['source']}: {c['optimizer']}, lr {c['lr']:g}"
        if test_accuracy is not None:
            title += f", test accuracy {test_accuracy:.2%} (best, epoch {self.progress.best_epoch})"
        return plot_history(self.progress.history, self.folder / "curves.png", title)

    def summary(self, seconds: float) -> str:
        """The table of epochs, the test accuracy of the best and the last checkpoints, and
        the time `seconds` the training took."""
        p = self.progress
        _, last_accuracy = evaluate_accuracy(self.model, self.data.test, device=self.device)
        best_model = build_model(self.config["model"], self.data.image_size, self.data.num_classes)
        best_model.load_state_dict(chainrule.load(self.folder / BEST)["model"])
        best_model = best_model.to(self.device)
        _, best_accuracy = evaluate_accuracy(best_model, self.data.test, device=self.device)
        plot = self.plot(best_accuracy)
        lines = [
            summary_table(p.history, p.best_epoch),
            f"best  {self.folder / BEST}: epoch {p.best_epoch}, test accuracy {best_accuracy:.2%}",
            f"last  {self.folder / LAST}: epoch {p.epoch}, test accuracy {last_accuracy:.2%}",
        ]
        if plot is not None:
            lines.append(f"plot  {plot}")
        fall = p.best_val_accuracy - p.history["val_accuracy"][-1]
        if fall > UNSTABLE_FALL:
            lines.append(
                f"note  validation accuracy fell by {fall:.0%} after epoch {p.best_epoch}: "
                f"training became unstable (best.safetensors keeps epoch {p.best_epoch}); "
                f"a lower --lr than {self.config['lr']:g} may help"
            )
        lines.append(
            f"time  {seconds:.1f} s; evaluate again with: chainrule evaluate {self.folder}"
        )
        lines.append(
            f"test accuracy {best_accuracy:.4f} ({best_accuracy:.2%}) with the best checkpoint "
            f"(epoch {p.best_epoch} of {p.epoch}, by validation accuracy)"
        )
        return "\n".join(lines)
