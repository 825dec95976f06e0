"""The command line: `chainrule train` and `chainrule evaluate`.

`chainrule train` fits an MLP, a CNN or an LSTM to scikit-learn's bundled 8x8 digits (or to
MNIST-format IDX files given with --data) in a run folder of its own, checkpointing the whole
training state after every epoch; Ctrl-C saves and says how to `--resume`.
`chainrule evaluate RUN` reports the test accuracy of a run's best (or last) checkpoint.

Exit status: 0 done, 2 a bad argument or input (one line on stderr, nothing trained or
written), 3 the loss diverged (the last good checkpoint is kept), 130 interrupted (saved).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

import chainrule
import chainrule.distributed as dist
from chainrule import viz
from chainrule.apps.data import Data, load_data, load_test_data
from chainrule.apps.errors import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    DivergedError,
    UsageError,
)
from chainrule.apps.models import (
    DEFAULT_LR,
    MODELS,
    OPTIMIZERS,
    SCHEDULERS,
    build_model,
    count_parameters,
)
from chainrule.apps.training import BEST, CHECKPOINT_FORMAT, LAST, Trainer, evaluate_accuracy
from chainrule.errors import DTypeError
from chainrule.serialization import FileFormatError

# One BLAS thread: on 2 cores it was faster for every model here, by up to 4x (README).
DEFAULT_THREADS = 1
# The options a resumed run takes from its checkpoint: giving them again is refused.
RUN_OPTIONS = (
    "--model",
    "--optimizer",
    "--lr",
    "--scheduler",
    "--epochs",
    "--batch-size",
    "--seed",
    "--data",
    "--val-fraction",
    "--num-classes",
    "--out",
    "--name",
)


# ---- arguments -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + exit
        raise UsageError(message)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _number(kind: type, test: Any, requirement: str) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {requirement}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {requirement}, got {text}")
        return value

    parse.__name__ = requirement  # argparse names the type in some messages
    return parse


positive_int = _number(int, lambda v: v >= 1, "a whole number >= 1")
learning_rate = _number(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
fraction = _number(float, lambda v: 0 < v < 1, "a number between 0 and 1")
# PyTorch's range for seeds: negative ones wrap around as unsigned 64-bit integers.
seed = _number(int, lambda v: -(2**63) <= v < 2**64, "an integer in [-2**63, 2**64)")
num_classes = _number(int, lambda v: v >= 2, "a whole number >= 2")


DEVICE_HELP = "where to compute: cpu, cuda (through CuPy), or fake (CuPy's rules on the CPU)"


def device_name(text: str) -> str:
    """A device chainrule can compute on here: 'cuda' needs CuPy and a GPU."""
    try:
        where = chainrule.device(text)
    except chainrule.BackendError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if where.type == "cuda" and not chainrule.cuda.is_available():
        raise argparse.ArgumentTypeError(
            f"{text}: no CUDA GPU is available (CuPy and a driver are needed)"
        )
    return str(where)


def build_parser() -> argparse.ArgumentParser:
    paragraphs = __doc__.split("\n\n")
    parser = _Parser(
        prog="chainrule",
        description=paragraphs[1],
        epilog=paragraphs[2],
        formatter_class=_HelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = {"formatter_class": _HelpFormatter, "allow_abbrev": False, "epilog": paragraphs[2]}

    train = commands.add_parser("train", help="train a model on digits or IDX files", **common)
    option = train.add_argument
    option("--model", choices=MODELS, default="cnn", help="the network")
    option("--optimizer", choices=OPTIMIZERS, default="adam", help="the optimizer")
    lrs = ", ".join(f"{lr:g} for {name}" for name, lr in DEFAULT_LR.items())
    option("--lr", type=learning_rate, metavar="LR", help=f"learning rate (default: {lrs})")
    option("--scheduler", choices=SCHEDULERS, default="none", help="learning-rate schedule")
    option("--epochs", type=positive_int, default=20, metavar="N", help="passes over the data")
    option("--batch-size", type=positive_int, default=32, metavar="N", help="images per step")
    option("--seed", type=seed, default=0, metavar="N", help="seed of every random stream")
    option(
        "--data",
        type=Path,
        metavar="FOLDER",
        help="MNIST-format IDX files, train-* and t10k-* (default: scikit-learn's digits)",
    )
    option(
        "--val-fraction",
        type=fraction,
        default=0.1,
        metavar="F",
        help="share of the training images held out to pick best.safetensors",
    )
    option(
        "--num-classes",
        type=num_classes,
        metavar="N",
        help="number of classes (default: one more than the largest training label)",
    )
    option("--out", type=Path, default=Path("runs"), metavar="FOLDER", help="run folders go here")
    option("--name", help="the run folder's name (default: MODEL-DATE-TIME)")
    option("--resume", type=Path, metavar="RUN", help="continue the run in this folder")
    option(
        "--threads", type=positive_int, default=DEFAULT_THREADS, metavar="N", help="BLAS threads"
    )
    option("--device", type=device_name, default="cpu", help=DEVICE_HELP)
    option(
        "--distributed",
        action="store_true",
        help="data-parallel over the processes of `mpiexec -n N chainrule train ...`: each "
        "takes its share of every batch (the same run as one process)",
    )
    option(
        "--compile",
        action="store_true",
        help="capture the training step once with chainrule.compile and replay it (the same "
        "numbers, to float rounding where numba fuses a tanh; less Python per step); not with "
        "--distributed",
    )
    option("--graph", action="store_true", help="also draw the model's graph")
    option("--quiet", action="store_true", help="no progress bars")
    option("--debug", action="store_true", help="show tracebacks of errors")

    evaluate = commands.add_parser("evaluate", help="report a checkpoint's test accuracy", **common)
    evaluate.add_argument("checkpoint", type=Path, help="a run folder or a .safetensors file")
    evaluate.add_argument(
        "--which", choices=("best", "last"), default="best", help="checkpoint of a run folder"
    )
    evaluate.add_argument("--device", type=device_name, default="cpu", help=DEVICE_HELP)
    evaluate.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def _given(argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """The options of `options` spelled out in `argv` (abbreviations are off)."""
    spelled = {arg.split("=", 1)[0] for arg in argv if arg.startswith("--")}
    return [option for option in options if option in spelled]


# ---- checkpoints -----------------------------------------------------------------------------


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by `chainrule train`, checked enough to rebuild its model and data;
    anything else is a UsageError naming the file."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a checkpoint file")
    try:
        state = chainrule.load(path)
    except (FileFormatError, DTypeError) as error:
        raise UsageError(" ".join(str(error).split())) from error
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from error
    not_ours = f"{path} is not a checkpoint written by `chainrule train`"
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise UsageError(f"{not_ours} (no model weights)")
    config = state.get("config")
    if not isinstance(config, dict):
        raise UsageError(f"{not_ours} (no config)")
    for key, kind in (("model", str), ("image_size", int), ("num_classes", int), ("data", dict)):
        if not isinstance(config.get(key), kind):
            raise UsageError(f"{not_ours} (its config lacks {key!r})")
    if config["model"] not in MODELS:
        raise UsageError(f"{path}: unknown model {config['model']!r} in its config")
    if config["image_size"] < 4 or config["num_classes"] < 1:
        raise UsageError(
            f"{not_ours} (its config has image_size {config['image_size']} and num_classes "
            f"{config['num_classes']})"
        )
    data = config["data"]
    if data.get("source") == "idx" and isinstance(data.get("path"), str):
        return state
    if data.get("source") == "digits" and isinstance(data.get("seed", 0), int):
        return state
    raise UsageError(f"{not_ours} (its config's data entry is {data!r})")


def _check_resumable(state: dict[str, Any], path: Path) -> None:
    """The entries `Trainer.restore` reads, so that a damaged file is one line, not a KeyError."""
    if state.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(f"{path} holds no training state to resume (only a model)")
    needed = {
        "": ("optimizer", "rng", "progress", "history"),
        "config": ("optimizer", "lr", "scheduler", "epochs", "batch_size", "seed", "val_fraction"),
        "rng": ("default", "data_order"),
        "progress": ("epoch", "step", "batches", "seen", "loss_sum", "correct", "best_epoch"),
    }
    for part, keys in needed.items():
        entry = state.get(part) if part else state
        for key in keys:
            if not isinstance(entry, dict) or key not in entry:
                where = f"{part}.{key}" if part else key
                raise UsageError(f"{path} cannot be resumed: it lacks {where!r}")


def _fit_model(state: dict[str, Any], path: Path) -> Any:
    config = state["config"]
    model = build_model(config["model"], config["image_size"], config["num_classes"])
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, RuntimeError) as error:
        message = " ".join(str(error).split())  # the whole explanation, on one line
        if len(message) > 300:
            message = message[:297] + "..."
        raise UsageError(f"{path} does not fit a {config['model']} model: {message}") from error
    return model


# ---- train -----------------------------------------------------------------------------------


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be a folder, before anything is read or trained."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise UsageError(f"--out {out}: {folder} is a file, not a folder")
            return


def _check_name(name: str) -> None:
    if name in (".", "..") or not re.fullmatch(r"[\w.+-]+", name):
        raise UsageError(
            f"--name {name!r}: use letters, digits and . _ + - only (it names a folder)"
        )


def _make_run_folder(out: Path, name: str | None, model: str) -> Path:
    """A new folder for the run: `--name`, or MODEL-DATE-TIME (with -2, -3... if taken).
    An existing run is never reused: that is what --resume is for."""
    stem = name or f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            folder = out / (stem if attempt == 1 else f"{stem}-{attempt}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                if name is not None:
                    raise UsageError(
                        f"run folder {folder} already exists: choose another --name, or "
                        f"continue it with --resume {folder}"
                    ) from None
    except OSError as error:
        raise UsageError(f"cannot create a run folder in {out}: {error.strerror}") from error
    raise UsageError(f"too many runs named {stem} in {out}")


def _processes() -> str:
    if not dist.is_initialized():
        return ""
    return f", {dist.get_world_size()} processes (--distributed, each a share of every batch)"


def _header(trainer: Trainer, data: Data, threads: int, resumed: bool) -> str:
    c = trainer.config
    schedule = "constant" if c["scheduler"] == "none" else c["scheduler"]
    lines = [
        f"chainrule train: {c['model']}, {count_parameters(trainer.model):,} parameters",
        f"  data       {data.describe()}",
        f"  optimizer  {c['optimizer']}, lr {c['lr']:g} ({schedule}), batch size "
        f"{c['batch_size']}, {c['epochs']} epochs, seed {c['seed']}",
        f"  compute    {threads} BLAS thread{'s' if threads > 1 else ''} (--threads), "
        f"device {trainer.device} (--device){_processes()}"
        f"{', compiled step (--compile)' if trainer.compiled_step is not None else ''}",
        f"  run        {trainer.folder}",
    ]
    if resumed:
        lines.append(f"  resuming   from {trainer.saved_at}")
    return "\n".join(lines)


def _new_run(args: argparse.Namespace) -> tuple[Trainer, bool]:
    if args.name is not None:
        _check_name(args.name)
    _check_out(args.out)
    if args.data is not None and not args.data.is_dir():
        raise UsageError(f"data folder {args.data} does not exist or is not a folder")
    source = (
        {"source": "digits"}
        if args.data is None
        else {"source": "idx", "path": str(args.data.resolve())}
    )
    data = load_data(source, args.seed, args.val_fraction, args.num_classes)
    config = {
        "model": args.model,
        "image_size": data.image_size,
        "num_classes": data.num_classes,
        "data": data.spec,
        "optimizer": args.optimizer,
        "lr": args.lr if args.lr is not None else DEFAULT_LR[args.optimizer],
        "scheduler": args.scheduler,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "val_fraction": args.val_fraction,
        "threads": args.threads,
        "device": args.device,
    }
    folder = _shared_run_folder(args)  # the first thing written
    trainer = _trainer(args, config, data, folder)
    trainer.save(LAST)  # the initial state: a run is resumable from its first step
    return trainer, False


def _trainer(args: argparse.Namespace, config: dict[str, Any], data: Data, folder: Path) -> Trainer:
    return Trainer(
        config,
        data,
        folder,
        quiet=args.quiet,
        is_main=_is_main(),
        distributed=args.distributed,
        compiled=args.compile,
    )


def _is_main() -> bool:
    """Rank 0 prints and writes files; in one process, that process."""
    return not dist.is_initialized() or dist.get_rank() == 0


def _shared_run_folder(args: argparse.Namespace) -> Path:
    """The new run's folder, made by rank 0 and told to the others (so a timestamped name is
    the same everywhere); a failure there is every rank's UsageError."""
    if not dist.is_initialized():
        return _make_run_folder(args.out, args.name, args.model)
    made: list[Any] = [None]
    if dist.get_rank() == 0:
        try:
            made[0] = str(_make_run_folder(args.out, args.name, args.model))
        except UsageError as error:
            made[0] = UsageError.__name__ + ": " + str(error)
    dist.broadcast_object_list(made, src=0)
    if made[0].startswith(UsageError.__name__ + ": "):
        raise UsageError(made[0].split(": ", 1)[1])
    return Path(made[0])


