"""torch.utils.benchmark's Timer and Measurement, over Python's timeit, as PyTorch's.

A Timer times a statement (`timeit`: a fixed count of runs; `blocked_autorange`: blocks of
runs sized so the timer's overhead is negligible, until `min_run_time` has passed;
`adaptive_autorange`: until the spread is small) with the library's thread count set to
`num_threads` meanwhile and any accelerator synchronised before each reading. The statement
sees `torch` (chainrule) unless `globals` names it otherwise. Measurements print as PyTorch's,
and `Compare` lays many out in PyTorch's tables.
C++ statements and Callgrind counts are PyTorch's build tooling and are not offered.

>>> from chainrule.utils.benchmark import Timer
>>> m = Timer("sum(range(100))", label="sum").timeit(100)
>>> m.number_per_run, len(m.times), m.title
(100, 1, 'sum')
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import math
import sys
import textwrap
import timeit
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import chainrule.accelerator as accelerator
from chainrule.backend.runtime import get_num_threads, set_num_threads

__all__ = [
    "Colorize",
    "Compare",
    "Language",
    "Measurement",
    "TaskSpec",
    "Timer",
    "ordered_unique",
    "select_unit",
    "set_torch_threads",
    "timer",
    "trim_sigfig",
    "unit_to_english",
]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


def timer() -> float:
    """timeit.default_timer, after the accelerator (if any) has finished its queued work."""
    if accelerator.is_available():
        accelerator.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    """The statement's language: Python here (PyTorch also compiles C++ statements)."""

    PYTHON = 0
    CPP = 1


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What was timed: the statement, its setup and the labels a Measurement prints."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """The label (and sub_label), else the statement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        sub_label = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{sub_label}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        """The setup as a Measurement prints it ('' for none)."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """Title, description and setup, one section a line."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(field.name for field in dataclasses.fields(TaskSpec))


