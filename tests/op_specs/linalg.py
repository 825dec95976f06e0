"""Specs for chainrule.ops.linalg and chainrule.linalg.

Matrices that get inverted, solved or factorized are drawn well-conditioned by `make_inputs`
(random + n I; symmetric positive-definite for cholesky and logdet). `make_inputs` draws one
case, so each batch shape is its own spec.
"""

import warnings
from functools import partial

import numpy as np
import torch

import chainrule
import chainrule.linalg
from chainrule.testing import OpSpec


def _well_conditioned(*shape: int):
    """A draw of a random matrix (batch) plus n I: eigenvalues kept away from zero."""
    n = shape[-1]
    return lambda rng: rng.standard_normal(shape) + n * np.eye(n)


def _spd(*shape: int):
    """A symmetric positive-definite matrix (batch): X X^T + n I."""
    n = shape[-1]

    def draw(rng):
        x = rng.standard_normal(shape)
        return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)

    return draw


def _inputs(*draws):
    """make_inputs from one draw per input: a shape (uniform in (-2, 2)) or a function of rng."""

    def make(rng):
        return tuple(
            draw(rng) if callable(draw) else rng.uniform(-2.0, 2.0, size=draw) for draw in draws
        )

    return make


def _cholesky_of_gram(x, *, upper=False):
    """cholesky(X X^T + n I): a perturbation of X perturbs the SPD input symmetrically, so
    finite differences see the symmetric gradient the op returns."""
    n = x.shape[-1]
    gram = x @ x.transpose(-1, -2)
    if isinstance(x, torch.Tensor):
        return torch.linalg.cholesky(gram + n * torch.eye(n, dtype=x.dtype), upper=upper)
    eye = chainrule.eye(n, dtype=x.dtype, device=x.device)
    return chainrule.linalg.cholesky(gram + n * eye, upper=upper)


EINSUM_CASES = [
    ("ij,jk->ik", [((2, 3), (3, 4))]),  # matmul
    ("bij,bjk->bik", [((2, 2, 3), (2, 3, 4))]),  # batch matmul
    ("ii", [((3, 3),)]),  # trace (implicit output)
    ("ii->", [((3, 3),)]),  # trace (explicit)
    ("ii->i", [((3, 3),)]),  # diagonal
    ("i,j->ij", [((2,), (3,))]),  # outer
    ("ij->ji", [((2, 3),)]),  # transpose
    ("ij->", [((2, 3),)]),  # sum
    ("ij", [((2, 3),)]),  # implicit: identity
    ("ba", [((2, 3),)]),  # implicit: alphabetical output, a transpose
    ("...ij,...jk->...ik", [((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2))]),
    ("ij,jk,kl->il", [((2, 3), (3, 4), (4, 2))]),  # three operands
    ("i,i->i", [((3,), (1,)), ((1,), (4,))]),  # a size-1 label broadcasts
    ("ij,ij->i", [((2, 3), (1, 3)), ((2, 1), (2, 3))]),
    ("iij->ij", [((2, 2, 3),)]),  # repeated label with a free one
    ("ii,i->", [((3, 3), (3,))]),  # repeated label contracted with another operand
    ("iji->j", [((2, 3, 2),)]),  # repeated label, not adjacent
    ("i...->i", [((2, 3, 4),)]),  # ellipsis dims summed when absent from the output
    ("...ii->...i", [((2, 3, 3),)]),  # batched diagonal
    ("bn,anm,bm->ba", [((2, 3), (4, 3, 5), (2, 5))]),  # bilinear form
    ("i,i", [((3,), (3,))]),  # implicit dot
    ("ij,kl->ijkl", [((2, 1), (1, 3))]),  # outer product keeps size-1 dims
]

SPECS: list[OpSpec] = []

