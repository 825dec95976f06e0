"""Activation modules (each a thin wrapper over `chainrule.nn.functional`) and
MultiheadAttention, laid out as in PyTorch's torch/nn/modules/activation.py.

>>> import chainrule
>>> from chainrule import nn
>>> nn.LeakyReLU(0.2)(chainrule.tensor([-1.0, 2.0]))
tensor([-0.2000,  2.0000])
"""

from __future__ import annotations

import warnings

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import ArgumentAssertionError, ShapeError
from chainrule.nn import init
from chainrule.nn.modules.linear import NonDynamicallyQuantizableLinear
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation
from chainrule.ops import elementwise as ew


def _inplace_suffix(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class Threshold(Module):
    """Replaces every element not above a cutoff by a fixed value.

    y = x where x > threshold, and y = value elsewhere (x equal to the threshold is replaced).
    The gradient is 1 where x is kept and 0 where it is replaced.

    Args:
        threshold (float): the cutoff an element must exceed to be kept.
        value (float): what an element at or below the cutoff becomes.
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Threshold(0.5, -1.0)(chainrule.tensor([0.0, 0.5, 2.0]))
        tensor([-1., -1.,  2.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"


class ReLU(Module):
    """max(x, 0) elementwise (`F.relu`); the gradient is 1 where x > 0 and 0 elsewhere, x = 0
    included.

    Args:
        inplace (bool): overwrite the input.

    Shape:
        - Input: any shape
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.ReLU()(chainrule.tensor([-1.0, 0.5]))
        tensor([0.0000, 0.5000])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """Clamps every element to the interval [min_val, max_val].

    A piecewise-linear stand-in for tanh: y = min(max(x, min_val), max_val). The gradient is 1
    strictly inside the interval and 0 elsewhere, the two kinks (x equal to a bound) included.

    Args:
        min_val (float): the lower bound (default: -1).
        max_val (float): the upper bound (default: 1); must be greater than min_val.
        inplace (bool): overwrite the input with the result (default: False).
        min_value (float, optional): deprecated spelling of min_val (warns a FutureWarning).
        max_value (float, optional): deprecated spelling of max_val (warns a FutureWarning).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Hardtanh(-0.5, 0.5)(chainrule.tensor([-2.0, 0.25, 3.0]))
        tensor([-0.5000,  0.2500,  0.5000])
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn(
                "keyword argument `min_value` is deprecated and rename to `min_val`",
                FutureWarning,
                stacklevel=2,
            )
            min_val = min_value
        if max_value is not None:
            warnings.warn(
                "keyword argument `max_value` is deprecated and rename to `max_val`",
                FutureWarning,
                stacklevel=2,
            )
            max_val = max_value
        if max_val <= min_val:
            raise ArgumentAssertionError(  # (PyTorch: an assert)
                f"max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    """ReLU capped at 6: y = min(max(x, 0), 6), i.e. Hardtanh(0, 6).

    Its bounded range suits low-precision arithmetic (it is used by MobileNet). The gradient is 1
    for 0 < x < 6 and 0 elsewhere.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.ReLU6()(chainrule.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """The logistic function, y = 1 / (1 + exp(-x)), squashing every element into (0, 1).

    Its gradient is y (1 - y). To feed a binary cross-entropy, prefer BCEWithLogitsLoss on the raw
    scores, which is more accurate than Sigmoid followed by BCELoss.

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Sigmoid()(chainrule.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return ew.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent, y = tanh(x), squashing every element into (-1, 1).

    Its gradient is 1 - y**2.

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Tanh()(chainrule.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return ew.tanh(input)


class Hardsigmoid(Module):
    """A piecewise-linear approximation of the sigmoid: y = min(max(x + 3, 0), 6) / 6.

    It is 0 for x <= -3, 1 for x >= 3 and x / 6 + 1 / 2 in between; the gradient is 1 / 6 strictly
    inside (-3, 3) and 0 elsewhere.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Hardsigmoid()(chainrule.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardsigmoid(input, self.inplace)


class Hardswish(Module):
    """The cheap swish of MobileNetV3: y = x * min(max(x + 3, 0), 6) / 6.

    It is 0 for x <= -3 and x for x >= 3, with a quadratic piece in between.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Hardswish()(chainrule.tensor([-4.0, 0.0, 4.0]))
        tensor([-0., 0., 4.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardswish(input, self.inplace)


class SiLU(Module):
    """The sigmoid-weighted linear unit (also called swish): y = x * sigmoid(x).

    Smooth and non-monotonic, it is close to 0 for large negative x and close to x for large
    positive x.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.SiLU()(chainrule.tensor([0.0, 2.0]))
        tensor([0.0000, 1.7616])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Mish(Module):
    """The Mish activation: y = x * tanh(softplus(x)).

    A smooth, non-monotonic unit like SiLU, bounded below (about -0.31) and unbounded above.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Mish()(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """The exponential linear unit: y = x for x > 0 and alpha * (exp(x) - 1) otherwise.

    Negative inputs saturate smoothly towards -alpha, which keeps the mean activation closer to
    zero than ReLU does. With alpha = 1 the function is continuously differentiable.

    Args:
        alpha (float): the value the negative side tends to, as -alpha (default: 1).
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.ELU()(chainrule.tensor([-100.0, 0.0, 2.0]))
        tensor([-1.,  0.,  2.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class CELU(Module):
    """The continuously differentiable ELU: y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Dividing by alpha inside the exponential makes the slope 1 on both sides of 0 for every
    alpha, unlike ELU where that holds only for alpha = 1.

    Args:
        alpha (float): the scale of the negative side, which tends to -alpha (default: 1); must
            not be 0.
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.CELU(2.0)(chainrule.tensor([-100.0, 3.0]))
        tensor([-2.,  3.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class SELU(Module):
    """The scaled ELU of self-normalising networks: y = scale * elu(x, alpha).

    The constants are fixed (alpha ~ 1.6733, scale ~ 1.0507) so that, with LeCun-normal weights
    (`init.kaiming_normal_(w, nonlinearity='linear')`) and AlphaDropout, activations keep roughly
    zero mean and unit variance from layer to layer.

    Args:
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.SELU()(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 1.0507])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.selu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GLU(Module):
    """The gated linear unit: with a, b the two halves of the input along `dim`, y = a * sigmoid(b).

    Args:
        dim (int): the dimension that is split; its size must be even (default: -1).

    Shape:
        - Input: (*1, M, *2), with M = 2 K along `dim`
        - Output: (*1, K, *2)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.GLU()(chainrule.ones(4, 6)).shape
        chainrule.Size([4, 3])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    """The Gaussian error linear unit: y = x * Phi(x), Phi being the standard normal CDF.

    With approximate='tanh', Phi(x) is replaced by
    0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x**3))), the approximation used by GPT-2 and
    BERT's original code; the default computes Phi exactly with erf.

    Args:
        approximate (str): 'none' (exact, the default) or 'tanh'.

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.GELU()(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardshrink(Module):
    """Zeroes the elements of small magnitude: y = x where |x| > lambd, and 0 elsewhere.

    Args:
        lambd (float): the magnitude an element must exceed to be kept (default: 0.5).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Hardshrink()(chainrule.tensor([-1.0, 0.25, 0.5, 2.0]))
        tensor([-1.,  0.,  0.,  2.])
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class LeakyReLU(Module):
    """ReLU with a small slope for negative inputs: y = x if x >= 0, else negative_slope * x.

    The non-zero slope keeps a gradient flowing through units whose input is negative.

    Args:
        negative_slope (float): the slope for x < 0 (default: 0.01).
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LeakyReLU(0.1)(chainrule.tensor([-2.0, 3.0]))
        tensor([-0.2000,  3.0000])
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class RReLU(Module):
    """Randomized leaky ReLU (Xu et al., 2015): y = x if x >= 0, else a x, the slope a drawn
    from U(lower, upper) for each element in training and (lower + upper) / 2 in eval.

    Args:
        lower (float): the smallest slope (default: 1/8).
        upper (float): the largest slope (default: 1/3).
        inplace (bool): overwrite the input with the result (default: False).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.RReLU(0.1, 0.3).eval()(chainrule.tensor([-1.0, 2.0]))
        tensor([-0.2000,  2.0000])
    """

    def __init__(
        self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False
    ) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_suffix(self.inplace)}"


class LogSigmoid(Module):
    """The log of the logistic function, y = log(1 / (1 + exp(-x))) = -softplus(-x).

    It is computed without forming the sigmoid, so it stays finite and accurate for large
    negative x.

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LogSigmoid()(chainrule.tensor([-200.0, 0.0]))
        tensor([-200.0000,   -0.6931])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.logsigmoid(input)


class Softplus(Module):
    """A smooth approximation of ReLU: y = log(1 + exp(beta * x)) / beta.

    For numerical stability the function is taken as the identity where beta * x > threshold
    (the two agree there to float precision). Larger beta brings it closer to ReLU.

    Args:
        beta (float): the sharpness of the curve (default: 1).
        threshold (float): above this value of beta * x the output is x itself (default: 20).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softplus()(chainrule.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softshrink(Module):
    """Shrinks every element towards zero by lambd (soft thresholding).

    y = x - lambd for x > lambd, x + lambd for x < -lambd, and 0 in between: the proximal
    operator of the L1 norm.

    Args:
        lambd (float): the amount of shrinkage, at least 0 (default: 0.5).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softshrink(1.0)(chainrule.tensor([-3.0, 0.5, 2.0]))
        tensor([-2.,  0.,  1.])
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class PReLU(Module):
    """LeakyReLU with a learnt slope: y = x for x >= 0 and a * x otherwise.

    `a` is a parameter, shared by every channel (num_parameters=1) or one per channel, the
    channels being dimension 1 of the input (dimension 0 for a 1-D input). Weight decay is
    usually left off `a`.

    Args:
        num_parameters (int): how many slopes to learn: 1, or the number of channels (default: 1).
        init (float): the initial value of every slope (default: 0.25).
        device (str or device, optional): where the parameter lives.
        dtype (dtype, optional): the parameter's dtype (default: the default dtype).

    Shape:
        - Input: (*), any shape; with num_parameters > 1, (N, C, *) or (C,)
        - Output: the input's shape

    Attributes:
        weight (Parameter): the slopes, of shape (num_parameters,).

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.PReLU()(chainrule.tensor([-4.0, 2.0]))
        tensor([-1.,  2.], grad_fn=<...>)
    """

    def __init__(
        self,
        num_parameters: int = 1,
        init: float = 0.25,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softsign(Module):
    """y = x / (1 + |x|), a cheaper, slower-saturating relative of tanh with range (-1, 1).

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softsign()(chainrule.tensor([-3.0, 1.0]))
        tensor([-0.7500,  0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softsign(input)


class Tanhshrink(Module):
    """y = x - tanh(x): close to 0 near the origin and to x - sign(x) far from it.

    Shape:
        - Input: (*), any shape
        - Output: (*), the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Tanhshrink()(chainrule.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanhshrink(input)


class Softmin(Module):
    """Softmax of the negated input along `dim`: y_i = exp(-x_i) / sum_j exp(-x_j).

    The smallest entries get the largest weights; each slice along `dim` sums to 1.

    Args:
        dim (int, optional): the dimension normalised over. None picks one implicitly, as
            PyTorch does, with a deprecation warning: pass it explicitly.

    Shape:
        - Input: (*), any shape
        - Output: the input's shape, values in [0, 1]

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softmin(dim=0)(chainrule.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(Module):
    """Normalises exponentials along `dim`: y_i = exp(x_i) / sum_j exp(x_j).

    Each slice along `dim` becomes a probability vector (non-negative, summing to 1). The
    maximum is subtracted first, so large inputs do not overflow. For a loss, prefer LogSoftmax
    with NLLLoss (or CrossEntropyLoss on the raw scores), which is more accurate than log(softmax).

    Args:
        dim (int, optional): the dimension normalised over. None picks one implicitly, as
            PyTorch does, with a deprecation warning: pass it explicitly.

    Shape:
        - Input: (*), any shape
        - Output: the input's shape, values in [0, 1]

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softmax(dim=-1)(chainrule.tensor([[1.0, 1.0, 1.0, 1.0]]))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at every spatial position of an image batch.

    For each (n, h, w) the C values x[n, :, h, w] are normalised to sum to 1; it is
    Softmax(dim=-3).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: the input's shape, values in [0, 1]

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Softmax2d()(chainrule.zeros(1, 4, 2, 2))[0, :, 0, 0]
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.dim() not in (3, 4):
            raise ShapeError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead"
            )
        return F.softmax(input, -3)


class LogSoftmax(Module):
    """The log of the softmax along `dim`: y_i = x_i - log(sum_j exp(x_j)).

    Computed with the log-sum-exp trick, so it is accurate where log(softmax(x)) would underflow
    to -inf. Its output is what NLLLoss expects.

    Args:
        dim (int, optional): the dimension normalised over. None picks one implicitly, as
            PyTorch does, with a deprecation warning: pass it explicitly.

    Shape:
        - Input: (*), any shape
        - Output: the input's shape, values in (-inf, 0]

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LogSoftmax(dim=1)(chainrule.zeros(3, 5)).shape
        chainrule.Size([3, 5])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017).

    The query, key and value are projected to embed_dim features, split into num_heads heads of
    head_dim = embed_dim / num_heads features each; every head computes softmax(q k^T /
    sqrt(head_dim) + mask) v, and the heads' outputs are concatenated and projected by out_proj. The
    parameters are PyTorch's: in_proj_weight (3 E, E) and in_proj_bias (3 E,) when key and value
    have embed_dim features, else separate q_proj_weight, k_proj_weight and v_proj_weight; out_proj
    is a Linear. forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False) returns (output, the attention
    weights, averaged over heads unless average_attn_weights=False, or None without need_weights).
    In the masks, True (bool) or -inf (float) marks a position that may not be attended to.

    Args:
        embed_dim (int): E, the number of features of the query and of the output.
        num_heads (int): the number of heads; must divide embed_dim.
        dropout (float): dropout on the attention weights, in training mode (default: 0).
        bias (bool): learn the input and output projections' biases (default: True).
        add_bias_kv (bool): learn one extra key and value, appended to every sequence
            (default: False).
        add_zero_attn (bool): append a zero key and value to every sequence, so a query can
            attend to nothing (default: False).
        kdim (int, optional): the number of features of the key (default: embed_dim).
        vdim (int, optional): the number of features of the value (default: embed_dim).
        batch_first (bool): operands are (N, L, E) instead of (L, N, E) (default: False).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: query (L, N, E), key (S, N, kdim), value (S, N, vdim), or (N, L, E) ... with
          batch_first, or (L, E), (S, kdim), (S, vdim) unbatched; key_padding_mask (N, S);
          attn_mask (L, S) or (N * num_heads, L, S)
        - Output: (attn_output, attn_weights): attn_output shaped like the query (with E
          features); attn_weights (N, L, S), or (N, num_heads, L, S) with
          average_attn_weights=False

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> attention = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
        >>> x = chainrule.zeros(2, 5, 16)
        >>> output, weights = attention(x, x, x)
        >>> output.shape, weights.shape
        (chainrule.Size([2, 5, 16]), chainrule.Size([2, 5, 5]))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise ArgumentAssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(creation.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(creation.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(creation.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(creation.empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(creation.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """query (L, N, E), key (S, N, kdim), value (S, N, vdim), or (N, L, E) ... with
        batch_first, or unbatched (L, E). Masks: True (bool) or -inf (float) means masked."""
        is_batched = query.dim() == 3
        if self.batch_first and is_batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        output, weights = F.multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and is_batched:
            output = output.transpose(1, 0)
        return output, weights
