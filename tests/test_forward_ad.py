"""chainrule.autograd.forward_ad against torch.autograd.forward_ad: dual levels, make_dual and
unpack_dual, what carries a tangent and what does not, in-place writes, and forward mode
composed with reverse mode in both orders. The per-op jvp rules are checked by check_op."""

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import chainrule
import chainrule.autograd.forward_ad as fw
from chainrule.errors import DTypeError, GradError, ShapeError

RNG = np.random.default_rng(0)
X = RNG.uniform(-1.0, 1.0, size=(3, 4))
T = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 4))
V = RNG.standard_normal(4)


def mine(array, requires_grad=False):
    return chainrule.from_numpy(np.array(array)).requires_grad_(requires_grad)


def theirs(array, requires_grad=False):
    return torch.from_numpy(np.array(array)).requires_grad_(requires_grad)


def close(a, b):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- make_dual and unpack_dual -------------------------------------------------------------


def test_unpack_gives_the_primal_and_the_tangent_as_torch():
    with fw.dual_level(), tfw.dual_level():
        dual, torch_dual = fw.make_dual(mine(X), mine(T)), tfw.make_dual(theirs(X), theirs(T))
        primal, tangent = fw.unpack_dual(dual)
        torch_primal, torch_tangent = tfw.unpack_dual(torch_dual)
        assert close(primal, torch_primal) and close(tangent, torch_tangent)
        assert tangent.shape == (3, 4) and tangent.dtype == chainrule.float64
        assert fw.unpack_dual(primal).tangent is None  # the primal is a view without tangent
        assert type(fw.unpack_dual(dual)).__name__ == "UnpackedDualTensor"


def test_the_tangent_given_is_the_tangent_unpacked():
    tangent = mine(T)
    with fw.dual_level():
        assert fw.unpack_dual(fw.make_dual(mine(X), tangent)).tangent is tangent


def test_a_tangent_takes_the_primals_dtype():
    # A deliberate difference: torch keeps a float32 tangent on a float64 primal as float32;
    # chainrule casts it, so every rule sees one dtype per tensor.
    with fw.dual_level():
        dual = fw.make_dual(mine(X), mine(T).float())
        assert fw.unpack_dual(dual).tangent.dtype == chainrule.float64
        dual32 = fw.make_dual(mine(X).float(), mine(T))
        assert fw.unpack_dual(dual32 * 2).tangent.dtype == chainrule.float32


def test_a_tangent_of_another_shape_is_refused_as_torch():
    with fw.dual_level(), tfw.dual_level():
        with pytest.raises(RuntimeError, match="size"):
            tfw.make_dual(theirs(X), theirs(T[:2]))
        with pytest.raises(ShapeError, match=r"\(2, 4\).*\(3, 4\)"):
            fw.make_dual(mine(X), mine(T[:2]))


def test_integer_primals_are_refused():
    with fw.dual_level(), tfw.dual_level():
        with pytest.raises(ValueError, match="floating"):
            tfw.make_dual(torch.ones(3, dtype=torch.int64), torch.ones(3))
        with pytest.raises(DTypeError, match="floating"):
            fw.make_dual(chainrule.ones(3, dtype=chainrule.int64), chainrule.ones(3))


def test_make_dual_needs_a_level_as_in_torch():
    with pytest.raises(RuntimeError, match="no level"):
        tfw.make_dual(theirs(X), theirs(T))
    with pytest.raises(GradError, match="no level"):
        fw.make_dual(mine(X), mine(T))


def test_enter_and_exit_dual_level_as_functions():
    level = fw.enter_dual_level()
    try:
        assert fw.current_level() == level
        dual = fw.make_dual(mine(X), mine(T))
        assert fw.unpack_dual(dual.sin()).tangent is not None
    finally:
        fw.exit_dual_level()
    assert fw.current_level() is None
    assert fw.unpack_dual(dual).tangent is None
    with pytest.raises(GradError):
        fw.exit_dual_level()


