"""`SummaryWriter`: PyTorch's TensorBoard logger, writing the same event files.

Events go through the `tensorboard` package's own event-file writer (a queue flushed every
`flush_secs` and when full), one file per writer in `log_dir` (`runs/<date>_<host><comment>`
by default, PyTorch's naming); `add_scalars` writes each of its series through a writer of its
own in a subdirectory, as PyTorch does. What is logged is in `summary`.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from chainrule._tensor import Tensor
from chainrule.utils.tensorboard import summary


class FileWriter:
    """Events into one event file of `log_dir`, each stamped with its step and wall time."""

    def __init__(
        self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""
    ) -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Any, step: int | None = None, walltime: float | None = None):
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)  # a tensor step or a NumPy integer too
        self.event_writer.add_event(event)

    def add_summary(
        self, proto: Any, global_step: int | None = None, walltime: float | None = None
    ):
        self.add_event(Event(summary=proto), global_step, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()


class SummaryWriter:
    """Log scalars, histograms, text, images and figures for TensorBoard (`tensorboard --logdir
    runs`). PyTorch's API; events are written asynchronously, and `flush()` or `close()` (or
    leaving a `with` block) makes sure they are on disk.

    Args:
        log_dir (str, optional): where the event files go; default
            `runs/<month><day>_<hour>-<minute>-<second>_<host><comment>`.
        comment (str): appended to the default `log_dir`.
        purge_step (int, optional): a restarted run: TensorBoard drops the events logged at
            and after this step by the earlier run.
        max_queue (int): events held before they are written.
        flush_secs (int): at most this long between writes.
        filename_suffix (str): appended to the event files' names.

    Example:
        >>> import tempfile
        >>> from chainrule.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as writer:
        ...     for step in range(3):
        ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
    """

    def __init__(
        self,
        log_dir: str | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()
        self.default_bins = summary.tensorflow_bins()

    def _get_file_writer(self) -> FileWriter:
        """The writer of `log_dir`, opened again after `close()`; a purge step first tells
        TensorBoard to drop the events at and after it (a restarted run)."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(
                self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix
            )
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                start = Event(step=step, session_log=SessionLog(status=SessionLog.START))
                self.file_writer.add_event(start)
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory of the event files."""
        return self.log_dir

    def add_scalar(
        self,
        tag: str,
        scalar_value: Tensor | float,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """One value of the series `tag` at `global_step` (a one-element tensor or a number);
        `new_style` logs it as a tensor (float64 with `double_precision`)."""
        proto = summary.scalar(tag, scalar_value, new_style, double_precision)
        self._get_file_writer().add_summary(proto, global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Tensor | float],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Several series in one chart: each under `main_tag`, written to its own
        subdirectory `<log_dir>/<main_tag>_<tag>`."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            directory = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(directory)
            if writer is None:
                writer = FileWriter(
                    directory, self.max_queue, self.flush_secs, self.filename_suffix
                )
                self.all_writers[directory] = writer
            writer.add_summary(summary.scalar(main_tag, value), global_step, walltime)

    def add_histogram(
        self,
        tag: str,
        values: Tensor | object,
        global_step: int | None = None,
        bins: str | int | object = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """The distribution of `values` at `global_step`: over TensorFlow's exponential
        buckets by default, else NumPy's `bins` (a count, edges, or a rule such as 'auto')."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        proto = summary.histogram(tag, values, bins, max_bins)
        self._get_file_writer().add_summary(proto, global_step, walltime)

    def add_histogram_raw(
        self,
        tag: str,
        min: float,  # noqa: A002 - PyTorch's argument names
        max: float,  # noqa: A002
        num: int,
        sum: float,  # noqa: A002
        sum_squares: float,
        bucket_limits: Sequence[float],
        bucket_counts: Sequence[float],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """A histogram from its statistics and buckets (each bucket's right edge and count)."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        proto = summary.histogram_raw(
            tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts
        )
        self._get_file_writer().add_summary(proto, global_step, walltime)

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Text (markdown) for the text dashboard."""
        self._get_file_writer().add_summary(summary.text(tag, text_string), global_step, walltime)

    def add_image(
        self,
        tag: str,
        img_tensor: Tensor | object,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """An image laid out as `dataformats` ('CHW', 'HWC', 'HW'): floats in [0, 1], or
        uint8 in [0, 255]; one channel shows as grey."""
        proto = summary.image(tag, img_tensor, dataformats)
        self._get_file_writer().add_summary(proto, global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Tensor | object,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images, shown as one grid of 8 columns."""
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(
        self,
        tag: str,
        figure: object,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure (or a list of them, as a grid), rendered to an image."""
        pixels = summary.figure_pixels(figure, close)
        layout = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, pixels, global_step, walltime, dataformats=layout)

    def add_hparams(
        self,
        hparam_dict: dict[str, float | str | bool | Tensor | None],
        metric_dict: dict[str, float | Tensor],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """One run's hyperparameters and final metrics for the HParams dashboard, written to
        the subdirectory `run_name` (default: the current time), with each metric also logged
        as a scalar there."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        if hparam_domain_discrete is not None and not isinstance(hparam_domain_discrete, dict):
            raise TypeError(
                "parameter: hparam_domain_discrete should be a dictionary, nothing logged."
            )
        summaries = summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        log_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=log_dir) as run:
            for proto in summaries:
                run._get_file_writer().add_summary(proto, global_step)
            for name, value in metric_dict.items():
                run.add_scalar(name, value, global_step)

    def add_graph(
        self,
        model: object,
        input_to_model: object = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """PyTorch draws the graph TorchScript's tracer records; chainrule has no TorchScript,
        so this writes nothing and says so (chainrule.viz draws autograd graphs instead)."""
        warnings.warn(
            "SummaryWriter.add_graph: chainrule has no TorchScript tracer, so no graph is "
            "written (chainrule.viz.draw_graph pictures an autograd graph)",
            stacklevel=2,
        )

    def flush(self) -> None:
        """Write every pending event of every writer to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files (a later add_* opens a new one)."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> object:
        """PyTorch's summaries chainrule does not write yet raise NotImplementedError saying
        so, not AttributeError, when called or looked up."""
        if name in _UNSUPPORTED:
            raise NotImplementedError(
                f"SummaryWriter.{name} is not supported by chainrule yet; scalars, histograms, "
                "text, images, figures and hparams are"
            )
        raise AttributeError(f"'SummaryWriter' object has no attribute '{name}'")


_UNSUPPORTED = frozenset(
    {
        "add_embedding",
        "add_pr_curve",
        "add_pr_curve_raw",
        "add_audio",
        "add_video",
        "add_mesh",
        "add_custom_scalars",
        "add_custom_scalars_multilinechart",
        "add_custom_scalars_marginchart",
        "add_image_with_boxes",
        "add_onnx_graph",
    }
)
