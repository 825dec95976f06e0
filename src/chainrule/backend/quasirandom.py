"""The Sobol' sequence behind chainrule.quasirandom: SciPy's generator (`scipy.stats.qmc`),
whose unscrambled points are PyTorch's (both use Joe and Kuo's direction numbers for up to
21201 dimensions, 30 bits). SciPy is optional, as for chainrule.special: it loads on first use.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def sobol_generator(dimension: int, scramble: bool, seed: int | None) -> Any:
    """A `scipy.stats.qmc.Sobol` over `dimension` coordinates (ModuleNotFoundError saying how
    to install SciPy if it is absent)."""
    try:
        from scipy.stats import qmc
    except ImportError as error:
        raise ModuleNotFoundError(
            "chainrule.quasirandom.SobolEngine needs SciPy: pip install scipy (or "
            "chainrule[special])",
            name="scipy",
        ) from error
    rng = np.random.default_rng(seed)
    try:
        return qmc.Sobol(dimension, scramble=scramble, bits=30, rng=rng)
    except TypeError:  # SciPy before 1.15 names the generator `seed`
        return qmc.Sobol(dimension, scramble=scramble, bits=30, seed=rng)


def sobol_draw(generator: Any, count: int) -> np.ndarray:
    """The next `count` points, float64 (count, dimension). SciPy warns when a draw breaks the
    power-of-two balance; PyTorch's draw does not, so neither does this one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return generator.random(count)
