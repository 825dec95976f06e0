"""chainrule.nn.utils.prune against torch.nn.utils.prune: the same modules with the same
weights pruned the same way under both libraries give identical masks, state_dict keys,
outputs and gradients; among equal magnitudes at the cut, the same magnitudes are pruned."""

import os

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as their_prune

import chainrule
import chainrule.nn.utils.prune as our_prune
from chainrule import nn


def twin_linears(weights: np.ndarray, bias: bool = True):
    """A chainrule and a torch Linear holding `weights` (out, in) and a seeded bias."""
    out_features, in_features = weights.shape
    ours = nn.Linear(in_features, out_features, bias=bias)
    theirs = torch.nn.Linear(in_features, out_features, bias=bias)
    state = {"weight": weights}
    if bias:
        state["bias"] = np.linspace(-1, 1, out_features, dtype=np.float32)
    ours.load_state_dict({k: chainrule.tensor(v) for k, v in state.items()})
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return ours, theirs


def twin_convs(seed: int):
    weights = np.random.default_rng(seed).normal(size=(6, 3, 2, 2)).astype(np.float32)
    ours, theirs = nn.Conv2d(3, 6, 2), torch.nn.Conv2d(3, 6, 2)
    ours.load_state_dict({"weight": chainrule.tensor(weights), "bias": chainrule.zeros(6)})
    theirs.load_state_dict({"weight": torch.tensor(weights), "bias": torch.zeros(6)})
    return ours, theirs


def assert_same_pruned_module(ours, theirs, x: np.ndarray):
    """Same state_dict (keys and values), same output, same gradients for every parameter."""
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state)
    for key in our_state:
        np.testing.assert_array_equal(our_state[key].numpy(), their_state[key].numpy(), key)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    our_out = ours(chainrule.tensor(x))
    their_out = theirs(torch.tensor(x))
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=1e-5)
    (our_out**2).sum().backward()
    (their_out**2).sum().backward()
    our_grads = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(our_grads[name].grad.numpy(), param.grad.numpy(), atol=1e-4)


def random_weights(seed: int, shape=(5, 8)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def tied_weights(seed: int, shape=(6, 11)) -> np.ndarray:
    """Magnitudes from {0, 1, 2}: most of the cut falls among equal values."""
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float32)


@pytest.mark.parametrize("amount", [0, 3, 40, 0.0, 0.25, 0.5, 1.0])
def test_l1_unstructured_prunes_what_torch_prunes(amount):
    ours, theirs = twin_linears(random_weights(0))
    assert our_prune.l1_unstructured(ours, "weight", amount=amount) is ours
    their_prune.l1_unstructured(theirs, "weight", amount=amount)
    x = random_weights(1, (3, ours.in_features))
    assert_same_pruned_module(ours, theirs, x)
    assert list(dict(ours.named_buffers())) == ["weight_mask"]
    assert isinstance(ours.weight_orig, nn.Parameter)
    assert not isinstance(ours.weight, nn.Parameter)


def pruned_magnitudes(layer) -> list:
    """The magnitudes a mask prunes, sorted: what pruning must agree on where ties make the
    entries themselves a free choice."""
    weights = np.abs(layer.weight_orig.detach().numpy())
    return sorted(weights[layer.weight_mask.numpy() == 0].tolist())


