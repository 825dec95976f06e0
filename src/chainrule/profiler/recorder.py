"""`profile` and `record_function`: time each op call and backward step while active.

The profiler is an autograd observer (autograd/observers.py): while it is on, `ops.op.apply` and the
engine report every op call and every backward step to it; while it is off they pay one
`is None` check. It watches the thread (context) that started it.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chainrule.autograd.node import Node
from chainrule.autograd.observers import Observer, add_observer, observers, remove_observer
from chainrule.ops.op import op_label
from chainrule.profiler.events import EventList, FunctionEvent, FunctionEventAvg

_now = time.perf_counter_ns


class ProfilerActivity(enum.Enum):
    """What to profile; chainrule measures host (CPU) time only."""

    CPU = "CPU"
    CUDA = "CUDA"


class profile(Observer):  # noqa: N801 - PyTorch's name
    """Context manager recording op timings; read them with `key_averages()`, `table()`,
    `events()` or `export_chrome_trace(path)`. Also `start()` / `stop()`.

    record_shapes: keep each call's input shapes (`key_averages(group_by_input_shape=True)`).
    profile_memory: show the bytes each op's outputs allocated (views allocate none).
    on_trace_ready: called with the profiler when it stops.
    """

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        on_trace_ready: Callable[[profile], Any] | None = None,
    ) -> None:
        for activity in activities or ():
            if activity is not ProfilerActivity.CPU:
                raise NotImplementedError(
                    f"profile: only ProfilerActivity.CPU is supported, not {activity}"
                )
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.on_trace_ready = on_trace_ready
        self._events: list[FunctionEvent] = []
        self._open: list[FunctionEvent] = []  # running ranges and backward steps, innermost last
        self._backward_depth = 0
        self._start_ns = 0
        self._thread = threading.get_native_id()

    # ---- lifetime ------------------------------------------------------------------------
    def start(self) -> None:
        self._start_ns = _now()
        self._thread = threading.get_native_id()
        add_observer(self)

    def stop(self) -> None:
        remove_observer(self)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what the observer hooks record --------------------------------------------------
    def forward_begin(self, op: type, inputs: Sequence[Any]) -> Any:
        return _now()

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        duration = _now() - state
        nbytes = 0
        if not getattr(op, "is_view", False):  # a custom Function has no such flag
            nbytes = sum(output._array.nbytes for output in outputs)
        shapes = None
        if self.record_shapes:
            # A Python-number operand (x * 2) is listed as shape (), as PyTorch's profiler does.
            scalars = ((),) * getattr(op, "scalar_operands", 0)
            shapes = tuple(tuple(t.shape) for t in inputs) + scalars
        label = op_label(op)
        event = FunctionEvent(
            label,
            "forward",
            label,
            state,
            duration,
            self._thread,
            in_backward=self._backward_depth > 0,
            input_shapes=shapes,
            cpu_memory_usage=nbytes,
        )
        self._close(event)

    def backward_begin(self, node: Node, grads: list) -> Any:
        key = "AccumulateGrad" if node.op is None else op_label(node.op)
        shapes = None
        if self.record_shapes:  # the forward call's, so both directions share a row
            shapes = tuple(tuple(shape) for shape, _ in node.input_meta)
        event = FunctionEvent(node.name(), "backward", key, _now(), 0, self._thread)
        event.input_shapes = shapes
        self._open.append(event)
        self._backward_depth += 1
        return event

    def backward_end(self, node: Node, grads: list, input_grads: Any, state: Any) -> None:
        self._finish(state)

    def backward_error(self, node: Node, error: BaseException, state: Any) -> None:
        self._finish(state)

    def _finish(self, event: FunctionEvent) -> None:
        event.duration_ns = _now() - event.start_ns
        if event.kind == "backward":
            self._backward_depth -= 1
        if self._open and self._open[-1] is event:
            self._open.pop()
        self._close(event)

    def _close(self, event: FunctionEvent) -> None:
        if self._open:
            self._open[-1].children_ns += event.duration_ns
        self._events.append(event)

    def _open_range(self, name: str) -> FunctionEvent:
        event = FunctionEvent(name, "range", name, _now(), 0, self._thread)
        self._open.append(event)
        return event

    # ---- reading the results -------------------------------------------------------------
    def events(self) -> list[FunctionEvent]:
        """Every recorded interval, in the order they ended."""
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One row per op (and per record_function name), in the order first seen; with
        `group_by_input_shape`, one per op and input shapes (needs record_shapes=True)."""
        rows: dict[Any, FunctionEventAvg] = {}
        for event in sorted(self._events, key=lambda e: e.start_ns):
            if event.in_backward:
                continue  # its time is part of the backward step that ran it
            shapes = event.input_shapes if group_by_input_shape else None
            row = rows.get((event.key, shapes))
            if row is None:
                row = rows[(event.key, shapes)] = FunctionEventAvg(event.key, shapes)
            row.add(event)
        return EventList(
            list(rows.values()),
            profile_memory=self.profile_memory,
            shapes=group_by_input_shape and self.record_shapes,
        )

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        """`key_averages().table(...)`."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as a Chrome / Perfetto trace (open in chrome://tracing or
        ui.perfetto.dev): one complete ("X") event per interval, times in microseconds."""
        pid = os.getpid()
        trace = []
        for event in sorted(self._events, key=lambda e: e.start_ns):
            args: dict[str, Any] = {}
            if event.input_shapes is not None:
                args["Input Dims"] = [list(shape) for shape in event.input_shapes]
            if event.kind == "forward":
                args["bytes"] = event.cpu_memory_usage
                args["in backward"] = event.in_backward
            category = {"forward": "cpu_op", "backward": "backward", "range": "user_annotation"}
            trace.append(
                {
                    "name": event.name,
                    "cat": category[event.kind],
                    "ph": "X",
                    "ts": (event.start_ns - self._start_ns) / 1000.0,
                    "dur": event.duration_ns / 1000.0,
                    "pid": pid,
                    "tid": event.thread,
                    "args": args,
                }
            )
        with open(path, "w") as handle:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, handle)


class record_function(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Label a region of code: each active profiler gets a row (and a trace interval) named
    `name`, whose self time is the region's time outside the ops and steps it ran."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self._entries: list[list[tuple[profile, FunctionEvent]]] = []

    def __enter__(self) -> record_function:
        profilers = [o for o in observers.get() or () if isinstance(o, profile)]
        self._entries.append([(p, p._open_range(self.name)) for p in profilers])
        return self

    def __exit__(self, *exc: object) -> None:
        for profiler, event in self._entries.pop():
            profiler._finish(event)