# ---- products ---------------------------------------------------------------------------------
SPECS += [
    OpSpec(
        "matmul",
        chainrule.matmul,
        torch.matmul,
        shapes=[
            ((2, 3), (3, 4)),
            ((3,), (3,)),
            ((3,), (3, 2)),
            ((2, 3), (3,)),
            ((4, 2, 3), (3,)),
            ((3,), (2, 3, 4)),
            ((5, 2, 3), (3, 4)),
            ((2, 1, 2, 3), (4, 3, 2)),
        ],
    ),
    OpSpec(
        "linalg.matmul", chainrule.linalg.matmul, torch.linalg.matmul, shapes=[((2, 3), (3, 2))]
    ),
    OpSpec("mm", chainrule.mm, torch.mm, shapes=[((2, 3), (3, 4))]),
    OpSpec("bmm", chainrule.bmm, torch.bmm, shapes=[((2, 2, 3), (2, 3, 4))]),
    OpSpec("dot", chainrule.dot, torch.dot, shapes=[((4,), (4,))]),
    OpSpec("vdot", chainrule.vdot, torch.vdot, shapes=[((4,), (4,))]),
    OpSpec("outer", chainrule.outer, torch.outer, shapes=[((2,), (3,)), ((1,), (4,))]),
    OpSpec("ger", chainrule.ger, torch.ger, shapes=[((3,), (2,))]),
    OpSpec(
        "inner",
        chainrule.inner,
        torch.inner,
        shapes=[((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((), (2, 3))],
    ),
    OpSpec("mv", chainrule.mv, torch.mv, shapes=[((2, 3), (3,))]),
    OpSpec(
        "addmm",
        chainrule.addmm,
        torch.addmm,
        shapes=[((2, 3), (2, 4), (4, 3)), ((3,), (2, 4), (4, 3)), ((1, 1), (2, 4), (4, 3))],
        kwargs={"beta": 0.5, "alpha": 2.0},
    ),
    OpSpec("addmm (defaults)", chainrule.addmm, torch.addmm, shapes=[((2, 3), (2, 4), (4, 3))]),
    OpSpec(
        "addmm (beta=0)",
        chainrule.addmm,
        torch.addmm,
        shapes=[((2, 3), (2, 4), (4, 3))],
        kwargs={"beta": 0, "alpha": -1.5},
    ),
    OpSpec(
        "tensordot (dims=2)",
        chainrule.tensordot,
        torch.tensordot,
        shapes=[((2, 3, 4), (3, 4, 2)), ((3, 4), (3, 4))],
    ),
    OpSpec(
        "tensordot (dims=1)",
        chainrule.tensordot,
        torch.tensordot,
        shapes=[((2, 3), (3, 4)), ((2, 3, 4), (4,))],
        kwargs={"dims": 1},
    ),
    OpSpec(
        "tensordot (dim lists)",
        chainrule.tensordot,
        torch.tensordot,
        shapes=[((2, 3, 4), (3, 5, 2))],
        kwargs={"dims": ([1, 0], [0, 2])},
    ),
    OpSpec(
        "linalg.vecdot",
        chainrule.linalg.vecdot,
        torch.linalg.vecdot,
        shapes=[((2, 3), (3,)), ((2, 1, 4), (3, 4))],
    ),
    OpSpec(
        "linalg.vecdot (dim=0)",
        chainrule.linalg.vecdot,
        torch.linalg.vecdot,
        shapes=[((3, 2), (3, 2))],
        kwargs={"dim": 0},
    ),
    OpSpec(
        "linalg.multi_dot",
        lambda *xs: chainrule.linalg.multi_dot(list(xs)),
        lambda *xs: torch.linalg.multi_dot(list(xs)),
        shapes=[((3,), (3, 4), (4, 2), (2,)), ((2, 3), (3, 4), (4, 2))],
    ),
]

# ---- einsum -----------------------------------------------------------------------------------
SPECS += [
    OpSpec(f"einsum {eq}", partial(chainrule.einsum, eq), partial(torch.einsum, eq), shapes=shapes)
    for eq, shapes in EINSUM_CASES
]
SPECS += [
    OpSpec(
        "einsum (sublist form)",
        lambda x, y: chainrule.einsum(x, [0, 1], y, [1, 2], [0, 2]),
        lambda x, y: torch.einsum(x, [0, 1], y, [1, 2], [0, 2]),
        shapes=[((2, 3), (3, 4))],
    ),
    OpSpec(
        "einsum (operand list)",
        lambda x, y: chainrule.einsum("ij,kj->ik", [x, y]),
        lambda x, y: torch.einsum("ij,kj->ik", [x, y]),
        shapes=[((2, 3), (4, 3))],
    ),
]

# ---- diagonals and triangles -------------------------------------------------------------------
SPECS += [
    OpSpec("trace", chainrule.trace, torch.trace, shapes=[((3, 3),), ((2, 4),), ((4, 2),)]),
    OpSpec("diagonal", chainrule.diagonal, torch.diagonal, shapes=[((3, 4),), ((4, 3, 2),)]),
    OpSpec(
        "diagonal (offset, dims)",
        chainrule.diagonal,
        torch.diagonal,
        shapes=[((3, 2, 4),)],
        kwargs={"offset": 1, "dim1": 2, "dim2": 0},
    ),
    OpSpec(
        "diagonal (negative offset)",
        chainrule.diagonal,
        torch.diagonal,
        shapes=[((2, 4, 3),)],
        kwargs={"offset": -1, "dim1": -1, "dim2": -2},
    ),
    OpSpec(
        "linalg.diagonal",
        chainrule.linalg.diagonal,
        torch.linalg.diagonal,
        shapes=[((2, 3, 4),)],
        kwargs={"offset": -1},
    ),
    OpSpec("diag", chainrule.diag, torch.diag, shapes=[((3,),), ((3, 4),)]),
    OpSpec(
        "diag (offset)",
        chainrule.diag,
        torch.diag,
        shapes=[((3,),), ((3, 4),), ((4, 3),)],
        kwargs={"diagonal": -1},
    ),
    OpSpec("diag_embed", chainrule.diag_embed, torch.diag_embed, shapes=[((3,),), ((2, 3),)]),
    OpSpec(
        "diag_embed (offset, dims)",
        chainrule.diag_embed,
        torch.diag_embed,
        shapes=[((2, 3),)],
        kwargs={"offset": 1, "dim1": 0, "dim2": 2},
    ),
    OpSpec("tril", chainrule.tril, torch.tril, shapes=[((3, 4),), ((2, 4, 3),)]),
    OpSpec(
        "tril (diagonal)",
        chainrule.tril,
        torch.tril,
        shapes=[((3, 4),)],
        kwargs={"diagonal": -1},
    ),
    OpSpec("triu", chainrule.triu, torch.triu, shapes=[((3, 4),), ((2, 4, 3),)]),
    OpSpec(
        "triu (diagonal)",
        chainrule.triu,
        torch.triu,
        shapes=[((4, 3),)],
        kwargs={"diagonal": 1},
    ),
]

# ---- inverses and determinants ------------------------------------------------------------------
SPECS += [
    OpSpec(
        "linalg.inv",
        chainrule.linalg.inv,
        torch.linalg.inv,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "linalg.inv (batch)",
        chainrule.linalg.inv,
        torch.linalg.inv,
        make_inputs=_inputs(_well_conditioned(2, 1, 3, 3)),
    ),
    OpSpec(
        "inverse",
        chainrule.inverse,
        torch.inverse,
        make_inputs=_inputs(_well_conditioned(2, 3, 3)),
    ),
    OpSpec(
        "linalg.det",
        chainrule.linalg.det,
        torch.linalg.det,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "det (batch)",
        chainrule.det,
        torch.det,
        make_inputs=_inputs(_well_conditioned(2, 3, 3)),
    ),
    OpSpec(
        "linalg.slogdet",
        chainrule.linalg.slogdet,
        torch.linalg.slogdet,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "slogdet (batch, negative det)",
        chainrule.slogdet,
        torch.slogdet,
        make_inputs=_inputs(lambda rng: np.stack([np.diag([-2.0, 1.5, 3.0]), 3 * np.eye(3)])),
    ),
    OpSpec(
        "logdet",
        chainrule.logdet,
        torch.logdet,
        make_inputs=_inputs(_spd(2, 3, 3)),
    ),
    OpSpec(
        "linalg.matrix_power",
        partial(chainrule.linalg.matrix_power, n=3),
        partial(torch.linalg.matrix_power, n=3),
        shapes=[((3, 3),), ((2, 3, 3),)],
        domains=[(-1.0, 1.0)],
    ),
    OpSpec(
        "linalg.matrix_power (negative)",
        partial(chainrule.linalg.matrix_power, n=-2),
        partial(torch.linalg.matrix_power, n=-2),
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
]

# ---- solves and factorizations ----------------------------------------------------------------
SPECS += [
    OpSpec(
        "linalg.solve",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(3, 3), (3, 2)),
    ),
    OpSpec(
        "linalg.solve (vector B)",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(3, 3), (3,)),
    ),
    OpSpec(
        "linalg.solve (batch of vectors)",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(2, 3, 3), (2, 3)),
    ),
    OpSpec(
        "linalg.solve (broadcast batch)",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(2, 1, 3, 3), (4, 3, 2)),
    ),
    OpSpec(
        "linalg.solve (left=False)",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(2, 3, 3), (4, 3)),
        kwargs={"left": False},
    ),
    OpSpec(
        "linalg.solve_triangular (lower)",
        chainrule.linalg.solve_triangular,
        torch.linalg.solve_triangular,
        make_inputs=_inputs(_well_conditioned(3, 3), (3, 2)),
        kwargs={"upper": False},
    ),
    OpSpec(
        "linalg.solve_triangular (upper, broadcast batch)",
        chainrule.linalg.solve_triangular,
        torch.linalg.solve_triangular,
        make_inputs=_inputs(_well_conditioned(2, 3, 3), (1, 3, 2)),
        kwargs={"upper": True},
    ),
    OpSpec(
        "linalg.solve_triangular (right, lower)",
        chainrule.linalg.solve_triangular,
        torch.linalg.solve_triangular,
        make_inputs=_inputs(_well_conditioned(3, 3), (2, 2, 3)),
        kwargs={"upper": False, "left": False},
    ),
    OpSpec(
        "linalg.solve_triangular (right, upper, unitriangular)",
        chainrule.linalg.solve_triangular,
        torch.linalg.solve_triangular,
        make_inputs=_inputs(_well_conditioned(3, 3), (4, 3)),
        kwargs={"upper": True, "left": False, "unitriangular": True},
    ),
    OpSpec(
        "linalg.solve_triangular (lower, unitriangular)",
        chainrule.linalg.solve_triangular,
        torch.linalg.solve_triangular,
        make_inputs=_inputs(_well_conditioned(2, 3, 3), (3, 1)),
        kwargs={"upper": False, "unitriangular": True},
    ),
    # The op reads only A's lower triangle but returns PyTorch's symmetric gradient, which finite
    # differences in an arbitrary direction cannot see: checked against torch here (value,
    # gradient, double backward), and against finite differences through X X^T + n I below.
    OpSpec(
        "linalg.cholesky",
        chainrule.linalg.cholesky,
        torch.linalg.cholesky,
        make_inputs=_inputs(_spd(3, 3)),
        finite_differences=False,
    ),
    OpSpec(
        "linalg.cholesky (upper, batch)",
        chainrule.linalg.cholesky,
        torch.linalg.cholesky,
        make_inputs=_inputs(_spd(2, 3, 3)),
        kwargs={"upper": True},
        finite_differences=False,
    ),
    OpSpec(
        "linalg.cholesky (of X X^T + n I)",
        _cholesky_of_gram,
        _cholesky_of_gram,
        shapes=[((3, 3),), ((2, 4, 4),)],
    ),
    OpSpec(
        "linalg.cholesky (upper, of X X^T + n I)",
        partial(_cholesky_of_gram, upper=True),
        partial(_cholesky_of_gram, upper=True),
        shapes=[((3, 3),)],
    ),
]

