"""DataLoader(num_workers=N): worker processes with torch.utils.data's protocol and seeding.

Datasets and functions live at module level so the tests also hold under the spawn and
forkserver start methods; they run under fork where the platform has it (fast to start).
"""

import collections
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata
from torch.utils.data._utils.worker import _generate_state

import chainrule
from chainrule import data
from chainrule.data.worker import numpy_seed_state

FORK = "fork" if "fork" in multiprocessing.get_all_start_methods() else None


def loader(dataset, **options):
    options.setdefault("multiprocessing_context", FORK if options.get("num_workers") else None)
    return data.DataLoader(dataset, **options)


def pid_gone(pid):
    """The process has exited (a zombie whose parent died and nobody reaped has exited too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until_gone(pids, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(pid_gone(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if not pid_gone(p)]


Sample = collections.namedtuple("Sample", ["image", "label"])


class Squares(data.Dataset):
    """Sample i: a namedtuple of a small tensor and a dict; where it was loaded, on request."""

    def __init__(self, n=23, report=False):
        self.n = n
        self.report = report

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        sample = Sample(chainrule.full((2, 2), float(i * i)), {"label": i, "name": f"s{i}"})
        if not self.report:
            return sample
        info = data.get_worker_info()
        return sample, (info.id, info.num_workers, info.seed, os.getpid(), info.dataset is self)


def flatten(batches):
    """Plain values of a list of nested batches, for comparison."""
    if isinstance(batches, chainrule.Tensor):
        return (str(batches.dtype), batches.tolist())
    if isinstance(batches, dict):
        return {key: flatten(value) for key, value in batches.items()}
    if isinstance(batches, (list, tuple)):
        return type(batches).__name__, [flatten(b) for b in batches]
    return batches


# ---- the batches are those of num_workers=0 ------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"batch_size": 4}, {"batch_size": 4, "drop_last": True}])
def test_map_style_batches_come_back_in_the_samplers_order(options):
    def shuffled(**more):
        generator = chainrule.Generator().manual_seed(5)
        return list(loader(Squares(), shuffle=True, generator=generator, **options, **more))

    plain = shuffled()
    workers = shuffled(num_workers=2, prefetch_factor=1)
    assert flatten(workers) == flatten(plain)
    assert type(workers[0]) is Sample and isinstance(workers[0].image, chainrule.Tensor)


def test_tensor_datasets_and_the_default_generator_give_the_same_epochs_as_without_workers():
    ds = data.TensorDataset(chainrule.randn(30, 3), chainrule.arange(30))
    chainrule.manual_seed(11)
    plain = [flatten(list(loader(ds, batch_size=4, shuffle=True))) for _ in range(2)]
    after_plain = chainrule.rand(()).item()
    chainrule.manual_seed(11)
    workers_loader = loader(ds, batch_size=4, shuffle=True, num_workers=2)
    workers = [flatten(list(workers_loader)) for _ in range(2)]
    assert workers == plain and plain[0] != plain[1]
    assert chainrule.rand(()).item() == after_plain  # the same draws from the default generator


def test_tensors_cross_with_their_dtype_and_other_objects_as_they_are():
    x = chainrule.arange(12, dtype=chainrule.int16).reshape(6, 2)
    ds = data.TensorDataset(x, chainrule.ones(6, dtype=chainrule.bool))
    (x, flags), *_ = loader(ds, batch_size=6, num_workers=1)
    assert x.dtype == chainrule.int16 and x.tolist() == [[2 * i, 2 * i + 1] for i in range(6)]
    assert flags.dtype == chainrule.bool and not x.requires_grad
    batches = list(loader(Squares(4), batch_size=None, num_workers=2, collate_fn=repr))
    assert batches == [repr(Squares(4)[i]) for i in range(4)]


# ---- worker_init_fn, get_worker_info, seeds -----------------------------------------------------


def record_start(worker_id):
    info = data.get_worker_info()
    path = os.environ["CHAINRULE_TEST_STARTS"]
    with open(path, "a") as log:
        log.write(f"{worker_id} {info.id} {os.getpid()}\n")


@pytest.fixture
def starts(tmp_path, monkeypatch):
    path = tmp_path / "starts.txt"
    monkeypatch.setenv("CHAINRULE_TEST_STARTS", str(path))
    return lambda: [line.split() for line in path.read_text().splitlines()]


def test_worker_init_fn_runs_once_in_each_worker_and_get_worker_info_describes_it(starts):
    assert data.get_worker_info() is None  # in the main process
    ds = Squares(9, report=True)
    reports = [
        r for _, r in loader(ds, batch_size=None, num_workers=2, worker_init_fn=record_start)
    ]
    ids = [r[0] for r in reports]
    assert ids == [0, 1] * 4 + [0]  # tasks go to the workers in turn
    assert all(r[1] == 2 and r[4] for r in reports)  # num_workers; info.dataset is the copy
    seeds = {r[0]: r[2] for r in reports}
    pids = {r[0]: r[3] for r in reports}
    assert sorted(starts()) == sorted([str(i), str(i), str(pids[i])] for i in range(2))
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert {seeds[i] - i for i in range(2)} == {seeds[0]}  # base_seed + worker_id


def draws(_):
    """What a worker's generators give first: chainrule's, Python's and NumPy's global one."""
    info = data.get_worker_info() or tdata.get_worker_info()
    ours = chainrule.initial_seed() if data.get_worker_info() else torch.initial_seed()
    return info.id, info.seed, ours, random.random(), float(np.random.random())


class Index(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i


def test_workers_are_seeded_by_pytorchs_formula():
    """In torch (observed here) and in chainrule: a worker's seed is base_seed + id, its
    framework generator and Python's `random` are seeded with it, and NumPy's global state
    with _generate_state(base_seed, id)."""
    options = {"batch_size": None, "num_workers": 2, "collate_fn": draws}
    torch_reports = list(tdata.DataLoader(Index(), multiprocessing_context=FORK, **options))
    our_reports = list(loader(Index(), **options))
    for reports, state in ((torch_reports, _generate_state), (our_reports, numpy_seed_state)):
        base = reports[0][1]
        for worker_id, seed, framework_seed, first_random, first_numpy in reports[:2]:
            assert seed == base + worker_id == framework_seed
            assert first_random == random.Random(seed).random()
            expected = np.random.RandomState(state(base, worker_id)).random_sample()
            assert first_numpy == expected
    for base in (0, 1, 2**32 - 1, 2**32, 2**63 - 1, our_reports[0][1]):
        for worker_id in (0, 1, 7):
            assert numpy_seed_state(base, worker_id) == _generate_state(base, worker_id)


def test_each_pass_draws_a_new_base_seed_from_the_loaders_generator():
    def seeds(generator_seed):
        gen = chainrule.Generator().manual_seed(generator_seed)
        options = {"batch_size": None, "num_workers": 2, "collate_fn": draws}
        ds_loader = loader(Index(), generator=gen, **options)
        return [sorted({report[1] for report in ds_loader}) for _ in range(2)]

    first, again = seeds(3), seeds(3)
    assert first == again and first[0] != first[1]
    assert seeds(4) != first


# ---- IterableDataset: one replica per worker --------------------------------------------------


def make_stream(library):
    library_data = tdata if library is torch else data
    get_worker_info = library_data.get_worker_info

    class Stream(library_data.IterableDataset):
        """0..n-1, each worker reading every num_workers-th element from its id on."""

        def __init__(self, n, shard):
            self.n = n
            self.shard = shard

        def __iter__(self):
            info = get_worker_info()
            if info is None or not self.shard:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

    return Stream


OurStream = make_stream(chainrule)
TorchStream = make_stream(torch)


@pytest.mark.parametrize("batch_size, drop_last", [(None, False), (3, False), (3, True)])
def test_an_iterable_dataset_is_replicated_and_sharded_as_in_torch(batch_size, drop_last):
    options = {"batch_size": batch_size, "drop_last": drop_last, "num_workers": 2}
    ours = loader(OurStream(17, shard=True), **options)
    theirs = tdata.DataLoader(TorchStream(17, shard=True), multiprocessing_context=FORK, **options)
    assert [chainrule.as_tensor(b).tolist() for b in ours] == [
        torch.as_tensor(b).tolist() for b in theirs
    ]


def test_an_unsharded_iterable_dataset_is_read_once_per_worker():
    items = [b.tolist() for b in loader(OurStream(5, shard=False), batch_size=5, num_workers=2)]
    assert items == [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]


# ---- errors ---------------------------------------------------------------------------------


class Faulty(data.Dataset):
    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise self.error
        return i


def test_a_workers_exception_is_raised_in_the_main_process_with_its_traceback():
    batches = iter(loader(Faulty(ValueError("bad sample 4")), batch_size=2, num_workers=2))
    assert next(batches).tolist() == [0, 1] and next(batches).tolist() == [2, 3]
    with pytest.raises(ValueError) as caught:
        next(batches)
    message = str(caught.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 0.")
    assert "Traceback (most recent call last)" in message and "raise self.error" in message
    assert "ValueError: bad sample 4" in message


def test_a_key_error_keeps_a_readable_message_and_init_errors_come_back_too():
    with pytest.raises(KeyError) as caught:
        list(loader(Faulty(KeyError("missing")), batch_size=2, num_workers=2))
    assert "Caught KeyError in DataLoader worker process 0" in str(caught.value)
    assert "\\n" not in str(caught.value)  # the message itself, not its repr
    with pytest.raises(ZeroDivisionError, match="in DataLoader worker process"):
        list(loader(Index(), num_workers=2, worker_init_fn=divide_by_zero))


def divide_by_zero(worker_id):
    return 1 / 0


class Slow(data.Dataset):
    def __init__(self, seconds, n=8):
        self.seconds = seconds
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return os.getpid()


def test_timeout_raises_when_a_batch_takes_longer():
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.1 seconds"):
        list(loader(Slow(5.0), num_workers=1, timeout=0.1))


class Dies(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


def test_a_worker_that_dies_is_reported():
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"
    ):
        list(loader(Dies(), num_workers=1))


def test_invalid_options_are_refused_as_torch_refuses_them():
    ds = Index()
    for kwargs, error, message in [
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers"),
        ({"multiprocessing_context": "fork"}, ValueError, "can only be used with multi-process"),
        ({"num_workers": 1, "multiprocessing_context": "carrier pigeon"}, ValueError,
         "should specify a valid start method"),
        ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "valid context object"),
        ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "should be non-negative"),
    ]:  # fmt: skip
        with pytest.raises(error, match=message):
            data.DataLoader(ds, **kwargs)
        with pytest.raises(error, match=message):
            tdata.DataLoader(ds, **kwargs)
    with pytest.raises(ValueError, match="prefetch_factor must be greater than 0"):
        iter(data.DataLoader(ds, num_workers=1, prefetch_factor=0))  # torch: an AssertionError
    too_many = len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else 512
    with pytest.warns(UserWarning, match=f"will create {too_many} worker processes"):
        data.DataLoader(ds, num_workers=too_many)


def test_pin_memory_is_accepted_and_warns_without_an_accelerator():
    if chainrule.cuda.is_available():
        pytest.skip("pinned memory is meaningful here")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true"):
        batches = list(loader(Index(), batch_size=2, num_workers=1, pin_memory=True))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3]]


# ---- lifetimes --------------------------------------------------------------------------------


def test_persistent_workers_serve_every_epoch_and_others_one(starts):
    options = {"num_workers": 2, "worker_init_fn": record_start}
    persistent = loader(Slow(0.0), persistent_workers=True, **options)
    epochs = [set(b.item() for b in persistent) for _ in range(3)]
    assert len(epochs[0]) == 2 and epochs[0] == epochs[1] == epochs[2]
    assert len(starts()) == 2  # worker_init_fn: once per worker, for all epochs
    interrupted = iter(persistent)
    next(interrupted)
    assert set(b.item() for b in persistent) == epochs[0]  # a full epoch after a broken one
    del persistent, interrupted
    assert wait_until_gone(epochs[0]) == []
    one_epoch = loader(Slow(0.0), num_workers=2)
    first, second = (set(b.item() for b in one_epoch) for _ in range(2))
    assert first.isdisjoint(second) and wait_until_gone(first | second) == []


def test_breaking_out_of_an_epoch_stops_its_workers():
    for batch in loader(Slow(0.0, n=50), num_workers=2):
        pids = [batch.item()]
        break
    assert wait_until_gone(pids) == []


def test_batches_in_order_wait_for_a_slow_worker_and_out_of_order_do_not():
    gate = multiprocessing.get_context(FORK).Event()
    ds = Gated(gate)
    early = iter(loader(ds, num_workers=2, in_order=False))
    assert next(early).item() == 1  # sample 0 waits for the gate
    gate.set()
    assert sorted([1] + [b.item() for b in early]) == [0, 1, 2, 3, 4, 5]
    gate.clear()
    with pytest.raises(RuntimeError, match="timed out"):
        next(iter(loader(ds, num_workers=2, timeout=0.5)))


class Gated(data.Dataset):
    def __init__(self, gate):
        self.gate = gate

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 0:
            self.gate.wait(10)
        return i


@pytest.mark.skipif(FORK is None, reason="the workers' inherited dataset needs fork")
@pytest.mark.parametrize("how", ["KeyboardInterrupt", "SIGKILL"])
def test_no_worker_outlives_an_interrupted_or_killed_main_process(tmp_path, how):
    script = tmp_path / "main.py"
    script.write_text(
        textwrap.dedent("""
        import os, sys, time
        from chainrule import data

        class Slow(data.Dataset):
            def __len__(self):
                return 1000

            def __getitem__(self, i):
                time.sleep(0.05)
                return os.getpid()

        seen = set()
        for batch in data.DataLoader(Slow(), num_workers=2):
            seen.add(batch.item())
            if len(seen) == 2:
                print(*seen, flush=True)
                seen.add(None)
    """)
    )
    main = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in main.stdout.readline().split()]
    assert len(workers) == 2
    main.send_signal(signal.SIGINT if how == "KeyboardInterrupt" else signal.SIGKILL)
    main.wait(timeout=30)
    main.stdout.close()
    assert wait_until_gone(workers) == []


def test_spawned_workers_load_the_same_batches():
    ds = data.TensorDataset(chainrule.arange(10.0).reshape(5, 2), chainrule.arange(5))
    batches = loader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert [y.tolist() for _, y in batches] == [[0, 1], [2, 3], [4]]