def _resumed_run(args: argparse.Namespace, argv: Sequence[str]) -> tuple[Trainer, bool]:
    given = _given(argv, RUN_OPTIONS)
    if given:
        raise UsageError(
            f"--resume continues a run as it was configured: {', '.join(given)} cannot be "
            "given with it (only --threads, --device, --distributed, --compile, --graph, --quiet, "
            "--debug)"
        )
    folder = args.resume
    if not folder.is_dir():
        raise UsageError(f"--resume {folder}: expected a run folder holding {LAST}")
    path = folder / LAST
    if not path.exists():
        raise UsageError(f"--resume {folder}: no {LAST} there")
    state = read_checkpoint(path)
    _check_resumable(state, path)
    config = state["config"]
    if int(state["progress"]["epoch"]) >= int(config["epochs"]):
        raise UsageError(f"{folder} has finished all its {config['epochs']} epochs")
    if not _given(argv, ("--threads",)):
        args.threads = int(config.get("threads", args.threads))
    if _given(argv, ("--device",)):
        config["device"] = args.device  # the same run continues elsewhere
    data = load_data(config["data"], config["seed"], config["val_fraction"], config["num_classes"])
    trainer = _trainer(args, config, data, folder)
    try:
        trainer.restore(state)
    except (KeyError, ValueError, RuntimeError, TypeError) as error:
        message = " ".join(str(error).split())[:300]
        raise UsageError(f"{path} cannot be resumed: {message}") from error
    return trainer, True


