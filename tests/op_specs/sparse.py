"""Specs for sparse COO tensors (chainrule.ops.sparse, torch.sparse): each differentiable
function of a sparse tensor's values (and a dense operand), on fixed indices with a repeated
entry (an uncoalesced tensor, whose repeated values add up), against the same function in
torch. Second derivatives are checked too: every sparse op is built of dense ones."""

import torch

import chainrule
from chainrule.testing import OpSpec

# A 3 x 4 pattern with (1, 2) stored twice and an empty last row.
INDICES = [[0, 1, 1, 0, 1], [1, 2, 0, 3, 2]]
SIZE = (3, 4)
NNZ = len(INDICES[0])


def _sparse(lib, values, size=SIZE, indices=INDICES):
    return lib.sparse_coo_tensor(lib.tensor(indices), values, size)


def _dense(values):
    """The torch reference's dense matrix of the spec's pattern (repeated entries summed)."""
    return torch.zeros(SIZE, dtype=values.dtype).index_put(
        tuple(torch.tensor(INDICES)), values, accumulate=True
    )


def _both(name, body, shapes, torch_body=None, **options):
    """One spec: `body(lib, *inputs)` run with lib = chainrule and lib = torch (or
    `torch_body(*inputs)`, where torch's own sparse op has no second derivative)."""
    return OpSpec(
        name,
        lambda *inputs: body(chainrule, *inputs),
        torch_body or (lambda *inputs: body(torch, *inputs)),
        shapes=shapes,
        torch_grad_fn=False,  # PyTorch names its fused sparse kernels' nodes; ours are dense ops
        forward_mode=False,  # torch has no forward-mode rule for sparse_coo_tensor's values
        noncontiguous=False,  # the values are 1-D and the dense operands are read by row
        **options,
    )


