"""chainrule.optim.swa_utils against torch.optim.swa_utils: the same model, updated the same
way, gives the same averaged weights, buffers and BatchNorm statistics; SWALR gives the same
learning rates step by step."""

import copy

import numpy as np
import pytest
import torch

import chainrule
from chainrule.optim import swa_utils


def _models(seed=0):
    """A small net with BatchNorm in chainrule and in torch, with equal weights."""
    chainrule.manual_seed(seed)
    ours = chainrule.nn.Sequential(
        chainrule.nn.Linear(3, 4), chainrule.nn.BatchNorm1d(4), chainrule.nn.Linear(4, 2)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _perturb(ours, theirs, rng):
    """Move both models' weights the same way and run a batch through both (BatchNorm's
    running statistics and batch count move too)."""
    batch = rng.standard_normal((5, 3)).astype(np.float32)
    with chainrule.no_grad(), torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            step = rng.standard_normal(tuple(p.shape)).astype(np.float32)
            p.add_(chainrule.tensor(step))
            q.add_(torch.tensor(step))
    ours.train()
    theirs.train()
    ours(chainrule.tensor(batch))
    theirs(torch.tensor(batch))


def _assert_state_equal(ours, theirs):
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(reference)
    for key in mine:
        np.testing.assert_allclose(mine[key].numpy(), reference[key].numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"use_buffers": True},
        {"multi_avg_fn": "ema"},
        {"multi_avg_fn": "ema", "use_buffers": True},
        {"avg_fn": "ema"},
        {"multi_avg_fn": "swa"},
    ],
    ids=str,
)
def test_averaged_model_tracks_torchs_average(options):
    ours, theirs = _models()
    made = {
        "ema": (
            swa_utils.get_ema_multi_avg_fn(0.8),
            torch.optim.swa_utils.get_ema_multi_avg_fn(0.8),
        ),
        "swa": (swa_utils.get_swa_multi_avg_fn(), torch.optim.swa_utils.get_swa_multi_avg_fn()),
    }
    single = (swa_utils.get_ema_avg_fn(0.7), torch.optim.swa_utils.get_ema_avg_fn(0.7))
    our_options, their_options = dict(options), dict(options)
    if "multi_avg_fn" in options:
        our_options["multi_avg_fn"], their_options["multi_avg_fn"] = made[options["multi_avg_fn"]]
    if "avg_fn" in options:
        our_options["avg_fn"], their_options["avg_fn"] = single
    our_average = swa_utils.AveragedModel(ours, **our_options)
    their_average = torch.optim.swa_utils.AveragedModel(theirs, **their_options)
    rng = np.random.default_rng(0)
    for _ in range(4):
        _perturb(ours, theirs, rng)
        our_average.update_parameters(ours)
        their_average.update_parameters(theirs)
        _assert_state_equal(our_average, their_average)
    assert our_average.n_averaged.item() == 4
    x = rng.standard_normal((2, 3)).astype(np.float32)
    our_average.eval()
    their_average.eval()
    np.testing.assert_allclose(
        our_average(chainrule.tensor(x)).detach().numpy(),
        their_average(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_the_first_update_copies_and_the_average_is_a_separate_copy():
    model = chainrule.nn.Linear(2, 2)
    average = swa_utils.AveragedModel(model)
    assert average.module is not model
    average.update_parameters(model)
    assert chainrule.equal(average.module.weight, model.weight)
    with chainrule.no_grad():
        model.weight.mul_(3)
    assert not chainrule.equal(average.module.weight, model.weight)
    assert average.module.weight.requires_grad  # a Parameter, as PyTorch's copy


def test_averaged_model_refuses_two_averaging_functions():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(
            chainrule.nn.Linear(1, 1),
            avg_fn=swa_utils.get_swa_avg_fn(),
            multi_avg_fn=swa_utils.get_swa_multi_avg_fn(),
        )


@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_ema_decay_outside_zero_one_is_refused(decay):
    for make in (swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match="Invalid decay value"):
            make(decay)


def test_integer_buffers_are_averaged_as_torch_does():
    """use_buffers=True averages num_batches_tracked too, written back into an int64."""
    ours, theirs = _models()
    our_average = swa_utils.AveragedModel(ours, use_buffers=True)
    their_average = torch.optim.swa_utils.AveragedModel(theirs, use_buffers=True)
    rng = np.random.default_rng(1)
    for _ in range(3):
        _perturb(ours, theirs, rng)
        _perturb(ours, theirs, rng)
        our_average.update_parameters(ours)
        their_average.update_parameters(theirs)
    ours_count = our_average.module[1].num_batches_tracked
    assert ours_count.dtype == chainrule.int64
    assert ours_count.item() == their_average.module[1].num_batches_tracked.item()


def test_update_bn_recomputes_the_statistics_as_torch_does():
    ours, theirs = _models(seed=3)
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]
    ours.eval()
    theirs.eval()
    swa_utils.update_bn([(chainrule.tensor(b), 0) for b in batches], ours)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], theirs)
    _assert_state_equal(ours, theirs)
    assert not ours.training  # the mode is restored
    assert ours[1].momentum == 0.1  # and the momentum


def test_update_bn_without_batchnorm_leaves_the_model_alone():
    model = chainrule.nn.Linear(2, 2)
    model.eval()
    swa_utils.update_bn([chainrule.ones(1, 2)], model)
    assert not model.training


@pytest.mark.parametrize(
    "options",
    [
        {"swa_lr": 0.05},
        {"swa_lr": 0.05, "anneal_epochs": 3, "anneal_strategy": "linear"},
        {"swa_lr": [0.05, 0.2], "anneal_epochs": 2},
        {"swa_lr": 0.3, "anneal_epochs": 0},
    ],
    ids=str,
)
def test_swalr_gives_torchs_learning_rates(options):
    ours = chainrule.optim.SGD(
        [
            {"params": [chainrule.zeros(1, requires_grad=True)]},
            {"params": [chainrule.zeros(1, requires_grad=True)], "lr": 0.5},
        ],
        lr=1.0,
    )
    theirs = torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)]},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5},
        ],
        lr=1.0,
    )
    our_schedule = swa_utils.SWALR(ours, **options)
    their_schedule = torch.optim.swa_utils.SWALR(theirs, **options)
    for _ in range(6):
        np.testing.assert_allclose(our_schedule.get_last_lr(), their_schedule.get_last_lr())
        ours.step()
        theirs.step()
        our_schedule.step()
        their_schedule.step()


def test_swalr_state_dict_round_trips():
    optimizer = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    schedule = swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=4)
    schedule.step()
    state = copy.deepcopy(schedule.state_dict())
    assert "anneal_func" not in state and "optimizer" not in state
    other = swa_utils.SWALR(optimizer, swa_lr=0.9, anneal_strategy="linear")
    other.load_state_dict(state)
    assert other.anneal_func == other._cosine_anneal
    assert other.anneal_epochs == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"anneal_strategy": "exp"}, "anneal_strategy must be one of"),
        ({"anneal_epochs": -1}, "anneal_epochs must be equal or greater than 0"),
        ({"anneal_epochs": 2.5}, "anneal_epochs must be equal or greater than 0"),
        ({"swa_lr": [0.1, 0.2]}, "swa_lr must have the same length"),
    ],
)
def test_swalr_refuses_what_torch_refuses(options, message):
    optimizer = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match=message):
        swa_utils.SWALR(optimizer, **{"swa_lr": 0.1, **options})


def test_swa_utils_is_reachable_as_an_attribute_of_optim():
    assert chainrule.optim.swa_utils is swa_utils
    assert "swa_utils" in dir(chainrule.optim)