def train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.compile and args.distributed:
        raise UsageError("--compile cannot be given with --distributed (not supported yet)")
    if not args.distributed:
        return _train(args, argv)
    dist.init_process_group()  # MPI under mpiexec; one process ("single") without it
    try:
        return _train(args, argv)
    finally:
        dist.destroy_process_group()


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    trainer, resumed = _resumed_run(args, argv) if args.resume else _new_run(args)
    main_process = _is_main()
    if main_process:
        print(_header(trainer, trainer.data, args.threads, resumed), flush=True)
    with threadpool_limits(limits=args.threads, user_api="blas"):  # restored on return
        started = time.perf_counter()
        status = trainer.fit()
        if status == EXIT_INTERRUPTED:
            return status
        summary = trainer.summary(time.perf_counter() - started)
        if main_process:
            print(summary)
    if args.graph and main_process:
        _draw_graph(trainer.model, trainer.data.test, trainer.folder)
    return status


def _draw_graph(model: Any, dataset: Any, out: Path) -> None:
    """The model's backward graph as out/graph.png; a note instead when Graphviz is missing."""
    images, _ = dataset[0:2]
    try:
        picture = viz.graph(model(images).sum(), params=dict(model.named_parameters()))
        picture.render(str(out / "graph"), format="png", cleanup=True)
    except (ImportError, chainrule.BackendError) as error:
        print(f"no graph picture: {error}", file=sys.stderr)


