"""chainrule.numpy.random: NumPy's own random module, as in HIPS autograd.

Random draws are constants to differentiation, so these are numpy.random's functions
themselves, returning NumPy arrays; pass them to chainrule.numpy functions like any array.

>>> import chainrule.numpy as cnp
>>> cnp.random.seed(0)
>>> cnp.random.randn(2).shape
(2,)
"""

from numpy.random import (
    Generator,
    RandomState,
    beta,
    binomial,
    choice,
    default_rng,
    exponential,
    gamma,
    multivariate_normal,
    normal,
    permutation,
    poisson,
    rand,
    randint,
    randn,
    random,
    seed,
    shuffle,
    standard_normal,
    uniform,
)

__all__ = [
    "Generator",
    "RandomState",
    "beta",
    "binomial",
    "choice",
    "default_rng",
    "exponential",
    "gamma",
    "multivariate_normal",
    "normal",
    "permutation",
    "poisson",
    "rand",
    "randint",
    "randn",
    "random",
    "seed",
    "shuffle",
    "standard_normal",
    "uniform",
]
