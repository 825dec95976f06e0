"""The command line: `chainrule train` and `chainrule evaluate`.

`chainrule train` fits an MLP, a CNN or an LSTM to scikit-learn's bundled 8x8 digits (or to
MNIST-format IDX files given with --data), shows a progress bar per epoch, reports held-out
accuracy, and writes a checkpoint and a plot of the curves under --out.
`chainrule evaluate CHECKPOINT` rebuilds the model from the checkpoint and reports the same
accuracy on the same held-out data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chainrule
from chainrule import datasets, nn, optim, viz
from chainrule.data import DataLoader
from chainrule.nn import functional as F

MODELS = ("mlp", "cnn", "lstm")
OPTIMIZERS = ("sgd", "adam", "adamw")
DEFAULT_LR = {"sgd": 0.1, "adam": 2e-3, "adamw": 2e-3}


class UsageError(Exception):
    """A mistake in the command line or its files: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + traceback
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a model on digits (default) or IDX files")
    train.add_argument("--model", choices=MODELS, default="cnn")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--lr", type=float, default=None, help="default: 0.1 sgd, 2e-3 adam(w)")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--data",
        type=Path,
        default=None,
        help="a folder with MNIST-format IDX files (train-*/t10k-*)",
    )
    train.add_argument("--out", type=Path, default=Path("runs"))
    train.add_argument("--graph", action="store_true", help="also draw the model's graph")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate = commands.add_parser("evaluate", help="report a checkpoint's held-out accuracy")
    evaluate.add_argument("checkpoint", type=Path)
    return parser


# ---- data ------------------------------------------------------------------------------------


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).exists():
            return folder / name
    raise UsageError(f"no IDX file {stem}[.gz] in {folder}")


def load_data(data: Path | None, seed: int) -> tuple[Any, Any, dict]:
    """(train, test) datasets of (N, 1, H, W) float32 images and int64 labels, and a spec
    that lets `evaluate` load the same held-out data again."""
    if data is None:
        train, test = (
            datasets.load_digits(split="train", seed=seed),
            datasets.load_digits(split="test", seed=seed),
        )
        return train, test, {"source": "digits", "seed": seed}
    if not data.is_dir():
        raise UsageError(f"data path {data} does not exist or is not a folder")
    train = datasets.load_idx_dataset(
        _idx_file(data, "train-images-idx3-ubyte"), _idx_file(data, "train-labels-idx1-ubyte")
    )
    test = datasets.load_idx_dataset(
        _idx_file(data, "t10k-images-idx3-ubyte"), _idx_file(data, "t10k-labels-idx1-ubyte")
    )
    return train, test, {"source": "idx", "path": str(data.resolve())}


def load_test_data(spec: dict) -> Any:
    if spec["source"] == "digits":
        return datasets.load_digits(split="test", seed=int(spec["seed"]))
    folder = Path(spec["path"])
    if not folder.is_dir():
        raise UsageError(f"the checkpoint's data folder {folder} no longer exists")
    return datasets.load_idx_dataset(
        _idx_file(folder, "t10k-images-idx3-ubyte"), _idx_file(folder, "t10k-labels-idx1-ubyte")
    )


# ---- models ----------------------------------------------------------------------------------


def build_model(name: str, image_size: int, num_classes: int) -> Any:
    """The three model families, sized for square single-channel images."""
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(image_size * image_size, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )
    if name == "cnn":
        pooled = image_size // 4
        return nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * pooled * pooled, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )
    if name == "lstm":
        return RowLSTM(image_size, 64, num_classes)
    raise UsageError(f"unknown model {name!r} (choose from {', '.join(MODELS)})")


