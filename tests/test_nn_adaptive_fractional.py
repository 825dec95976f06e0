"""AdaptiveLogSoftmaxWithLoss and FractionalMaxPool2d/3d against torch: the same weights (or
the same random window draws) give the same outputs, losses, gradients and indices; the
constructors refuse what PyTorch's refuse."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule import nn


def _adaptive_pair(**options):
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 12, **options)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 12, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "options",
    [{"cutoffs": [4, 8]}, {"cutoffs": [3], "div_value": 2.0, "head_bias": True}],
    ids=str,
)
@pytest.mark.parametrize("target", [[0, 3, 5, 11, 4, 7, 9], [1, 2, 0, 3, 2, 1, 0]], ids=str)
def test_adaptive_log_softmax_matches_torch(options, target):
    """Targets in every cluster, or in the shortlist only (no cluster computed)."""
    ours, theirs = _adaptive_pair(**options)
    x = np.random.default_rng(0).standard_normal((len(target), 8)).astype(np.float32)
    out, loss = ours(chainrule.tensor(x), chainrule.tensor(target))
    tout, tloss = theirs(torch.tensor(x), torch.tensor(target))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5)
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-6)
    loss.backward()
    tloss.backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        if q.grad is None:  # a cluster no target fell in is not computed
            assert p.grad is None
            continue
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        ours.log_prob(chainrule.tensor(x)).detach().numpy(),
        theirs.log_prob(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
    )
    assert ours.predict(chainrule.tensor(x)).tolist() == theirs.predict(torch.tensor(x)).tolist()


def test_adaptive_log_softmax_takes_one_unbatched_example():
    ours, theirs = _adaptive_pair(cutoffs=[4, 8])
    x = np.random.default_rng(1).standard_normal(8).astype(np.float32)
    out, loss = ours(chainrule.tensor(x), chainrule.tensor(9))
    tout, _ = theirs(torch.tensor(x), torch.tensor(9))
    assert out.shape == () and loss.shape == ()
    assert out.item() == pytest.approx(tout.item(), rel=1e-6)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[]), ValueError),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[8, 4]), ValueError),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[4, 12]), ValueError),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[4, 4]), ValueError),
        (
            lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[4])(
                lib.zeros(2, 8), lib.tensor([0, 12])
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[4])(
                lib.zeros(3, 8), lib.tensor([0, 1])
            ),
            RuntimeError,
        ),
    ],
)
def test_adaptive_log_softmax_refuses_what_torch_refuses(make, error):
    with pytest.raises(error):
        make(torch)
    with pytest.raises(error):
        make(chainrule)


FRACTIONAL = [
    (2, (2, 3, 9, 8), (2, 3), {"output_size": (4, 5)}),
    (2, (3, 9, 9), 3, {"output_size": 5}),  # unbatched
    (2, (2, 2, 10, 10), 2, {"output_size": 9}),  # overlapping windows: gradients add up
    (2, (1, 2, 12, 9), 2, {"output_ratio": (0.5, 0.7)}),
    (3, (1, 2, 6, 7, 8), 2, {"output_size": (3, 4, 5)}),
    (3, (2, 6, 6, 6), (2, 3, 2), {"output_ratio": 0.5}),  # unbatched
]


@pytest.mark.parametrize(("dims", "shape", "kernel", "size"), FRACTIONAL, ids=str)
def test_fractional_max_pool_matches_torch_given_the_same_draws(dims, shape, kernel, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    batch = shape[0] if len(shape) == dims + 2 else 1
    samples = rng.random((batch, shape[-dims - 1], dims)).astype(np.float32)
    ours_x, theirs_x = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, ours_indices = getattr(F, f"fractional_max_pool{dims}d")(
        ours_x, kernel, **size, return_indices=True, _random_samples=chainrule.tensor(samples)
    )
    theirs, their_indices = getattr(TF, f"fractional_max_pool{dims}d")(
        theirs_x, kernel, **size, return_indices=True, _random_samples=torch.tensor(samples)
    )
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(ours_indices.numpy(), their_indices.numpy())
    cotangent = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    (ours * chainrule.tensor(cotangent)).sum().backward()
    (theirs * torch.tensor(cotangent)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


def test_fractional_max_pool_draws_fresh_windows_from_chainrules_generator():
    x = chainrule.randn(1, 1, 20, 20)
    pool = nn.FractionalMaxPool2d(2, output_size=6)  # not 7: (20 - 2) / (7 - 1) is whole
    chainrule.manual_seed(5)
    first = pool(x)
    chainrule.manual_seed(5)
    assert chainrule.equal(pool(x), first)
    assert not all(chainrule.equal(pool(x), first) for _ in range(3))


def test_fractional_max_pool_module_is_torchs():
    samples = torch.rand(1, 2, 2)
    ours = nn.FractionalMaxPool2d(
        2, output_size=3, _random_samples=chainrule.tensor(samples.numpy())
    )
    theirs = torch.nn.FractionalMaxPool2d(2, output_size=3, _random_samples=samples)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    assert ours.kernel_size == theirs.kernel_size and ours.output_size == theirs.output_size
    x = np.random.default_rng(2).standard_normal((1, 2, 7, 7)).astype(np.float32)
    np.testing.assert_array_equal(
        ours(chainrule.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()
    )
    values, indices = nn.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True)(
        chainrule.randn(1, 1, 6, 6, 6)
    )
    assert values.shape == indices.shape == (1, 1, 3, 3, 3)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda lib: lib.nn.FractionalMaxPool2d(2), ValueError),
        (lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5), ValueError),
        (lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError),
        (
            lambda lib: lib.nn.functional.fractional_max_pool2d(
                lib.zeros(1, 1, 7, 7), 2, output_size=7
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.nn.functional.fractional_max_pool3d(
                lib.zeros(1, 1, 7, 7, 7), 2, output_size=(6, 5, 5)
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.nn.functional.fractional_max_pool2d(
                lib.zeros(2, 1, 7, 7), 2, output_size=3, _random_samples=lib.zeros(1, 1, 2)
            ),
            RuntimeError,
        ),
    ],
)
def test_fractional_max_pool_refuses_what_torch_refuses(make, error):
    with pytest.raises(error):
        make(torch)
    with pytest.raises(error):
        make(chainrule)


def test_a_linear_layer_with_no_outputs_backpropagates():
    """The adaptive softmax's last clusters may project to in_features // div_value**i == 0
    units, as PyTorch's; their weight gradient is then (0, in_features)."""
    layer = nn.Linear(3, 0, bias=False)
    x = chainrule.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (0, 3)
    assert chainrule.equal(x.grad, chainrule.zeros(4, 3))
