"""What the profiler records, and the table of averages it prints (torch.profiler's layout)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Row attributes `table(sort_by=...)` accepts, PyTorch's names first.
SORT_KEYS = (
    "self_cpu_time_total",
    "cpu_time_total",
    "cpu_time",
    "count",
    "cpu_memory_usage",
    "forward_time_total",
    "backward_time_total",
    "backward_count",
)


@dataclass(slots=True)
class FunctionEvent:
    """One timed interval. `kind` is "forward" (an op call), "backward" (one engine step: a
    node's vjp and the ops it runs) or "range" (a record_function region). `key` is the row of
    the averages table it is filed under: the op's name for forward and backward events."""

    name: str
    kind: str
    key: str
    start_ns: int
    duration_ns: int
    thread: int
    in_backward: bool = False  # an op run by a backward step, whose time that step holds
    input_shapes: tuple | None = None
    cpu_memory_usage: int = 0
    children_ns: int = 0  # time of the events directly inside this one (ranges' self time)
    trace_name: str | None = None  # the name in a Chrome trace, where it differs (ProfilerStep#3)

    @property
    def self_ns(self) -> int:
        return self.duration_ns - self.children_ns if self.kind == "range" else self.duration_ns


@dataclass(slots=True)
class FunctionEventAvg:
    """One row of `key_averages()`; times in microseconds, like PyTorch."""

    key: str
    input_shapes: tuple | None = None
    count: int = 0
    forward_time_total: float = 0.0
    backward_count: int = 0
    backward_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    cpu_time_total: float = 0.0
    cpu_memory_usage: int = 0
    kinds: set = field(default_factory=set)

    @property
    def cpu_time(self) -> float:
        """Mean time per call (forward and backward calls together)."""
        calls = self.count + self.backward_count
        return self.cpu_time_total / calls if calls else 0.0

    @property
    def forward_time(self) -> float:
        return self.forward_time_total / self.count if self.count else 0.0

    @property
    def backward_time(self) -> float:
        return self.backward_time_total / self.backward_count if self.backward_count else 0.0

    def add(self, event: FunctionEvent) -> None:
        micros = event.duration_ns / 1000.0
        self.kinds.add(event.kind)
        if event.kind == "backward":
            self.backward_count += 1
            self.backward_time_total += micros
        else:
            self.count += 1
            if event.kind == "forward":
                self.forward_time_total += micros
        self.cpu_time_total += micros
        self.self_cpu_time_total += event.self_ns / 1000.0
        self.cpu_memory_usage += event.cpu_memory_usage


class EventList(list):
    """A list of FunctionEventAvg rows that prints as a table."""

    def __init__(self, rows: list, profile_memory: bool = False, shapes: bool = False) -> None:
        super().__init__(rows)
        self._profile_memory = profile_memory
        self._shapes = shapes

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_name_column_width: int = 55,
        header: str | None = None,
    ) -> str:
        """The rows as text: sorted by `sort_by` (largest first; None keeps first-seen order),
        at most `row_limit` of them (-1 for all). The percentages and the footer's total cover
        every row, shown or not."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in SORT_KEYS:
                raise ValueError(
                    f"table: unknown sort_by {sort_by!r}; expected one of {', '.join(SORT_KEYS)}"
                )
            rows.sort(key=lambda row: getattr(row, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = sum(row.self_cpu_time_total for row in self)
        return _format_table(rows, total, self, max_name_column_width, header)

    def __str__(self) -> str:
        return self.table()


def _format_time(micros: float) -> str:
    if micros >= 1e6:
        return f"{micros / 1e6:.3f}s"
    if micros >= 1e3:
        return f"{micros / 1e3:.3f}ms"
    return f"{micros:.3f}us"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} b"


def _format_table(
    rows: list, total: float, events: EventList, name_width: int, header: str | None
) -> str:
    headers = [
        "Self CPU %",
        "Self CPU",
        "CPU total",
        "# of Calls",
        "Fwd total",
        "Fwd avg",
        "# of Bwd",
        "Bwd total",
        "Bwd avg",
    ]
    if events._profile_memory:
        headers.append("CPU Mem")
    if events._shapes:
        headers.append("Input Shapes")
    lines_of_cells = []
    for row in rows:
        share = 100.0 * row.self_cpu_time_total / total if total else 0.0
        cells = [
            f"{share:.2f}%",
            _format_time(row.self_cpu_time_total),
            _format_time(row.cpu_time_total),
            str(row.count),
            _format_time(row.forward_time_total),
            _format_time(row.forward_time),
            str(row.backward_count),
            _format_time(row.backward_time_total),
            _format_time(row.backward_time),
        ]
        if events._profile_memory:
            cells.append(_format_memory(row.cpu_memory_usage))
        if events._shapes:
            cells.append(str([list(shape) for shape in row.input_shapes or ()]))
        lines_of_cells.append((row.key, cells))

    longest = max([len(key) for key, _ in lines_of_cells] + [len("Name")])
    name_column = min(longest, name_width) + 2
    widths = [12] * len(headers)
    if events._shapes:
        widths[-1] = max([len(c[-1]) for _, c in lines_of_cells] + [12]) + 2
    rule = "-" * name_column + "".join("  " + "-" * width for width in widths)

    def line(name: str, cells: list) -> str:
        if len(name) > name_column:
            name = name[: name_column - 3] + "..."
        return name.rjust(name_column) + "".join(
            "  " + cell.rjust(width) for cell, width in zip(cells, widths)
        )

    out = []
    if header:
        out.append(header)
    out += [rule, line("Name", headers), rule]
    out += [line(key, cells) for key, cells in lines_of_cells]
    out += [rule, f"Self CPU time total: {_format_time(total)}", ""]
    return "\n".join(out)
