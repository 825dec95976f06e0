"""The profiler: right rows and counts for a known program, a torch-like table, a Chrome trace,
record_function regions, and nothing recorded (or checked) once it stops."""

import json

import pytest

import chainrule
from chainrule.autograd.graph import observers
from chainrule.profiler import ProfilerActivity, profile, record_function


def _train_steps(steps: int = 3) -> tuple:
    x = chainrule.ones(4, 3)
    w = chainrule.ones(3, 2, requires_grad=True)
    for _ in range(steps):
        hidden = (x @ w).relu()
        loss = (hidden * hidden).sum()
        loss.backward()
    return x, w


def test_rows_and_counts_of_a_known_program():
    with profile() as prof:
        _train_steps(3)
    counts = {row.key: (row.count, row.backward_count) for row in prof.key_averages()}
    assert counts == {
        "matmul": (3, 3),
        "relu": (3, 3),
        "mul": (3, 3),
        "sum": (3, 3),
        # Leaf accumulation: each step's gradient added into w.grad.
        "AccumulateGrad": (0, 3),
    }


def test_times_add_up():
    with profile() as prof:
        _train_steps(2)
    for row in prof.key_averages():
        assert row.cpu_time_total == pytest.approx(row.forward_time_total + row.backward_time_total)
        assert row.self_cpu_time_total == pytest.approx(row.cpu_time_total)
        if row.count:
            assert row.forward_time == pytest.approx(row.forward_time_total / row.count)
        assert row.cpu_time_total > 0


def test_ops_run_by_a_backward_step_are_part_of_it():
    with profile() as prof:
        _train_steps(1)
    inner = [e for e in prof.events() if e.in_backward]
    assert inner, "a vjp runs ops of its own (mul's vjp multiplies)"
    steps = [e for e in prof.events() if e.kind == "backward"]
    for event in inner:  # each lies inside some backward step's interval
        assert any(
            s.start_ns <= event.start_ns
            and event.start_ns + event.duration_ns <= s.start_ns + s.duration_ns
            for s in steps
        )
    counts = {row.key: row.count for row in prof.key_averages()}
    assert counts["mul"] == 1  # not inflated by the vjp's own multiplications


def test_table_looks_like_torch():
    with profile(profile_memory=True) as prof:
        with record_function("train_step"):
            _train_steps(2)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert set(lines[0]) == {"-", " "}
    for title in ["Name", "Self CPU %", "Self CPU", "CPU total", "# of Calls", "CPU Mem"]:
        assert title in lines[1]
    body = lines[3:-2]
    assert len(body) == 3  # row_limit
    assert lines[-1].startswith("Self CPU time total: ")
    rows = prof.key_averages()
    selfs = sorted((r.self_cpu_time_total for r in rows), reverse=True)[:3]
    shown = [r for r in rows if r.self_cpu_time_total in selfs]
    for row in shown:
        assert any(line.strip().startswith(row.key) for line in body)
    assert prof.table(sort_by="count", row_limit=-1).count("\n") == len(rows) + 5
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="flops")


def test_record_function_region():
    with profile() as prof:
        with record_function("forward"):
            x = chainrule.ones(3, requires_grad=True)
            y = x.exp().sum()
        y.backward()
    region = next(row for row in prof.key_averages() if row.key == "forward")
    ops = [row for row in prof.key_averages() if row.key in ("exp", "sum")]
    assert region.count == 1
    assert region.cpu_time_total >= sum(row.forward_time_total for row in ops)
    assert 0 <= region.self_cpu_time_total <= region.cpu_time_total


def test_record_function_without_a_profiler_is_a_no_op():
    with record_function("nothing"):
        chainrule.ones(2).exp()

    @record_function("decorated")
    def work():
        return chainrule.ones(2).exp()

    with profile() as prof:
        work()
    assert [row.key for row in prof.key_averages()] == ["decorated", "exp"]


def test_memory_and_shapes():
    x = chainrule.ones(3, 4, requires_grad=True)
    with profile(record_shapes=True, profile_memory=True) as prof:
        (x * 2).view(12).sum()
        (chainrule.ones(5) * 2).sum()
    rows = {row.key: row for row in prof.key_averages()}
    assert rows["mul"].cpu_memory_usage == 3 * 4 * 4 + 5 * 4  # float32 outputs
    assert rows["view"].cpu_memory_usage == 0  # a view allocates nothing
    grouped = prof.key_averages(group_by_input_shape=True)
    mul_shapes = sorted(row.input_shapes for row in grouped if row.key == "mul")
    assert mul_shapes == [((3, 4), ()), ((5,), ())]
    assert "Input Shapes" in grouped.table()


def test_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        with record_function("step"):
            _train_steps(1)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert events and all(event["ph"] == "X" for event in events)
    assert all(event["dur"] >= 0 and event["ts"] >= 0 for event in events)
    names = {event["name"] for event in events}
    assert {"step", "matmul", "MmBackward0", "ReluBackward0", "AccumulateGrad"} <= names
    categories = {event["cat"] for event in events}
    assert {"cpu_op", "backward", "user_annotation"} <= categories
    matmul = next(event for event in events if event["name"] == "matmul")
    assert matmul["args"]["Input Dims"] == [[4, 3], [3, 2]]
    assert any(event["args"].get("in backward") for event in events)


