"""In-place writes into views follow the memory, as PyTorch's CopySlices does.

Each program runs twice, once with `t` bound to torch and once to chainrule; the values,
gradients and `requires_grad` flags it leaves in `r` must agree, and where PyTorch raises,
chainrule raises the same kind of error (a RuntimeError) with PyTorch's message.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import chainrule

PROGRAMS = {
    "a graph value added into a plain tensor's element (d[i] += w)": """
d = t.zeros(3); w = t.ones(1, requires_grad=True)
d[0] += w[0] * 2
(d * d).sum().backward()
r = [d, w.grad, d.requires_grad]
""",
    "views made without grad mode of a tensor that requires grad (gradient goes nowhere)": """
x = t.arange(6., requires_grad=True)
with t.no_grad():
    v = x[1:4]; w = x.view(2, 3); u = x.unbind(0)[2]; n = t.arange(3).view(3)
with t.inference_mode():
    i = x[:2]
y = (v * v).sum() + w.sum() + u
y.backward()
r = [v.requires_grad, w.requires_grad, u.requires_grad, n.requires_grad, i.requires_grad,
     v.grad_fn is None, v.is_leaf, y.requires_grad, x.grad is None, v.grad is None, y]
""",
    "a slice of a non-leaf scaled in place": """
x = t.arange(6., requires_grad=True); y = x * 1
y[1:3].mul_(3)
(y * y).sum().backward()
r = [y, x.grad]
""",
    "a view made before its base was overwritten reads the new history": """
x = t.arange(6., requires_grad=True); w = t.tensor(3., requires_grad=True)
y = x * 2; b = y[1:3]
y[1] = w
(b * b).sum().backward()
r = [b, x.grad, w.grad]
""",
    "a view of a plain tensor joins the graph when its base does": """
d = t.zeros(4); a = d[2:]; w = t.ones(1, requires_grad=True)
d[2] += w[0]
(a * a).sum().backward()
r = [a.requires_grad, a, w.grad]
""",
    "views of views (transpose, then a row, then a slice of it)": """
x = t.arange(6., requires_grad=True)
y = (x * 1).view(2, 3); yt = y.t()
yt[0].mul_(2)
yt[1:].add_(1)
(y ** 2).sum().backward()
r = [y, x.grad]
""",
    "strided writes through a transposed plain tensor": """
d = t.zeros(2, 3); w = t.ones(3, requires_grad=True)
d.t()[0] = w[0]
d.t()[1:2] += w[1:]
(d * d).sum().backward()
r = [d, w.grad]
""",
    "a step slice written from a graph value": """
d = t.zeros(4); w = t.ones(4, requires_grad=True)
d[::2] = w[::2] * 3
d.sum().backward()
r = [d, w.grad]
""",
    "a view zeroed in place cuts the gradient of its elements": """
x = t.arange(6., requires_grad=True); y = x * 1
y[2:4].zero_()
y.sum().backward()
r = [y, x.grad]
""",
    "second derivatives through a write into a view": """
x = t.arange(6., dtype=t.float64, requires_grad=True); y = x * 1
y.view(2, 3)[:, 1].mul_(x[:2])
(g,) = t.autograd.grad((y * y).sum(), x, create_graph=True)
(h,) = t.autograd.grad((g * g).sum(), x)
r = [g, h]
""",
    "the view itself takes the write into its history": """
x = t.arange(4., requires_grad=True); y = x * 1; v = y[1:]
v.mul_(x[1:])
v.sum().backward()
r = [v, x.grad, v.grad_fn is not None]
""",
    "a plain buffer filled row by row in a loop": """
w = t.arange(1., 4., requires_grad=True)
h = t.zeros(3, 3)
for i in range(3):
    h[i] = w * (i + 1)
    h[i, i] += w[i] ** 2
(h.sum(0) ** 2).sum().backward()
r = [h, w.grad]
""",
    "fills through an expanded tensor land in the memory it repeats (outside autograd)": """
