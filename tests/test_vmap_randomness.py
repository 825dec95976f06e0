"""vmap's `randomness` as torch.func.vmap's: 'error' (the default) refuses random draws,
'different' draws independently for every example, 'same' draws once and shares the draw
across the batch (refusing a random function whose parameters differ per example, as
PyTorch). chainrule's numbers come from its own generator, so these tests check the semantics
(distinct or identical across the batch, the distributions, seeded reproducibility), not
PyTorch's numbers; each semantic claim is checked against torch.func.vmap too."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F
from chainrule.func import grad, vmap

B = 6

# Each random function of one example of x (3 values in (0.1, 0.9)), written for either library.
RANDOM = {
    "rand": lambda lib, x: lib.rand(3),
    "randn": lambda lib, x: lib.randn(3),
    "rand complex": lambda lib, x: lib.rand(3, dtype=lib.complex64).real,
    "rand_like": lambda lib, x: lib.rand_like(x),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "randint": lambda lib, x: lib.randint(0, 1000, (3,)),
    "randint_like": lambda lib, x: lib.randint_like(x, 1000),
    "randperm": lambda lib, x: lib.randperm(8),
    "normal(float, float, size)": lambda lib, x: lib.normal(0.0, 1.0, (3,)),
    "normal(tensor, float)": lambda lib, x: lib.normal(x, 1.0),
    "bernoulli": lambda lib, x: lib.bernoulli(x),
    "bernoulli(p)": lambda lib, x: lib.bernoulli(x, 0.5),
    "bernoulli of shared probabilities": lambda lib, x: lib.bernoulli(lib.full((8,), 0.5)),
    "multinomial": lambda lib, x: lib.multinomial(lib.cat([x, x, x]), 4),
    "multinomial with replacement": lambda lib, x: lib.multinomial(x, 8, replacement=True),
    "multinomial of shared weights": lambda lib, x: lib.multinomial(lib.ones(8), 4),
    "dropout": lambda lib, x: lib.nn.functional.dropout(lib.ones(8), 0.5),
    "dropout2d": lambda lib, x: lib.nn.functional.dropout2d(lib.ones(1, 8, 1, 1), 0.5),
    "alpha_dropout": lambda lib, x: lib.nn.functional.alpha_dropout(lib.ones(8), 0.5, True),
    "feature_alpha_dropout": lambda lib, x: lib.nn.functional.feature_alpha_dropout(
        lib.ones(1, 8, 2), 0.5, True
    ),
    "uniform_": lambda lib, x: x.clone().uniform_(),
    "normal_": lambda lib, x: x.clone().normal_(),
    "bernoulli_": lambda lib, x: (0 * x).repeat(3).bernoulli_(0.5),
    "gumbel_softmax": lambda lib, x: lib.nn.functional.gumbel_softmax(x.repeat(3)),
}
# chainrule only: PyTorch's vmap has no rule for rrelu's noise, and no _standard_gamma here.
CHAINRULE_ONLY = {
    "rrelu (training)": lambda lib, x: lib.nn.functional.rrelu(-lib.ones(8), training=True),
    "standard_gamma": lambda lib, x: chainrule.ops.special.standard_gamma(lib.full((3,), 2.0)),
}
# What PyTorch refuses under randomness='same': parameters that differ per example.
BATCHED_PARAMETERS = [
    "normal(tensor, float)",
    "bernoulli",
    "bernoulli(p)",
    "multinomial",
    "multinomial with replacement",
]


def _probabilities(lib):
    rng = np.random.default_rng(0)
    return lib.tensor(rng.uniform(0.1, 0.9, (B, 3)))


def _rows(result) -> np.ndarray:
    return np.asarray(result.numpy(), dtype=np.float64).reshape(B, -1)


def _distinct(rows: np.ndarray) -> bool:
    return all(not np.array_equal(rows[0], rows[i]) for i in range(1, B))


def _identical(rows: np.ndarray) -> bool:
    return all(np.array_equal(rows[0], rows[i]) for i in range(1, B))


@pytest.mark.parametrize("name", list(RANDOM) + list(CHAINRULE_ONLY))
def test_different_draws_independently_for_each_example(name):
    function = {**RANDOM, **CHAINRULE_ONLY}[name]
    chainrule.manual_seed(0)
    ours = vmap(lambda x: function(chainrule, x), randomness="different")(_probabilities(chainrule))
    assert _distinct(_rows(ours))
    if name in RANDOM:
        torch.manual_seed(0)
        theirs = torch.func.vmap(lambda x: function(torch, x), randomness="different")(
            _probabilities(torch)
        )
        assert tuple(ours.shape) == tuple(theirs.shape) and _distinct(_rows(theirs))
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")


@pytest.mark.parametrize(
    "name", [n for n in RANDOM if n not in BATCHED_PARAMETERS and n != "gumbel_softmax"]
)  # gumbel_softmax's value depends on each example's logits, not on the draw alone
def test_same_shares_one_draw_across_the_batch(name):
    """The draw is the one the same call makes outside vmap from the same seed."""
    function = RANDOM[name]
    chainrule.manual_seed(0)
    ours = vmap(lambda x: function(chainrule, x), randomness="same")(_probabilities(chainrule))
    rows = _rows(ours)
    assert _identical(rows)
    if "_like" not in name and "_" not in name[-1]:
        chainrule.manual_seed(0)
        outside = function(chainrule, _probabilities(chainrule)[0])
        expected = np.asarray(outside.numpy(), dtype=np.float64).reshape(-1)
        np.testing.assert_array_equal(rows[0], expected)
    torch.manual_seed(0)
    theirs = torch.func.vmap(lambda x: function(torch, x), randomness="same")(_probabilities(torch))
    assert _identical(_rows(theirs))


@pytest.mark.parametrize("name", BATCHED_PARAMETERS)
def test_same_refuses_parameters_that_differ_per_example_as_torch(name):
    function = RANDOM[name]
    with pytest.raises(RuntimeError, match="same randomness with a batched tensor"):
        vmap(lambda x: function(chainrule, x), randomness="same")(_probabilities(chainrule))
    with pytest.raises(RuntimeError, match="same randomness with a batched tensor"):
        torch.func.vmap(lambda x: function(torch, x), randomness="same")(_probabilities(torch))


@pytest.mark.parametrize("name", list(RANDOM) + list(CHAINRULE_ONLY))
def test_error_is_the_default_and_refuses_every_draw(name):
    function = {**RANDOM, **CHAINRULE_ONLY}[name]
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda x: function(chainrule, x))(_probabilities(chainrule))


@pytest.mark.parametrize("randomness", ["different", "same"])
def test_a_seed_makes_vmapped_draws_reproducible(randomness):
    def draw(x):
        return x * chainrule.randn(3) + F.dropout(chainrule.ones(3), 0.5)

    runs = []
    for _ in range(2):
        chainrule.manual_seed(7)
        runs.append(vmap(draw, randomness=randomness)(_probabilities(chainrule)).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_different_draws_follow_the_distribution():
    """Per example and across examples, the draws are those of the distribution: rand's
    uniform moments, bernoulli's frequencies per example's own probability."""
    chainrule.manual_seed(0)
    uniform = vmap(lambda x: chainrule.rand(5000), randomness="different")(chainrule.zeros(4))
    values = uniform.numpy()
    assert abs(values.mean() - 0.5) < 0.01 and abs(values.var() - 1 / 12) < 0.005
    correlation = np.corrcoef(values)[np.triu_indices(4, 1)]
    assert np.abs(correlation).max() < 0.05  # the examples' draws are independent
    probabilities = chainrule.tensor([[0.1], [0.5], [0.9]]).expand(3, 20000)
    hits = vmap(chainrule.bernoulli, randomness="different")(probabilities)
    np.testing.assert_allclose(hits.numpy().mean(1), [0.1, 0.5, 0.9], atol=0.01)
    counts = vmap(lambda w: chainrule.multinomial(w, 4000, True), randomness="different")(
        chainrule.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 1.0]])
    )
    frequencies = [np.bincount(row, minlength=3) / 4000 for row in counts.numpy()]
    np.testing.assert_allclose(frequencies, [[0.25, 0, 0.75], [0, 0.5, 0.5]], atol=0.03)


def test_nested_levels_each_apply_their_own_randomness():
    """vmap(vmap(f, randomness=inner), randomness=outer): a draw varies along the dimensions
    whose level draws 'different' and is shared along those that draw 'same', as PyTorch's."""
    x = chainrule.zeros(3, 4)
    y = torch.zeros(3, 4)
    for inner, outer, varies in [
        ("different", "same", (False, True)),
        ("same", "different", (True, False)),
        ("different", "different", (True, True)),
    ]:
        for lib, data, transform in ((chainrule, x, vmap), (torch, y, torch.func.vmap)):
            out = transform(
                transform(lambda r, lib=lib: lib.rand(()), randomness=inner), randomness=outer
            )(data)
            values = np.asarray(out.numpy())
            along_outer = not np.allclose(values[1:], values[:1])
            along_inner = not np.allclose(values[:, 1:], values[:, :1])
            assert (along_outer, along_inner) == varies, (lib.__name__, inner, outer)


