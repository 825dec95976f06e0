"""OpSpec and check_op: the one gradient checker every op is tested with, shipped so users can
test their own ops and Functions the same way. What check_op checks is listed in
chainrule.testing.op_check; an OpSpec (chainrule.testing.op_spec) says how to test one op.
`assert_close` is PyTorch's torch.testing.assert_close (chainrule.testing.assert_close), with
the deprecated `assert_allclose`; `make_tensor` is torch.testing's (chainrule.testing.creation).
"""

from chainrule.testing.assert_close import assert_allclose, assert_close
from chainrule.testing.creation import make_tensor
from chainrule.testing.op_check import check_op
from chainrule.testing.op_spec import Domain, OpSpec

__all__ = ["Domain", "OpSpec", "assert_allclose", "assert_close", "check_op", "make_tensor"]