import warnings
warnings.simplefilter("ignore")  # masked_fill_, index_fill_, index_put_ warn: tested below
b = t.zeros(3); e = b.expand(2, 3)
e.fill_(1); r = [b.clone()]
e.zero_(); r += [b.clone()]
e.masked_fill_(t.tensor([[True, False, False], [False, False, False]]), 4.0); r += [b.clone()]
e.index_fill_(1, t.tensor([1]), 3.0); r += [b.clone()]
e.index_put_((t.tensor([0]), t.tensor([2])), t.tensor(7.0)); r += [b.clone()]
e.index_put_((t.tensor([0, 1]), t.tensor([2, 2])), t.tensor([4.0, 5.0]), accumulate=True)
r += [b.clone(), e]
e[t.tensor([0])] = 2.0; r += [b.clone()]
e[0] = t.tensor([5.0, 6.0, 7.0]); r += [b.clone()]
e[1, 2] = -1.0; r += [b.clone()]
c = t.zeros(3); c.expand(3, 3).fill_diagonal_(1.0); r += [c]
r += [b._version]
""",
    "fills through .data, .detach(), broadcast_to, expand_as and a part of an expanded tensor": """
b = t.zeros(3); e = b.expand(2, 3)
e.detach().fill_(1); r = [b.clone(), b._version]
e.data.fill_(2); r += [b.clone()]
t.broadcast_to(b, (2, 3)).fill_(3); r += [b.clone()]
b.expand_as(t.ones(4, 3)).zero_(); r += [b.clone()]
e[0].fill_(6); r += [b.clone()]
e[:, 0].fill_(7); r += [b.clone()]
b.unsqueeze(1).expand(3, 2).t().fill_(8); r += [b.clone()]
e[1].add_(1); e[0].mul_(3); r += [b.clone()]
t.add(t.ones(3), 1, out=e[1]); r += [b.clone()]
w = t.zeros(3, requires_grad=True)
with t.no_grad():
    w.expand(2, 3).fill_(9)
r += [w.detach().clone(), w._version, w.requires_grad]
""",
    "recorded fills of an expanded tensor: values, and the filled values' gradients": """
import warnings
warnings.simplefilter("ignore")
w = t.arange(3., requires_grad=True); y = w * 2; x = y.expand(2, 3)
x.index_fill_(1, t.tensor([0]), 9.0)
r = [y, x, y.grad_fn is not None, x.requires_grad]
b = t.zeros(3); e = b.expand(2, 3); v = t.tensor(2., requires_grad=True)
e.masked_fill_(t.tensor([[True, False, False], [True, False, False]]), v)
(b * t.tensor([1., 10, 100])).sum().backward()
r += [b, v.grad, b.requires_grad]
c = t.zeros(3); u = t.tensor([4.], requires_grad=True)
c.expand(2, 3)[t.tensor([1]), t.tensor([2])] = u
(c * c).sum().backward()
r += [c, u.grad]
""",
    "a row of an expanded non-leaf written with autograd (CopySlices on the base)": """
w = t.arange(3., requires_grad=True); y = w * 2; x = y.expand(2, 3)
x[0] = t.tensor([5., 6, 7]) * w
x[1, 1] = 4.0
(y * t.tensor([1., 10, 100])).sum().backward()
r = [y, w.grad, y._version]
""",
}

ERRORS = {
    "a view of a leaf that requires grad": (
        """
x = t.arange(6., requires_grad=True)
x[0].mul_(2)
""",
        "a view of a leaf Variable that requires grad is being used in an in-place operation",
    ),
    "one of several views returned together (unbind)": (
        """
x = t.arange(6., requires_grad=True); u = (x * 1).unbind(0)
u[0].mul_(2)
""",
        "This view is the output of a function that returns multiple views",
    ),
    "a view made in no_grad mode, written with grad mode on": (
        """
x = t.arange(6., requires_grad=True)
with t.no_grad():
    v = x[1:]
v.mul_(2)
""",
        "A view was created in no_grad mode and is being modified inplace with grad mode enabled",
    ),
    "an expanded view (elements share memory)": (
        """