# ---- norms --------------------------------------------------------------------------------------
# ord=+-1 and +-inf are piecewise linear: their second derivative is zero, and torch returns it as
# a ZeroTensor that the checker cannot turn into NumPy, so second order is off for them.
SPECS += [
    OpSpec(
        "linalg.matrix_norm",
        chainrule.linalg.matrix_norm,
        torch.linalg.matrix_norm,
        shapes=[((3, 4),), ((2, 3, 4),)],
    ),
    OpSpec(
        "linalg.matrix_norm (ord=1, keepdim)",
        chainrule.linalg.matrix_norm,
        torch.linalg.matrix_norm,
        shapes=[((3, 4),), ((2, 3, 4),)],
        kwargs={"ord": 1, "keepdim": True},
        second_order=False,
    ),
    OpSpec(
        "linalg.matrix_norm (ord=-inf, dims)",
        chainrule.linalg.matrix_norm,
        torch.linalg.matrix_norm,
        shapes=[((3, 2, 4),)],
        kwargs={"ord": -float("inf"), "dim": (2, 0)},
        second_order=False,
    ),
    OpSpec("linalg.norm", chainrule.linalg.norm, torch.linalg.norm, shapes=[((3,),), ((2, 3, 4),)]),
    OpSpec(
        "linalg.norm (matrix, inf)",
        chainrule.linalg.norm,
        torch.linalg.norm,
        shapes=[((3, 4),)],
        kwargs={"ord": float("inf")},
        second_order=False,
    ),
    OpSpec(
        "linalg.norm (dim pair)",
        chainrule.linalg.norm,
        torch.linalg.norm,
        shapes=[((2, 3, 4),)],
        kwargs={"dim": (0, 2)},
    ),
]

