"""The ops: one class per op, its forward, vjp, jvp and batch rule side by side (ops/op.py says
how an op call runs). The families import each other in one direction, lowest first:

    arguments     sizes and dims as PyTorch reads them (plain Python, below Tensor)
    op            the Op base, `apply`, and the common rule helpers
    conversion    dtype promotion (result_type), Cast, Clone
    shape         views, broadcasting (Expand, SumTo, unbroadcast), joining and splitting
    creation      tensors from data, filled, ranges, random
    elementwise   arithmetic and math, comparisons, where, clamp
    indexing      getitem/setitem, gather/scatter, index_*, slices by position, pad
    activation    every activation of torch.nn.functional
    reduction     sums, means, norms, extremes, sorting, scans, softmax
    linalg        matrix products, einsum, decompositions, solves
    nn kernels    nn_common, embedding, linear, convolution, pooling, interpolation,
                  normalization, dropout, losses
    tensor_methods  Tensor's methods: the table binding these functions to Tensor

A new op goes in the lowest family whose ops its rules need; tests/test_layering.py holds the
order. This package file imports nothing, so importing one family loads only what it needs.
"""


class OpNamespace:
    """`torch.ops.<namespace>`: the operators `torch.library.custom_op` registered under one
    namespace, so `torch.ops.mylib.my_op(x)` (and `.default(x)`) calls the operator."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._ops: dict[str, object] = {}

    def __getattr__(self, name: str) -> object:
        ops = self.__dict__.get("_ops", {})
        if name not in ops:
            raise AttributeError(f"'_OpNamespace' '{self._name}' object has no attribute '{name}'")
        return ops[name]

    def __repr__(self) -> str:
        return f"<module 'torch.ops.{self._name}' from 'torch.ops'>"


# namespace name -> its operators; chainrule.library.custom_op registers here
custom_namespaces: dict[str, OpNamespace] = {}


def __getattr__(name: str) -> OpNamespace:
    """A namespace of custom operators (`torch.ops.mylib`); any other name is missing (the
    op families are submodules, imported by name)."""
    if name in custom_namespaces:
        return custom_namespaces[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