def test_exiting_the_level_drops_every_tangent():
    with fw.dual_level():
        dual = fw.make_dual(mine(X), mine(T))
        out = dual.exp()
    with tfw.dual_level():
        torch_out = tfw.make_dual(theirs(X), theirs(T)).exp()
    assert tfw.unpack_dual(torch_out).tangent is None
    assert fw.unpack_dual(out).tangent is None and fw.unpack_dual(dual).tangent is None
    with fw.dual_level():  # a new level does not see the old tangents either
        assert fw.unpack_dual(out).tangent is None
        assert fw.unpack_dual(out * 2).tangent is None
    assert close(out, torch_out)


# ---- nested levels ---------------------------------------------------------------------------
# torch.autograd.forward_ad refuses a second level; torch.func.jvp nests, and chainrule's
# levels nest the way its transforms do: torch.func is the reference for the values.


def test_levels_nest_and_each_tangent_belongs_to_its_level():
    with fw.dual_level() as outer:
        x1 = fw.make_dual(mine(X), mine(T))
        with fw.dual_level() as inner:
            assert (outer, inner) == (0, 1) and fw.current_level() == 1
            x2 = fw.make_dual(x1, mine(W[:3]))  # the innermost level by default
            assert close(fw.unpack_dual(x2).tangent, W[:3])
            assert close(fw.unpack_dual(x2, level=0).tangent, T)
            primal, _ = fw.unpack_dual(x2)  # the inner primal keeps the outer tangent
            assert fw.unpack_dual(primal).tangent is None
            assert close(fw.unpack_dual(primal, level=0).tangent, T)
            both = fw.make_dual(mine(X), mine(T), level=0)
            assert fw.unpack_dual(both).tangent is None
            assert close(fw.unpack_dual(both, level=0).tangent, T)
        assert fw.current_level() == 0
        assert close(fw.unpack_dual(x2).tangent, T)  # the inner level is gone, the outer stays
    assert fw.current_level() is None


def test_an_inner_tangent_carries_its_outer_tangent_as_torch_func():
    """tanh(x)**3 * x: the inner tangent's outer tangent is the mixed second derivative."""

    def f(lib, x):
        return lib.tanh(x) ** 3 * x

    with fw.dual_level():
        x1 = fw.make_dual(mine(X), mine(T))
        with fw.dual_level():
            out = f(chainrule, fw.make_dual(x1, mine(W[:3])))
            primal, tangent = fw.unpack_dual(out)
        second = fw.unpack_dual(tangent).tangent
        first_outer = fw.unpack_dual(primal).tangent

    direction = theirs(W[:3])

    def inner(x):
        return torch.func.jvp(lambda z: f(torch, z), (x,), (direction,))[1]

    _, torch_second = torch.func.jvp(inner, (theirs(X),), (theirs(T),))
    _, torch_first = torch.func.jvp(lambda z: f(torch, z), (theirs(X),), (theirs(T),))
    assert close(second, torch_second) and close(first_outer, torch_first)


def test_nested_levels_with_inputs_requiring_grad_keep_saved_outputs_tangents():
    """exp saves its output: both rules read it, the inner one with its outer tangent; and
    backward through the mixed tangent gives the third derivative."""
    x = mine(V, requires_grad=True)
    with fw.dual_level():
        x1 = fw.make_dual(x, mine(V[::-1].copy()))
        with fw.dual_level():
            tangent = fw.unpack_dual(
                fw.make_dual(x1, chainrule.ones(4, dtype=chainrule.float64)).exp()
            ).tangent
        mixed = fw.unpack_dual(tangent).tangent
    assert close(mixed, np.exp(V) * V[::-1])
    mixed.sum().backward()
    assert close(x.grad, np.exp(V) * V[::-1])


def test_in_place_writes_update_the_tangents_of_every_level():
    def write(x):
        y = x * 1.0
        y.mul_(y)
        return y

    with fw.dual_level():
        x1 = fw.make_dual(mine(X), mine(T))
        with fw.dual_level():
            tangent = fw.unpack_dual(write(fw.make_dual(x1, mine(W[:3])))).tangent
        mixed = fw.unpack_dual(tangent).tangent
    assert close(tangent, 2 * X * W[:3]) and close(mixed, 2 * T * W[:3])