# ---- the addmm family ---------------------------------------------------------------------------
SCALES = {"beta": 0.5, "alpha": -1.5}
SPECS += [
    OpSpec(
        "addmv",
        chainrule.addmv,
        torch.addmv,
        shapes=[((2,), (2, 3), (3,)), ((1,), (2, 3), (3,)), ((), (4, 3), (3,))],
        kwargs=SCALES,
    ),
    OpSpec("addmv (defaults)", chainrule.addmv, torch.addmv, shapes=[((2,), (2, 3), (3,))]),
    OpSpec(
        "addmv (beta=0)",
        chainrule.addmv,
        torch.addmv,
        shapes=[((2,), (2, 3), (3,))],
        kwargs={"beta": 0},
    ),
    OpSpec(
        "addr",
        chainrule.addr,
        torch.addr,
        shapes=[((2, 3), (2,), (3,)), ((3,), (2,), (3,)), ((2, 1), (2,), (3,))],
        kwargs=SCALES,
    ),
    OpSpec("addr (defaults)", chainrule.addr, torch.addr, shapes=[((2, 3), (2,), (3,))]),
    OpSpec(
        "baddbmm",
        chainrule.baddbmm,
        torch.baddbmm,
        shapes=[((2, 3, 4), (2, 3, 5), (2, 5, 4)), ((4,), (2, 3, 5), (2, 5, 4))],
        kwargs=SCALES,
    ),
    OpSpec(
        "baddbmm (beta=0)",
        chainrule.baddbmm,
        torch.baddbmm,
        shapes=[((2, 3, 4), (2, 3, 5), (2, 5, 4))],
        kwargs={"beta": 0, "alpha": 2.0},
    ),
    OpSpec(
        "addbmm",
        chainrule.addbmm,
        torch.addbmm,
        shapes=[((3, 4), (2, 3, 5), (2, 5, 4)), ((1, 4), (2, 3, 5), (2, 5, 4))],
        kwargs=SCALES,
    ),
    OpSpec(
        "addbmm (defaults)", chainrule.addbmm, torch.addbmm, shapes=[((3, 4), (2, 3, 5), (2, 5, 4))]
    ),
    OpSpec(
        "addcmul",
        chainrule.addcmul,
        torch.addcmul,
        shapes=[((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), (2, 3)), ((), (4,), ())],
        kwargs={"value": 0.5},
    ),
    OpSpec("addcmul (defaults)", chainrule.addcmul, torch.addcmul, shapes=[((2, 3), (2, 3), (3,))]),
    OpSpec(
        "addcmul (method)",
        lambda x, y, z: x.addcmul(y, z, value=-2),
        lambda x, y, z: x.addcmul(y, z, value=-2),
        shapes=[((2, 3), (2, 3), (2, 3))],
    ),
    OpSpec(
        "addcdiv",
        chainrule.addcdiv,
        torch.addcdiv,
        shapes=[((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), (2, 3))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],  # keep the divisor away from 0
        kwargs={"value": -0.7},
    ),
    OpSpec(
        "addcdiv (method)",
        lambda x, y, z: x.addcdiv(y, z),
        lambda x, y, z: x.addcdiv(y, z),
        shapes=[((4,), (4,), (4,))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
    ),
]


def _without_dim_warning(cross):
    """cross(x, y) with its default dim, whose deprecation warning (torch's and ours) is muted."""

    def call(x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return cross(x, y)

    return call


# ---- Kronecker and cross products, block diagonals, chains ---------------------------------------
SPECS += [
    OpSpec(
        "kron",
        chainrule.kron,
        torch.kron,
        shapes=[((2, 3), (3, 2)), ((3,), (2, 2)), ((2, 1, 2), (3, 2)), ((), (3,))],
    ),
    OpSpec("kron (method)", lambda x, y: x.kron(y), lambda x, y: x.kron(y), shapes=[((2,), (3,))]),
    OpSpec(
        "linalg.cross",
        chainrule.linalg.cross,
        torch.linalg.cross,
        shapes=[((3,), (3,)), ((4, 3), (4, 3)), ((2, 1, 3), (1, 4, 3))],
    ),
    OpSpec(
        "linalg.cross (dim=0)",
        chainrule.linalg.cross,
        torch.linalg.cross,
        shapes=[((3, 2), (3, 2))],
        kwargs={"dim": 0},
    ),
    OpSpec(
        "cross (dim)",
        chainrule.cross,
        torch.cross,
        shapes=[((2, 3, 4), (2, 3, 4))],
        kwargs={"dim": 1},
    ),
    OpSpec(
        "cross (default dim: the first of size 3)",
        _without_dim_warning(chainrule.cross),
        _without_dim_warning(torch.cross),
        shapes=[((4, 3), (4, 3)), ((3, 2), (3, 1)), ((2, 3, 3), (2, 3, 3))],
    ),
    OpSpec(
        "cross (method, negative dim)",
        lambda x, y: x.cross(y, dim=-1),
        lambda x, y: x.cross(y, dim=-1),
        shapes=[((1, 3), (5, 3))],
    ),
    OpSpec(
        "block_diag",
        chainrule.block_diag,
        torch.block_diag,
        shapes=[((2, 3), (3,), ()), ((2, 2),), ((1, 2), (3, 1), (2, 2))],
    ),
    OpSpec(
        "chain_matmul",
        chainrule.chain_matmul,
        torch.chain_matmul,
        shapes=[((2, 3), (3, 4), (4, 2)), ((2, 3),), ((3, 3), (3, 2))],
    ),
]


# ---- distances ----------------------------------------------------------------------------------
def _repeated_rows(rng):
    """x2 shares two rows with x1 (distance 0 there) and coordinates equal in size (|d| ties)."""
    x1 = rng.uniform(-2.0, 2.0, size=(3, 4))
    x2 = rng.uniform(-2.0, 2.0, size=(4, 4))
    x2[0], x2[2] = x1[1], x1[0]
    x2[3] = x1[2] + np.array([1.0, -1.0, 1.0, 0.25])
    return x1, x2


def _pairwise_norms(x1, x2, p=2.0):
    """cdist written out in torch (a vector norm of every difference): torch.cdist itself has no
    double backward, so second derivatives are checked against this."""
    return torch.linalg.vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), ord=p, dim=-1)


