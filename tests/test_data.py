"""chainrule.data against torch.utils.data semantics, and chainrule.datasets."""

import collections
import gzip
import struct

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import chainrule
from chainrule import data
from chainrule.datasets import load_digits, load_idx_dataset, read_idx
from chainrule.serialization import FileFormatError


def values(x):
    """Plain Python values of a (nested) batch, for comparison across libraries."""
    if isinstance(x, (chainrule.Tensor, torch.Tensor)):
        return (str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: values(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [values(v) for v in x]
    return x


def both_collate(make_batch):
    ours = data.default_collate(make_batch(chainrule))
    theirs = tdata.default_collate(make_batch(torch))
    return values(ours), values(theirs)


# ---- default_collate ---------------------------------------------------------------------------


Point = collections.namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize(
    "make_batch",
    [
        lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
        lambda lib: [lib.tensor(1), lib.tensor(2)],
        lambda lib: [1, 2, 3],
        lambda lib: [1.5, 2.5],
        lambda lib: [True, False],
        lambda lib: ["a", "b"],
        lambda lib: [np.str_("a"), np.str_("b")],
        lambda lib: [np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)],
        lambda lib: [np.float64(1.5), np.float64(2.0)],
        lambda lib: [np.float32(1.5), np.float32(2.0)],
        lambda lib: [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
        lambda lib: [[lib.tensor([1.0]), 0.5], [lib.tensor([2.0]), 1.5]],
        lambda lib: [
            {"image": lib.ones(2, 2), "label": 3, "meta": {"id": "a", "w": 0.5}},
            {"image": lib.zeros(2, 2), "label": 4, "meta": {"id": "b", "w": 1.0}},
        ],
        lambda lib: [Point(1, lib.tensor([1.0])), Point(2, lib.tensor([2.0]))],
    ],
    ids=[
        "tensors",
        "scalar_tensors",
        "ints",
        "floats",
        "bools",
        "strings",
        "numpy_strings",
        "numpy_arrays",
        "numpy_float64",
        "numpy_float32",
        "tuples",
        "lists",
        "dicts",
        "namedtuples",
    ],
)
def test_default_collate_matches_torch(make_batch):
    ours, theirs = both_collate(make_batch)
    assert ours == theirs


def test_default_collate_namedtuple_type_and_errors():
    batch = data.default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(batch, Point) and batch.x.dtype == chainrule.int64
    assert batch.y.dtype == chainrule.float64
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([chainrule.zeros(2), chainrule.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        data.default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        data.default_collate([np.array(["a"]), np.array(["b"])])


def test_default_collate_keeps_gradients_flowing():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([3.0, 4.0], requires_grad=True)
    batch = data.default_collate([a * 2, b])
    (batch * chainrule.tensor([[1.0, 1.0], [2.0, 2.0]])).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0] and b.grad.tolist() == [2.0, 2.0]


# ---- DataLoader --------------------------------------------------------------------------------


def digit_like(n=10):
    x = chainrule.arange(n * 3, dtype=chainrule.float32).reshape(n, 3)
    y = chainrule.arange(n)
    return data.TensorDataset(x, y)


def test_loader_batches_like_torch():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    ours = data.DataLoader(data.TensorDataset(chainrule.tensor(x), chainrule.arange(10)), 4)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.arange(10)), 4)
    assert len(ours) == len(theirs) == 3
    assert [values(b) for b in ours] == [values(b) for b in theirs]
    ours = data.DataLoader(ours.dataset, 4, drop_last=True)
    theirs = tdata.DataLoader(theirs.dataset, 4, drop_last=True)
    assert len(ours) == len(theirs) == 2
    assert [values(b) for b in ours] == [values(b) for b in theirs]


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i * i}


class TorchSquares(tdata.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i * i}


def test_loader_over_a_custom_dataset_of_dicts_matches_torch():
    ours = [values(b) for b in data.DataLoader(Squares(5), batch_size=2)]
    theirs = [values(b) for b in tdata.DataLoader(TorchSquares(), batch_size=2)]
    assert ours == theirs


def test_shuffle_is_a_permutation_and_a_seeded_generator_repeats_it():
    ds = digit_like(50)

    def epoch_orders(seed, epochs=2):
        loader = data.DataLoader(
            ds, batch_size=8, shuffle=True, generator=chainrule.Generator().manual_seed(seed)
        )
        return [[int(v) for _, y in loader for v in y.tolist()] for _ in range(epochs)]

    first, second = epoch_orders(0), epoch_orders(0)
    assert first == second  # the same seed gives the same orders
    assert sorted(first[0]) == list(range(50))  # every sample exactly once per epoch
    assert first[0] != first[1]  # a new order each epoch
    assert first[0] != list(range(50))
    assert epoch_orders(1)[0] != first[0]


