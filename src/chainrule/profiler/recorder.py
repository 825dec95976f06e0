"""`profile` and `record_function`: time each op call and backward step while active.

The profiler is an autograd observer (autograd/observers.py): while it is on, `ops.op.apply` and the
engine report every op call and every backward step to it; while it is off they pay one
`is None` check. It watches the thread (context) that started it.
"""

from __future__ import annotations

import contextlib
import enum
import gzip
import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chainrule.autograd.node import Node
from chainrule.autograd.observers import Observer, add_observer, observers, remove_observer
from chainrule.ops.op import op_label
from chainrule.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from chainrule.profiler.scheduling import ProfilerAction, record_always

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
    schedule: step number -> ProfilerAction (profiler/scheduling.py); `prof.step()` ends a
        step. Without one, every step records and the events are handed over at the stop.
    on_trace_ready: called with the profiler at the end of each recorded cycle.
    acc_events: keep the events of every cycle (by default each cycle starts empty).
    with_stack, with_flops, with_modules, ...: accepted, as PyTorch's; chainrule records op
        times, shapes and memory only.
    """

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[[profile], Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config: Any = None,
        execution_trace_observer: Any = None,
        acc_events: bool = False,
        use_cuda: bool | None = None,
        custom_trace_id_callback: Callable[[], str] | None = None,
        **_: Any,
    ) -> None:
        for activity in activities or ():
            if activity is not ProfilerActivity.CPU:
                raise NotImplementedError(
                    f"profile: only ProfilerActivity.CPU is supported, not {activity}"
                )
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.on_trace_ready = on_trace_ready
        self.schedule = schedule or record_always
        self.record_steps = schedule is not None  # a "ProfilerStep#N" range around each step
        self.acc_events = acc_events  # keep every cycle's events, not only the last one's
        self.step_num = 0
        self.current_action = self.schedule(0)
        self._step_range: record_function | None = None
        self._events: list[FunctionEvent] = []
        self._open: list[FunctionEvent] = []  # running ranges and backward steps, innermost last
        self._backward_depth = 0
        self._start_ns = 0
        self._thread = threading.get_native_id()

    # ---- lifetime: PyTorch's transitions between one step's action and the next's --------
    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self) -> None:
        self._close_step()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """End the current step and begin the next (its action from the schedule)."""
        self._close_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(previous, self.current_action)
        self._open_step()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _transit(self, previous: ProfilerAction, current: ProfilerAction | None) -> None:
        none, warmup = ProfilerAction.NONE, ProfilerAction.WARMUP
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if previous is ProfilerAction.RECORD_AND_SAVE or (
            previous is ProfilerAction.RECORD and current is None
        ):
            self._stop_recording()
            self._trace_ready()
            previous = none  # the next cycle starts afresh
        elif previous is ProfilerAction.RECORD and current in (none, warmup):
            warnings.warn(f"Incorrect schedule: RECORD followed by {current.name}", stacklevel=3)
            self._stop_recording()
            previous = none
        elif previous is warmup and current in (none, None):
            if current is none:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
            previous = none
        if previous is none and current in (warmup, *recording) and not self.acc_events:
            self._events, self._open, self._backward_depth = [], [], 0  # a new cycle
        if previous in (none, warmup) and current in recording:
            self._start_ns = _now()
            self._thread = threading.get_native_id()
            add_observer(self)

    def _stop_recording(self) -> None:
        remove_observer(self)

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _open_step(self) -> None:
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}")
            self._step_range.__enter__()

    def _close_step(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

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
        trace_name = name
        if name.startswith("ProfilerStep#"):  # every step is one row, as in PyTorch's tables
            name = "ProfilerStep*"
        event = FunctionEvent(name, "range", name, _now(), 0, self._thread, trace_name=trace_name)
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
                    "name": event.trace_name or event.name,
                    "cat": category[event.kind],
                    "ph": "X",
                    "ts": (event.start_ns - self._start_ns) / 1000.0,
                    "dur": event.duration_ns / 1000.0,
                    "pid": pid,
                    "tid": event.thread,
                    "args": args,
                }
            )
        document = {"traceEvents": trace, "displayTimeUnit": "ms"}
        opener = gzip.open if os.fspath(path).endswith(".gz") else open
        with opener(path, "wt") as handle:
            json.dump(document, handle)


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
