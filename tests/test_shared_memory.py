"""Tensors in shared memory (Tensor.share_memory_, Module.share_memory), as PyTorch's: processes
started after sharing, by fork or spawn, and tensors sent through a multiprocessing Queue write
the same memory, which Hogwild training relies on; plain pickle still copies values."""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest

import chainrule
import chainrule.multiprocessing as mp

START_METHODS = [method for method in ("fork", "spawn") if method in mp.get_all_start_methods()]


def _shm_names() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def _add_one(tensor):
    tensor.add_(1)


def _train_steps(rank, model):
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    inputs = chainrule.ones(4, 3) * (rank + 1)
    for _ in range(3):
        optimizer.zero_grad()
        model(inputs).pow(2).mean().backward()
        optimizer.step()


def test_share_memory_moves_the_values_and_returns_the_tensor():
    x = chainrule.arange(6.0).reshape(2, 3)
    assert not x.is_shared()
    assert x.share_memory_() is x
    assert x.is_shared() and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x.detach().is_shared() and x[1].is_shared()  # views of shared memory are shared
    assert not x.clone().is_shared()


@pytest.mark.parametrize("method", START_METHODS)
def test_a_child_process_writes_the_parents_shared_tensor(method):
    context = mp.get_context(method)
    tensor = chainrule.zeros(3).share_memory_()
    child = context.Process(target=_add_one, args=(tensor,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert tensor.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("method", START_METHODS)
def test_hogwild_workers_train_the_parents_shared_module(method):
    chainrule.manual_seed(0)
    model = chainrule.nn.Linear(3, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    context = mp.get_context(method)
    workers = [context.Process(target=_train_steps, args=(rank, model)) for rank in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert all(not chainrule.equal(b, p.detach()) for b, p in zip(before, model.parameters()))


def test_a_queue_sends_a_shared_tensor_by_reference_and_others_by_value():
    queue = mp.get_context("spawn").Queue()
    shared, private = chainrule.zeros(2).share_memory_(), chainrule.zeros(2)
    queue.put((shared[1:], private))
    received_shared, received_private = queue.get(timeout=30)
    received_shared.add_(5)
    received_private.add_(5)
    assert shared.tolist() == [0.0, 5.0] and private.tolist() == [0.0, 0.0]


def test_pickle_and_deepcopy_copy_a_shared_tensors_values():
    x = chainrule.ones(3, requires_grad=True)
    with chainrule.no_grad():
        x.share_memory_()
    for copied in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert copied.requires_grad and not copied.is_shared()
        with chainrule.no_grad():
            copied.add_(1)
        assert x.tolist() == [1.0, 1.0, 1.0]


def test_the_block_is_removed_when_the_tensor_goes():
    before = _shm_names()
    x = chainrule.arange(1000.0).share_memory_()
    assert len(_shm_names() - before) == 1
    np.testing.assert_array_equal(x.numpy(), np.arange(1000.0, dtype=np.float32))
    del x
    assert _shm_names() - before == set()
