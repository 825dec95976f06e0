"""Intra-op parallelism (backend/parallel.py): ops split their elementwise work over threads,
and the split never changes a result."""

import multiprocessing
import threading

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.backend import parallel
from chainrule.backend.special import normal_cdf_float32


@pytest.fixture
def threads(monkeypatch):
    """Set the thread count and a small grain for one test (so small arrays split), and put
    both back afterwards. `use.pool_blocks` lists the blocks the pool's threads ran, so a test
    can tell that its work really split."""
    before = parallel.get_threads()
    run_block = parallel._run_block

    def counting(body, start, stop):
        if threading.current_thread() is not threading.main_thread():
            use.pool_blocks.append((start, stop))
        run_block(body, start, stop)

    def use(count: int, grain: int = 4) -> None:
        parallel.set_threads(count)
        parallel.GRAIN = grain
        use.pool_blocks.clear()

    use.pool_blocks = []
    monkeypatch.setattr(parallel, "_run_block", counting)
    yield use
    parallel.set_threads(before)
    parallel.GRAIN = 1 << 16


def _blocks(size: int, item_elements: int = 1) -> list[tuple[int, int, str]]:
    seen: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def body(start: int, stop: int) -> None:
        with lock:
            seen.append((start, stop, threading.current_thread().name))

    parallel.parallel_for(size, body, item_elements)
    return sorted(seen)


def test_blocks_cover_the_range_once_one_block_per_thread(threads):
    threads(3)
    blocks = _blocks(100)
    assert [(start, stop) for start, stop, _ in blocks] == [(0, 34), (34, 68), (68, 100)]
    caller = threading.current_thread().name
    assert blocks[0][2] == caller  # the caller runs the first, the pool the others
    assert all(name.startswith("chainrule-intra-op") for _, _, name in blocks[1:])


def test_work_below_two_grains_is_not_split(threads):
    threads(4, grain=10)
    assert _blocks(19) == [(0, 19, threading.current_thread().name)]
    assert len(_blocks(20)) == 2
    assert len(_blocks(4, item_elements=10)) == 4  # rows of 10 elements count as 10 each


def test_one_thread_runs_everything_in_the_caller(threads):
    threads(1)
    assert _blocks(1000) == [(0, 1000, threading.current_thread().name)]


def test_a_split_inside_a_block_runs_in_place(threads):
    threads(2)
    inner = []

    def body(start: int, stop: int) -> None:
        inner.append(_blocks(50))

    parallel.parallel_for(100, body)
    assert all(len(blocks) == 1 for blocks in inner) and len(inner) == 2


def test_an_error_in_any_block_is_raised_after_all_blocks_end(threads):
    threads(3)
    finished = []

    def body(start: int, stop: int) -> None:
        if start > 0:
            raise ValueError(f"block at {start}")
        finished.append(start)

    with pytest.raises(ValueError, match="block at"):
        parallel.parallel_for(90, body)
    assert finished == [0]


def test_set_num_threads_sets_the_intra_op_threads(threads):
    before = chainrule.get_num_threads()
    chainrule.set_num_threads(3)
    try:
        assert chainrule.get_num_threads() == parallel.get_threads() == 3
    finally:
        chainrule.set_num_threads(before)


def _child_softmax(queue) -> None:
    x = chainrule.arange(4096.0).reshape(64, 64) / 1000
    queue.put(float(chainrule.softmax(x, -1).sum()))


