"""torch.quasirandom: low-discrepancy (Sobol') sequences for quasi-Monte Carlo integration and
the initial designs of Bayesian optimization.

>>> import chainrule
>>> chainrule.quasirandom.SobolEngine(2).draw(4)
tensor([[0.0000, 0.0000],
        [0.5000, 0.5000],
        [0.7500, 0.2500],
        [0.2500, 0.7500]])
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.backend.quasirandom import sobol_draw, sobol_generator
from chainrule.ops.creation import from_numpy

__all__ = ["SobolEngine"]


class SobolEngine:
    """Draws points of the Sobol' sequence in [0, 1)^dimension, as PyTorch's SobolEngine.
    Unscrambled, the points are PyTorch's, the first being the origin; scrambled (Owen's
    linear matrix scrambling and a digital shift, from `seed`), they are as well distributed
    but not PyTorch's numbers, whose scrambling draws from its own generator.

    Args:
        dimension (int): the number of coordinates, 1 to 21201.
        scramble (bool): randomize the sequence (default: False).
        seed (int, optional): the scrambling's seed (None: a fresh one each time).

    Example:
        >>> import chainrule
        >>> engine = chainrule.quasirandom.SobolEngine(3)
        >>> engine.draw(2)
        tensor([[0.0000, 0.0000, 0.0000],
                [0.5000, 0.5000, 0.5000]])
        >>> engine.num_generated
        2
    """

    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(
                f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]"
            )
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.num_generated = 0
        self._generator = sobol_generator(dimension, scramble, seed)

    def draw(self, n: int = 1, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next `n` points, (n, dimension), in `dtype` (default: the default dtype); written
        into `out` too when given."""
        result = from_numpy(sobol_draw(self._generator, n))
        result = result.to(dtypes.get_default_dtype() if dtype is None else dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next 2**m points, keeping the total drawn a power of two (the balance the
        sequence's guarantees need): ValueError otherwise, as PyTorch's."""
        n = 2**m
        total = self.num_generated + n
        if total & (total - 1):
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: "
                f"n={self.num_generated}+2**{m}={total}. If you still want to do this, please "
                "use 'SobolEngine.draw()' instead."
            )
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        """Back to the first point (the same scrambling)."""
        self._generator.reset()
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skip the next `n` points."""
        self._generator.fast_forward(n)
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        parts = [f"dimension={self.dimension}"]
        if self.scramble:
            parts.append("scramble=True")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return f"{type(self).__name__}({', '.join(parts)})"
