"""chainrule.utils.benchmark against torch.utils.benchmark: Measurements built from the same
times print and summarise alike; Timers run the statement the same number of times, with the
thread count set meanwhile. No assertion here depends on how fast anything runs."""

import re

import pytest
import torch.utils.benchmark as theirs

import chainrule
import chainrule.utils.benchmark as ours

TIMES = {
    "one block": (1000, [1.91e-3]),
    "steady": (100, [3.41e-5, 3.34e-5, 3.38e-5, 3.36e-5, 3.40e-5]),
    "noisy": (10, [1e-6, 2e-6, 9e-6, 1.5e-6, 1.2e-6, 8e-6, 1.1e-6]),
    "seconds": (1, [1.5, 1.6, 1.55, 1.7]),
}
SPECS = [
    dict(stmt="f(x)", setup="pass"),
    dict(stmt="f(x)", setup="x = 1", label="L", sub_label="S", description="D", num_threads=4),
    dict(stmt="a = 1\nf(a)", setup="import math\nx = 2", sub_label="two lines"),
]


def _pair(times, spec):
    number, raw = TIMES[times]
    return (
        ours.Measurement(number, list(raw), ours.TaskSpec(**spec)),
        theirs.Measurement(number, list(raw), theirs.TaskSpec(**spec)),
    )


def _without_address(measurement):
    """The repr after its first line (the object's type and address differ)."""
    return repr(measurement).split("\n", 1)[1]


@pytest.mark.parametrize("times", TIMES)
@pytest.mark.parametrize("spec", range(len(SPECS)))
def test_a_measurement_prints_and_summarises_as_torchs(times, spec):
    mine, reference = _pair(times, SPECS[spec])
    assert _without_address(mine) == _without_address(reference)
    assert repr(mine).startswith("<chainrule.utils.benchmark.Measurement object at 0x")
    for name in ("times", "median", "mean", "iqr"):
        assert getattr(mine, name) == pytest.approx(getattr(reference, name), rel=1e-12)
    for name in ("significant_figures", "has_warnings", "title", "as_row_name", "num_threads"):
        assert getattr(mine, name) == getattr(reference, name)
    assert mine.meets_confidence(0.05) == reference.meets_confidence(0.05)


def test_merge_pools_the_replicates_of_each_task_as_torch():
    spec = dict(stmt="f()", setup="pass")
    other = dict(stmt="g()", setup="pass")
    merged = {}
    for library in (ours, theirs):
        measurements = [
            library.Measurement(10, [1e-5, 2e-5], library.TaskSpec(**spec)),
            library.Measurement(100, [3e-4], library.TaskSpec(**other)),
            library.Measurement(5, [4e-5], library.TaskSpec(**spec)),
        ]
        merged[library] = library.Measurement.merge(measurements)
    assert [(m.stmt, m.number_per_run) for m in merged[ours]] == [("f()", 1), ("g()", 1)]
    assert [(m.stmt, m.number_per_run) for m in merged[theirs]] == [("f()", 1), ("g()", 1)]
    for mine, reference in zip(merged[ours], merged[theirs]):
        assert mine.times == pytest.approx(reference.times, rel=1e-12)


@pytest.mark.parametrize("t", [3e-9, 4.2e-7, 1e-6, 5.5e-4, 0.2, 12.0])
def test_units_and_significant_figures_as_torch(t):
    assert ours.select_unit(t) == theirs.select_unit(t)
    unit = ours.select_unit(t)[0]
    assert ours.unit_to_english(unit) == theirs.unit_to_english(unit)
    for figures in (1, 2, 3):
        assert ours.trim_sigfig(t * 1.2345, figures) == pytest.approx(
            theirs.trim_sigfig(t * 1.2345, figures), rel=1e-6
        )
    assert ours.ordered_unique([3, 1, 3, 2, 1]) == theirs.ordered_unique([3, 1, 3, 2, 1])


def _counting_timer(library, number):
    calls = []
    timer = library.Timer("record()", globals={"record": lambda: calls.append(1)})
    measurement = timer.timeit(number)
    return len(calls), measurement.number_per_run, len(measurement.raw_times)