def test_a_forked_child_makes_its_own_pool(threads):
    threads(2)
    _blocks(100)  # the parent's pool exists, with its threads
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_softmax, args=(queue,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == pytest.approx(64.0)


# ---- the ops that split: bit for bit the same with any number of threads -------------------

SHAPES = [(), (1,), (7,), (5, 13), (3, 4, 37)]


def _gelu(x):
    return F.gelu(x)


def _softmax_last(x):
    return F.softmax(x, -1) if x.ndim else F.softmax(x, 0)


def _softmax_first(x):
    return F.softmax(x, 0)


def _relu(x):
    return F.relu(x)


def _log_softmax(x):
    return F.log_softmax(x, -1) if x.ndim else F.log_softmax(x, 0)


def _cross_entropy(x):
    if x.ndim < 2:
        return x * 1.0
    positions = (x.shape[0], *x.shape[2:])
    target = np.arange(int(np.prod(positions))).reshape(positions) % x.shape[1]
    target.flat[-1] = -100  # one ignored position
    return F.cross_entropy(x, chainrule.tensor(target), reduction="none")


def _layer_norm(x):
    return F.layer_norm(x, x.shape[-1:]) if x.ndim else x * 1.0


def _value_and_grad(fn, x_array, g_array):
    x = chainrule.tensor(x_array, requires_grad=True)
    out = fn(x)
    out.backward(chainrule.tensor(g_array))
    return out.detach().numpy(), x.grad.numpy()


SPLIT_OPS = [_gelu, _softmax_last, _softmax_first, _log_softmax, _relu, _layer_norm, _cross_entropy]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fn", SPLIT_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_ops_equal_the_unsplit_ones_bit_for_bit(threads, fn, shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(tuple(fn(chainrule.tensor(x)).shape)).astype(dtype)
    threads(1)
    value, grad = _value_and_grad(fn, x, g)
    threads(3, grain=2)
    split_value, split_grad = _value_and_grad(fn, x, g)
    if shape == SHAPES[-1] and fn is not _softmax_first:  # only the last axis splits rows
        assert threads.pool_blocks, "the work did not split"
    np.testing.assert_array_equal(split_value, value)
    np.testing.assert_array_equal(split_grad, grad)


def test_normal_cdf_is_the_same_split_or_not_on_uneven_blocks(threads):
    x = np.random.default_rng(1).standard_normal(100_003).astype(np.float32) * 4
    threads(1)
    whole = normal_cdf_float32(x)
    threads(3, grain=1000)
    np.testing.assert_array_equal(normal_cdf_float32(x), whole)
    assert threads.pool_blocks
    np.testing.assert_array_equal(normal_cdf_float32(x[::3]), whole[::3])  # strided input


def test_normal_cdf_keeps_the_far_tail_relative_accuracy():
    x = np.array([-12.0, -8.0, -3.0, 0.0, 3.0, 8.0, np.inf, -np.inf], np.float32)
    exact = np.array([1.7764821e-33, 6.2209606e-16, 1.3498980e-03, 0.5, 0.99865010, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(normal_cdf_float32(x), exact, rtol=1e-5)
    assert np.isnan(normal_cdf_float32(np.array([np.nan], np.float32)))[0]


OPTIMIZERS = {
    "sgd": lambda params: chainrule.optim.SGD(params, lr=0.1),
    "sgd_nesterov_decay": lambda params: chainrule.optim.SGD(
        params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "sgd_dampening": lambda params: chainrule.optim.SGD(
        params, lr=0.1, momentum=0.5, dampening=0.3
    ),
    "adam_amsgrad_decay": lambda params: chainrule.optim.Adam(
        params, lr=0.01, amsgrad=True, weight_decay=0.1
    ),
    "adamw": lambda params: chainrule.optim.AdamW(params, lr=0.01),
}


def _train(make_optimizer, steps: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    weights = [
        chainrule.tensor(rng.standard_normal(shape), requires_grad=True) for shape in ((7, 5), (3,))
    ]
    weights.append(chainrule.tensor(rng.standard_normal((4, 6))[:, ::2], requires_grad=True))
    optimizer = make_optimizer(weights)
    for _ in range(steps):
        optimizer.zero_grad()
        sum(((w * w).sin()).sum() for w in weights).backward()
        optimizer.step()
    return [w.detach().numpy() for w in weights]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_split_equal_unsplit_bit_for_bit(threads, name):
    threads(1)
    whole = _train(OPTIMIZERS[name])
    threads(3, grain=2)
    trained = _train(OPTIMIZERS[name])
    assert threads.pool_blocks
    for split, reference in zip(trained, whole):
        np.testing.assert_array_equal(split, reference)


@pytest.mark.parametrize(
    "shape, kernel, stride",
    [((5, 2, 6, 6), 2, 2), ((3, 2, 7, 7), 3, 2), ((4, 3, 9), 3, 1)],
    ids=["disjoint", "overlapping", "1d"],
)
def test_max_pooling_split_equals_unsplit_bit_for_bit(threads, shape, kernel, stride):
    pool = F.max_pool1d if len(shape) == 3 else F.max_pool2d
    x = np.random.default_rng(3).standard_normal(shape)
    g = np.random.default_rng(4).standard_normal(pool(chainrule.tensor(x), kernel, stride).shape)
    threads(1)
    value, grad = _value_and_grad(lambda t: pool(t, kernel, stride), x, g)
    threads(3, grain=2)
    split_value, split_grad = _value_and_grad(lambda t: pool(t, kernel, stride), x, g)
    assert threads.pool_blocks
    np.testing.assert_array_equal(split_value, value)
    np.testing.assert_array_equal(split_grad, grad)


@pytest.mark.parametrize("channels, width", [(1, 12), (6, 7)], ids=["channels_first", "rows"])
def test_convolution_columns_split_equal_unsplit_bit_for_bit(threads, channels, width):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, channels, width, width))
    w = chainrule.tensor(rng.standard_normal((4, channels, 3, 3)))
    g = rng.standard_normal((3, 4, width, width))

    def conv(t):
        return F.conv2d(t, w, padding=1)

    threads(1)
    value, grad = _value_and_grad(conv, x, g)
    threads(3, grain=2)
    split_value, split_grad = _value_and_grad(conv, x, g)
    assert threads.pool_blocks
    np.testing.assert_array_equal(split_value, value)
    np.testing.assert_array_equal(split_grad, grad)