def test_a_level_that_does_not_exist_is_refused_as_torch():
    with tfw.dual_level(), pytest.raises(RuntimeError, match="Invalid level"):
        tfw.unpack_dual(tfw.make_dual(theirs(X), theirs(T)), level=1)
    with tfw.dual_level(), pytest.raises(RuntimeError, match="Invalid level"):
        tfw.make_dual(theirs(X), theirs(T), level=1)
    with pytest.raises(RuntimeError, match="invalid index"):
        tfw.make_dual(theirs(X), theirs(T), level=0)
    with fw.dual_level(), pytest.raises(GradError, match="invalid level 1"):
        fw.unpack_dual(fw.make_dual(mine(X), mine(T)), level=1)
    with fw.dual_level(), pytest.raises(GradError, match="invalid level 1"):
        fw.make_dual(mine(X), mine(T), level=1)
    with pytest.raises(GradError, match="invalid index"):
        fw.make_dual(mine(X), mine(T), level=0)
    # Outside every level, unpacking at any level gives no tangent, in both.
    assert tfw.unpack_dual(theirs(X), level=3).tangent is None
    assert fw.unpack_dual(mine(X), level=3).tangent is None


def test_levels_exit_innermost_first_as_torch():
    outer = fw.enter_dual_level()
    inner = fw.enter_dual_level()
    try:
        with pytest.raises(GradError, match="not the last"):
            fw.exit_dual_level(level=outer)
    finally:
        fw.exit_dual_level(level=inner)
        fw.exit_dual_level(level=outer)
    assert fw.current_level() is None
    level = tfw.enter_dual_level()
    with pytest.raises(RuntimeError, match="not the last"):
        tfw.exit_dual_level(level=level + 1)
    tfw.exit_dual_level(level=level)


def test_a_dual_of_a_closed_level_is_a_plain_tensor_as_torch():
    with fw.dual_level():
        x1 = fw.make_dual(mine(X), mine(T))
        with fw.dual_level():
            x2 = fw.make_dual(x1, mine(W[:3]))
        out = x2.sin()  # the inner tangent is gone: only the outer one is carried
        assert close(fw.unpack_dual(out).tangent, np.cos(X) * T)
        with fw.dual_level():  # a new inner level does not see the old inner tangent
            assert fw.unpack_dual(x2).tangent is None
            assert close(fw.unpack_dual(x2, level=0).tangent, T)
    with tfw.dual_level():
        torch_dual = tfw.make_dual(theirs(X), theirs(T))
    assert tfw.unpack_dual(torch_dual.sin()).tangent is None
    assert fw.unpack_dual(out.sin()).tangent is None
    assert close(out.sin(), torch_dual.sin().sin())


# ---- what carries a tangent ------------------------------------------------------------------


def test_tangents_through_a_function_match_torch():
    def f(lib, x, w):
        return (lib.tanh(x @ w) ** 2).sum(-1) + x.mean() * x[:, 0]

    with fw.dual_level(), tfw.dual_level():
        out = f(chainrule, fw.make_dual(mine(X), mine(T)), mine(W))
        torch_out = f(torch, tfw.make_dual(theirs(X), theirs(T)), theirs(W))
        assert close(fw.unpack_dual(out).tangent, tfw.unpack_dual(torch_out).tangent)
        assert close(out, torch_out)


def test_ops_without_tangents_give_none_as_torch():
    with fw.dual_level(), tfw.dual_level():
        dual, torch_dual = fw.make_dual(mine(X), mine(T)), tfw.make_dual(theirs(X), theirs(T))
        for op in ("argmax", "sign"):
            mine_out, torch_out = getattr(dual, op)(), getattr(torch_dual, op)()
            torch_tangent = tfw.unpack_dual(torch_out).tangent
            tangent = fw.unpack_dual(mine_out).tangent
            if torch_tangent is None:
                assert tangent is None, op
            else:
                assert close(tangent, torch_tangent), op
        assert fw.unpack_dual(dual > 0).tangent is None
        assert tfw.unpack_dual(torch_dual > 0).tangent is None
        assert fw.unpack_dual(mine(X) * 3).tangent is None  # no dual input, no tangent
        assert fw.unpack_dual(dual.detach()).tangent is None
        assert tfw.unpack_dual(torch_dual.detach()).tangent is None