CDIST_SHAPES = [
    ((3, 4), (5, 4)),
    ((2, 3, 2), (2, 4, 2)),
    ((2, 1, 3, 2), (4, 2, 2)),
    ((1, 3), (2, 3)),
]
CDIST_ORDERS = (2.0, 1.0, 3.0, 1.5, 0.5, 0.0, float("inf"))
SPECS += [
    OpSpec(
        f"cdist (p={p})",
        chainrule.cdist,
        torch.cdist,
        shapes=CDIST_SHAPES,
        kwargs={"p": p},
        second_order=False,  # torch.cdist has no double backward: checked just below
    )
    for p in CDIST_ORDERS
]
SPECS += [
    OpSpec(
        f"cdist (p={p}, second order)",
        chainrule.cdist,
        _pairwise_norms,
        shapes=[((2, 3, 2), (2, 4, 2))],
        kwargs={"p": p},
        float32=False,
        noncontiguous=False,
    )
    for p in CDIST_ORDERS
]
SPECS += [
    # more than 25 rows: |a|^2 + |b|^2 - 2 a.b through a matrix product, as torch
    OpSpec("cdist (by product)", chainrule.cdist, torch.cdist, shapes=[((30, 3), (4, 3))]),
    OpSpec(
        "cdist (use_mm_for_euclid_dist)",
        chainrule.cdist,
        torch.cdist,
        shapes=[((2, 3, 2), (2, 4, 2))],
        kwargs={"compute_mode": "use_mm_for_euclid_dist"},
    ),
    # distance 0: the gradient is 0 there (not nan), for every p; p=inf ties get the full
    # gradient each. Finite differences cannot see a convention at a kink; torch refuses
    # cdist's second derivative, and at a zero 2-norm distance chainrule's is the 2-norm's
    # nan by reverse over reverse, finite by the forward passes (see vector_norm_zero_slice)
    *[
        OpSpec(
            f"cdist (p={p}, zero distances and ties)",
            chainrule.cdist,
            torch.cdist,
            make_inputs=_repeated_rows,
            kwargs={"p": p},
            finite_differences=False,
            second_order=False,
            nested_forward=p != 2.0,
        )
        for p in (2.0, 1.0, float("inf"), 0.5, 3.0)
    ],
]


# ---- decompositions -----------------------------------------------------------------------------
# Singular vectors and eigenvectors are unique only up to sign, so their specs check functions that
# do not depend on it: the squares of their entries (and the values, and products such as
# U diag(w) Vh). Matrices are drawn with well-separated singular values (eigenvalues), where the
# derivatives exist; what happens where they coincide is in tests/test_linalg.py.


def _separated(*shape: int, symmetric: bool = False):
    """A draw Q1 diag(s) Q2 (Q diag(s) Q^T when symmetric) with s spread over [1, 3] (and signs
    for the symmetric case): singular values (eigenvalues) well apart and away from zero."""
    m, n = shape[-2], shape[-1]
    k = min(m, n)

    def draw(rng):
        q1, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, m)))
        q2, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, n)))
        s = np.linspace(3.0, 1.0, k) + rng.uniform(-0.2, 0.2, size=shape[:-2] + (k,))
        if symmetric:
            s = s * np.where(np.arange(k) % 2, -1.0, 1.0) + 0.5 * np.arange(k)
            return (q1 * s[..., None, :]) @ np.swapaxes(q1, -1, -2)
        return (q1[..., :, :k] * s[..., None, :]) @ q2[..., :k, :]

    return draw


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else chainrule


def _svd_squares(x, full_matrices=False):
    """(U**2, S, Vh**2), whose value does not depend on the singular vectors' signs."""
    u, s, vh = _lib(x).linalg.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    return u[..., :k] ** 2, s, vh[..., :k, :] ** 2


def _svd_weighted(x, full_matrices=False):
    """U diag(w) Vh for fixed weights w (not S): every pair u_i v_i^T is sign-free."""
    u, s, vh = _lib(x).linalg.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    weights = _lib(x).arange(1, k + 1, dtype=x.dtype, device=x.device) ** 2
    return (u[..., :k] * weights) @ vh[..., :k, :]


def _svd_left_projector(x):
    """U diag(w) U^T: only U is differentiated (the vjp's gU-only branch)."""
    u, s, _ = _lib(x).linalg.svd(x, full_matrices=False)
    weights = _lib(x).arange(1, s.shape[-1] + 1, dtype=x.dtype, device=x.device)
    return (u * weights) @ u.transpose(-1, -2)