def test_shuffle_without_generator_follows_manual_seed():
    ds = digit_like(20)
    orders = []
    for _ in range(2):
        chainrule.manual_seed(123)
        loader = data.DataLoader(ds, batch_size=5, shuffle=True)
        orders.append([v for _, y in loader for v in y.tolist()])
    assert orders[0] == orders[1]


def test_batch_size_none_disables_batching():
    ours = list(data.DataLoader(Squares(3), batch_size=None))
    assert len(ours) == 3 and isinstance(ours[1]["x"], chainrule.Tensor)
    assert ours[1]["x"].tolist() == [1.0, 1.0] and ours[1]["y"] == 1


def test_custom_sampler_batch_sampler_and_collate_fn():
    ds = digit_like(10)
    loader = data.DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 6])
    assert [y.tolist() for _, y in loader] == [[9, 8, 7], [6]]
    loader = data.DataLoader(ds, batch_sampler=[[0, 5], [1]])
    assert len(loader) == 2 and [y.tolist() for _, y in loader] == [[0, 5], [1]]
    loader = data.DataLoader(ds, batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(loader) == [4, 4, 2]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        data.DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        data.DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        data.DataLoader(ds, num_workers=-1)


def test_weighted_random_sampler_draws_by_weight_as_torch():
    weights = [0.0, 2.0, 0.0, 1.0, 1.0]
    drawn = list(data.WeightedRandomSampler(weights, 50))
    assert len(drawn) == 50 and set(drawn) <= {1, 3, 4} and drawn.count(1) > drawn.count(3)
    gen = chainrule.Generator().manual_seed(0)
    without = list(data.WeightedRandomSampler(weights, 3, replacement=False, generator=gen))
    assert sorted(without) == [1, 3, 4]
    sampler = data.WeightedRandomSampler(chainrule.tensor(weights), 7)
    assert len(sampler) == 7 and sampler.weights.dtype == chainrule.float64
    for args, message in [
        (([1.0], 0), "num_samples should be a positive integer value"),
        (([1.0], True), "num_samples should be a positive integer value"),
        (([1.0], 2, 1), "replacement should be a boolean value"),
        (
            ([[1.0, 2.0]], 2),
            r"weights should be a 1d sequence but given weights have shape \(1, 2\)",
        ),
    ]:
        for library in (data, tdata):
            with pytest.raises(ValueError, match=message):
                library.WeightedRandomSampler(*args)


def test_fast_row_gather_equals_collating_samples():
    ds = digit_like(12)
    subset = data.Subset(ds, [11, 3, 5, 0, 7])
    fast = list(data.DataLoader(subset, batch_size=2))
    slow = list(data.DataLoader(subset, batch_size=2, collate_fn=data.default_collate))
    slow_reference = [data.default_collate([subset[i] for i in (0, 1)])]
    assert values(fast) == values(slow)
    assert values(fast[:1]) == values(slow_reference)
    assert fast[0][1].tolist() == [11, 3]


class Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_batches_and_length():
    loader = data.DataLoader(Stream(7), batch_size=3)
    assert len(loader) == 3 and [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    loader = data.DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    with pytest.raises(ValueError, match="shuffle"):
        data.DataLoader(Stream(3), shuffle=True)
    chained = Stream(2) + Stream(3)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


# ---- datasets, samplers, splits ------------------------------------------------------------


def test_tensor_dataset_subset_concat():
    ds = digit_like(4)
    x, y = ds[2]
    assert x.tolist() == [6.0, 7.0, 8.0] and int(y) == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        data.TensorDataset(chainrule.zeros(3, 2), chainrule.zeros(4))
    sub = data.Subset(ds, [3, 1])
    assert len(sub) == 2 and int(sub[0][1]) == 3 and [int(s[1]) for s in sub[[0, 1]]] == [3, 1]
    both = ds + digit_like(2)
    assert isinstance(both, data.ConcatDataset) and len(both) == 6
    assert int(both[4][1]) == 0 and int(both[-1][1]) == 1 and int(both[3][1]) == 3
    with pytest.raises(IndexError):
        both[6]
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-7]


@pytest.mark.parametrize(
    ("n", "lengths"),
    [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]), (30, [0.3, 0.3, 0.4]), (7, [0.2] * 5)],
)
def test_random_split_sizes_match_torch(n, lengths):
    ours = data.random_split(range(n), lengths, generator=chainrule.Generator().manual_seed(0))
    theirs = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = sorted(i for s in ours for i in s)
    assert everything == list(range(n))  # disjoint and complete
    again = data.random_split(range(n), lengths, generator=chainrule.Generator().manual_seed(0))
    assert [list(s) for s in again] == [list(s) for s in ours]


def test_random_split_errors():
    with pytest.raises(ValueError, match="does not equal the length"):
        data.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        data.random_split(range(10), [1.5, -0.5])