def test_a_plain_operand_counts_as_a_zero_tangent():
    with fw.dual_level(), tfw.dual_level():
        out = fw.make_dual(mine(X), mine(T)) * mine(W[:3])
        torch_out = tfw.make_dual(theirs(X), theirs(T)) * theirs(W[:3])
        assert close(fw.unpack_dual(out).tangent, tfw.unpack_dual(torch_out).tangent)
        scalar_power = fw.make_dual(mine(X), mine(T)) ** 2  # no log(x) of negative x: no nan
        assert np.isfinite(fw.unpack_dual(scalar_power).tangent.numpy()).all()


def test_multi_output_ops_give_each_output_its_tangent():
    with fw.dual_level(), tfw.dual_level():
        dual, torch_dual = fw.make_dual(mine(X), mine(T)), tfw.make_dual(theirs(X), theirs(T))
        for piece, torch_piece in zip(dual.split(2, 1), torch_dual.split(2, 1)):
            assert close(fw.unpack_dual(piece).tangent, tfw.unpack_dual(torch_piece).tangent)
        values, indices = chainrule.max(dual, 1)
        torch_values, torch_indices = torch.max(torch_dual, 1)
        assert close(fw.unpack_dual(values).tangent, tfw.unpack_dual(torch_values).tangent)
        assert fw.unpack_dual(indices).tangent is None
        assert tfw.unpack_dual(torch_indices).tangent is None


# ---- in-place writes -------------------------------------------------------------------------


def test_in_place_writes_update_the_tangent_as_torch():
    with fw.dual_level(), tfw.dual_level():
        dual, torch_dual = fw.make_dual(mine(X), mine(T)), tfw.make_dual(theirs(X), theirs(T))
        dual.mul_(mine(W[:3]))
        torch_dual.mul_(theirs(W[:3]))
        assert close(fw.unpack_dual(dual).tangent, tfw.unpack_dual(torch_dual).tangent)

        dual.fill_(2.0)  # new contents independent of every tangent: a zero tangent
        torch_dual.fill_(2.0)
        assert close(fw.unpack_dual(dual).tangent, tfw.unpack_dual(torch_dual).tangent)

        plain, torch_plain = chainrule.zeros(3, 4, dtype=chainrule.float64), torch.zeros(3, 4)
        torch_plain = torch_plain.double()
        plain[1:] = fw.make_dual(mine(X), mine(T))[1:]
        torch_plain[1:] = tfw.make_dual(theirs(X), theirs(T))[1:]
        assert close(fw.unpack_dual(plain).tangent, tfw.unpack_dual(torch_plain).tangent)
        assert close(plain, torch_plain)

        copied = chainrule.zeros(3, 4, dtype=chainrule.float64)
        copied.copy_(fw.make_dual(mine(X), mine(T)))
        assert close(fw.unpack_dual(copied).tangent, T)


def test_in_place_writes_through_views_carry_tangents_to_the_base_as_torch():
    """A write into a view changes the base's tangent at the view's elements, and a view taken
    before the write re-reads its tangent from the base."""

    def program(library, forward_ad, make):
        with forward_ad.dual_level():
            base = forward_ad.make_dual(make(X), make(T)) * 1.0
            earlier = base[:, 1:3]
            base[0].mul_(2.0)
            base.t()[2].add_(forward_ad.make_dual(make(X[0, :3]), make(T[1, :3])))
            base[1:, ::2].zero_()
            later = earlier * 1.0
            return [forward_ad.unpack_dual(t).tangent for t in (base, later)]

    for ours, theirs_ in zip(program(chainrule, fw, mine), program(torch, tfw, theirs)):
        assert close(ours, theirs_)


# ---- forward and reverse together -----------------------------------------------------------


