"""Profiling some steps of a long loop: `schedule`, `ProfilerAction` and
`tensorboard_trace_handler`, as in torch.profiler.

    with profile(schedule=schedule(wait=1, warmup=1, active=2),
                 on_trace_ready=tensorboard_trace_handler("./log")) as prof:
        for batch in loader:
            train_step(batch)
            prof.step()

The schedule maps the profiler's step number (0 at `start`, one more at each `prof.step()`) to
what the profiler does during that step: nothing, warm up (PyTorch's warm-up steps let its
device tracer settle; here they record nothing either), record, or record and then hand the
cycle's events to `on_trace_ready` at the step's end.
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings
from collections.abc import Callable
from typing import Any


class ProfilerAction(enum.Enum):
    """What the profiler does during one step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(
    *,
    wait: int,
    warmup: int,
    active: int,
    repeat: int = 0,
    skip_first: int = 0,
    skip_first_wait: int = 0,
) -> Callable[[int], ProfilerAction]:
    """Skip `skip_first` steps, then cycle: `wait` steps idle, `warmup` steps warming up,
    `active` steps recorded (the last one also saves); `repeat` cycles (0: until the profiler
    stops). With `skip_first_wait`, the first cycle starts without its wait.

    >>> from chainrule.profiler import schedule
    >>> every = schedule(wait=1, warmup=1, active=2, repeat=1)
    >>> [every(step).name for step in range(5)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        message = "Profiler won't be using warmup, this can skew profiler results"
        warnings.warn(message, stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait  # the first cycle begins at its warm-up
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        within = step % cycle
        if within < wait:
            return ProfilerAction.NONE
        if within < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if within < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def record_always(step: int) -> ProfilerAction:
    """The schedule of a profiler given none: record every step, hand over at the stop."""
    return ProfilerAction.RECORD


def tensorboard_trace_handler(
    dir_name: str, worker_name: str | None = None, use_gzip: bool = False, **_: Any
) -> Callable[[Any], None]:
    """An `on_trace_ready` that writes each cycle's Chrome trace into `dir_name` (made if
    missing) as `<worker_name>.<time in ns>.pt.trace.json[.gz]`, the files TensorBoard's
    profiler plugin lists; `worker_name` defaults to `<hostname>_<pid>`."""

    def handler(prof: Any) -> None:
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as error:
            raise RuntimeError("Can't create directory: " + dir_name) from error
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler
