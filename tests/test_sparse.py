"""Sparse COO tensors (`chainrule.sparse_coo_tensor`, `chainrule.sparse`) behave as PyTorch's:
the same printed form, coalescing order, sums, products and their gradients, the same errors.
Values, gradients and second derivatives of every sparse function are checked by the shared
checker in tests/op_specs/sparse.py; this file holds what a spec cannot say."""

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.backend.dtypes import display_namespace, set_display_namespace

INDICES = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: uncoalesced
VALUES = [3.0, 4.0, 5.0, 1.0]


def both(indices=INDICES, values=VALUES, size=(2, 3), dtype=None, **kwargs):
    """The same sparse tensor in chainrule and in torch (`dtype` by name)."""
    sizes = () if size is None else (size,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that it skips the invariant checks
        theirs = torch.sparse_coo_tensor(
            torch.tensor(indices),
            torch.tensor(values),
            *sizes,
            dtype=dtype and getattr(torch, dtype),
            **kwargs,
        )
    ours = chainrule.sparse_coo_tensor(
        chainrule.tensor(indices),
        chainrule.tensor(values),
        *sizes,
        dtype=dtype and getattr(chainrule, dtype),
        **kwargs,
    )
    return ours, theirs


def as_torch_text(tensor):
    before = display_namespace()
    set_display_namespace("torch")
    try:
        return repr(tensor)
    finally:
        set_display_namespace(before)


def assert_same(ours, theirs):
    if theirs.is_sparse:
        assert ours.is_sparse and ours.shape == tuple(theirs.shape)
        assert ours._nnz() == theirs._nnz() and ours.is_coalesced() == theirs.is_coalesced()
        np.testing.assert_array_equal(ours._indices().numpy(), theirs._indices().numpy())
        ours, theirs = ours._values(), theirs._values()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_a_sparse_tensor_prints_as_pytorch_prints_it():
    ours, theirs = both()
    assert as_torch_text(ours) == repr(theirs)
    assert as_torch_text(ours.coalesce()) == repr(theirs.coalesce())
    for dtype in ("float64", "int32", "bool"):
        ours, theirs = both(values=[1, 0, 1, 1], dtype=dtype)
        assert as_torch_text(ours) == repr(theirs)
    ours, theirs = both(requires_grad=True)
    assert as_torch_text(ours) == repr(theirs)
    values = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.sparse_coo_tensor(torch.tensor(INDICES), values, (2, 3))
    ours = chainrule.sparse_coo_tensor(
        INDICES, chainrule.tensor(VALUES, dtype=chainrule.float64, requires_grad=True), (2, 3)
    )
    assert as_torch_text(ours) == repr(theirs)
    # The suffixes after the size wrap where PyTorch's do (a hybrid tensor's longer lines).
    for size, dtype in (((3, 2), "float64"), ((10**9, 2), "float64"), ((3, 2), "float32")):
        ours, theirs = both([[2, 0]], [[1.0, 2.0], [3.0, 4.0]], size, dtype)
        assert as_torch_text(ours) == repr(theirs)
        assert as_torch_text(ours.requires_grad_()) == repr(theirs.requires_grad_())


def test_a_large_sparse_tensor_wraps_and_summarizes_its_parts_as_pytorch():
    """Each part's lines wrap at the width left after its prefix (`values=tensor(`), and a
    part of over 1000 entries is summarized, as PyTorch prints an adjacency matrix."""
    for rows, columns, every in ((40, 40, 3), (40, 100, 7)):
        pair = []
        for lib in (chainrule, torch):
            grid = lib.arange(float(rows * columns)).reshape(rows, columns)
            pair.append((grid % every == 0).double() * grid)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note that CSR support is in beta
            assert as_torch_text(pair[0].to_sparse()) == repr(pair[1].to_sparse())
            assert as_torch_text(pair[0].to_sparse_csr()) == repr(pair[1].to_sparse_csr())


def test_what_a_sparse_tensor_reports_about_itself():
    ours, theirs = both()
    assert isinstance(ours, chainrule.Tensor)
    assert ours.layout is chainrule.sparse_coo and str(ours.layout) == "chainrule.sparse_coo"
    assert (ours.is_sparse, ours.sparse_dim(), ours.dense_dim(), ours._nnz()) == (True, 2, 0, 4)
    assert ours.shape == chainrule.Size([2, 3]) and ours.size(-1) == 3 and len(ours) == 2
    assert ours.numel() == theirs.numel() and ours.dim() == 2 and ours.dtype is chainrule.float32
    assert not ours.is_coalesced() and ours.coalesce().is_coalesced()
    assert not chainrule.tensor([1.0]).is_sparse
    assert chainrule.tensor([1.0]).layout is chainrule.strided


def test_coalesce_sums_repeated_entries_and_sorts_the_indices_as_pytorch():
    indices = [[2, 0, 1, 0, 2], [1, 3, 0, 3, 1]]
    ours, theirs = both(indices, [1.0, 2.0, 3.0, 4.0, 5.0], (3, 4))
    assert_same(ours.coalesce(), theirs.coalesce())
    assert_same(ours.t(), theirs.t())
    assert_same(ours.to_dense(), theirs.to_dense())


def test_values_and_indices_need_a_coalesced_tensor():
    ours, _ = both()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.values()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.indices()
    assert ours._values().shape == (4,)


def test_sums_over_sparse_dimensions_give_sparse_or_dense_results_as_pytorch():
    ours, theirs = both()
    assert_same(chainrule.sparse.sum(ours), torch.sparse.sum(theirs))
    for dim in (0, 1, -1):
        assert_same(chainrule.sparse.sum(ours, dim), torch.sparse.sum(theirs, dim))
        assert_same(ours.sum(dim), theirs.sum(dim))
    assert_same(chainrule.sparse.sum(ours, (0, 1)), torch.sparse.sum(theirs, (0, 1)))


def test_dense_dimensions_of_the_values():
    ours, theirs = both([[0, 2, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (4, 2))
    assert (ours.sparse_dim(), ours.dense_dim()) == (1, 1)
    assert_same(ours.to_dense(), theirs.to_dense())
    assert_same(ours.coalesce(), theirs.coalesce())
    assert_same(chainrule.sparse.sum(ours, 1), torch.sparse.sum(theirs, 1))


def test_scaling_adding_and_multiplying_by_a_dense_tensor():
    ours, theirs = both()
    coalesced = ours.coalesce(), theirs.coalesce()
    dense = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for op in (
        lambda s, lib: s * 2,
        lambda s, lib: 2 * s,
        lambda s, lib: s / 4,
        lambda s, lib: -s,
        lambda s, lib: s.pow(2),
        lambda s, lib: s * lib.tensor(dense),
    ):
        assert_same(op(ours, chainrule), op(theirs, torch))
    assert_same(coalesced[0] + coalesced[0], coalesced[1] + coalesced[1])
    assert_same((ours + ours.coalesce()).to_dense(), (theirs + theirs.coalesce()).to_dense())
    assert_same((ours - ours * 3).to_dense(), (theirs - theirs * 3).to_dense())
    ones = np.ones((2, 3), dtype=np.float32)
    assert_same(chainrule.tensor(ones) + ours, torch.tensor(ones) + theirs)
    # PyTorch refuses sparse + dense (its engine adds the two internally); chainrule adds.
    assert_same(ours + chainrule.tensor(ones), torch.tensor(ones) + theirs)


@pytest.mark.parametrize("dims", [(), (1,), (2,)])
def test_to_sparse_keeps_the_nonzero_entries_as_pytorch(dims):
    dense = np.array([[[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [3.0, 4.0]]], dtype=np.float32)
    ours = chainrule.tensor(dense).to_sparse(*dims)
    theirs = torch.tensor(dense).to_sparse(*dims)
    assert_same(ours, theirs)
    assert chainrule.tensor(dense).to_sparse_coo().shape == (2, 2, 2)


PRODUCTS = {
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "spmm": lambda lib, s, d: lib.spmm(s, d),
    "@": lambda lib, s, d: s @ d,
    "mm": lambda lib, s, d: lib.mm(s, d),
    "matmul (vector)": lambda lib, s, d: lib.matmul(s, d[:, 0]),
    "addmm": lambda lib, s, d: lib.addmm(lib.ones(2, 2), s, d, beta=0.5),
    "dense @ sparse": lambda lib, s, d: lib.mm(d.t(), s.t()),
    "mv": lambda lib, s, d: lib.mv(s, d[:, 0]),
    "Tensor.mv": lambda lib, s, d: s.mv(d[:, 1]),
    "vector @ sparse": lambda lib, s, d: d[:2, 0] @ s,
}


@pytest.mark.parametrize("product", PRODUCTS.values(), ids=PRODUCTS)
def test_products_and_their_gradients_equal_pytorchs_sparse_kernels(product):
    dense = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    values = {lib: lib.tensor(VALUES, requires_grad=True) for lib in (chainrule, torch)}
    dense = {lib: lib.tensor(dense, requires_grad=True) for lib in (chainrule, torch)}
    results = []
    for lib in (chainrule, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sparse = lib.sparse_coo_tensor(lib.tensor(INDICES), values[lib], (2, 3))
        result = product(lib, sparse, dense[lib])
        weights = np.arange(1.0, 1.0 + result.numel(), dtype=np.float32)
        (result * lib.tensor(weights.reshape(tuple(result.shape)))).sum().backward()
        results.append(result)
    assert_same(*results)
    assert_same(values[chainrule].grad, values[torch].grad)
    assert_same(dense[chainrule].grad, dense[torch].grad)


CSR_PRODUCTS = {
    "matmul": lambda lib, s, d: lib.matmul(s, d),
    "mm": lambda lib, s, d: lib.mm(s, d),
    "mv": lambda lib, s, d: lib.mv(s, d[:, 0]),
    "addmm": lambda lib, s, d: lib.addmm(lib.ones(2, 1, dtype=d.dtype), s, d[:, :1]),
    "vector @ csr": lambda lib, s, d: d[:2, 0] @ s,
}


@pytest.mark.parametrize("product", CSR_PRODUCTS.values(), ids=CSR_PRODUCTS)
def test_a_csr_operator_multiplies_through_the_functional_forms_as_pytorch(product):
    """Krylov and graph code call torch.mv / torch.mm / torch.matmul on a CSR matrix (whose
    is_sparse is False in PyTorch too), not only its @ operator."""
    dense = np.random.default_rng(1).standard_normal((3, 2))
    results, grads = [], []
    for lib in (chainrule, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            csr = lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor(VALUES), (2, 3))
            csr = csr.double().to_sparse_csr()
        operand = lib.tensor(dense, requires_grad=True)
        result = product(lib, csr, operand)
        weights = np.arange(1.0, 1.0 + result.numel()).reshape(tuple(result.shape))
        (result * lib.tensor(weights)).sum().backward()
        results.append(result)
        grads.append(operand.grad)
    assert_same(*results)
    assert_same(*grads)


def test_a_product_of_two_sparse_matrices_is_pytorchs_sparse_product():
    """A @ B of two COO matrices (a graph's two-hop adjacency) is a coalesced COO matrix with
    an entry for every pair of stored entries that meet, stored zeros included, and gradients
    reach both operands' values; CSR @ CSR is CSR."""
    pair = []
    for lib in (chainrule, torch):
        a_values = lib.tensor([1.0, 2.0, 3.0, 4.0, 0.0], requires_grad=True)
        b_values = lib.tensor([5.0, 6.0, 7.0, 8.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = lib.sparse_coo_tensor([[0, 0, 1, 2, 2], [0, 2, 1, 0, 0]], a_values, (3, 3))
            b = lib.sparse_coo_tensor([[0, 2, 2, 0], [1, 0, 2, 1]], b_values, (3, 4))
        product = lib.sparse.mm(a, b)
        weights = lib.arange(1.0, 13.0).reshape(3, 4)
        (product.to_dense() * weights).sum().backward()
        pair.append((product, a_values.grad, b_values.grad, (a @ b).layout))
    (ours, *our_grads, our_layout), (theirs, *their_grads, their_layout) = pair
    assert_same(ours, theirs)
    for our_grad, their_grad in zip(our_grads, their_grads):
        assert_same(our_grad, their_grad)
    assert our_layout is chainrule.sparse_coo and their_layout is torch.sparse_coo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        csr = [
            lib.eye(3).to_sparse_csr() @ lib.arange(9.0).reshape(3, 3).to_sparse_csr()
            for lib in (chainrule, torch)
        ]
    assert as_torch_text(csr[0]) == repr(csr[1])


def test_sparse_mask_reads_a_dense_tensor_at_the_masks_positions_as_pytorch():
    """dense.sparse_mask(pattern) (a graph's edge weights read off a dense score matrix) keeps
    the mask's indices as they are, coalesced or not, and the gradient reaches only those
    entries of the dense tensor."""
    for coalesce in (False, True):
        pair = []
        for lib in (chainrule, torch):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mask = lib.sparse_coo_tensor(
                    [[0, 1, 2, 0], [1, 0, 2, 1]], [1.0, -2.0, 3.0, 5.0], (3, 3)
                )
            mask = mask.coalesce() if coalesce else mask
            scores = lib.arange(9.0).reshape(3, 3).requires_grad_()
            masked = scores.sparse_mask(mask)
            lib.sparse.sum(masked * 2.0).backward()
            pair.append((masked, scores.grad))
        assert as_torch_text(pair[0][0]).split("grad_fn")[0] == repr(pair[1][0]).split("grad_fn")[0]
        assert_same(pair[0][1], pair[1][1])
    with pytest.raises(RuntimeError, match="incompatible sizes"):
        chainrule.ones(2, 2).sparse_mask(both()[0])


def test_a_sparse_leaf_gets_a_sparse_gradient_on_its_own_indices():
    ours, theirs = both(requires_grad=True)
    assert ours.is_leaf and ours.requires_grad and ours.grad is None
    dense = np.ones((3, 2), dtype=np.float32)
    chainrule.sparse.mm(ours, chainrule.tensor(dense)).sum().backward()
    torch.sparse.mm(theirs, torch.tensor(dense)).sum().backward()
    assert ours.grad.is_sparse
    assert_same(ours.grad.coalesce(), theirs.grad.coalesce())
    ours.grad = None
    assert ours.grad is None


def test_softmax_over_stored_entries_only():
    ours, theirs = both()
    for dim in (0, 1):
        assert_same(chainrule.sparse.softmax(ours, dim), torch.sparse.softmax(theirs, dim))
        assert_same(chainrule.sparse.log_softmax(ours, dim), torch.sparse.log_softmax(theirs, dim))


def test_the_legacy_constructor_warns_as_pytorch_and_makes_the_same_tensor():
    with pytest.warns(UserWarning, match="deprecated"):
        legacy = chainrule.sparse.FloatTensor(
            chainrule.tensor(INDICES), chainrule.tensor(VALUES, dtype=chainrule.float64), (2, 3)
        )
    assert legacy.dtype is chainrule.float32 and legacy.shape == (2, 3)


def test_the_size_defaults_to_the_smallest_that_holds_the_indices():
    ours, theirs = both(size=None)
    assert ours.shape == tuple(theirs.shape) == (2, 3)
    ours = chainrule.sparse_coo_tensor([[0, 4]], [[1.0, 2.0], [3.0, 4.0]])
    assert ours.shape == (5, 2)


@pytest.mark.parametrize(
    ("indices", "values", "size", "message"),
    [
        (INDICES, VALUES, (1, 3), "size is inconsistent with indices: for dim 0, size is 1"),
        ([[0, -1], [0, 0]], [1.0, 2.0], (2, 2), "found negative index -1 for dim 0"),
        (INDICES, VALUES[:2], (2, 3), "nnz from indices: 4, nnz from values: 2"),
        (INDICES, VALUES, (2,), "len\\(size\\) == sparse_dim \\+ dense_dim"),
        ([0, 1], [1.0, 2.0], (2,), "indices must be sparse_dim x nnz"),
    ],
)
def test_invalid_indices_are_refused_before_any_tensor_is_made(indices, values, size, message):
    with pytest.raises(RuntimeError, match=message):
        chainrule.sparse_coo_tensor(indices, values, size)


def test_a_product_of_mismatched_dtypes_or_shapes_is_refused():
    ours, _ = both()
    with pytest.raises(TypeError, match="expected scalar type Float but found Double"):
        chainrule.sparse.mm(ours, chainrule.ones(3, 2, dtype=chainrule.float64))
    with pytest.raises(ValueError, match="Expected dim 0 size 3, got 4"):
        chainrule.sparse.mm(ours, chainrule.ones(4, 2))


ZERO_PRESERVING = (
    "sin tan asin atan sinh tanh asinh atanh sqrt expm1 log1p erf abs square sign floor ceil "
    "trunc".split()
)


@pytest.mark.parametrize("name", ZERO_PRESERVING)
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_unary_functions_with_f0_zero_map_the_stored_values_as_pytorch(name, layout):
    """torch.sin(sparse) and its kin (f(0) = 0) run on the stored values; a COO tensor's
    repeated entries are summed first, so the result is coalesced, as PyTorch's. Function and
    method forms alike."""
    ours, theirs = both(values=[0.3, -0.4, 0.5, 0.2], dtype="float64")
    if layout == "csr":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, theirs = ours.coalesce().to_sparse_csr(), theirs.coalesce().to_sparse_csr()
        if name == "square":  # PyTorch has no CSR square
            for lib, operand in ((chainrule, ours), (torch, theirs)):
                with pytest.raises(RuntimeError, match="unsupported tensor layout: SparseCsr"):
                    lib.square(operand)
            return
    result, expected = getattr(chainrule, name)(ours), getattr(torch, name)(theirs)
    assert result.layout is getattr(chainrule, f"sparse_{layout}")
    if layout == "coo":
        assert_same(result, expected)
    np.testing.assert_allclose(result.to_dense().numpy(), expected.to_dense().numpy())
    np.testing.assert_allclose(
        getattr(ours, name)().to_dense().numpy(), expected.to_dense().numpy()
    )


def test_unary_functions_without_a_sparse_kernel_are_refused_naming_them():
    ours, _ = both()
    for name in ("cos", "exp", "sigmoid"):
        with pytest.raises(NotImplementedError, match=f"{name}: not implemented for sparse"):
            getattr(chainrule, name)(ours)
    for name in ("abs", "floor"):  # a dense tensor's own refusal still reaches the caller
        with pytest.raises(TypeError, match="bool"):
            getattr(chainrule, name)(chainrule.tensor([True, False]))


def test_an_op_without_a_sparse_form_raises_not_implemented_naming_it():
    ours, _ = both()
    with pytest.raises(NotImplementedError, match="relu: not implemented for sparse_coo"):
        chainrule.relu(ours)
    with pytest.raises(NotImplementedError, match="flip: not implemented for sparse_coo"):
        chainrule.flip(ours, [0])
    with pytest.raises(NotImplementedError, match="cos: not implemented for sparse_coo"):
        ours.cos()
    with pytest.raises(NotImplementedError, match="to_dense"):
        chainrule.ones(2, 3) * chainrule.tensor(2.0) ** ours


def test_conversions_keep_the_sparsity():
    ours, _ = both()
    doubled = ours.double()
    assert doubled.is_sparse and doubled.dtype is chainrule.float64
    assert ours.to(chainrule.float64).dtype is chainrule.float64
    assert ours.detach().is_sparse and ours.clone()._nnz() == 4
    assert ours.to_sparse() is ours and ours.cpu().is_sparse
    assert ours.type() == "chainrule.sparse.FloatTensor"
    assert ours.int().type() == "chainrule.sparse.IntTensor"


# ---- sparse gradients: Embedding(sparse=True) and the optimizers that take them ---------------


def embedding_pair(sparse=True, **kwargs):
    """The same Embedding(6, 3) in both libraries, weights cos(0..17)."""
    weights = np.cos(np.arange(18.0)).reshape(6, 3).astype(np.float32)
    pair = []
    for lib in (chainrule, torch):
        module = lib.nn.Embedding(6, 3, sparse=sparse, **kwargs)
        with lib.no_grad():
            module.weight.copy_(lib.tensor(weights))
        pair.append(module)
    return pair


def test_an_embedding_with_sparse_true_gets_pytorchs_sparse_gradient():
    batch = [[1, 2, 2], [4, 1, 0]]
    for kwargs in ({}, {"padding_idx": 2}, {"max_norm": 1.0}):
        ours, theirs = embedding_pair(**kwargs)
        ours(chainrule.tensor(batch)).pow(2).sum().backward()
        theirs(torch.tensor(batch)).pow(2).sum().backward()
        assert ours.weight.grad.is_sparse
        assert_same(ours.weight.grad, theirs.weight.grad)
        assert as_torch_text(ours.weight.grad) == repr(theirs.weight.grad)


def test_sparse_gradients_add_up_sparse_and_with_a_dense_one_dense():
    ours, theirs = embedding_pair()
    for module, lib in ((ours, chainrule), (theirs, torch)):
        module(lib.tensor([1])).sum().backward()
        module(lib.tensor([3, 3])).sum().backward()
    assert_same(ours.weight.grad, theirs.weight.grad)
    ours.zero_grad(set_to_none=False)
    theirs.zero_grad(set_to_none=False)
    assert as_torch_text(ours.weight.grad) == repr(theirs.weight.grad)
    for module, lib in ((ours, chainrule), (theirs, torch)):
        (module(lib.tensor([1, 2])).sum() + module.weight.sum()).backward()
    assert not ours.weight.grad.is_sparse
    assert_same(ours.weight.grad, theirs.weight.grad)


def test_scale_grad_by_freq_has_no_sparse_form():
    module, _ = embedding_pair(scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        module(chainrule.tensor([1, 1]))


def test_an_embedding_bag_with_sparse_true_gets_a_sparse_gradient():
    grads = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        bag = lib.nn.EmbeddingBag(6, 3, sparse=True, mode="mean")
        bag(lib.tensor([[1, 2], [3, 3]])).sum().backward()
        grads.append(bag.weight.grad)
    assert grads[0].is_sparse
    assert_same(grads[0].to_dense(), grads[1].to_dense())


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("SparseAdam", {"lr": 0.1}),
    ("SparseAdam", {"lr": 0.1, "betas": (0.8, 0.9), "maximize": True}),
]


@pytest.mark.parametrize(("name", "options"), OPTIMIZERS, ids=lambda x: str(x))
def test_optimizers_that_take_sparse_gradients_step_as_pytorchs(name, options):
    """SparseAdam moves only the rows each step's gradient holds (row 5 never moves)."""
    modules = embedding_pair()
    for module, lib in zip(modules, (chainrule, torch)):
        optimizer = getattr(lib.optim, name)(module.parameters(), **options)
        for batch in ([[1, 2, 2], [4, 1, 0]], [[3, 3]], [[0, 1]]):
            optimizer.zero_grad()
            module(lib.tensor(batch)).pow(2).sum().backward()
            optimizer.step()
    ours, theirs = (module.weight.detach().numpy() for module in modules)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("Adam", {}, "Adam does not support sparse gradients, please consider SparseAdam"),
        ("AdamW", {}, "Adam does not support sparse gradients, please consider SparseAdam"),
        ("RMSprop", {}, "RMSprop does not support sparse gradients"),
        ("SGD", {"weight_decay": 0.1}, r"add\(sparse, dense\) is not supported"),
        ("Adagrad", {"weight_decay": 0.1}, "weight_decay option is not compatible"),
    ],
)
def test_optimizers_refuse_sparse_gradients_where_pytorchs_do(name, options, message):
    module, _ = embedding_pair()
    before = module.weight.detach().clone()
    optimizer = getattr(chainrule.optim, name)(module.parameters(), lr=0.1, **options)
    module(chainrule.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match=message):
        optimizer.step()
    assert chainrule.equal(module.weight.detach(), before)


def test_sparse_adam_refuses_a_dense_gradient():
    module, _ = embedding_pair(sparse=False)
    optimizer = chainrule.optim.SparseAdam(module.parameters())
    module(chainrule.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        optimizer.step()


@pytest.mark.parametrize(
    "diagonals_shape, offsets, shape",
    [
        ((2, 5), [0, -2], (4, 6)),
        ((2, 5), [0, 1], (3, 3)),
        ((3, 4), [-1, 0, 1], (4, 4)),
        ((5,), [0], (3, 3)),
        ((5,), 2, (3, 5)),
        ((2, 3), [3, -4], (6, 7)),
    ],
)
def test_spdiags_builds_pytorchs_matrix_entry_for_entry(diagonals_shape, offsets, shape):
    diagonals = np.arange(1.0, 1.0 + np.prod(diagonals_shape)).reshape(diagonals_shape)
    ours = chainrule.sparse.spdiags(chainrule.tensor(diagonals), chainrule.tensor(offsets), shape)
    theirs = torch.sparse.spdiags(torch.tensor(diagonals), torch.tensor(offsets), shape)
    np.testing.assert_array_equal(ours._indices().numpy(), theirs._indices().numpy())
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    assert not ours.is_coalesced() and ours.dtype == chainrule.float64
    ours = chainrule.sparse.spdiags(
        chainrule.tensor(diagonals), chainrule.tensor(offsets), shape, chainrule.sparse_csr
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that CSR support is in beta
        theirs = torch.sparse.spdiags(
            torch.tensor(diagonals), torch.tensor(offsets), shape, torch.sparse_csr
        )
    assert as_torch_text(ours) == repr(theirs)


def test_spdiags_refuses_what_pytorch_refuses():
    diagonals = chainrule.ones(2, 3)
    for offsets, shape, message in [
        ([0, 0], (3, 3), "duplicate values"),
        ([0], (3, 3), r"Number of diagonals \(2\) does not match the number of offsets \(1\)"),
        ([0.0, 1.0], (3, 3), "must have dtype Long but got Float"),
        ([0, 1], (3, 3, 1), "Output shape must be 2d"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            chainrule.sparse.spdiags(diagonals, chainrule.tensor(offsets), shape)


# ---- compressed sparse rows: sparse_csr_tensor, to_sparse_csr ----------------------------------

CROW, COL, CSR_VALUES = [0, 2, 4, 4], [1, 3, 0, 2], [3.0, 4.0, 5.0, 1.0]  # 3 x 4, last row empty


def csr_both(values=CSR_VALUES, index_dtype="int64", **kwargs):
    """The same CSR matrix in chainrule and in torch (SciPy's indptr, indices, data); `values`
    a list, or each library's tensor by library."""
    pair = []
    for lib in (chainrule, torch):
        index = getattr(lib, index_dtype)
        crow, col = lib.tensor(CROW, dtype=index), lib.tensor(COL, dtype=index)
        data = values[lib] if isinstance(values, dict) else lib.tensor(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note that CSR support is in beta
            pair.append(lib.sparse_csr_tensor(crow, col, data, (3, 4), **kwargs))
    return pair


def test_a_csr_tensor_reports_and_prints_as_pytorchs():
    for index_dtype in ("int64", "int32"):
        ours, theirs = csr_both(index_dtype=index_dtype)
        assert as_torch_text(ours) == repr(theirs)
        assert str(ours.crow_indices().dtype).split(".")[1] == index_dtype
    ours, theirs = csr_both(values=[1.0, 0.5, 2.0, 4.0], requires_grad=True)
    assert as_torch_text(ours).split("grad_fn")[0] == repr(theirs).split("grad_fn")[0]
    assert (ours.layout, ours.is_sparse, ours.is_sparse_csr) == (chainrule.sparse_csr, False, True)
    assert (theirs.layout, theirs.is_sparse, theirs.is_sparse_csr) == (
        torch.sparse_csr,
        False,
        True,
    )
    assert ours.shape == theirs.shape and ours._nnz() == theirs._nnz() == 4
    for part in ("crow_indices", "col_indices", "values", "to_dense"):
        assert getattr(ours, part)().tolist() == getattr(theirs, part)().tolist()
    with pytest.raises(RuntimeError, match="sparse coordinate tensor layout"):
        theirs.indices()
    with pytest.raises(RuntimeError, match="sparse coordinate tensor layout"):
        ours.indices()
    empty = (chainrule.zeros(3, 4).to_sparse_csr(), torch.zeros(3, 4).to_sparse_csr())
    assert as_torch_text(empty[0]) == repr(empty[1])


def test_dense_and_coo_tensors_convert_to_csr_and_back_as_pytorchs():
    matrix = [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]
    for make in (
        lambda lib: lib.tensor(matrix).to_sparse_csr(),
        lambda lib: lib.tensor(matrix).to_sparse(layout=lib.sparse_csr),
        lambda lib: (
            lib.sparse_coo_tensor([[2, 0, 2, 2], [0, 1, 2, 2]], [3.0, 2.0, 1.0, 3.0])
            .coalesce()
            .to_sparse_csr()
        ),
    ):
        ours, theirs = make(chainrule), make(torch)
        assert as_torch_text(ours) == repr(theirs)
        back, back_theirs = ours.to_sparse(), theirs.to_sparse()
        assert back.layout is chainrule.sparse_coo and back_theirs.layout is torch.sparse_coo
        assert_same(back, back_theirs)
        assert ours.to_dense().tolist() == theirs.to_dense().tolist() == matrix
    ours, theirs = csr_both()
    assert (ours * 2).layout is chainrule.sparse_csr and (theirs * 2).layout is torch.sparse_csr
    assert (ours + ours).to_dense().tolist() == (theirs + theirs).to_dense().tolist()
    assert (ours + ours).layout is chainrule.sparse_csr


CSR_PRODUCTS = {
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "dense @ csr": lambda lib, s, d: d.t()[:, :3] @ s,
    "matmul": lambda lib, s, d: s @ d,
    "matmul (vector)": lambda lib, s, d: s @ d[:, 0],
    "to_dense": lambda lib, s, d: s.to_dense() @ d,
}


@pytest.mark.parametrize("product", CSR_PRODUCTS.values(), ids=CSR_PRODUCTS)
def test_csr_products_and_their_gradients_equal_pytorchs(product):
    """The gradient reaches the values a CSR matrix was built from (a learned sparse operator,
    a PDE's coefficients), as through PyTorch's CSR kernels."""
    matrix = np.random.default_rng(1).standard_normal((4, 2))
    values = {
        lib: lib.tensor(CSR_VALUES, dtype=lib.float64, requires_grad=True)
        for lib in (chainrule, torch)
    }
    dense = {lib: lib.tensor(matrix, requires_grad=True) for lib in (chainrule, torch)}
    ours, theirs = csr_both(values)
    results = []
    for lib, sparse in ((chainrule, ours), (torch, theirs)):
        result = product(lib, sparse, dense[lib])
        weights = lib.arange(1.0, 1.0 + result.numel(), dtype=lib.float64).reshape(result.shape)
        (result * weights).sum().backward()
        results.append(result)
    assert_same(*results)
    assert_same(values[chainrule].grad, values[torch].grad)
    assert_same(dense[chainrule].grad, dense[torch].grad)


def test_a_csr_tensor_saves_and_loads_as_csr(tmp_path):
    for lib, made in zip((chainrule, torch), csr_both(index_dtype="int32")):
        lib.save({"operator": made}, tmp_path / lib.__name__)
        loaded = lib.load(tmp_path / lib.__name__)["operator"]
        assert str(loaded.layout).endswith("sparse_csr")
        assert loaded.crow_indices().tolist() == CROW and loaded.col_indices().tolist() == COL
        assert loaded.values().tolist() == CSR_VALUES


def _both_layouts(ours, theirs):
    """Both results' layouts (by name) and dense values."""
    return (
        str(ours.layout).split(".")[-1],
        str(theirs.layout).split(".")[-1],
        ours.to_dense().tolist() if ours.layout != chainrule.strided else ours.tolist(),
        theirs.to_dense().tolist() if theirs.layout != torch.strided else theirs.tolist(),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, s, t, d: lib.mul(s, 2),
        lambda lib, s, t, d: lib.mul(2, s),
        lambda lib, s, t, d: lib.mul(d, s),
        lambda lib, s, t, d: lib.multiply(s, t),
        lambda lib, s, t, d: lib.add(s, t, alpha=2),
        lambda lib, s, t, d: lib.add(d, s, alpha=2),
        lambda lib, s, t, d: lib.sub(s, t),
        lambda lib, s, t, d: lib.subtract(d, s),
        lambda lib, s, t, d: d - s,
        lambda lib, s, t, d: lib.div(s, lib.tensor(2.0)),
        lambda lib, s, t, d: lib.true_divide(s, 2),
        lambda lib, s, t, d: lib.div(s, 2, rounding_mode="floor"),
        lambda lib, s, t, d: s[1],
        lambda lib, s, t, d: s[:, 2],
        lambda lib, s, t, d: s[0, 2],
        lambda lib, s, t, d: lib.select(s, 1, -1),
        lambda lib, s, t, d: s.index_select(1, lib.tensor([2, 0, 2])),
        lambda lib, s, t, d: lib.index_select(s, 0, lib.tensor([1])),
        lambda lib, s, t, d: lib.stack([s, t]),
        lambda lib, s, t, d: lib.stack([s, t], 2),
        lambda lib, s, t, d: lib.cat([s, t]),
        lambda lib, s, t, d: lib.cat([s, t], 1),
    ],
)
def test_function_forms_indexing_and_joins_of_sparse_tensors_are_pytorchs(call):
    s, ts = both()
    t, tt = both([[0, 1], [0, 0]], [1.0, 2.0])
    mine = call(chainrule, s, t, chainrule.arange(1.0, 7.0).reshape(2, 3))
    theirs = call(torch, ts, tt, torch.arange(1.0, 7.0).reshape(2, 3))
    layout, their_layout, values, their_values = _both_layouts(mine, theirs)
    assert layout == their_layout
    np.testing.assert_allclose(values, their_values, rtol=1e-6)
    if theirs.layout == torch.sparse_coo:
        assert mine.is_coalesced() == theirs.is_coalesced()
        assert mine.sparse_dim() == theirs.sparse_dim()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda lib, s, d: lib.add(s, d), RuntimeError, "add(sparse, dense) is not supported"),
        (lambda lib, s, d: lib.sub(s, d), RuntimeError, "add(sparse, dense) is not supported"),
        (lambda lib, s, d: lib.div(s, d), RuntimeError, "Sparse division requires a scalar"),
        (lambda lib, s, d: lib.div(d, s), RuntimeError, "Sparse division requires a scalar"),
        (lambda lib, s, d: s.select(0, 2), IndexError, "out of range"),
    ],
)
def test_sparse_function_forms_refuse_what_pytorch_refuses(call, error, message):
    s, ts = both()
    with pytest.raises(error, match=re.escape(message)):
        call(torch, ts, torch.ones(2, 3))
    with pytest.raises(error, match=re.escape(message)):
        call(chainrule, s, chainrule.ones(2, 3))


def test_gradients_through_to_dense_coalesce_and_transpose_are_pytorchs():
    """Repeated entries each get the gradient of their position; coalesce sums them."""
    weights = np.arange(6.0).reshape(3, 2) - 2.0
    grads = []
    for lib in (chainrule, torch):
        values = lib.tensor(VALUES, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = lib.sparse_coo_tensor(lib.tensor(INDICES), values, (2, 3))
        dense = s.coalesce().transpose(0, 1).to_dense()
        (dense * lib.tensor(weights, dtype=lib.float32)).sum().backward()
        grads.append(values.grad.tolist())
    assert grads[0] == grads[1]


def test_a_csc_tensor_reports_prints_converts_and_transposes_as_pytorchs():
    dense = [[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]]
    mine = chainrule.tensor(dense).to_sparse_csc()
    theirs = torch.tensor(dense).to_sparse_csc()
    assert as_torch_text(mine) == repr(theirs)
    assert mine.layout == chainrule.sparse_csc and not mine.is_sparse and not mine.is_sparse_csr
    for part in ("ccol_indices", "row_indices", "values"):
        assert getattr(mine, part)().tolist() == getattr(theirs, part)().tolist()
    for convert in (
        lambda t: t.t(),
        lambda t: t.to_sparse(),
        lambda t: t.to_sparse_csr(),
        lambda t: t.to_dense().to_sparse().to_sparse_csc(),
        lambda t: t.to_dense().to_sparse(
            layout=chainrule.sparse_csc if isinstance(t, chainrule.Tensor) else torch.sparse_csc
        ),
        lambda t: t.t().t(),
        lambda t: t * 2,
    ):
        converted, their_converted = convert(mine), convert(theirs)
        assert str(converted.layout).split(".")[-1] == str(their_converted.layout).split(".")[-1]
        assert as_torch_text(converted) == repr(their_converted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = chainrule.sparse_csc_tensor([0, 1, 1, 3], [0, 0, 1], [1.0, 2.0, 3.0], (2, 3))
        their_built = torch.sparse_csc_tensor([0, 1, 1, 3], [0, 0, 1], [1.0, 2.0, 3.0], (2, 3))
    assert as_torch_text(built) == repr(their_built)
    for name in ("crow_indices", "col_indices", "indices"):
        with pytest.raises(RuntimeError, match="layout but got SparseCsc"):
            getattr(theirs, name)()
        with pytest.raises(RuntimeError, match="layout but got SparseCsc"):
            getattr(mine, name)()
    for name in ("ccol_indices", "row_indices"):
        with pytest.raises(RuntimeError, match="column compressed tensor layout but got SparseCsr"):
            getattr(torch.tensor(dense).to_sparse_csr(), name)()
        with pytest.raises(RuntimeError, match="column compressed tensor layout but got SparseCsr"):
            getattr(chainrule.tensor(dense).to_sparse_csr(), name)()


def test_csc_products_and_their_gradients_equal_pytorchs():
    grads, products = [], []
    for lib in (chainrule, torch):
        values = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = lib.sparse_csc_tensor([0, 1, 1, 3], [0, 0, 1], values, (2, 3))
        product = (
            lib.mm(a, lib.arange(6.0).reshape(3, 2))
            + a @ lib.ones(3, 1)
            + (a @ lib.ones(3))[:, None]
        )
        product.sum().backward()
        grads.append(values.grad.tolist())
        products.append(product.tolist())
    assert products[0] == products[1] and grads[0] == grads[1]