# ---- evaluate --------------------------------------------------------------------------------


def evaluate(args: argparse.Namespace) -> float:
    path = args.checkpoint
    if not path.exists():
        raise UsageError(f"checkpoint {path} does not exist")
    if path.is_dir():
        chosen = path / (BEST if args.which == "best" else LAST)
        if not chosen.exists():
            present = [name for name in (BEST, LAST) if (path / name).exists()]
            hint = f"; it has {present[0]} (--which last)" if present else ""
            raise UsageError(f"no {chosen.name} in {path}{hint}")
        path = chosen
    state = read_checkpoint(path)
    model = _fit_model(state, path).to(args.device)
    test_data = load_test_data(state["config"]["data"])
    _, accuracy = evaluate_accuracy(model, test_data, device=args.device)
    progress = state.get("progress")
    epoch = f" after epoch {progress['epoch']}" if isinstance(progress, dict) else ""
    print(
        f"test accuracy {accuracy:.4f} ({accuracy:.2%}) for {state['config']['model']}{epoch} "
        f"from {path}"
    )
    return accuracy


# ---- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            return train(args, argv)
        evaluate(args)
        return 0
    except SystemExit as done:  # --help, --version
        return int(done.code or 0)
    except UsageError as error:
        return _fail(error, EXIT_USAGE, debug)
    except DivergedError as error:
        return _fail(error, EXIT_DIVERGED, debug)
    except KeyboardInterrupt:
        print("chainrule: stopped at once (checkpoints written before are kept)", file=sys.stderr)
        return EXIT_INTERRUPTED


def _fail(error: Exception, status: int, debug: bool) -> int:
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__)
    message = " ".join(str(error).split())
    print(f"chainrule: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