def _quantile(ordered: tuple[float, ...], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly (torch.quantile's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The times of one Timer run: `raw_times` are per block of `number_per_run` runs;
    `times`, `median`, `mean` and `iqr` are per run, in seconds.

    Args:
        number_per_run (int): how many runs each raw time covers.
        raw_times (list of floats): the seconds each block took.
        task_spec (TaskSpec): what was timed.
        metadata (dict, optional): the caller's own payload.

    Example:
        >>> from chainrule.utils.benchmark import Measurement, TaskSpec
        >>> m = Measurement(10, [1e-3, 2e-3, 3e-3, 4e-3], TaskSpec("f()", "pass"))
        >>> m.median, m.times[0]
        (0.00025, 0.0001)
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median = -1.0
        self._mean = -1.0
        self._p25 = -1.0
        self._p75 = -1.0

    def __getattr__(self, name: str) -> Any:
        if name in _TASKSPEC_FIELDS:  # stmt, label, num_threads, ... from the task spec
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """How many digits of the median the spread of the middle half supports (1 to 4)."""
        self._lazy_init()
        n_total = len(self._sorted_times)
        middle = self._sorted_times[n_total // 4 : math.ceil(3 * n_total / 4)]
        mean = sum(middle) / len(middle)
        std = math.sqrt(sum((t - mean) ** 2 for t in middle) / len(middle))
        interval = max(1.645 * std / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(math.log10(self._median / interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            self._median = _quantile(self._sorted_times, 0.5)
            self._mean = sum(self._sorted_times) / len(self._sorted_times)
            self._p25 = _quantile(self._sorted_times, 0.25)
            self._p75 = _quantile(self._sorted_times, 0.75)

            def add_warning(message: str) -> None:
                relative_iqr = self.iqr / self.median * 100
                self._warnings += (
                    f"  WARNING: Interquartile range is {relative_iqr:.1f}% "
                    f"of the median measurement.\n           {message}",
                )

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether the interquartile range is below `threshold` of the median."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str:
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        """PyTorch's layout: the object, the task, the median (and IQR from 4 blocks), the
        counts, and any warning about the spread."""
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [
            object.__repr__(self),
            self.task_spec.summarize(),
            f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}",
        ]
        if n >= 4:
            lines.append(
                f"  IQR:    {self.iqr / scale:.2f} {unit} "
                f"({self._p25 / scale:.2f} to {self._p75 / scale:.2f})"
            )
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        runs = "per measurement," if n > 1 else ","
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs {runs} {threads}"
        )
        lines.append("\n".join(self._warnings))
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """One Measurement per task spec, pooling the per-run times of replicates."""
        groups: collections.defaultdict[TaskSpec, list[Measurement]] = collections.defaultdict(list)
        for measurement in measurements:
            groups[measurement.task_spec].append(measurement)
        merged = []
        for task_spec, group in groups.items():
            times = [t for measurement in group for t in measurement.times]
            merged.append(Measurement(1, times, task_spec, None))
        return merged


def select_unit(t: float) -> tuple[str, float]:
    """The unit to print `t` seconds in (ns, us, ms or s) and its size in seconds."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def unit_to_english(u: str) -> str:
    """'us' -> 'microsecond', and so on."""
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """`x` rounded to `n` significant figures."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = math.ceil(math.log10(abs(x)))
    scale = 10 ** (magnitude - n)
    return float(round(x / scale) * scale)


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """The distinct elements in their first order."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """Run the block with the library's intra-op thread count set to `n`."""
    prior = get_num_threads()
    try:
        set_num_threads(n)
        yield
    finally:
        set_num_threads(prior)


class Timer:
    """Times `stmt` after `setup`, as torch.utils.benchmark.Timer.

    Args:
        stmt (str): the Python statement timed.
        setup (str): run once before timing.
        global_setup (str): C++ only in PyTorch; must be empty.
        timer (Callable): the clock (synchronises an accelerator by default).
        globals (dict, optional): the names the statement sees (`torch` is chainrule unless
            given).
        label, sub_label, description, env (str, optional): what a Measurement prints.
        num_threads (int): the library's thread count while timing.
        language (Language or str): Language.PYTHON ('py', 'python').

    Example:
        >>> from chainrule.utils.benchmark import Timer
        >>> t = Timer("x.sum()", setup="x = torch.ones(100)")
        >>> t.blocked_autorange(min_run_time=0.01).number_per_run >= 1
        True
    """

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,  # noqa: A002 (PyTorch's name)
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError(
                "Timer: C++ statements need PyTorch's C++ toolchain; chainrule times Python"
            )
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                "simply be moved to `setup`."
            )
        self._globals = dict(globals or {})
        # The statement's `torch` is this library: its root package, always loaded before
        # any of its modules (a look-up, not an import: utils sits below the root).
        self._globals.setdefault("torch", sys.modules["chainrule"])
        self._language = Language.PYTHON
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of `number` runs (after a warm-up of number // 100)."""
        with set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return Measurement(number, [self._timeit(number=number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        """Not offered, as in PyTorch."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], None] | None = None) -> None:
        """Not offered, as in PyTorch."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measurement_loop(
        self,
        number: int,
        stop_hook: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None = None,
        callback: Callable[[int, float], None] | None = None,
    ) -> list[float]:
        """Time blocks of `number` runs until `min_run_time` has passed and `stop_hook`
        agrees (or `max_run_time` has passed)."""
        total_time = 0.0
        can_stop = False
        times: list[float] = []
        with set_torch_threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = self._timeit(number)
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        """The smallest power of ten of runs whose block dwarfs the timer's own overhead."""
        with set_torch_threads(self._task_spec.num_threads):
            overheads = sorted(self._timeit(0) for _ in range(5))
            overhead = overheads[2]
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(
        self,
        callback: Callable[[int, float], None] | None = None,
        min_run_time: float = 0.2,
    ) -> Measurement:
        """Blocks of runs (sized by `_estimate_block_size`) until `min_run_time` seconds."""
        number = self._estimate_block_size(min_run_time)
        times = self._measurement_loop(number, lambda times: True, min_run_time, None, callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], None] | None = None,
    ) -> Measurement:
        """Blocks of runs until their interquartile range is below `threshold` of the median
        (at least 4 blocks and `min_run_time`, at most `max_run_time`)."""
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times: list[float]) -> bool:
            if len(times) > 3:
                measurement = Measurement(number, times, self._task_spec)
                return measurement.meets_confidence(threshold=threshold)
            return False

        times = self._measurement_loop(number, stop_hook, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def collect_callgrind(self, *args: Any, **kwargs: Any) -> Any:
        """Not offered: instruction counts need PyTorch's Valgrind bindings."""
        raise NotImplementedError(
            "Timer.collect_callgrind: instruction counts need PyTorch's Valgrind bindings"
        )


# ---- Compare: measurements side by side, as torch.utils.benchmark.Compare prints them --------

_BEST = "\033[92m"
_GOOD = "\033[34m"
_BAD = "\033[2m\033[91m"
_VERY_BAD = "\033[31m"
_BOLD = "\033[1m"
_TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    """How Compare colours its cells: not at all, against the best of each column or row."""

    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


class _Column:
    """One description's cells: a shared number format (digits the column's values need)."""

    def __init__(
        self,
        grouped_results: list[tuple[Measurement | None, ...]],
        time_scale: float,
        trim_significant_figures: bool,
        highlight_warnings: bool,
    ) -> None:
        self._grouped_results = grouped_results
        flat = [m for group in grouped_results for m in group]
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings and any(m.has_warnings for m in flat if m)
        leading_digits = [math.ceil(math.log10(m.median / time_scale)) if m else None for m in flat]
        unit_digits = max(d for d in leading_digits if d is not None)
        if trim_significant_figures:
            decimal_digits = min(
                max(m.significant_figures - digits, 0)
                for digits, m in zip(leading_digits, flat)
                if m is not None and digits is not None
            )
        else:
            decimal_digits = 1
        length = unit_digits + decimal_digits + (1 if decimal_digits else 0)
        warning_width = 7 if self._highlight_warnings else 0
        self._template = f"{{:>{length}.{decimal_digits}f}}{{:>{warning_width}}}"

    def get_results_for(self, group: int) -> tuple[Measurement | None, ...]:
        return self._grouped_results[group]

    def num_to_str(self, value: float | None, sigfigs: int, spread: float | None) -> str:
        if value is None:
            return " " * len(self.num_to_str(1, sigfigs, None))
        if self._trim_significant_figures:
            value = trim_sigfig(value, sigfigs)
        warning = f" (! {spread * 100:.0f}%)" if self._highlight_warnings and spread else ""
        return self._template.format(value, warning)


class _Row:
    """One (threads, env, sub_label) row of a table."""

    def __init__(
        self,
        results: list[Measurement | None],
        row_group: int,
        render_env: bool,
        env_str_len: int,
        time_scale: float,
        colorize: Colorize,
        num_threads: int | None,
    ) -> None:
        self._results = results
        self._row_group = row_group
        self._render_env = render_env
        self._env_str_len = env_str_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._columns: tuple[_Column, ...] = ()
        self._num_threads = num_threads

    def register_columns(self, columns: tuple[_Column, ...]) -> None:
        self._columns = columns

    def as_column_strings(self) -> list[str]:
        present = [m for m in self._results if m is not None]
        env = f"({present[0].env})" if self._render_env else ""
        output = ["  " + env.ljust(self._env_str_len + 4) + present[0].as_row_name]
        for m, column in zip(self._results, self._columns):
            if m is None:
                output.append(column.num_to_str(None, 1, None))
            else:
                spread = m.iqr / m.median if m.has_warnings else None
                output.append(
                    column.num_to_str(m.median / self._time_scale, m.significant_figures, spread)
                )
        return output

    @staticmethod
    def color_segment(segment: str, value: float, best_value: float) -> str:
        if value <= best_value * 1.01 or value <= best_value + 100e-9:
            return _BEST + _BOLD + segment + _TERMINATE * 2
        if value <= best_value * 1.1:
            return _GOOD + _BOLD + segment + _TERMINATE * 2
        if value >= best_value * 5:
            return _VERY_BAD + _BOLD + segment + _TERMINATE * 2
        if value >= best_value * 2:
            return _BAD + segment + _TERMINATE * 2
        return segment

    def row_separator(self, overall_width: int) -> list[str]:
        if self._num_threads is None:
            return []
        return [f"{self._num_threads} threads: ".ljust(overall_width, "-")]

    def finalize_column_strings(self, column_strings: list[str], widths: list[int]) -> list[str]:
        best_values: list[float | None] = [-1 for _ in column_strings]
        if self._colorize == Colorize.ROWWISE:
            row_min = min(m.median for m in self._results if m is not None)
            best_values = [row_min for _ in column_strings]
        elif self._colorize == Colorize.COLUMNWISE:
            best_values = []
            for column in self._columns:
                medians = [m.median for m in column.get_results_for(self._row_group) if m]
                best_values.append(min(medians) if medians else None)
        contents = [column_strings[0].ljust(widths[0])]
        cells = zip(column_strings[1:], widths[1:], self._results, best_values)
        for text, width, result, best_value in cells:
            text = text.center(width)
            if self._colorize != Colorize.NONE and result is not None and best_value is not None:
                text = self.color_segment(text, result.median, best_value)
            contents.append(text)
        return contents


class _Table:
    """The measurements of one label: rows by (threads, env, sub_label), columns by
    description."""

    def __init__(
        self,
        results: list[Measurement],
        colorize: Colorize,
        trim_significant_figures: bool,
        highlight_warnings: bool,
    ) -> None:
        if len({m.label for m in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results = results
        self._colorize = colorize
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings
        self.label = results[0].label
        self.time_unit, self.time_scale = select_unit(min(m.median for m in results))
        self.row_keys = ordered_unique([self.row_fn(m) for m in results])
        self.row_keys.sort(key=lambda key: key[:2])  # threads, env; stmt order kept
        self.column_keys = ordered_unique([self.col_fn(m) for m in results])
        self.rows, self.columns = self._populate_rows_and_columns()

    @staticmethod
    def row_fn(m: Measurement) -> tuple[int, str | None, str]:
        return m.num_threads, m.env, m.as_row_name

    @staticmethod
    def col_fn(m: Measurement) -> str | None:
        return m.description

    def _populate_rows_and_columns(self) -> tuple[tuple[_Row, ...], tuple[_Column, ...]]:
        ordered: list[list[Measurement | None]] = [
            [None for _ in self.column_keys] for _ in self.row_keys
        ]
        row_position = {key: i for i, key in enumerate(self.row_keys)}
        column_position = {key: i for i, key in enumerate(self.column_keys)}
        for m in self.results:
            ordered[row_position[self.row_fn(m)]][column_position[self.col_fn(m)]] = m
        envs = {m.env for m in self.results}
        render_env = len(envs) > 1
        env_str_len = max(len(env) for env in envs) if render_env else 0
        rows: list[_Row] = []
        rows_by_group: list[list[list[Measurement | None]]] = []
        prior_threads, prior_env, row_group = -1, "", -1
        for (num_threads, env, _), row in zip(self.row_keys, ordered):
            new_threads = num_threads != prior_threads
            if new_threads:
                prior_threads, prior_env = num_threads, ""
                row_group += 1
                rows_by_group.append([])
            rows.append(
                _Row(
                    row,
                    row_group,
                    render_env and env != prior_env,
                    env_str_len,
                    self.time_scale,
                    self._colorize,
                    num_threads if new_threads else None,
                )
            )
            rows_by_group[-1].append(row)
            prior_env = env
        columns = tuple(
            _Column(
                [tuple(row[i] for row in group) for group in rows_by_group],
                self.time_scale,
                self._trim_significant_figures,
                self._highlight_warnings,
            )
            for i in range(len(self.column_keys))
        )
        for row in rows:
            row.register_columns(columns)
        return tuple(rows), columns

    def render(self) -> str:
        string_rows = [[""] + self.column_keys]
        string_rows.extend(row.as_column_strings() for row in self.rows)
        num_cols = max(len(r) for r in string_rows)
        for string_row in string_rows:
            string_row.extend("" for _ in range(num_cols - len(string_row)))
        widths = [max(len(cell) for cell in column) for column in zip(*string_rows)]
        header = "  |  ".join(cell.center(w) for cell, w in zip(string_rows[0], widths))
        lines = [header]
        overall_width = len(header)
        for string_row, row in zip(string_rows[1:], self.rows):
            lines.extend(row.row_separator(overall_width))
            lines.append("  |  ".join(row.finalize_column_strings(string_row, widths)))
        has_warnings = self._highlight_warnings and any(m.has_warnings for m in self.results)
        title = (" " + (self.label or "") + " ").center(overall_width - 2, "-")
        note = (
            "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
            if has_warnings
            else ""
        )
        body = "\n".join(lines)
        unit = f"Times are in {unit_to_english(self.time_unit)}s ({self.time_unit})."
        return f"[{title}]\n{body}\n\n{unit}\n{note}"


class Compare:
    """Measurements in tables, one per label: a row per sub_label (by thread count and env),
    a column per description, as torch.utils.benchmark.Compare prints them.

    Args:
        results (list of Measurement): what to show; more can be added by `extend_results`.

    Example:
        >>> from chainrule.utils.benchmark import Compare, Measurement, TaskSpec
        >>> spec = TaskSpec("f(x)", "pass", label="f", sub_label="small", description="cpu")
        >>> print(Compare([Measurement(10, [2e-5, 3e-5], spec)]))
        [------- f -------]
                     |  cpu
        1 threads: --------
              small  |  2.5
        <BLANKLINE>
        Times are in microseconds (us).
        <BLANKLINE>
    """

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results: list[Measurement]) -> None:
        """Add measurements (of the same or new labels)."""
        for m in results:
            if not isinstance(m, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(m)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Print each time to the digits its spread supports."""
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        """Colour cells against the best of their column (or row, with `rowwise`)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Mark cells whose measurements vary much (their IQR / median)."""
        self._highlight_warnings = True

    def print(self) -> None:
        """print(str(self))."""
        print(str(self))

    def _render(self) -> list[str]:
        groups: collections.defaultdict[str | None, list[Measurement]] = collections.defaultdict(
            list
        )
        for m in Measurement.merge(self._results):
            groups[m.label].append(m)
        settings = (self._colorize, self._trim_significant_figures, self._highlight_warnings)
        return [_Table(group, *settings).render() for group in groups.values()]
