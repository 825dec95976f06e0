"""Function transforms with torch.func's names: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, linearize, vmap, functional_call.

Reverse transforms (grad, vjp, jacrev) run on the same recording engine as `backward()`: each
differentiates with respect to fresh aliases of its inputs and keeps the graph whenever an
enclosing transform (or the caller) may differentiate the result again. Forward transforms
(jvp, jacfwd, linearize) push tangents through dual tensors (chainrule.autograd.forward_ad),
each op's jvp rule running next to its forward. The two compose: `hessian` is
`jacfwd(jacrev(f))` (forward over reverse, as torch.func), and `grad(grad(f))`,
`jacrev(jacfwd(f))`, `vmap(grad(f))` work, and so does forward over forward
(`jacfwd(jacfwd(f))`, `jvp` inside `jvp`): each forward transform opens a dual level of its
own inside the enclosing ones, as torch.func's jvp does.

Inputs may be tensors, NumPy arrays or Python numbers, in nested tuples / lists / dicts.
Where an input was a NumPy array, the matching result is a NumPy array too, as HIPS autograd
users expect.

`custom_vjp` and `custom_jvp` (JAX's names) declare a function's derivative by hand.

The transforms live in func/transforms.py, vmap in func/vmap.py, functional_call in
func/stateless.py; func/functional.py holds torch.autograd.functional's API, whose public
path is chainrule.autograd.functional.
"""

from chainrule.func.custom import custom_jvp, custom_vjp
from chainrule.func.pytree import tree_flatten, tree_map, tree_unflatten
from chainrule.func.stateless import (
    functional_call,
    replace_all_batch_norm_modules_,
    stack_module_state,
)
from chainrule.func.transforms import (
    functionalize,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jet,
    jvp,
    linearize,
    vjp,
)
from chainrule.func.vmap import debug_unwrap, vmap

__all__ = [
    "custom_jvp",
    "custom_vjp",
    "debug_unwrap",
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jet",
    "jvp",
    "linearize",
    "replace_all_batch_norm_modules_",
    "stack_module_state",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "vjp",
    "vmap",
]
