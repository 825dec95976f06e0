"""One OpSpec per op, grouped by family; test_ops.py runs every one through check_op."""

from tests.op_specs import (
    composites,
    coverage,
    edges,
    elementwise,
    indexing,
    linalg,
    losses_extra,
    methods,
    nn_ops,
    reduction,
    shape,
    special,
    special_functions,
    torch_names,
)
from tests.op_specs.complex import SPECS as COMPLEX_SPECS
from tests.op_specs.fft import SPECS as FFT_SPECS

SPECS = [
    *elementwise.SPECS,
    *reduction.SPECS,
    *shape.SPECS,
    *indexing.SPECS,
    *linalg.SPECS,
    *nn_ops.SPECS,
    *losses_extra.SPECS,
    *composites.SPECS,
    *methods.SPECS,
    *special.SPECS,
    *special_functions.SPECS,
    *COMPLEX_SPECS,
    *FFT_SPECS,
    *coverage.SPECS,
    *edges.SPECS,
    *torch_names.SPECS,
]