class RowLSTM(nn.Module):
    """Reads an image's rows as a sequence; classifies from the last hidden state."""

    def __init__(self, row_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(row_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, images: Any) -> Any:
        rows = images.reshape(images.shape[0], images.shape[-2], images.shape[-1])
        outputs, _ = self.lstm(rows)
        return self.head(outputs[:, -1])


def build_optimizer(name: str, parameters: Any, lr: float) -> Any:
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    return optim.AdamW(parameters, lr=lr)


# ---- training ----------------------------------------------------------------------------------


def evaluate_accuracy(model: Any, dataset: Any, batch_size: int = 256) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on `dataset`, in eval mode without grad."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with chainrule.no_grad():
        for images, labels in DataLoader(dataset, batch_size=batch_size):
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            count += labels.shape[0]
    return total_loss / count, correct / count


def train(args: argparse.Namespace) -> dict:
    if args.epochs < 1 or args.batch_size < 1:
        raise UsageError("--epochs and --batch-size must be positive")
    chainrule.manual_seed(args.seed)
    train_set, test_set, data_spec = load_data(args.data, args.seed)
    image_size = int(train_set[0][0].shape[-1])
    num_classes = int(
        max(int(train_set.tensors[1].max().item()), int(test_set.tensors[1].max().item())) + 1
    )
    model = build_model(args.model, image_size, num_classes)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    optimizer = build_optimizer(args.optimizer, model.parameters(), lr)
    generator = chainrule.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    history: dict[str, list[float]] = {
        "train_loss": [],
        "train_accuracy": [],
        "test_loss": [],
        "test_accuracy": [],
    }
    progress = _progress_factory(args.quiet)
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        bar = progress(loader, desc=f"epoch {epoch}/{args.epochs}")
        for images, labels in bar:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batch = labels.shape[0]
            seen += batch
            loss_sum += loss.item() * batch
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
        test_loss, test_accuracy = evaluate_accuracy(model, test_set)
        history["train_loss"].append(loss_sum / seen)
        history["train_accuracy"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)
    elapsed = time.perf_counter() - started

    out = args.out / args.model
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "model": args.model,
        "image_size": image_size,
        "num_classes": num_classes,
        "data": data_spec,
        "optimizer": args.optimizer,
        "lr": lr,
        "epochs": args.epochs,
        "seed": args.seed,
    }
    checkpoint = out / "checkpoint.safetensors"
    chainrule.save({"model": model.state_dict(), "config": config, "history": history}, checkpoint)
    plot = _plot_history(
        history, out / "curves.png", title=f"{args.model} on {data_spec['source']}"
    )
    if args.graph:
        _draw_graph(model, test_set, out)
    final = history["test_accuracy"][-1]
    print(
        f"test accuracy {final:.4f} ({final * 100:.2f}%) after {args.epochs} epochs in "
        f"{elapsed:.1f} s; checkpoint {checkpoint}; plot {plot}"
    )
    return {
        "test_accuracy": final,
        "history": history,
        "checkpoint": checkpoint,
        "seconds": elapsed,
    }


def _progress_factory(quiet: bool) -> Any:
    if quiet:
        return lambda iterable, desc: iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return lambda iterable, desc: iterable
    return lambda iterable, desc: tqdm(iterable, desc=desc, leave=False, file=sys.stderr)


def _plot_history(history: dict, path: Path, title: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return None
    epochs = range(1, len(history["train_loss"]) + 1)
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history["train_loss"], label="train")
    loss_axes.plot(epochs, history["test_loss"], label="test")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    accuracy_axes.plot(epochs, history["train_accuracy"], label="train")
    accuracy_axes.plot(epochs, history["test_accuracy"], label="test")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _draw_graph(model: Any, dataset: Any, out: Path) -> None:
    """The model's backward graph as out/graph.png; a note instead when Graphviz is missing."""

    images, _ = dataset[0:2]
    try:
        picture = viz.graph(model(images).sum(), params=dict(model.named_parameters()))
        picture.render(str(out / "graph"), format="png", cleanup=True)
    except (ImportError, chainrule.BackendError) as error:
        print(f"no graph picture: {error}", file=sys.stderr)


def evaluate(args: argparse.Namespace) -> float:
    if not args.checkpoint.exists():
        raise UsageError(f"checkpoint {args.checkpoint} does not exist")
    state = chainrule.load(args.checkpoint)
    if not isinstance(state, dict) or "config" not in state or "model" not in state:
        raise UsageError(f"{args.checkpoint} is not a checkpoint written by `chainrule train`")
    config = state["config"]
    model = build_model(config["model"], int(config["image_size"]), int(config["num_classes"]))
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, RuntimeError) as error:
        message = " ".join(str(error).split())  # the whole explanation, on one line
        if len(message) > 300:
            message = message[:297] + "..."
        raise UsageError(
            f"{args.checkpoint} does not fit a {config['model']} model: {message}"
        ) from None
    _, accuracy = evaluate_accuracy(model, load_test_data(config["data"]))
    print(
        f"test accuracy {accuracy:.4f} ({accuracy * 100:.2f}%) for {config['model']} "
        f"from {args.checkpoint}"
    )
    return accuracy


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            train(args)
        else:
            evaluate(args)
    except UsageError as error:
        print(f"chainrule: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
