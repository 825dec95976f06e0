"""The meta device: shape-and-dtype-only tensors, checked against PyTorch's meta device."""

import pytest
import torch

import chainrule
from chainrule import BackendError, ShapeError
from chainrule.backend.meta import MetaArray


def on_meta(program):
    """Run `program(lib)` on chainrule and torch; every tensor it returns must be on the meta
    device with the same shape and dtype as torch's."""
    ours, theirs = program(chainrule), program(torch)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert mine.device == chainrule.device("meta") and mine.is_meta and reference.is_meta
        assert mine.shape == tuple(reference.shape)
        assert mine.dtype.name == str(reference.dtype).removeprefix("torch.")
        assert mine.requires_grad == reference.requires_grad


PROGRAMS = {
    "creation": lambda lib: (
        lib.zeros(2, 3, device="meta"),
        lib.ones(4, dtype=lib.int64, device="meta"),
        lib.empty((), device="meta"),
        lib.full((2, 2), 1.5, device="meta"),
        lib.arange(5, device="meta"),
        lib.tensor([[1, 2]], device="meta"),
        lib.randn(3, 2, device="meta", requires_grad=True),
    ),
    "to and *_like": lambda lib: (
        lib.ones(2, 3).to("meta"),
        lib.zeros(2, dtype=lib.float64).to("meta"),
        lib.empty_like(lib.zeros(3, 1), device="meta"),
        lib.zeros_like(lib.zeros(2, 5, device="meta")),
        lib.zeros(2, device="meta").to(lib.int32),
        lib.zeros(2, device="meta").double(),
    ),
    "elementwise": lambda lib: (
        lib.zeros(2, 3, device="meta") * 2 + lib.ones(3, device="meta"),
        lib.zeros(4, 1, device="meta").tanh() - lib.zeros(1, 5, device="meta"),
        lib.zeros(3, dtype=lib.int64, device="meta") / 2,
        lib.zeros(3, dtype=lib.int32, device="meta") + 1,
        lib.zeros(3, device="meta") > 0,
        lib.where(lib.zeros(3, device="meta") > 0, lib.zeros(2, 1, device="meta"), 1.0),
        lib.exp(lib.zeros(2, device="meta", dtype=lib.float64)),
    ),
    "reductions": lambda lib: (
        lib.zeros(2, 3, 4, device="meta").sum(),
        lib.zeros(2, 3, 4, device="meta").mean(1),
        lib.zeros(2, 3, 4, device="meta").amax((0, 2), keepdim=True),
        lib.zeros(2, 3, dtype=lib.int32, device="meta").sum(0),
        lib.zeros(2, 3, device="meta").argmax(1),
        lib.zeros(2, 3, device="meta").var(0),
        lib.zeros(2, 3, device="meta").softmax(-1),
        lib.zeros(2, 3, device="meta").max(1)[0],
    ),
    "matmul": lambda lib: (
        lib.zeros(2, 3, device="meta") @ lib.zeros(3, 4, device="meta"),
        lib.zeros(5, 2, 3, device="meta") @ lib.zeros(3, device="meta"),
        lib.matmul(lib.zeros(3, device="meta"), lib.zeros(7, 3, 2, device="meta")),
        lib.zeros(6, 1, 2, 3, device="meta") @ lib.zeros(4, 3, 5, device="meta"),
    ),
    "reshape and views": lambda lib: (
        lib.zeros(2, 3, 4, device="meta").reshape(6, -1),
        lib.zeros(2, 3, 4, device="meta").permute(2, 0, 1),
        lib.zeros(2, 3, 4, device="meta").transpose(0, 2),
        lib.zeros(2, 3, 4, device="meta")[1, :, None, ::2],
        lib.zeros(2, 3, 4, device="meta")[..., lib.tensor([0, 2, 2])],
        lib.zeros(2, 1, 4, device="meta").squeeze(1).unsqueeze(0),
        lib.zeros(2, 1, device="meta").expand(2, 5),
        lib.cat([lib.zeros(2, 3, device="meta"), lib.zeros(1, 3, device="meta")]),
        lib.stack([lib.zeros(2, device="meta")] * 3, 1),
        lib.zeros(2, 3, 4, device="meta").flatten(1),
        lib.zeros(5, device="meta").unfold(0, 2, 1),
    ),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_ops_on_meta_tensors_give_pytorchs_shapes_and_dtypes(name):
    on_meta(PROGRAMS[name])


def test_layers_built_and_run_on_meta_give_pytorchs_shapes():
    def program(lib):
        nn = lib.nn
        linear = nn.Linear(3, 4, device="meta")
        conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, device="meta")
        conv1d = nn.Conv1d(2, 5, 3, groups=1, device="meta")
        x = lib.zeros(6, 3, device="meta")
        image = lib.zeros(2, 3, 9, 9, device="meta")
        return (
            linear.weight,
            linear(x),
            lib.relu(linear(x)).sum(),
            conv(image),
            conv1d(lib.zeros(1, 2, 7, device="meta")),
        )

    on_meta(program)


def test_backward_on_meta_gives_meta_gradients():
    def program(lib):
        w = lib.zeros(3, 4, device="meta", requires_grad=True)
        (lib.zeros(2, 3, device="meta") @ w).tanh().sum().backward()
        return w.grad

    mine = program(chainrule)
    assert mine.is_meta and mine.shape == (3, 4) and not mine.requires_grad


def test_to_empty_gives_a_meta_model_memory():
    for lib in (chainrule, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)).to("meta")
        assert model[0].weight.is_meta and model[1].running_mean.is_meta
        model.to_empty(device="cpu")
        assert model[0].weight.device.type == "cpu" and model[1].running_mean.device.type == "cpu"
        assert model(lib.ones(2, 3)).shape == (2, 4)


def test_meta_tensors_print_as_pytorchs():
    def tensors(lib):
        return [
            lib.zeros(2, 3, device="meta"),
            lib.zeros(2, dtype=lib.int64, device="meta"),
            lib.zeros((), device="meta", requires_grad=True),
            lib.zeros(2, device="meta", requires_grad=True) * 2,
        ]

    for mine, theirs in zip(tensors(chainrule), tensors(torch)):
        assert repr(mine) == repr(theirs).replace("torch.", "chainrule.")


def test_reading_values_of_a_meta_tensor_raises_as_in_pytorch():
    x = chainrule.zeros(2, 3, device="meta")
    with pytest.raises(RuntimeError, match="item.* cannot be called on meta tensors"):
        x.sum().item()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        x.tolist()
    with pytest.raises(NotImplementedError, match="no data"):
        x.cpu()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        x.numpy()
    with pytest.raises(ShapeError, match="6 elements cannot be converted"):
        x.item()
    with pytest.raises(BackendError, match="add: .*devices: meta, cpu"):
        x + chainrule.zeros(3)


def test_ops_without_a_shape_rule_raise_naming_the_op():
    x = chainrule.zeros(3, 3, device="meta")
    with pytest.raises(NotImplementedError, match=r"linalg.inv on meta: .*numpy.linalg.inv"):
        chainrule.linalg.inv(x)
    with pytest.raises(NotImplementedError, match="data-dependent shape|argwhere"):
        x.nonzero()


def test_a_meta_model_costs_no_memory():
    big = chainrule.nn.Linear(50_000, 50_000, device="meta")  # 10 GB of float32 on a real device
    out = big(chainrule.zeros(8, 50_000, device="meta"))
    assert out.shape == (8, 50_000) and big.weight.numel() == 50_000 * 50_000
    assert isinstance(big.weight._array, MetaArray)  # shape and dtype, no memory
