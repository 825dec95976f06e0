"""chainrule.futures against torch.futures, in one process: the same little programs run on both
libraries' Futures and must behave alike (values, errors and their messages, callback order);
and a collective's Work.get_future(), which polling completes."""

from __future__ import annotations

import threading
import time

import pytest
import torch

import chainrule
import chainrule.distributed as dist
from chainrule.futures import Future, collect_all, wait_all

LIBRARIES = {"chainrule": (Future, collect_all, wait_all)} | {
    "torch": (torch.futures.Future, torch.futures.collect_all, torch.futures.wait_all)
}


def both(program):
    """`program(Future, collect_all, wait_all)` on both libraries: (ours, theirs)."""
    return tuple(program(*LIBRARIES[name]) for name in ("chainrule", "torch"))


def outcome(call):
    """What `call()` gives, or its exception's type and message."""
    try:
        return ("value", call())
    except Exception as error:  # noqa: BLE001 - the outcome is what is compared
        return (type(error).__name__, str(error).split("\n")[0])


def test_then_chains_run_in_order_and_see_the_previous_value():
    def program(future_type, *_):
        order = []
        first = future_type()
        second = first.then(lambda f: order.append("second") or f.value() + 1)
        third = second.then(lambda f: order.append("third") or f.value() * 10)
        before = (first.done(), second.done(), third.done())
        first.set_result(1)
        return before, third.wait(), second.value(), order

    ours, theirs = both(program)
    assert ours == theirs == ((False, False, False), 20, 2, ["second", "third"])


def test_then_on_a_completed_future_runs_the_callback_at_once():
    def program(future_type, *_):
        order = []
        done = future_type()
        done.set_result(2)
        child = done.then(lambda f: order.append("callback") or f.value())
        order.append("after then")
        return order, child.done(), child.wait()

    ours, theirs = both(program)
    assert ours == theirs == (["callback", "after then"], True, 2)


def test_an_exception_propagates_through_then_as_a_runtime_error_naming_it():
    def program(future_type, *_):
        parent = future_type()
        reads = parent.then(lambda f: f.value() + 1)
        ignores = parent.then(lambda f: "fine")
        parent.set_exception(ValueError("boom"))
        return (
            outcome(parent.wait),
            outcome(reads.wait),
            outcome(reads.value),
            outcome(ignores.wait),
        )

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[0] == ("ValueError", "boom")
    assert ours[1] == (
        "RuntimeError",
        "Got the following error when running the callback: ValueError: boom",
    )
    assert ours[3] == ("value", "fine")


def test_a_callback_that_raises_fails_the_future_then_returned():
    def program(future_type, *_):
        parent = future_type()
        child = parent.then(lambda f: 1 / 0)
        grandchild = child.then(lambda f: f.value() + 1)
        parent.set_result(1)
        return outcome(child.wait), outcome(grandchild.wait)[0]

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[0] == (
        "RuntimeError",
        "Got the following error when running the callback: ZeroDivisionError: division by zero",
    )


def test_a_future_completes_once():
    def program(future_type, *_):
        fut = future_type()
        fut.set_result(1)
        twice = outcome(lambda: fut.set_result(2))
        return twice, fut.wait(), outcome(lambda: fut.set_exception(ValueError("late")))

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[0][0] == "RuntimeError" and "can only be marked completed once" in ours[0][1]


def test_set_exception_takes_only_exceptions():
    with pytest.raises(AssertionError, match="not an Exception"):
        torch.futures.Future().set_exception("no")
    with pytest.raises(AssertionError, match="is of type <class 'str'>, not an Exception."):
        Future().set_exception("no")


def test_collect_all_completes_when_every_future_has_and_fails_on_the_first_error():
    def program(future_type, collect, wait):
        a, b, c = future_type(), future_type(), future_type()
        together = collect([a, b])
        steps = [together.done()]
        a.set_result("a")
        steps.append(together.done())
        b.set_result("b")
        values = [f.value() for f in together.wait()]
        failing = collect([c, a])
        c.set_exception(ValueError("bad c"))
        empty = collect([])
        return steps, values, wait([a, b]), failing.done(), empty.wait()

    ours, theirs = both(program)
    assert ours == theirs == ([False, False], ["a", "b"], ["a", "b"], True, [])


