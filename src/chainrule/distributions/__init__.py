"""chainrule.distributions: PyTorch's `torch.distributions` for the common families.

>>> import chainrule
>>> import chainrule.distributions as D
>>> _ = chainrule.manual_seed(0)
>>> loc = chainrule.tensor(0.5, requires_grad=True)
>>> d = D.Normal(loc, 1.0)
>>> d.rsample((4,)).sum().backward()   # reparameterised: each sample moves with loc
>>> loc.grad
tensor(4.)
"""

from chainrule.distributions import constraint_registry, constraints, transforms
from chainrule.distributions.constraint_registry import biject_to, transform_to
from chainrule.distributions.continuous import (
    Cauchy,
    Exponential,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Uniform,
)
from chainrule.distributions.counts import Binomial, Geometric, Multinomial, NegativeBinomial
from chainrule.distributions.derived import Chi2, FisherSnedecor, Pareto, StudentT, Weibull
from chainrule.distributions.discrete import (
    Bernoulli,
    Categorical,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Poisson,
)
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.gamma import Beta, Dirichlet, Gamma
from chainrule.distributions.independent import Independent
from chainrule.distributions.inverse_cdf import ContinuousBernoulli, GeneralizedPareto
from chainrule.distributions.kl import kl_divergence, register_kl
from chainrule.distributions.low_rank import LowRankMultivariateNormal
from chainrule.distributions.matrix import LKJCholesky, Wishart
from chainrule.distributions.mixture import MixtureSameFamily
from chainrule.distributions.multivariate_normal import MultivariateNormal
from chainrule.distributions.relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from chainrule.distributions.transformed import TransformedDistribution
from chainrule.distributions.transformed_families import (
    HalfCauchy,
    InverseGamma,
    Kumaraswamy,
    LogisticNormal,
)
from chainrule.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from chainrule.distributions.von_mises import VonMises

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "biject_to",
    "constraint_registry",
    "identity_transform",
    "transform_to",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Chi2",
    "Categorical",
    "Cauchy",
    "ContinuousBernoulli",
    "Dirichlet",
    "FisherSnedecor",
    "GeneralizedPareto",
    "Geometric",
    "Gamma",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "LogisticNormal",
    "MixtureSameFamily",
    "Multinomial",
    "NegativeBinomial",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Distribution",
    "ExponentialFamily",
    "Exponential",
    "Laplace",
    "LogNormal",
    "LowRankMultivariateNormal",
    "MultivariateNormal",
    "Normal",
    "Pareto",
    "Poisson",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "StudentT",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
