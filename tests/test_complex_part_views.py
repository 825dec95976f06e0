"""`.real` and `.imag` of a complex tensor are views of its memory, as in PyTorch: writes
through them change the tensor, bump its version and, while recording, become its history
(CopySlices over its real pairs), so gradients flow through the write."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

PROGRAMS = {
    "scaling the real part in place": """
z = t.tensor([1 + 2j, 3 - 1j]); z.real.mul_(2)
r = [z, z._version]
""",
    "one imaginary element set, then the real part through a stale view": """
z = t.tensor([1 + 2j, 3 - 1j]); re = z.real; z.imag[0] = 5.0; re.add_(1)
r = [z, re, z._version]
""",
    "a graph value written into the imaginary part": """
w = t.tensor([1.0, 2.0], requires_grad=True)
c = t.zeros(2, dtype=t.complex64); c.imag.copy_(w * 3)
loss = (c * c.conj()).real.sum() + c.real.sum()
loss.backward()
r = [c, w.grad, c.requires_grad]
""",
    "the real part of a non-leaf scaled in place": """
a = t.tensor([1 + 1j, 2 + 0.5j], requires_grad=True)
b = a * 2; b.real.mul_(3)
(b.abs() ** 2).sum().backward()
r = [b, a.grad]
""",
    "a view taken before its base's imaginary part was written reads the new history": """
a = t.tensor([1 + 1j, 2 - 1j, 0.5j], requires_grad=True); w = t.tensor(4.0, requires_grad=True)
b = a * 1; re = b.real[1:]
b.imag[1] = w
((re * re).sum() + (b.imag * 2).sum()).backward()
r = [b, a.grad, w.grad]
""",
    "the parts of a non-contiguous complex tensor": """
a = t.tensor([[1 + 1j, 2 - 1j], [3j, 4.0 + 0j]], requires_grad=True)
b = (a * 1).t(); b.imag.mul_(2)
(b.abs() ** 2).sum().backward()
r = [b, a.grad]
""",
}


def _run(library, source: str) -> list:
    scope = {"t": library}
    exec(source, scope)
    return [_plain(value) for value in scope["r"]]


def _plain(value):
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy())
    return value


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_writes_through_real_and_imag_match_pytorch(name):
    ours = _run(chainrule, PROGRAMS[name])
    theirs = _run(torch, PROGRAMS[name])
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


def test_the_parts_share_memory_and_version_with_the_tensor():
    z = chainrule.tensor([1 + 2j])
    real, imag = z.real, z.imag
    assert real._base is z and imag._base is z
    assert real.dtype == imag.dtype == chainrule.float32
    z.mul_(1j)
    assert real.tolist() == [-2.0] and imag.tolist() == [1.0] and real._version == 1


def test_real_of_a_real_tensor_is_itself_and_imag_is_refused():
    for lib in (chainrule, torch):
        x = lib.ones(2)
        assert x.real is x
        with pytest.raises(
            RuntimeError, match="imag is not implemented for tensors with non-complex"
        ):
            _ = x.imag


def test_the_write_is_named_copy_slices_as_pytorch():
    def name(lib):
        b = lib.tensor([1 + 1j], requires_grad=True) * 2
        b.imag.mul_(3)
        return type(b.grad_fn).__name__

    assert name(chainrule) == name(torch) == "CopySlices"


def test_gradients_through_a_part_write_match_finite_differences_to_second_order():
    def through_writes(x, y, w):  # a = x + iy: the checker perturbs real inputs
        a = chainrule.complex(x, y)
        b = a * a
        b.real.mul_(w)
        b.imag[0] = w.sum()
        return (b * b.conj()).real

    x = chainrule.tensor([1.0, -0.3], dtype=chainrule.float64, requires_grad=True)
    y = chainrule.tensor([0.5, 2.0], dtype=chainrule.float64, requires_grad=True)
    w = chainrule.tensor([0.7, -1.2], dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(through_writes, (x, y, w))
    assert chainrule.autograd.gradgradcheck(through_writes, (x, y, w))