def test_collect_all_and_wait_all_raise_the_error():
    failed = Future()
    failed.set_exception(KeyError("k"))
    with pytest.raises(KeyError):
        collect_all([failed, Future()]).wait()
    with pytest.raises(KeyError):
        wait_all([failed])


def test_a_future_set_by_another_thread_wakes_its_waiter():
    fut: Future[int] = Future()
    doubled = fut.then(lambda f: 2 * f.value())
    setter = threading.Timer(0.05, fut.set_result, args=(21,))
    setter.start()
    assert doubled.wait() == 42
    setter.join()


def test_a_done_callback_that_raises_warns_instead_of_raising():
    fut = Future()
    fut.add_done_callback(lambda f: {}["missing"])
    with pytest.warns(RuntimeWarning, match="KeyError"):
        fut.set_result(1)
    assert fut.wait() == 1


def test_value_before_completion_raises():
    with pytest.raises(RuntimeError, match="call wait"):
        Future().value()


def test_future_is_generic_as_torch_annotations_write_it():
    assert Future[chainrule.Tensor] == Future[chainrule.Tensor]
    assert "pending" in repr(Future())


# ---- a collective's Work and its Future ----------------------------------------------------


@pytest.fixture
def single():
    dist.init_process_group("single")
    yield
    dist.destroy_process_group()


def test_get_future_holds_the_list_of_output_tensors(single):
    """As torch's gloo: [tensor] for all_reduce and broadcast, the outputs for the gathers,
    [] for barrier."""
    t = chainrule.tensor([1.0, 2.0])
    assert dist.all_reduce(t, async_op=True).get_future().wait() == [t]
    assert dist.broadcast(t, src=0, async_op=True).get_future().wait() == [t]
    outputs = [chainrule.zeros(2)]
    gathered = dist.all_gather(outputs, t, async_op=True).get_future().wait()
    assert gathered == outputs and chainrule.equal(outputs[0], t)
    assert dist.barrier(async_op=True).get_future().wait() == []


def test_then_on_a_collective_sees_its_result(single):
    t = chainrule.tensor([2.0, 4.0])
    halved = dist.all_reduce(t, async_op=True).get_future().then(lambda f: f.value()[0] / 2)
    assert halved.done()  # one process: complete at once
    assert chainrule.equal(halved.wait(), chainrule.tensor([1.0, 2.0]))


class _SlowRequest:
    """A request that completes on the third Test(), as an MPI request in flight would."""

    def __init__(self) -> None:
        self.tests = 0

    def Test(self) -> bool:  # noqa: N802 - mpi4py's spelling
        self.tests += 1
        return self.tests >= 3


def test_a_work_future_is_completed_by_polling_and_waiting(single):
    """done() polls the Work (completing it once its requests have), wait() drives it; a
    nudge lets MPI progress without completing anything (no callback runs then)."""
    group = dist.group.WORLD
    finished = []
    request = _SlowRequest()
    work = dist.Work(group, "test", [request], lambda: finished.append(time.time()), ["out"])
    fut = work.get_future()
    seen = fut.then(lambda f: f.value())
    seen._progress()
    assert request.tests == 1 and not finished and not fut._done
    assert not seen.done()  # the second Test(): still in flight
    assert seen.wait() == ["out"] and len(finished) == 1 and work.is_completed()


def test_a_collective_that_fails_fails_its_future(single):
    """What wait() raises on the Work (a timeout, a failed peer) is the Future's exception."""

    def finish() -> None:
        raise dist.DistBackendError("all_reduce: rank 1 failed")

    work = dist.Work(dist.group.WORLD, "test", [_SlowRequest()], finish, [])
    chained = work.get_future().then(lambda f: f.value())
    with pytest.raises(RuntimeError, match="DistBackendError: all_reduce: rank 1 failed"):
        chained.wait()
    with pytest.raises(dist.DistBackendError):
        work.get_future().value()
