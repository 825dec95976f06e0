"""`.real`, `.imag` and `view_as_real` of a complex tensor, and `view_as_complex` of a real
one, are views of its memory, as in PyTorch: writes through them change the tensor, bump its
version and, while recording, become its history (CopySlices over its real pairs), so
gradients flow through the write."""

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
    "view_as_real written by element and by row": """
z = t.tensor([1 + 2j, 3 - 1j, -2 + 0.5j], requires_grad=True)
w = z * 1; r = t.view_as_real(w); r[0, 0] = 5.0; r[1].mul_(2)
(w.abs() ** 2).sum().backward()
r = [w, z.grad, w._version]
""",
    "view_as_complex of a real tensor multiplied in place and set": """
a = t.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
b = a * 1; c = t.view_as_complex(b); c.mul_(1j); c[2] = 7 + 8j
(b * t.arange(6.0).reshape(3, 2)).sum().backward()
r = [b, a.grad]
""",
    "a view_as_complex view reads its base's later write": """
a = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
b = a * 1; c = t.view_as_complex(b); b[0, 1] = 9.0
(c.abs() * t.tensor([1.0, 2.0])).sum().backward()
r = [c, a.grad]
""",
    "view_as_real of a transposed tensor": """
z = t.tensor([[1 + 1j, 2], [3, 4j]], requires_grad=True)
v = t.view_as_real((z * 1).t())
(v ** 2 * t.arange(8.0).reshape(2, 2, 2)).sum().backward()
r = [v, list(v.stride()), z.grad]
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


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda lib: lib.ones(2, 3).t(), "last dimension with stride 1"),
        (lambda lib: lib.ones(5)[1:].view(2, 2), "storage_offset divisible by 2"),
        (lambda lib: lib.ones(3, 3)[:, :2], "stride divisible by 2 for all but last dimension"),
    ],
)
def test_view_as_complex_refuses_memory_it_cannot_view_as_pytorch(make, message):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=message):
            lib.view_as_complex(make(lib))


def test_view_as_real_and_view_as_complex_share_memory():
    pairs = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    numbers = chainrule.view_as_complex(pairs)
    pairs[0, 0] = 9.0
    assert numbers.tolist() == [9 + 2j, 3 + 4j] and numbers._base is pairs
    back = chainrule.view_as_real(numbers)
    back[1, 1] = -1.0
    assert pairs.tolist() == [[9.0, 2.0], [3.0, -1.0]]