e = t.ones(2, 3).expand(2, 2, 3)
e.add_(1)
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "out= an expanded tensor (elements share memory)": (
        """
e = t.zeros(3).expand(2, 3)
t.add(t.ones(2, 3), 1, out=e)
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "a backward into the history under a recorded fill of an expanded tensor": (
        """
w = t.arange(3., requires_grad=True); y = w * 2
y.expand(2, 3).masked_fill_(t.tensor([True, False, False]), 9.0)
y.sum().backward()
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "fill_ of a tensor value into an expanded tensor": (
        """
t.zeros(3).expand(2, 3).fill_(t.tensor(2.0))
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "a basic index whose view repeats memory (x[:, 1] = 2)": (
        """
t.zeros(3).expand(2, 3)[:, 1] = 2.0
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "copy_ into an expanded tensor": (
        """
t.zeros(3).expand(2, 3).copy_(t.ones(2, 3))
""",
        "more than one element of the written-to tensor refers to a single memory location",
    ),
    "a saved tensor overwritten through a view": (
        """
x = t.arange(4., requires_grad=True); y = x * 2; z = y.sin()
y[0].mul_(2)
z.sum().backward()
""",
        "one of the variables needed for gradient computation has been modified by an inplace",
    ),
}


def _run(library, source: str) -> dict:
    namespace = {"t": library}
    exec(source, namespace)
    return namespace


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return np.asarray(value.detach().tolist(), dtype=np.float64)
    return value


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_in_place_writes_through_views_match_pytorch(name):
    source = PROGRAMS[name]
    expected = _plain(_run(torch, source)["r"])
    got = _plain(_run(chainrule, source)["r"])
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(ERRORS))
def test_writes_pytorch_refuses_are_refused_with_its_message(name):
    source, message = ERRORS[name]
    with pytest.raises(RuntimeError, match=re.escape(message)):
        _run(torch, source)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        _run(chainrule, source)


def test_writes_through_a_view_of_a_non_contiguous_base():
    """The base's memory is column-major, so a view's elements are found by address."""
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    w = chainrule.arange(1.0, 5.0, requires_grad=True)
    d = chainrule.from_numpy(array.copy(order="F"))
    d[1] += w
    d.t()[2] *= w[:3]
    (d * d).sum().backward()

    tw = torch.arange(1.0, 5.0, requires_grad=True)
    td = torch.from_numpy(array.copy(order="F"))
    td = td.float() if d.dtype == chainrule.float32 else td
    td[1] += tw.to(td.dtype)
    td.t()[2] *= tw[:3].to(td.dtype)
    (td * td).sum().backward()
    np.testing.assert_allclose(d.detach().numpy(), td.detach().numpy())
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_the_graph_names_pytorchs_nodes():
    d = chainrule.zeros(3)
    w = chainrule.ones(1, requires_grad=True)
    view = d[1:]
    view += w
    assert d.grad_fn.name() == "CopySlices"
    assert view.grad_fn.name() == "AsStridedBackward0"


def test_a_write_into_a_view_without_grad_changes_no_history():
    x = chainrule.arange(4.0, requires_grad=True)
    y = x * 2
    node = y.grad_fn
    with chainrule.no_grad():
        y[1:].add_(1)
    assert y.grad_fn is node
    assert y.tolist() == [0.0, 3.0, 5.0, 7.0]


def test_views_stay_cheap_when_nothing_is_written():
    """A view's history is rebuilt only when its base's version moved since it was taken."""
    x = chainrule.arange(4.0, requires_grad=True)
    view = (x * 1)[1:]
    node = view.grad_fn
    assert (view * 2).grad_fn.next_functions[0][0] is node


@pytest.mark.parametrize("library", [torch, chainrule])
@pytest.mark.parametrize("name", ["masked_fill_", "index_fill_", "index_put_"])
def test_selecting_fills_of_an_expanded_tensor_warn_as_pytorch(library, name):
    expanded = library.zeros(3).expand(2, 3)
    write = {
        "masked_fill_": lambda: expanded.masked_fill_(library.tensor([True, False, False]), 1.0),
        "index_fill_": lambda: expanded.index_fill_(1, library.tensor([0]), 1.0),
        "index_put_": lambda: expanded.index_put_((library.tensor([0]),), library.tensor(1.0)),
    }[name]
    with pytest.warns(UserWarning, match=f"Use of {name} on expanded tensors is deprecated"):
        write()
