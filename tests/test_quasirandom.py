"""torch.quasirandom.SobolEngine: PyTorch's unscrambled points, draws and errors."""

import numpy as np
import pytest
import torch

import chainrule

pytest.importorskip("scipy")


@pytest.mark.parametrize("dimension", [1, 2, 5, 40, 1111, 21201])
def test_unscrambled_points_are_pytorchs(dimension):
    ours = chainrule.quasirandom.SobolEngine(dimension)
    theirs = torch.quasirandom.SobolEngine(dimension)
    for n, dtype in ((1, None), (3, "float64"), (12, "float32"), (16, "float64")):
        mine = ours.draw(n, dtype=None if dtype is None else getattr(chainrule, dtype))
        reference = theirs.draw(n, dtype=None if dtype is None else getattr(torch, dtype))
        assert str(mine.dtype).split(".")[-1] == str(reference.dtype).split(".")[-1]
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
    assert ours.num_generated == theirs.num_generated == 32


def test_fast_forward_reset_draw_base2_out_and_repr_as_torch():
    results = []
    for lib in (chainrule, torch):
        engine = lib.quasirandom.SobolEngine(3)
        first = engine.draw_base2(2)
        skipped = engine.fast_forward(4).draw_base2(3)
        out = lib.empty(0)
        engine.reset().draw(5, out=out)
        with pytest.raises(ValueError, match="require n to be a power of 2. 5 points"):
            engine.draw_base2(2)
        results.append((first, skipped, out, engine.num_generated, repr(engine)))
        assert repr(lib.quasirandom.SobolEngine(2, scramble=True, seed=7)) == (
            "SobolEngine(dimension=2, scramble=True, seed=7)"
        )
        for bad in (0, 21202):
            with pytest.raises(ValueError, match=r"SobolEngine is \[1, 21201\]"):
                lib.quasirandom.SobolEngine(bad)
    for mine, reference in zip(*results):
        if isinstance(mine, (int, str)):
            assert mine == reference
        else:
            np.testing.assert_array_equal(mine.numpy(), reference.numpy())


def test_scrambled_points_keep_the_sequences_balance_and_their_seed():
    """Scrambled points are not PyTorch's numbers (its scrambling draws from its generator) but
    keep what makes the sequence useful: for 2**m points, every coordinate has one point in
    each of the 2**m equal bins; the same seed gives the same points."""
    engine = chainrule.quasirandom.SobolEngine(4, scramble=True, seed=11)
    points = engine.draw_base2(5).numpy()
    assert points.shape == (32, 4) and ((points >= 0) & (points < 1)).all()
    for column in points.T:
        np.testing.assert_array_equal(np.sort(np.floor(column * 32)), np.arange(32))
    again = chainrule.quasirandom.SobolEngine(4, scramble=True, seed=11).draw(32).numpy()
    np.testing.assert_array_equal(points, again)