def _svd_right_projector(x):
    """Vh^T diag(w) Vh: only Vh is differentiated (the vjp's gVh-only branch)."""
    _, s, vh = _lib(x).linalg.svd(x, full_matrices=False)
    weights = _lib(x).arange(1, s.shape[-1] + 1, dtype=x.dtype, device=x.device)
    return vh.transpose(-1, -2) @ (vh * weights[..., None])


def _symmetrized(function):
    """function(X + X^T): a perturbation of X perturbs the symmetric input symmetrically, so finite
    differences see the symmetric gradient that eigh-like ops return."""

    def call(x, *args, **kwargs):
        return function(x + x.transpose(-1, -2), *args, **kwargs)

    return call


def _eigh_squares(x, UPLO="L"):  # noqa: N803
    """(eigenvalues, eigenvectors**2): free of the eigenvectors' signs."""
    w, v = _lib(x).linalg.eigh(x, UPLO=UPLO)
    return w, v**2


def _eigh_projector(x):
    """V diag(w) V^T for fixed weights: only V is differentiated."""
    _, v = _lib(x).linalg.eigh(x)
    weights = _lib(x).arange(1, v.shape[-1] + 1, dtype=x.dtype, device=x.device)
    return (v * weights) @ v.transpose(-1, -2)


def _cond_by_norms(a, p):
    """||A||_p ||A^-1||_p: PyTorch 2.13 cannot differentiate its own cond for these p (it writes
    into inv_ex's output in place), so its derivative is checked against this composition."""
    inverse = torch.linalg.inv(a)
    return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(inverse, p)


def _lstsq_differentiable(a, b, **kwargs):
    """lstsq's solution, residuals and rank: singular_values carries no gradient (in PyTorch
    either), which finite differences of every output could not see."""
    solution, residuals, rank, _ = _lib(a).linalg.lstsq(a, b, **kwargs)
    return solution, residuals, rank


def _cond_by_norms(a, p):
    """||A||_p ||A^-1||_p: PyTorch 2.13 cannot differentiate its own cond for these p (it writes
    into inv_ex's output in place), so its derivative is checked against this composition."""
    inverse = torch.linalg.inv(a)
    return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(inverse, p)


def _lstsq_differentiable(a, b, **kwargs):
    """lstsq's solution, residuals and rank: singular_values carries no gradient (in PyTorch
    either), which finite differences of every output could not see."""
    solution, residuals, rank, _ = _lib(a).linalg.lstsq(a, b, **kwargs)
    return solution, residuals, rank


def _eig_invariants(x):
    """(L, |V|^2) of a real matrix: complex outputs free of each eigenvector's phase."""
    w, v = _lib(x).linalg.eig(x)
    return w, (v * v.conj()).real


def _eig_projector(x):
    """Re(V diag(w) V^H) for fixed w: only V is differentiated, phase-free."""
    _, v = _lib(x).linalg.eig(x)
    weights = _lib(x).arange(1, v.shape[-1] + 1, dtype=x.dtype, device=x.device)
    return ((v * weights) @ v.mH).real


def _lu_solve_of(a, b, **kwargs):
    """lu_solve(*lu_factor(A), B): the derivative through both."""
    lu, pivots = _lib(a).linalg.lu_factor(a)
    return _lib(a).linalg.lu_solve(lu, pivots, b, **kwargs)


def _packed_lu(rng):
    """A packed LU (unit L below the diagonal, U with a diagonal away from 0) and valid pivots."""
    lu = rng.uniform(-1.0, 1.0, size=(2, 3, 3))
    lu[..., range(3), range(3)] = rng.uniform(1.5, 2.5, size=(2, 3))
    pivots = np.array([[2, 3, 3], [1, 3, 3]], dtype=np.int32)
    return lu, pivots, rng.uniform(-2.0, 2.0, size=(2, 3, 2))


def _cholesky_ex_of_gram(x, *, upper=False):
    """cholesky_ex(X X^T + n I) (see _cholesky_of_gram)."""
    n = x.shape[-1]
    gram = x @ x.transpose(-1, -2) + n * _lib(x).eye(n, dtype=x.dtype, device=x.device)
    return _lib(x).linalg.cholesky_ex(gram, upper=upper)


