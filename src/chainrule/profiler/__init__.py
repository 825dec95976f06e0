"""Where the time goes, per op: PyTorch's `torch.profiler` API over chainrule's ops.

    >>> import chainrule
    >>> from chainrule.profiler import profile, record_function
    >>> x = chainrule.ones(3, 4, requires_grad=True)
    >>> with profile(record_shapes=True, profile_memory=True) as prof:
    ...     with record_function("step"):
    ...         loss = (x * 2).tanh().sum()
    ...         loss.backward()
    >>> {row.key: (row.count, row.backward_count) for row in prof.key_averages()}
    {'step': (1, 0), 'mul': (1, 1), 'tanh': (1, 1), 'sum': (1, 1), 'AccumulateGrad': (0, 1)}
    >>> table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)

Each op gets one row: forward calls and time, backward calls and time (its `MulBackward0`
steps, including the ops its vjp runs), and with `profile_memory=True` the bytes its outputs
allocated. `record_function(name)` adds a row for a region of your code. The ops run inside a
backward step are not counted as forward calls, they are part of that step's time; the Chrome
trace still shows each of them, nested under the step.
"""

from chainrule.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from chainrule.profiler.recorder import ProfilerActivity, profile, record_function
from chainrule.profiler.scheduling import ProfilerAction, schedule, tensorboard_trace_handler

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "tensorboard_trace_handler",
]