@pytest.mark.parametrize("vector_on_the_left", [False, True])
def test_a_matrix_vector_product_with_a_tangent_on_the_vector_only_matches_torch(
    vector_on_the_left,
):
    """The fused path (value and tangent as one two-column product) gives torch's numbers."""

    def product(matrix, vector):
        return vector @ matrix if vector_on_the_left else matrix @ vector

    with fw.dual_level(), tfw.dual_level():
        out = fw.unpack_dual(product(mine(W), fw.make_dual(mine(V), mine(V[::-1]))))
        expected = tfw.unpack_dual(product(theirs(W), tfw.make_dual(theirs(V), theirs(V[::-1]))))
        assert close(out.primal, expected.primal)
        assert close(out.tangent, expected.tangent)


def test_a_tangent_that_requires_grad_is_recorded_not_fused():
    """d/dv of <W v, c> computed as a tangent: the tangent's graph must exist."""
    tangent_in = mine(V[::-1], requires_grad=True)
    with fw.dual_level():
        tangent = fw.unpack_dual(mine(W) @ fw.make_dual(mine(V), tangent_in)).tangent
    assert tangent.requires_grad
    tangent.sum().backward()
    assert close(tangent_in.grad, W.sum(axis=0))


def test_reverse_over_forward_differentiates_the_tangent():
    """d/dx <J(x) v, c>: backward through a tangent computation, against torch."""
    cotangent = RNG.standard_normal(3)

    def f(lib, x, w):
        return lib.sin(x @ w).sum(-1) * x[:, 1]

    x = mine(X, requires_grad=True)
    with fw.dual_level():
        tangent = fw.unpack_dual(f(chainrule, fw.make_dual(x, mine(T)), mine(W))).tangent
    assert tangent.requires_grad
    (tangent * mine(cotangent)).sum().backward()
    torch_x = theirs(X, requires_grad=True)
    with tfw.dual_level():
        torch_tangent = tfw.unpack_dual(f(torch, tfw.make_dual(torch_x, theirs(T)), theirs(W)))
    (torch_tangent.tangent * theirs(cotangent)).sum().backward()
    assert close(x.grad, torch_x.grad)


def test_forward_over_reverse_gives_the_hessian_vector_product():
    def f(lib, x):
        return (lib.tanh(lib.from_numpy(W.copy()) @ x) ** 2).sum()

    x = mine(V, requires_grad=True)
    with fw.dual_level():
        dual = fw.make_dual(x, mine(V[::-1].copy()))
        (gradient,) = chainrule.autograd.grad(f(chainrule, dual), dual)
        hvp = fw.unpack_dual(gradient).tangent
    torch_x = theirs(V, requires_grad=True)
    with tfw.dual_level():
        torch_dual = tfw.make_dual(torch_x, theirs(V[::-1].copy()))
        (torch_gradient,) = torch.autograd.grad(f(torch, torch_dual), torch_dual)
        torch_hvp = tfw.unpack_dual(torch_gradient).tangent
    assert close(hvp, torch_hvp)


def test_saved_outputs_keep_their_tangent_for_the_backward():
    """exp saves its output; the vjp run inside the level must see the output's tangent."""
    x = mine(V, requires_grad=True)
    with fw.dual_level():
        dual = fw.make_dual(x, chainrule.ones(4, dtype=chainrule.float64))
        (gradient,) = chainrule.autograd.grad(dual.exp().sum(), dual)
        assert close(fw.unpack_dual(gradient).tangent, np.exp(V))


def test_forward_over_reverse_through_a_fused_matrix_vector_product_matches_torch():
    """The Hessian-vector product of sum(tanh(W x)^2): the fused product runs while the vector
    requires grad (recorded for the gradient), and the result is torch's."""
    from torch.func import grad as torch_grad
    from torch.func import jvp as torch_jvp

    from chainrule.func import grad, jvp

    def f(lib, w):
        return lambda x: (lib.tanh(w @ x) ** 2).sum()

    mine_hvp = jvp(grad(f(chainrule, mine(W))), (mine(V),), (mine(V[::-1]),))[1]
    torch_hvp = torch_jvp(torch_grad(f(torch, theirs(W))), (theirs(V),), (theirs(V[::-1]),))[1]
    assert close(mine_hvp, torch_hvp)
