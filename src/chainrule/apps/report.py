"""What a person reads of a run: the header, progress bars, the summary table and the plot."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HISTORY_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def progress(iterable: Iterable, *, desc: str, total: int, initial: int, quiet: bool) -> Any:
    """A tqdm bar on stderr over one epoch's batches (none when quiet or tqdm is missing)."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, initial=initial, leave=False, file=sys.stderr)


def summary_table(history: dict[str, list[float]], best_epoch: int) -> str:
    """One row per epoch, the best (by validation accuracy) marked with '*'."""
    lines = ["epoch  train loss  train acc  val loss  val acc"]
    for index, row in enumerate(zip(*(history[key] for key in HISTORY_KEYS)), start=1):
        train_loss, train_accuracy, val_loss, val_accuracy = row
        mark = " *" if index == best_epoch else ""
        lines.append(
            f"{index:5d}  {train_loss:10.4f}  {train_accuracy:8.2%}  {val_loss:8.4f}  "
            f"{val_accuracy:7.2%}{mark}"
        )
    return "\n".join(lines)


def plot_history(history: dict[str, list[float]], path: Path, title: str) -> Path | None:
    """Loss and accuracy per epoch (see `draw_history`), saved as a PNG at `path`. None when
    matplotlib is missing."""
    figure = draw_history(history, title)
    if figure is None:
        return None
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def draw_history(history: dict[str, list[float]], title: str) -> Any:
    """The figure: loss and accuracy per epoch, train and validation, with a marker on every
    epoch (so a one-epoch run draws points, centred) and whole-number epoch ticks. None when
    matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return None
    epochs = list(range(1, len(history["train_loss"]) + 1))
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    panels = ((loss_axes, "loss", "cross-entropy"), (accuracy_axes, "accuracy", "accuracy"))
    for axes, name, label in panels:
        axes.plot(epochs, history[f"train_{name}"], marker="o", markersize=3, label="train")
        axes.plot(epochs, history[f"val_{name}"], marker="o", markersize=3, label="validation")
        axes.set(xlabel="epoch", ylabel=label, title=name)
        if len(epochs) <= 12:
            axes.set_xticks(epochs)
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:
            axes.set_xlim(0.5, 1.5)
        axes.legend()
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
