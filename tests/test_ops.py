"""Every op in tests/op_specs is checked by the one shared checker (chainrule.testing)."""

import pytest

from chainrule.testing import check_op
from tests.op_specs import SPECS


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_matches_torch_and_finite_differences(spec):
    check_op(spec)