def test_stops_cleanly_and_calls_on_trace_ready():
    ready = []
    prof = profile(on_trace_ready=ready.append, activities=[ProfilerActivity.CPU])
    prof.start()
    chainrule.ones(2).exp()
    prof.stop()
    chainrule.ones(2).exp()  # after stop: not recorded
    assert ready == [prof]
    assert [event.name for event in prof.events()] == ["exp"]
    assert observers.get() is None
    with pytest.raises(NotImplementedError, match="CPU"):
        profile(activities=[ProfilerActivity.CUDA])


def test_profiler_keeps_its_books_when_anomaly_mode_raises():
    w = chainrule.ones(2, requires_grad=True)
    with profile() as prof, chainrule.autograd.detect_anomaly():
        with pytest.raises(chainrule.GradError, match="nan"):
            (w * chainrule.tensor([1.0, float("nan")])).sum().backward()
        (w * 2).sum().backward()  # still profiled as a backward, not as ops inside one
    rows = {row.key: (row.count, row.backward_count) for row in prof.key_averages()}
    assert rows["mul"] == (2, 2)  # the MulBackward0 that raised was still closed
    assert prof._open == [] and prof._backward_depth == 0


class _Square(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


def test_a_custom_function_is_one_row_forward_and_backward():
    x = chainrule.ones(3, requires_grad=True)
    with profile() as prof:
        _Square.apply(x).sum().backward()
    counts = {row.key: (row.count, row.backward_count) for row in prof.key_averages()}
    assert counts["_square"] == (1, 1)
    assert "mul" not in counts or counts["mul"][0] == 0  # its forward's ops are inside the row


# ---- schedules: profiling some steps of a long loop -------------------------------------------

SCHEDULES = [
    {"wait": 1, "warmup": 1, "active": 2},
    {"wait": 2, "warmup": 1, "active": 3, "repeat": 2},
    {"wait": 0, "warmup": 2, "active": 1, "repeat": 1, "skip_first": 3},
    {"wait": 5, "warmup": 1, "active": 2, "skip_first": 2, "skip_first_wait": 1},
]


@pytest.mark.parametrize("options", SCHEDULES, ids=str)
def test_a_schedule_gives_torchs_action_for_every_step(options):
    torch = pytest.importorskip("torch")
    from chainrule.profiler import schedule

    ours, theirs = schedule(**options), torch.profiler.schedule(**options)
    assert [ours(step).name for step in range(40)] == [theirs(step).name for step in range(40)]


def test_a_bad_schedule_is_refused_and_no_warmup_warned_as_torch():
    from chainrule.profiler import schedule

    with pytest.raises(AssertionError, match="active=0"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        schedule(wait=1, warmup=0, active=1)


def _scheduled_run(lib, steps=9, **options):
    """A loop of `steps` small train steps under a scheduled profiler: at each on_trace_ready,
    the step number and how many steps the cycle's table holds."""
    cycles = []

    def ready(prof):
        rows = {row.key: row.count for row in prof.key_averages()}
        cycles.append((prof.step_num, rows.get("ProfilerStep*")))

    w = lib.ones(3, 2, requires_grad=True)
    plan = lib.profiler.schedule(**options)
    with lib.profiler.profile(schedule=plan, on_trace_ready=ready, with_stack=True) as prof:
        for _ in range(steps):
            (lib.ones(4, 3) @ w).relu().sum().backward()
            prof.step()
    return cycles


@pytest.mark.parametrize("options", SCHEDULES[:3], ids=str)
def test_a_scheduled_profiler_hands_over_the_same_cycles_as_torchs(options):
    torch = pytest.importorskip("torch")
    assert _scheduled_run(chainrule, **options) == _scheduled_run(torch, **options)


def test_each_cycle_holds_only_its_own_steps_ops():
    counts = []

    def ready(prof):
        counts.append({row.key: row.count for row in prof.key_averages()}.get("exp"))

    plan = chainrule.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    with profile(schedule=plan, on_trace_ready=ready) as prof:
        for _ in range(10):
            chainrule.ones(2).exp()
            prof.step()
    assert counts == [2, 2]  # two recorded steps a cycle, nothing from the idle ones
    assert observers.get() is None


def test_acc_events_keeps_every_cycles_events_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        counts = []
        plan = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
        ready = lambda prof: counts.append(prof.key_averages()[0].count)  # noqa: E731
        with lib.profiler.profile(schedule=plan, on_trace_ready=ready, acc_events=True) as prof:
            for _ in range(10):
                prof.step()
        return counts

    assert run(chainrule) == run(torch) == [2, 4]  # the ProfilerStep* row grows


def test_tensorboard_trace_handler_writes_a_trace_per_cycle(tmp_path):
    from chainrule.profiler import tensorboard_trace_handler

    plan = chainrule.profiler.schedule(wait=0, warmup=1, active=1, repeat=2)
    handler = tensorboard_trace_handler(str(tmp_path / "log"), worker_name="worker0")
    with profile(schedule=plan, on_trace_ready=handler) as prof:
        for _ in range(5):
            chainrule.ones(2).exp()
            prof.step()
    files = sorted((tmp_path / "log").iterdir())
    assert len(files) == 2
    assert all(f.name.startswith("worker0.") and f.name.endswith(".pt.trace.json") for f in files)
    names = [{e["name"] for e in json.loads(f.read_text())["traceEvents"]} for f in files]
    assert names == [{"ProfilerStep#1", "exp"}, {"ProfilerStep#3", "exp"}]


def test_a_trace_path_ending_in_gz_is_gzipped(tmp_path):
    import gzip

    with profile() as prof:
        chainrule.ones(2).exp()
    path = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(path))
    with gzip.open(path, "rt") as handle:
        assert [e["name"] for e in json.load(handle)["traceEvents"]] == ["exp"]