def test_samplers():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    gen = chainrule.Generator().manual_seed(3)
    order = list(data.RandomSampler(range(6), generator=gen))
    assert sorted(order) == list(range(6))
    longer = list(data.RandomSampler(range(4), num_samples=10, generator=gen))
    assert len(longer) == 10 and all(longer.count(i) >= 2 for i in range(4))
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=50, generator=gen))
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}
    picked = list(data.SubsetRandomSampler([10, 20, 30], generator=gen))
    assert sorted(picked) == [10, 20, 30]
    batches = data.BatchSampler(range(7), 3, drop_last=True)
    assert list(batches) == [[0, 1, 2], [3, 4, 5]] and len(batches) == 2
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        data.RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        data.BatchSampler(range(3), 0, False)


# ---- chainrule.datasets ------------------------------------------------------------------------


def test_load_digits_splits_are_deterministic_and_disjoint():
    full = load_digits()
    train, test = load_digits("train"), load_digits("test")
    assert len(full) == 1797 and len(train) + len(test) == 1797 and len(test) == 360
    x, y = full.tensors
    assert tuple(x.shape) == (1797, 1, 8, 8) and x.dtype == chainrule.float32
    assert y.dtype == chainrule.int64 and float(x.min()) == 0.0 and float(x.max()) == 1.0
    again = load_digits("test")
    assert again.tensors[1].tolist() == test.tensors[1].tolist()
    assert np.array_equal(again.tensors[0].numpy(), test.tensors[0].numpy())
    other_seed = load_digits("test", seed=1)
    assert other_seed.tensors[1].tolist() != test.tensors[1].tolist()
    rows = {r.tobytes() for r in full.tensors[0].numpy().reshape(1797, -1)}
    assert len(rows) > 1700  # the digits are (almost all) distinct, so check disjointness
    train_rows = {r.tobytes() for r in train.tensors[0].numpy().reshape(len(train), -1)}
    test_rows = {r.tobytes() for r in test.tensors[0].numpy().reshape(len(test), -1)}
    assert len(train_rows & test_rows) < 5
    with pytest.raises(ValueError, match="split must be"):
        load_digits("valid")


def write_idx(path, array, type_byte, compress=False, cut=0):
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if cut:
        payload = payload[:-cut]
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(payload)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("dtype", "type_byte"),
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_read_idx_round_trips_every_type(tmp_path, compress, dtype, type_byte):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / "x.idx", array, type_byte, compress)
    result = read_idx(path)
    assert result.dtype.name == np.dtype(dtype).name
    np.testing.assert_array_equal(result.numpy(), array)


def test_read_idx_errors_name_the_file(tmp_path):
    bad_magic = tmp_path / "bad-magic.idx"
    bad_magic.write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(FileFormatError, match="bad-magic.idx: not an IDX file"):
        read_idx(bad_magic)
    bad_type = tmp_path / "bad-type.idx"
    bad_type.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    with pytest.raises(FileFormatError, match="bad-type.idx: not an IDX file"):
        read_idx(bad_type)
    cut = write_idx(tmp_path / "cut.idx", np.zeros((4, 4), np.uint8), 0x08, cut=3)
    with pytest.raises(FileFormatError, match=r"cut.idx: truncated IDX file.*\(4, 4\)"):
        read_idx(cut)
    cut_gz = write_idx(tmp_path / "cut.idx.gz", np.zeros((4, 4), np.int32), 0x0C, True, cut=1)
    with pytest.raises(FileFormatError, match="cut.idx.gz: truncated"):
        read_idx(cut_gz)
    broken_gzip = tmp_path / "broken.gz"
    broken_gzip.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab")[:-6])
    with pytest.raises(FileFormatError, match="broken.gz: corrupted gzip"):
        read_idx(broken_gzip)
    short_header = tmp_path / "short.idx"
    short_header.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(FileFormatError, match="short.idx: truncated IDX file"):
        read_idx(short_header)


def test_load_idx_dataset(tmp_path):
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    labels = np.array([7, 2], dtype=np.uint8)
    image_path = write_idx(tmp_path / "images-idx3-ubyte.gz", images, 0x08, compress=True)
    label_path = write_idx(tmp_path / "labels-idx1-ubyte", labels, 0x08)
    ds = load_idx_dataset(image_path, label_path)
    x, y = ds[1]
    assert tuple(x.shape) == (1, 3, 3) and x.dtype == chainrule.float32
    np.testing.assert_allclose(x.numpy()[0], images[1] / 255.0, rtol=1e-6)
    assert int(y) == 2 and y.dtype == chainrule.int64
    few_labels = write_idx(tmp_path / "few-labels", labels[:1], 0x08)
    with pytest.raises(ValueError, match="few-labels: expected 2 labels"):
        load_idx_dataset(image_path, few_labels)