SPECS += [
    OpSpec(
        "linalg.svd (reduced)",
        _svd_squares,
        _svd_squares,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.svd (reduced, wide, batch)",
        _svd_squares,
        _svd_squares,
        make_inputs=_inputs(_separated(2, 3, 4)),
    ),
    OpSpec(
        "linalg.svd (full_matrices, tall)",
        partial(_svd_squares, full_matrices=True),
        partial(_svd_squares, full_matrices=True),
        make_inputs=_inputs(_separated(4, 2)),
    ),
    OpSpec(
        "linalg.svd (full_matrices, wide)",
        partial(_svd_squares, full_matrices=True),
        partial(_svd_squares, full_matrices=True),
        make_inputs=_inputs(_separated(2, 4)),
    ),
    OpSpec(
        "linalg.svd (square, batch)",
        _svd_squares,
        _svd_squares,
        make_inputs=_inputs(_separated(2, 3, 3)),
    ),
    OpSpec(
        "linalg.svd (U diag(w) Vh)",
        _svd_weighted,
        _svd_weighted,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.svd (U diag(w) Vh, full_matrices, wide)",
        partial(_svd_weighted, full_matrices=True),
        partial(_svd_weighted, full_matrices=True),
        make_inputs=_inputs(_separated(3, 5)),
    ),
    OpSpec(
        "linalg.svd (U only)",
        _svd_left_projector,
        _svd_left_projector,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.svd (U only, wide)",
        _svd_left_projector,
        _svd_left_projector,
        make_inputs=_inputs(_separated(3, 4)),
    ),
    OpSpec(
        "linalg.svd (Vh only)",
        _svd_right_projector,
        _svd_right_projector,
        make_inputs=_inputs(_separated(3, 4)),
    ),
    OpSpec(
        "linalg.svd (Vh only, tall)",
        _svd_right_projector,
        _svd_right_projector,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.svdvals",
        chainrule.linalg.svdvals,
        torch.linalg.svdvals,
        shapes=[((4, 3),), ((2, 3, 5),), ((3, 3),)],
    ),
    # eigh reads one triangle but returns PyTorch's symmetric gradient: against torch directly,
    # against finite differences through X + X^T.
    OpSpec(
        "linalg.eigh",
        _eigh_squares,
        _eigh_squares,
        make_inputs=_inputs(_separated(3, 3, symmetric=True)),
        finite_differences=False,
    ),
    OpSpec(
        "linalg.eigh (UPLO='U', batch)",
        partial(_eigh_squares, UPLO="U"),
        partial(_eigh_squares, UPLO="U"),
        make_inputs=_inputs(_separated(2, 4, 4, symmetric=True)),
        finite_differences=False,
    ),
    OpSpec(
        "linalg.eigh (of X + X^T)",
        _symmetrized(_eigh_squares),
        _symmetrized(_eigh_squares),
        make_inputs=_inputs(_separated(3, 3, symmetric=True)),
    ),
    OpSpec(
        "linalg.eigh (V only, of X + X^T)",
        _symmetrized(_eigh_projector),
        _symmetrized(_eigh_projector),
        make_inputs=_inputs(_separated(2, 3, 3, symmetric=True)),
    ),
    OpSpec(
        "linalg.eigvalsh",
        chainrule.linalg.eigvalsh,
        torch.linalg.eigvalsh,
        make_inputs=_inputs(_separated(2, 3, 3, symmetric=True)),
        finite_differences=False,
    ),
    OpSpec(
        "linalg.eigvalsh (of X + X^T)",
        _symmetrized(chainrule.linalg.eigvalsh),
        _symmetrized(torch.linalg.eigvalsh),
        shapes=[((3, 3),), ((2, 4, 4),)],
    ),
    OpSpec(
        "linalg.eig (real A: L, |V|^2)",
        _eig_invariants,
        _eig_invariants,
        make_inputs=_inputs(_well_conditioned(3, 3)),
        float32=False,  # complex64 eigenvalues: NumPy's order may differ from cgeev's
    ),
    OpSpec(
        "linalg.eig (real A: V only, batch)",
        _eig_projector,
        _eig_projector,
        make_inputs=_inputs(_well_conditioned(2, 3, 3)),
        float32=False,
    ),
    OpSpec(
        "linalg.eigvals (real A)",
        chainrule.linalg.eigvals,
        torch.linalg.eigvals,
        make_inputs=_inputs(_well_conditioned(2, 4, 4)),
        float32=False,
    ),
    OpSpec(
        "linalg.qr (reduced, tall)",
        chainrule.linalg.qr,
        torch.linalg.qr,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.qr (square, batch)",
        chainrule.linalg.qr,
        torch.linalg.qr,
        make_inputs=_inputs(_separated(2, 3, 3)),
    ),
    OpSpec(
        "linalg.qr (wide)",
        chainrule.linalg.qr,
        torch.linalg.qr,
        make_inputs=_inputs(_separated(3, 5)),
    ),
    OpSpec(
        "linalg.qr (complete, wide)",
        chainrule.linalg.qr,
        torch.linalg.qr,
        make_inputs=_inputs(_separated(2, 4)),
        kwargs={"mode": "complete"},
    ),
    OpSpec(
        "linalg.qr (R only used)",
        lambda x: _lib(x).linalg.qr(x).R,
        lambda x: torch.linalg.qr(x).R,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.qr (Q only used, wide)",
        lambda x: _lib(x).linalg.qr(x).Q,
        lambda x: torch.linalg.qr(x).Q,
        make_inputs=_inputs(_separated(3, 4)),
    ),
    OpSpec(
        "linalg.matrix_exp",
        chainrule.linalg.matrix_exp,
        torch.linalg.matrix_exp,
        shapes=[((3, 3),), ((2, 4, 4),), ((1, 1),)],
    ),
    OpSpec(
        "linalg.matrix_exp (large norm: squarings)",
        chainrule.linalg.matrix_exp,
        torch.linalg.matrix_exp,
        shapes=[((3, 3),)],
        domains=[(-4.0, 4.0)],
    ),
    OpSpec(
        "linalg.pinv",
        chainrule.linalg.pinv,
        torch.linalg.pinv,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    OpSpec(
        "linalg.pinv (wide, batch)",
        chainrule.linalg.pinv,
        torch.linalg.pinv,
        make_inputs=_inputs(_separated(2, 3, 4)),
    ),
    OpSpec(
        "linalg.pinv (hermitian)",
        chainrule.linalg.pinv,
        torch.linalg.pinv,
        make_inputs=_inputs(_separated(3, 3, symmetric=True)),
        kwargs={"hermitian": True},
        finite_differences=False,
    ),
    OpSpec(
        "linalg.pinv (hermitian, of X + X^T)",
        _symmetrized(partial(chainrule.linalg.pinv, hermitian=True)),
        _symmetrized(partial(torch.linalg.pinv, hermitian=True)),
        make_inputs=_inputs(_separated(3, 3, symmetric=True)),
    ),
    OpSpec(
        "linalg.lstsq",
        chainrule.linalg.lstsq,
        torch.linalg.lstsq,
        make_inputs=_inputs(_separated(4, 3), (4, 2)),
    ),
    OpSpec(
        "linalg.lstsq (gelsd: residuals; batch)",
        _lstsq_differentiable,
        _lstsq_differentiable,
        make_inputs=_inputs(_separated(2, 5, 3), (2, 5, 2)),
        kwargs={"driver": "gelsd"},
    ),
    OpSpec(
        "linalg.lstsq (vector B, gels)",
        chainrule.linalg.lstsq,
        torch.linalg.lstsq,
        make_inputs=_inputs(_separated(4, 3), (4,)),
        kwargs={"driver": "gels"},
    ),
    OpSpec(
        "linalg.lstsq (wide: minimum norm)",
        chainrule.linalg.lstsq,
        torch.linalg.lstsq,
        make_inputs=_inputs(_separated(2, 4), (2, 3)),
    ),
    OpSpec(
        "linalg.lu_factor",
        chainrule.linalg.lu_factor,
        torch.linalg.lu_factor,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "linalg.lu_factor_ex (batch)",
        chainrule.linalg.lu_factor_ex,
        torch.linalg.lu_factor_ex,
        shapes=[((2, 4, 4),)],
    ),
    OpSpec("linalg.lu", chainrule.linalg.lu, torch.linalg.lu, shapes=[((3, 3),), ((2, 4, 4),)]),
    OpSpec(
        "linalg.lu_factor (wide and tall)",
        chainrule.linalg.lu_factor,
        torch.linalg.lu_factor,
        shapes=[((3, 5),), ((2, 5, 3),)],
    ),
    OpSpec(
        "linalg.lu (wide and tall)",
        chainrule.linalg.lu,
        torch.linalg.lu,
        shapes=[((2, 3, 4),), ((4, 2),)],
    ),
    OpSpec(
        "linalg.lu_solve (of lu_factor)",
        _lu_solve_of,
        _lu_solve_of,
        make_inputs=_inputs(_well_conditioned(2, 3, 3), (2, 3, 2)),
    ),
    OpSpec(
        "linalg.lu_solve (adjoint, of lu_factor)",
        partial(_lu_solve_of, adjoint=True),
        partial(_lu_solve_of, adjoint=True),
        make_inputs=_inputs(_well_conditioned(3, 3), (3, 2)),
    ),
    OpSpec(
        "linalg.lu_solve (right, of lu_factor)",
        partial(_lu_solve_of, left=False),
        partial(_lu_solve_of, left=False),
        make_inputs=_inputs(_well_conditioned(3, 3), (2, 3)),
    ),
    OpSpec(
        "linalg.lu_solve (packed LU and pivots given)",
        chainrule.linalg.lu_solve,
        torch.linalg.lu_solve,
        make_inputs=_packed_lu,
    ),
    OpSpec(
        "linalg.lu_solve (right, adjoint, packed LU given)",
        chainrule.linalg.lu_solve,
        torch.linalg.lu_solve,
        make_inputs=lambda rng: (*_packed_lu(rng)[:2], rng.uniform(-2, 2, size=(2, 4, 3))),
        kwargs={"left": False, "adjoint": True},
    ),
    OpSpec(
        "linalg.cholesky_ex",
        chainrule.linalg.cholesky_ex,
        torch.linalg.cholesky_ex,
        make_inputs=_inputs(_spd(2, 3, 3)),
        finite_differences=False,
    ),
    OpSpec(
        "linalg.cholesky_ex (upper, of X X^T + n I)",
        partial(_cholesky_ex_of_gram, upper=True),
        partial(_cholesky_ex_of_gram, upper=True),
        shapes=[((3, 3),)],
    ),
    OpSpec(
        "linalg.inv_ex",
        chainrule.linalg.inv_ex,
        torch.linalg.inv_ex,
        make_inputs=_inputs(_well_conditioned(2, 3, 3)),
    ),
    *[
        OpSpec(
            f"linalg.cond (p={p})",
            chainrule.linalg.cond,
            torch.linalg.cond,
            make_inputs=_inputs(_separated(2, 3, 3)),
            kwargs={"p": p},
        )
        for p in (None, 2, -2)
    ],
    *[
        OpSpec(
            f"linalg.cond (p={p})",
            chainrule.linalg.cond,
            _cond_by_norms,
            make_inputs=_inputs(_separated(2, 3, 3)),
            kwargs={"p": p},
        )
        for p in ("fro", "nuc", 1, -1, float("inf"), -float("inf"))
    ],
    OpSpec(
        "linalg.cond (tall)",
        chainrule.linalg.cond,
        torch.linalg.cond,
        make_inputs=_inputs(_separated(4, 3)),
    ),
    *[
        OpSpec(
            f"linalg.matrix_norm (ord={o})",
            chainrule.linalg.matrix_norm,
            torch.linalg.matrix_norm,
            make_inputs=_inputs(_separated(2, 3, 4)),
            kwargs={"ord": o},
        )
        for o in ("nuc", 2, -2)
    ],
    OpSpec(
        "linalg.matrix_norm (ord='nuc', dims, keepdim)",
        chainrule.linalg.matrix_norm,
        torch.linalg.matrix_norm,
        shapes=[((3, 2, 4),)],
        kwargs={"ord": "nuc", "dim": (2, 0), "keepdim": True},
    ),
    OpSpec(
        "linalg.norm (ord=2, matrix)",
        chainrule.linalg.norm,
        torch.linalg.norm,
        make_inputs=_inputs(_separated(3, 4)),
        kwargs={"ord": 2},
    ),
    OpSpec(
        "linalg.norm (ord='nuc', dim pair)",
        chainrule.linalg.norm,
        torch.linalg.norm,
        shapes=[((2, 3, 4),)],
        kwargs={"ord": "nuc", "dim": (0, 2)},
    ),
]