def test_nested_different_levels_draw_dropout_masks_per_example():
    masks = vmap(
        vmap(lambda r: F.dropout(chainrule.ones(16), 0.5), randomness="different"),
        randomness="different",
    )(chainrule.zeros(3, 4))
    rows = masks.numpy().reshape(12, 16)
    assert len({row.tobytes() for row in rows}) == 12
    assert set(np.unique(rows)) <= {0.0, 2.0}


@pytest.mark.parametrize("randomness", ["different", "same"])
def test_chunks_keep_the_randomness_of_the_whole_batch(randomness):
    """With chunk_size, 'same' shares one draw across all the chunks (the generator replayed
    per chunk) and 'different' keeps drawing, as PyTorch's."""
    for lib, transform in ((chainrule, vmap), (torch, torch.func.vmap)):
        lib.manual_seed(0)
        out = transform(lambda r, lib=lib: lib.rand(()), randomness=randomness, chunk_size=2)(
            lib.zeros(6)
        )
        values = np.asarray(out.numpy())
        assert (len(set(values.tolist())) == 1) == (randomness == "same"), lib.__name__


def test_per_example_gradients_through_per_example_noise():
    """vmap(grad) with randomness='different': each example's gradient uses its own noise (the
    noise the forward drew), e.g. a per-example dropout mask."""

    def loss(w, x):
        return (F.dropout(x, 0.5) * w).sum()

    w = chainrule.ones(8)
    x = chainrule.ones(B, 8)
    grads = vmap(grad(loss), in_dims=(None, 0), randomness="different")(w, x)
    rows = grads.numpy()
    assert set(np.unique(rows)) <= {0.0, 2.0}  # d/dw = the mask
    assert _distinct(rows)


def test_standard_gamma_draws_per_example_with_its_implicit_gradient():
    """Gamma samples inside vmap(grad(...), randomness='different'): per example, and the
    reparameterised gradient of each is its own draw's."""
    chainrule.manual_seed(0)

    def sample(alpha):
        return chainrule.ops.special.standard_gamma(alpha)

    alpha = chainrule.full((B,), 2.0)
    draws = vmap(sample, randomness="different")(alpha)
    assert _distinct(draws.numpy().reshape(B, 1))
    chainrule.manual_seed(0)
    grads = vmap(grad(sample), randomness="different")(alpha)
    assert _distinct(grads.numpy().reshape(B, 1)) and (grads.numpy() > 0).all()


def test_in_place_different_draws_on_a_shared_tensor_are_refused():
    """A tensor shared by every example cannot hold a different draw per example (PyTorch
    refuses too)."""
    shared = chainrule.zeros(3)
    with pytest.raises(RuntimeError):
        vmap(lambda r: shared.uniform_(), randomness="different")(chainrule.zeros(B))
