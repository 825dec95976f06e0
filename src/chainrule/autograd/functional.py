"""torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp): the public PyTorch path
of chainrule.func.functional, which defines them in the transform layer and documents them.

    >>> import chainrule
    >>> from chainrule.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
"""

from chainrule.func.functional import hessian, hvp, jacobian, jvp, vhp, vjp

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
