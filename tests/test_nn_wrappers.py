"""nn names that wrap others, against torch 2.13: DataParallel (one device per process, as
PyTorch without GPUs), nn.utils.stateless.functional_call, NLLLoss2d,
TripletMarginWithDistanceLoss's default distance."""

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn

RNG = np.random.default_rng(5)


def test_data_parallel_runs_the_module_and_prefixes_its_state_as_torch():
    torch_model = torch.nn.DataParallel(torch.nn.Linear(3, 2).double())
    model = nn.DataParallel(nn.Linear(3, 2).to(dtype=chainrule.float64))
    assert list(model.state_dict()) == list(torch_model.state_dict())
    model.load_state_dict(
        {k: chainrule.tensor(v.numpy()) for k, v in torch_model.state_dict().items()}
    )
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(
        model(chainrule.tensor(x)).detach().numpy(), torch_model(torch.tensor(x)).detach().numpy()
    )
    assert isinstance(model.module, nn.Linear) and model.device_ids == []
    assert nn.parallel.data_parallel(model.module, chainrule.tensor(x)).shape == (4, 2)


def test_stateless_functional_call_warns_and_calls():
    layer = nn.Linear(2, 1)
    weights = {"weight": chainrule.ones(1, 2), "bias": chainrule.zeros(1)}
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = nn.utils.stateless.functional_call(layer, weights, (chainrule.tensor([[1.0, 2.0]]),))
    assert out.item() == 3.0


def test_nll_loss_2d_is_nll_loss():
    x, y = RNG.standard_normal((2, 3, 2, 2)), RNG.integers(0, 3, (2, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.NLLLoss2d()(torch.tensor(x), torch.tensor(y))
    actual = nn.NLLLoss2d()(chainrule.tensor(x), chainrule.tensor(y))
    assert actual.item() == pytest.approx(expected.item(), rel=1e-12)


def test_triplet_margin_with_distance_loss_defaults_to_the_euclidean_distance():
    a, p, n = (RNG.standard_normal((4, 3)) for _ in range(3))
    actual = nn.TripletMarginWithDistanceLoss(reduction="none")(*map(chainrule.tensor, (a, p, n)))
    expected = torch.nn.TripletMarginWithDistanceLoss(reduction="none")(
        *map(torch.tensor, (a, p, n))
    )
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)


def test_embedding_bag_module_matches_torch_and_prints_as_torch():
    theirs = torch.nn.EmbeddingBag(10, 3, mode="max", padding_idx=2).double()
    mine = nn.EmbeddingBag(10, 3, mode="max", padding_idx=2, dtype=chainrule.float64)
    mine.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    bags = np.array([[1, 2, 3], [2, 2, 2], [4, 5, 9]])  # the middle bag is all padding
    expected = theirs(torch.tensor(bags))
    actual = mine(chainrule.tensor(bags))
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy())
    assert repr(mine) == repr(theirs)
    frozen = nn.EmbeddingBag.from_pretrained(chainrule.ones(3, 2))
    assert not frozen.weight.requires_grad


def test_rrelu_module_is_leaky_relu_with_the_mean_slope_in_eval_and_random_in_training():
    x = RNG.standard_normal(200)
    expected = torch.nn.RReLU(0.1, 0.3).eval()(torch.tensor(x))
    actual = nn.RReLU(0.1, 0.3).eval()(chainrule.tensor(x))
    np.testing.assert_allclose(actual.numpy(), expected.numpy())
    assert repr(nn.RReLU(inplace=True)) == repr(torch.nn.RReLU(inplace=True))
    slopes = (nn.RReLU(0.1, 0.3)(chainrule.tensor(x)).numpy() / x)[x < 0]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.01
    inplace = chainrule.tensor(x)
    assert nn.functional.rrelu_(inplace) is inplace
    np.testing.assert_allclose(inplace.numpy()[x >= 0], x[x >= 0])