@pytest.mark.parametrize("seed", range(12))
def test_ties_among_equal_magnitudes_prune_the_magnitudes_torch_prunes(seed):
    """Where equal magnitudes straddle the cut, PyTorch's pick among them follows its C++
    selection algorithm; chainrule prunes as many, of the same magnitudes."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 40)), int(rng.integers(20, 90)))
    size = shape[0] * shape[1]
    amount = int(rng.integers(1, size // 64 + 2)) if seed % 2 else float(rng.uniform(0.1, 0.9))
    ours, theirs = twin_linears(tied_weights(seed, shape), bias=False)
    our_prune.l1_unstructured(ours, "weight", amount=amount)
    their_prune.l1_unstructured(theirs, "weight", amount=amount)
    assert pruned_magnitudes(ours) == pruned_magnitudes(theirs)


def test_topk_indices_take_the_values_torch_takes_with_nans_and_ties():
    rng = np.random.default_rng(7)
    for _ in range(50):
        values = rng.integers(0, 4, size=int(rng.integers(1, 300))).astype(np.float32)
        values[rng.random(values.size) < 0.05] = np.nan
        k = int(rng.integers(1, values.size + 1))
        for largest in (True, False):
            ours = our_prune.topk_indices(chainrule.tensor(values), k, largest)
            theirs = torch.topk(torch.tensor(values), k, largest=largest).indices
            assert len(set(ours.tolist())) == k
            taken = np.sort(values[ours.numpy()])
            np.testing.assert_array_equal(taken, np.sort(values[theirs.numpy()]))


@pytest.mark.parametrize("n, dim", [(1, 0), (2, 0), (2, 1), (float("inf"), -1), (1, -3)])
def test_ln_structured_prunes_the_channels_torch_prunes(n, dim):
    ours, theirs = twin_convs(3)
    our_prune.ln_structured(ours, "weight", amount=0.5, n=n, dim=dim)
    their_prune.ln_structured(theirs, "weight", amount=0.5, n=n, dim=dim)
    assert_same_pruned_module(ours, theirs, random_weights(4, (2, 3, 4, 4)))


def test_iterative_pruning_builds_a_container_as_torch():
    ours, theirs = twin_convs(5)
    for prune in (our_prune, their_prune):
        module = ours if prune is our_prune else theirs
        prune.l1_unstructured(module, "weight", amount=0.2)
        prune.ln_structured(module, "weight", amount=2, n=1, dim=1)
        prune.l1_unstructured(module, "weight", amount=5)
        prune.identity(module, "bias")
    hook = next(iter(ours._forward_pre_hooks.values()))
    assert isinstance(hook, our_prune.PruningContainer)
    assert [type(m).__name__ for m in hook] == ["L1Unstructured", "LnStructured", "L1Unstructured"]
    assert_same_pruned_module(ours, theirs, random_weights(6, (2, 3, 4, 4)))


def test_importance_scores_choose_instead_of_the_weights():
    ours, theirs = twin_linears(random_weights(8))
    scores = random_weights(9)
    our_prune.l1_unstructured(ours, "weight", 0.4, importance_scores=chainrule.tensor(scores))
    their_prune.l1_unstructured(theirs, "weight", 0.4, importance_scores=torch.tensor(scores))
    assert_same_pruned_module(ours, theirs, random_weights(10, (2, 8)))


def test_global_unstructured_and_custom_from_mask_as_torch():
    pairs = [twin_linears(random_weights(seed)) for seed in (11, 12)]
    mask = (random_weights(13, (5,)) > 0).astype(np.float32)
    for index, prune in enumerate((our_prune, their_prune)):
        modules = [pair[index] for pair in pairs]
        prune.custom_from_mask(
            modules[1], "bias", chainrule.tensor(mask) if index == 0 else torch.tensor(mask)
        )
        prune.global_unstructured(
            [(modules[0], "weight"), (modules[1], "weight"), (modules[1], "bias")],
            pruning_method=prune.L1Unstructured,
            amount=30,
        )
    for ours, theirs in pairs:
        assert_same_pruned_module(ours, theirs, random_weights(14, (2, 8)))


def test_remove_makes_the_pruning_permanent():
    ours, theirs = twin_linears(random_weights(15))
    for prune, module in ((our_prune, ours), (their_prune, theirs)):
        prune.l1_unstructured(module, "weight", amount=0.5)
        assert prune.is_pruned(module)
        assert prune.remove(module, "weight") is module
        assert not prune.is_pruned(module)
    assert isinstance(ours.weight, nn.Parameter)
    assert_same_pruned_module(ours, theirs, random_weights(16, (2, 8)))
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        our_prune.remove(ours, "weight")


def test_random_methods_prune_the_requested_amount_in_the_right_shape():
    chainrule.manual_seed(0)
    layer = nn.Linear(10, 6)
    our_prune.random_unstructured(layer, "weight", amount=0.25)
    assert int((layer.weight_mask == 0).sum()) == 15
    assert bool(((layer.weight == 0) | (layer.weight_mask == 1)).all())
    conv = nn.Conv2d(3, 8, 3)
    our_prune.random_structured(conv, "weight", amount=3, dim=0)
    kept = conv.weight_mask.sum(dim=(1, 2, 3)).tolist()
    assert sorted(kept) == [0.0] * 3 + [27.0] * 5
    masks = set()
    for seed in range(6):  # the choice is random: seeds choose differently
        chainrule.manual_seed(seed)
        layer = our_prune.random_unstructured(nn.Linear(10, 6), "weight", amount=0.5)
        masks.add(tuple(layer.weight_mask.reshape(-1).tolist()))
    assert len(masks) > 1


@pytest.mark.parametrize(
    "amount, error, message",
    [
        (1.5, ValueError, "should either be a float in the range"),
        (-1, ValueError, "should either be a float in the range"),
        ("half", TypeError, "Invalid type for amount"),
        (41, ValueError, "should be smaller than the number of parameters to prune=40"),
    ],
)
def test_bad_amounts_raise_as_torch_and_leave_the_module_as_it_was(amount, error, message):
    ours, theirs = twin_linears(random_weights(17))
    with pytest.raises(error, match=message):
        their_prune.l1_unstructured(theirs, "weight", amount=amount)
    with pytest.raises(error, match=message):
        our_prune.l1_unstructured(ours, "weight", amount=amount)
    # The parameter is back under its name (after the bias, as in torch: re-registered).
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert isinstance(ours.weight, nn.Parameter)
    assert not our_prune.is_pruned(ours)


def test_structured_pruning_needs_a_multidimensional_tensor():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="Structured pruning can only be applied"):
        our_prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)


def test_state_dict_of_a_pruned_module_loads_into_a_pruned_twin():
    source, _ = twin_linears(random_weights(18))
    target, _ = twin_linears(random_weights(19))
    our_prune.l1_unstructured(source, "weight", amount=0.5)
    our_prune.identity(target, "weight")
    target.load_state_dict(source.state_dict())
    target(chainrule.ones(1, 8))  # the pre-hook recomputes weight from the loaded tensors
    np.testing.assert_array_equal(target.weight.detach().numpy(), source.weight.detach().numpy())


@pytest.mark.device
def test_pruning_on_the_device_masks_as_on_the_cpu():
    """'fake' (CuPy's behaviour on the CPU) unless CHAINRULE_TEST_DEVICE names another."""
    device = chainrule.device(os.environ.get("CHAINRULE_TEST_DEVICE", "fake"))
    layers = []
    for where in ("cpu", device):
        layer, _ = twin_linears(tied_weights(20))
        layer = layer.to(where)
        our_prune.l1_unstructured(layer, "weight", amount=0.4)
        our_prune.ln_structured(layer, "weight", amount=1, n=2, dim=0)
        parameters = [(layer, "weight"), (layer, "bias")]
        our_prune.global_unstructured(parameters, our_prune.L1Unstructured, amount=5)
        out = layer(chainrule.ones(2, 11, device=where))
        out.sum().backward()
        layers.append(layer)
    on_cpu, on_device = layers
    assert on_device.weight_mask.device == device
    np.testing.assert_array_equal(on_device.weight_mask.cpu().numpy(), on_cpu.weight_mask.numpy())
    np.testing.assert_allclose(
        on_device.weight_orig.grad.cpu().numpy(), on_cpu.weight_orig.grad.numpy()
    )
