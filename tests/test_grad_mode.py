"""Grad modes, specified against PyTorch: each is a context manager and a decorator, nothing is
recorded while recording is off, and the mode is per thread."""

from __future__ import annotations

import threading

import pytest
import torch

import chainrule

LIBS = pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])


def records(lib) -> bool:
    """Whether an op on a tensor that requires grad is recorded right now."""
    y = lib.ones(2, requires_grad=True) * 2
    return y.requires_grad and y.grad_fn is not None


def inference_enabled(lib) -> bool:
    return lib.is_inference_mode_enabled()


@LIBS
def test_nothing_is_recorded_under_no_grad(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        y = x * 2
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


@LIBS
def test_enable_grad_turns_recording_back_on_inside_no_grad(lib):
    with lib.no_grad():
        with lib.enable_grad():
            assert records(lib)
        assert not records(lib)


@LIBS
def test_set_grad_enabled_as_context_manager_and_as_function(lib):
    with lib.set_grad_enabled(False):
        assert not records(lib)
        with lib.set_grad_enabled(True):
            assert records(lib)
        assert not records(lib)
    assert records(lib)
    lib.set_grad_enabled(False)  # takes effect when called, like PyTorch
    try:
        assert not records(lib)
    finally:
        lib.set_grad_enabled(True)
    assert records(lib)


@LIBS
def test_inference_mode_records_nothing_and_reports_itself(lib):
    with lib.inference_mode():
        assert not records(lib) and inference_enabled(lib)
        with lib.inference_mode(False):
            assert records(lib) and not inference_enabled(lib)
    assert records(lib) and not inference_enabled(lib)


@LIBS
def test_modes_are_restored_when_the_block_raises(lib):
    with pytest.raises(KeyError):
        with lib.no_grad():
            raise KeyError("boom")
    assert lib.is_grad_enabled()


@LIBS
def test_every_mode_is_a_decorator(lib):
    @lib.no_grad()
    def without(x):
        return records(lib)

    @lib.enable_grad()
    def with_grad(x):
        return records(lib)

    @lib.set_grad_enabled(False)
    def disabled(x):
        return records(lib)

    @lib.inference_mode()
    def inferring(x):
        return records(lib), inference_enabled(lib)

    assert lib.is_grad_enabled()  # decorating with set_grad_enabled changed nothing
    assert without(1) is False
    with lib.no_grad():
        assert with_grad(1) is True
    assert disabled(1) is False
    assert inferring(1) == (False, True)
    assert records(lib)
    assert without.__name__ == "without"  # functools.wraps


@LIBS
def test_no_grad_and_inference_mode_decorate_without_parentheses(lib):
    @lib.no_grad
    def without(x):
        return x * 2

    @lib.inference_mode
    def inferring(x):
        return x * 2

    x = lib.ones(2, requires_grad=True)
    assert not without(x).requires_grad
    assert not inferring(x).requires_grad
    assert records(lib)


@LIBS
def test_a_decorated_generator_runs_in_the_mode_each_time_it_resumes(lib):
    @lib.no_grad()
    def generate():
        for _ in range(2):
            received = yield records(lib)
            assert received == "sent"
        return "done"

    states = []
    gen = generate()
    states.append(next(gen))
    states.append(records(lib))  # between steps, the caller's mode
    states.append(gen.send("sent"))
    with pytest.raises(StopIteration) as stop:
        gen.send("sent")
    assert states == [False, True, False]
    assert stop.value.value == "done"


@LIBS
def test_the_mode_is_per_thread(lib):
    seen = {}

    def worker():
        seen["enabled"] = lib.is_grad_enabled()
        seen["records"] = records(lib)

    with lib.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not lib.is_grad_enabled()
    assert seen == {"enabled": True, "records": True}


def test_one_instance_can_be_entered_again():
    # torch's no_grad keeps one saved state per instance, so nesting the same instance leaves
    # recording off afterwards; chainrule keeps a stack and restores it.
    mode = chainrule.no_grad()
    with mode:
        with mode:
            assert not records(chainrule)
        assert not records(chainrule)
    assert records(chainrule)