@pytest.mark.parametrize("number", [1, 250, 1000])
def test_timeit_runs_a_warm_up_then_one_block_as_torch(number):
    assert _counting_timer(ours, number) == _counting_timer(theirs, number)


def test_blocked_autorange_times_blocks_of_a_power_of_ten_runs_until_min_run_time():
    seen = []
    measurement = ours.Timer("sum(range(50))").blocked_autorange(
        callback=lambda number, seconds: seen.append((number, seconds)), min_run_time=0.02
    )
    number = measurement.number_per_run
    assert re.fullmatch(r"10*", str(number))
    assert seen == [(number, t) for t in measurement.raw_times]
    assert sum(measurement.raw_times) >= 0.02  # the loop's stopping rule


def test_adaptive_autorange_takes_at_least_four_blocks():
    measurement = ours.Timer("pass").adaptive_autorange(threshold=0.5, max_run_time=5.0)
    assert len(measurement.raw_times) >= 4


def test_the_statement_sees_torch_and_the_thread_count_it_asked_for():
    before = chainrule.get_num_threads()
    seen = []
    timer = ours.Timer(
        "seen.append((torch.get_num_threads(), torch.ones(2).sum().item()))",
        globals={"seen": seen},
        num_threads=1,
    )
    timer.timeit(3)
    assert set(seen) == {(1, 2.0)}
    assert chainrule.get_num_threads() == before


def test_what_torch_refuses_is_refused_and_cpp_is_not_offered():
    for library in (ours, theirs):
        with pytest.raises(ValueError, match="only a `str` stmt"):
            library.Timer(lambda: None)
        with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
            library.Timer("pass", global_setup="int x;")
        with pytest.raises(NotImplementedError, match="blocked_autorange"):
            library.Timer("pass").repeat()
    with pytest.raises(NotImplementedError, match="C\\+\\+ toolchain"):
        ours.Timer("int x = 1;", language="c++")


def _measurements(library):
    """Two labels; sub_labels by thread count and env; descriptions as columns; one noisy."""
    rows = [
        ("matmul", "small", "cpu", 1, None, 100, [2.1e-5, 2.2e-5, 2.0e-5, 2.15e-5]),
        ("matmul", "small", "fused", 1, None, 100, [1.1e-5, 1.2e-5, 1.15e-5, 1.12e-5]),
        ("matmul", "large", "cpu", 1, None, 10, [4.1e-3, 4.3e-3, 4.0e-3, 4.2e-3]),
        ("matmul", "large", "fused", 4, None, 10, [1.0e-3, 3.0e-3, 1.1e-3, 2.9e-3]),
        ("matmul", "small", "cpu", 4, None, 100, [9.0e-6, 9.1e-6, 9.2e-6, 9.05e-6]),
        ("sum", "n=10", "cpu", 1, "env-a", 1000, [3.0e-4, 3.1e-4]),
        ("sum", "n=10", "cpu", 1, "env-b", 1000, [6.0e-4, 6.2e-4]),
        ("sum", "n=1000", "cuda", 1, "env-a", 1000, [2.0e-3, 2.1e-3]),
    ]
    return [
        library.Measurement(
            number,
            times,
            library.TaskSpec(
                "f(x)",
                "pass",
                label=label,
                sub_label=sub_label,
                description=description,
                num_threads=threads,
                env=env,
            ),
        )
        for label, sub_label, description, threads, env, number, times in rows
    ]


@pytest.mark.parametrize(
    "options",
    [(), ("trim_significant_figures",), ("colorize",), ("highlight_warnings",), ("rowwise",)],
)
def test_compare_lays_out_the_tables_as_torch(options):
    tables = []
    for library in (ours, theirs):
        compare = library.Compare(_measurements(library)[:-2])
        compare.extend_results(_measurements(library)[-2:])
        for option in options:
            if option == "rowwise":
                compare.colorize(rowwise=True)
            else:
                getattr(compare, option)()
        tables.append(str(compare))
    assert tables[0] == tables[1]
    assert "Times are in" in tables[0]


def test_compare_takes_only_measurements():
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        ours.Compare([1.0])