SPECS = [
    _both("sparse.to_dense", lambda lib, v: _sparse(lib, v).to_dense(), [((NNZ,),)]),
    # PyTorch's sparse products have first derivatives only (their double backward reads
    # zero where the product is bilinear), so the reference is the dense product; the first
    # derivatives against torch.sparse.mm itself are in tests/test_sparse.py.
    _both(
        "sparse.mm",
        lambda lib, v, d: lib.sparse.mm(_sparse(lib, v), d),
        [((NNZ,), (4, 2))],
        torch_body=lambda v, d: _dense(v) @ d,
    ),
    _both(
        "spmm (vector)",
        lambda lib, v, d: _sparse(lib, v) @ d,
        [((NNZ,), (4,))],
        torch_body=lambda v, d: _dense(v) @ d,
    ),
    _both(
        "mm (dense @ sparse)",
        lambda lib, d, v: lib.mm(d, _sparse(lib, v)),
        [((2, 3), (NNZ,))],
        torch_body=lambda d, v: d @ _dense(v),
    ),
    _both(
        "sparse.addmm",
        lambda lib, m, v, d: lib.sparse.addmm(m, _sparse(lib, v), d, beta=0.5, alpha=2.0),
        [((3, 2), (NNZ,), (4, 2))],
        torch_body=lambda m, v, d: 0.5 * m + 2.0 * (_dense(v) @ d),
    ),
    _both(
        "sparse.sum (dim 1)",
        lambda lib, v: lib.sparse.sum(_sparse(lib, v), 1).to_dense(),
        [((NNZ,),)],
    ),
    _both(
        "sparse.sum (all)",
        lambda lib, v: lib.sparse.sum(_sparse(lib, v) * 3.0),
        [((NNZ,),)],
    ),
    _both(
        "coalesce values",
        lambda lib, v: _sparse(lib, v).coalesce().values(),
        [((NNZ,),)],
    ),
    _both(
        "sparse pow",
        lambda lib, v: _sparse(lib, v).pow(2).to_dense(),
        [((NNZ,),)],
    ),
    _both(
        "sparse + sparse, scaled",
        lambda lib, v, w: (
            _sparse(lib, v) + _sparse(lib, w) * 3.0 - _sparse(lib, v) / 4
        ).to_dense(),
        [((NNZ,), (NNZ,))],
    ),
    _both(
        "sparse.softmax",
        lambda lib, v: lib.sparse.softmax(_sparse(lib, v), 1).to_dense(),
        [((NNZ,),)],
    ),
    _both(
        "sparse.log_softmax (dim 0)",
        lambda lib, v: lib.sparse.log_softmax(_sparse(lib, v), 0).to_dense(),
        [((NNZ,),)],
    ),
    _both(
        "to_sparse and back",
        lambda lib, x: (x.to_sparse() * 2.0).to_dense(),
        [((3, 4),)],
    ),
    _both(
        "sparse with dense values",
        lambda lib, v: _sparse(lib, v, (3, 4, 2)).to_dense(),
        [((NNZ, 2),)],
    ),
    _both(
        "sparse @ sparse",
        lambda lib, v, w: (_sparse(lib, v) @ _sparse(lib, w).t()).to_dense(),
        [((NNZ,), (NNZ,))],
        torch_body=lambda v, w: _dense(v) @ _dense(w).T,
    ),
    # CSR: rows 0 and 1 hold (0, 1), (0, 3) and (1, 0), (1, 2); row 2 is empty.
    _both(
        "sparse_csr @ dense",
        lambda lib, v, d: lib.sparse_csr_tensor([0, 2, 4, 4], [1, 3, 0, 2], v, SIZE) @ d,
        [((4,), (4, 2))],
        torch_body=lambda v, d: (
            torch.zeros(SIZE, dtype=v.dtype).index_put(
                (torch.tensor([0, 0, 1, 1]), torch.tensor([1, 3, 0, 2])), v
            )
            @ d
        ),
    ),
    _both(
        "to_sparse_csr and back",
        lambda lib, x: (x.to_sparse_csr() * 2.0).to_dense(),
        [((3, 4),)],
        torch_body=lambda x: (x.to_sparse() * 2.0).to_dense(),
    ),
    # The namespace functions' sparse forms (ops/sparse_forms.py), against the dense math.
    _both(
        "mul, sub, div, add: the function forms",
        lambda lib, v, w, d: lib.add(
            d,
            lib.div(lib.sub(lib.mul(_sparse(lib, v), d), lib.mul(_sparse(lib, w), 2.0)), 4.0),
            alpha=2.0,
        ),
        [((NNZ,), (NNZ,), SIZE)],
        torch_body=lambda v, w, d: d + 2.0 * ((_dense(v) * d - _dense(w) * 2.0) / 4.0),
    ),
    _both(
        "mul of two sparse tensors",
        lambda lib, v, w: lib.mul(_sparse(lib, v), _sparse(lib, w)).to_dense(),
        [((NNZ,), (NNZ,))],
        torch_body=lambda v, w: _dense(v) * _dense(w),
    ),
    _both(
        "select, getitem and index_select",
        lambda lib, v: lib.cat(
            [
                _sparse(lib, v)[1].to_dense(),
                lib.select(_sparse(lib, v), 1, 2).to_dense(),
                lib.index_select(_sparse(lib, v), 1, lib.tensor([2, 0, 2])).to_dense().flatten(),
            ]
        ),
        [((NNZ,),)],
        torch_body=lambda v: torch.cat(
            [_dense(v)[1], _dense(v)[:, 2], _dense(v)[:, [2, 0, 2]].flatten()]
        ),
    ),
    _both(
        "cat and stack",
        lambda lib, v, w: lib.cat(
            [
                lib.cat([_sparse(lib, v), _sparse(lib, w)], 1).to_dense().flatten(),
                lib.stack([_sparse(lib, v), _sparse(lib, w)], 1).to_dense().flatten(),
            ]
        ),
        [((NNZ,), (NNZ,))],
        torch_body=lambda v, w: torch.cat(
            [
                torch.cat([_dense(v), _dense(w)], 1).flatten(),
                torch.stack([_dense(v), _dense(w)], 1).flatten(),
            ]
        ),
    ),
    # CSC: columns 0, 1 and 3 hold (1, 0); (0, 1), (2, 1); (0, 3); column 2 is empty.
    _both(
        "sparse_csc @ dense",
        lambda lib, v, d: lib.mm(lib.sparse_csc_tensor([0, 1, 3, 3, 4], [1, 0, 2, 0], v, SIZE), d),
        [((4,), (4, 2))],
        torch_body=lambda v, d: (
            torch.zeros(SIZE, dtype=v.dtype).index_put(
                (torch.tensor([1, 0, 2, 0]), torch.tensor([0, 1, 1, 3])), v
            )
            @ d
        ),
    ),
    _both(
        "to_sparse_csc and back",
        lambda lib, x: (x.to_sparse_csc() * 2.0).to_dense(),
        [((3, 4),)],
        torch_body=lambda x: (x.to_sparse() * 2.0).to_dense(),
    ),
]
