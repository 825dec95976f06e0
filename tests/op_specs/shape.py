"""Specs for chainrule.ops.shape: every shape op against PyTorch and finite differences.

Shape ops are linear, so their second derivative is zero and a plain spec never runs a vjp's
own vjp. The `*_squared` specs square the output (f(x) = op(x)**2): its gradient
op^T(2 op(x) g) depends on x through op, so the second-order check differentiates through
each op's vjp (Split <-> Cat, Unbind <-> Stack, SumTo <-> Expand, IndexSelect <-> IndexAdd
for the non-constant pads).
"""

import numpy as np
import torch
import torch.nn.functional as F

import chainrule
from chainrule.testing import OpSpec


def _squared(fn):
    """fn followed by squaring each output: makes the op's vjp depend on the input."""

    def squared(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return tuple(o * o for o in out)
        return out * out

    return squared


def _spec(name, fn, torch_fn, shapes=((),), **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, **options)


def _both(name, fn, torch_fn, shapes, **options):
    """A spec and its `_squared` twin (second order through the op's vjp)."""
    return [
        _spec(name, fn, torch_fn, shapes, **options),
        _spec(f"{name}_squared", _squared(fn), _squared(torch_fn), shapes, **options),
    ]


# ---- reshape family ---------------------------------------------------------------------------

RESHAPE = [
    _spec(
        "reshape_flat",
        lambda x: x.reshape(-1),
        lambda x: x.reshape(-1),
        [((2, 3),), ((4,),), ((),)],
    ),
    _spec(
        "reshape_3d",
        lambda x: chainrule.reshape(x, (3, 1, 2)),
        lambda x: torch.reshape(x, (3, 1, 2)),
        [((2, 3),)],
    ),
    _spec(
        "reshape_infer", lambda x: x.reshape(2, -1, 2), lambda x: x.reshape(2, -1, 2), [((4, 3),)]
    ),
    _spec(
        "reshape_of_transpose",  # not viewable: a copy
        lambda x: x.t().reshape(6),
        lambda x: x.t().reshape(6),
        [((2, 3),)],
    ),
    _spec("reshape_scalar", lambda x: x.reshape(()), lambda x: x.reshape(()), [((1, 1),)]),
    _spec("view", lambda x: x.view(3, 2), lambda x: x.view(3, 2), [((2, 3),)], noncontiguous=False),
    _spec(
        "view_as",
        lambda x, y: x.view_as(y),
        lambda x, y: x.view_as(y),
        [((6,), (2, 3))],
    ),
    _spec(
        "reshape_as", lambda x, y: x.reshape_as(y), lambda x, y: x.reshape_as(y), [((2, 3), (3, 2))]
    ),
    _spec("flatten", chainrule.flatten, torch.flatten, [((2, 3, 4),), ((5,),), ((),)]),
    _spec(
        "flatten_range",
        lambda x: chainrule.flatten(x, 1, 2),
        lambda x: torch.flatten(x, 1, 2),
        [((2, 3, 4, 2),)],
    ),
    _spec(
        "flatten_negative",
        lambda x: x.flatten(start_dim=-2),
        lambda x: x.flatten(start_dim=-2),
        [((2, 3, 4),)],
    ),
    _spec(
        "unflatten",
        lambda x: chainrule.unflatten(x, 1, (2, -1)),
        lambda x: torch.unflatten(x, 1, (2, -1)),
        [((3, 6),)],
    ),
    _spec("squeeze_all", chainrule.squeeze, torch.squeeze, [((2, 1, 3, 1),), ((1,),), ((),)]),
    _spec(
        "squeeze_dim", lambda x: x.squeeze(1), lambda x: x.squeeze(1), [((2, 1, 3),), ((2, 3, 1),)]
    ),
    _spec(
        "squeeze_dims",
        lambda x: chainrule.squeeze(x, (1, -1)),
        lambda x: torch.squeeze(x, (1, -1)),
        [((2, 1, 3, 1),)],
    ),
    _spec("unsqueeze", lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), [((2, 3),)]),
    _spec("unsqueeze_0d", lambda x: x.unsqueeze(0), lambda x: x.unsqueeze(0), [((),)]),
    _spec("unsqueeze_last", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [((2, 3),)]),
    _spec(
        "atleast_1d",
        chainrule.atleast_1d,
        torch.atleast_1d,
        [((),), ((3,),), ((2, 3),)],
    ),
    _spec("atleast_2d", chainrule.atleast_2d, torch.atleast_2d, [((),), ((3,),), ((2, 3),)]),
    _spec("atleast_3d", chainrule.atleast_3d, torch.atleast_3d, [((),), ((3,),), ((2, 3),)]),
    _spec(
        "contiguous",
        lambda x: x.t().contiguous(),
        lambda x: x.t().contiguous(),
        [((2, 3),)],
    ),
]

# ---- transposes -----------------------------------------------------------------------------

TRANSPOSES = [
    *_both("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [((2, 3, 4),)]),
    _spec(
        "permute_tuple",
        lambda x: chainrule.permute(x, (1, -1, 0)),
        lambda x: torch.permute(x, (1, -1, 0)),
        [((2, 3, 4),)],
    ),
    _spec(
        "transpose",
        lambda x: chainrule.transpose(x, 0, 2),
        lambda x: torch.transpose(x, 0, 2),
        [((2, 3, 4),)],
    ),
    _spec(
        "transpose_same", lambda x: x.transpose(1, -2), lambda x: x.transpose(1, -2), [((2, 3, 4),)]
    ),
    _spec("transpose_0d", lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1), [((),)]),
    _spec("t", chainrule.t, torch.t, [((2, 3),), ((3,),), ((),)]),
    _spec("T", lambda x: x.T, lambda x: x.permute(*range(x.ndim - 1, -1, -1)), [((2, 3, 4),)]),
    _spec("mT", lambda x: x.mT, lambda x: x.mT, [((2, 3, 4),)]),
    _spec(
        "movedim",
        lambda x: chainrule.movedim(x, (0, 1), (2, 0)),
        lambda x: torch.movedim(x, (0, 1), (2, 0)),
        [((2, 3, 4),)],
    ),
    _spec("movedim_int", lambda x: x.movedim(-1, 0), lambda x: x.movedim(-1, 0), [((2, 3, 4),)]),
]

# ---- broadcasting ---------------------------------------------------------------------------

BROADCASTING = [
    *_both(
        "expand",
        lambda x: x.expand(2, 3, 4),
        lambda x: x.expand(2, 3, 4),
        [((3, 1),), ((1, 4),), ((),)],
    ),
    _spec("expand_keep", lambda x: x.expand(-1, 4), lambda x: x.expand(-1, 4), [((3, 1),)]),
    _spec(
        "expand_as", lambda x, y: x.expand_as(y), lambda x, y: x.expand_as(y), [((3, 1), (2, 3, 5))]
    ),
    _spec(
        "broadcast_to",
        lambda x: chainrule.broadcast_to(x, (2, 3)),
        lambda x: torch.broadcast_to(x, (2, 3)),
        [((3,),), ((2, 1),)],
    ),
    _spec(
        "broadcast_tensors",
        chainrule.broadcast_tensors,
        torch.broadcast_tensors,
        [((3, 1), (1, 4)), ((2, 3), ()), ((5,), (2, 1, 5))],
    ),
    *_both(
        "sum_to",
        lambda x: chainrule.ops.shape.sum_to(x, (3, 1)),
        lambda x: x.sum_to_size(3, 1),
        [((2, 3, 4),), ((3, 5),)],
    ),
]

# ---- reordering ------------------------------------------------------------------------------

REORDERING = [
    *_both(
        "flip",
        lambda x: chainrule.flip(x, (0, 2)),
        lambda x: torch.flip(x, (0, 2)),
        [((2, 3, 4),)],
    ),
    _spec("flip_method", lambda x: x.flip(0, -1), lambda x: x.flip(0, -1), [((2, 3),)]),
    _spec("flip_1d", lambda x: x.flip(0), lambda x: x.flip(0), [((5,),)]),
    _spec("flip_0d", lambda x: chainrule.flip(x, (0,)), lambda x: torch.flip(x, (0,)), [((),)]),
    _spec("flip_none", lambda x: chainrule.flip(x, ()), lambda x: torch.flip(x, ()), [((2, 3),)]),
    *_both(
        "roll",
        lambda x: chainrule.roll(x, (1, -2), (0, 2)),
        lambda x: torch.roll(x, (1, -2), (0, 2)),
        [((2, 3, 4),)],
    ),
    _spec("roll_flat", lambda x: x.roll(5), lambda x: x.roll(5), [((2, 3),), ((4,),)]),
    _spec("roll_big_shift", lambda x: x.roll(-7, 1), lambda x: x.roll(-7, 1), [((2, 3),)]),
    _spec(
        "roll_repeated_dims",
        lambda x: chainrule.roll(x, (1, 1), (1, 1)),
        lambda x: torch.roll(x, (1, 1), (1, 1)),
        [((2, 3),)],
    ),
    _spec("roll_0d", lambda x: x.roll(3), lambda x: x.roll(3), [((),)]),
    *_both(
        "repeat",
        lambda x: x.repeat(2, 1, 3),
        lambda x: x.repeat(2, 1, 3),
        [((2, 3),), ((3,),), ((),)],
    ),
    _spec("repeat_same_rank", lambda x: x.repeat(3, 2), lambda x: x.repeat(3, 2), [((2, 3),)]),
    _spec("repeat_list", lambda x: x.repeat([2, 2]), lambda x: x.repeat([2, 2]), [((1, 3),)]),
    _spec("repeat_zero", lambda x: x.repeat(0, 2), lambda x: x.repeat(0, 2), [((2, 3),)]),
    _spec(
        "tile",
        lambda x: chainrule.tile(x, (2,)),
        lambda x: torch.tile(x, (2,)),
        [((2, 3),), ((3,),)],
    ),
    _spec("tile_more", lambda x: x.tile(2, 1, 2), lambda x: x.tile(2, 1, 2), [((2, 3),)]),
]

# ---- joining ---------------------------------------------------------------------------------

JOINING = [
    *_both(
        "cat",
        lambda *xs: chainrule.cat(xs, dim=1),
        lambda *xs: torch.cat(xs, dim=1),
        [((2, 3), (2, 1), (2, 4)), ((3, 2, 2), (3, 1, 2))],
    ),
    _spec(
        "cat_dim0",
        lambda x, y: chainrule.cat([x, y]),
        lambda x, y: torch.cat([x, y]),
        [((1, 3), (2, 3)), ((2,), (3,))],
    ),
    _spec(
        "cat_negative_dim",
        lambda x, y: chainrule.concat((x, y), -1),
        lambda x, y: torch.concat((x, y), -1),
        [((2, 3), (2, 2))],
    ),
    _spec(
        "concatenate",
        lambda x, y: chainrule.concatenate([x, y], dim=0),
        lambda x, y: torch.concatenate([x, y], dim=0),
        [((2, 3), (1, 3))],
    ),
    _spec("cat_single", lambda x: chainrule.cat([x], 1), lambda x: torch.cat([x], 1), [((2, 3),)]),
    _spec(
        "cat_same_tensor_twice",
        lambda x: chainrule.cat([x, x * 2], 0),
        lambda x: torch.cat([x, x * 2], 0),
        [((2, 3),)],
    ),
    _spec(
        "cat_promotes_int",
        lambda x, n: chainrule.cat([n, x], 0),
        lambda x, n: torch.cat([n, x], 0),
        make_inputs=lambda rng: (rng.uniform(-2, 2, (2, 3)), rng.integers(-3, 3, (1, 3))),
    ),
    _spec(
        "cat_promotes_float",  # float64 and float32 give float64, and gradients of each dtype
        lambda x, y: chainrule.cat([x, y.float()], 0),
        lambda x, y: torch.cat([x, y.float()], 0),
        [((2, 3), (1, 3))],
        float32=False,
        atol=1e-5,
        fd_atol=1e-4,
    ),
    _spec(
        "cat_legacy_empty",
        lambda x, e: chainrule.cat([x, e], 1),
        lambda x, e: torch.cat([x, e], 1),
        [((2, 3), (0,))],
    ),
    *_both(
        "stack",
        lambda *xs: chainrule.stack(xs),
        lambda *xs: torch.stack(xs),
        [((2, 3), (2, 3)), ((), (), ())],
    ),
    _spec(
        "stack_last",
        lambda x, y: chainrule.stack([x, y], dim=-1),
        lambda x, y: torch.stack([x, y], dim=-1),
        [((2, 3), (2, 3))],
    ),
    _spec(
        "stack_middle",
        lambda x, y: chainrule.stack((x, y), 1),
        lambda x, y: torch.stack((x, y), 1),
        [((2, 3), (2, 3))],
    ),
    _spec(
        "hstack",
        lambda x, y: chainrule.hstack([x, y]),
        lambda x, y: torch.hstack([x, y]),
        [((2,), (3,)), ((2, 1), (2, 3)), ((), (2,))],
    ),
    _spec(
        "vstack",
        lambda x, y: chainrule.vstack([x, y]),
        lambda x, y: torch.vstack([x, y]),
        [((3,), (2, 3)), ((), ()), ((1, 2), (3, 2))],
    ),
    _spec(
        "row_stack",
        lambda x, y: chainrule.row_stack([x, y]),
        lambda x, y: torch.vstack([x, y]),
        [((3,), (3,))],
    ),
    _spec(
        "dstack",
        lambda x, y: chainrule.dstack([x, y]),
        lambda x, y: torch.dstack([x, y]),
        [((3,), (3,)), ((2, 3), (2, 3)), ((2, 3, 1), (2, 3, 2))],
    ),
]

# ---- splitting -------------------------------------------------------------------------------

SPLITTING = [
    *_both(
        "split",
        lambda x: chainrule.split(x, 2),
        lambda x: torch.split(x, 2),
        [((5, 3),), ((4,),), ((1, 2),)],
    ),
    _spec(
        "split_sections",
        lambda x: chainrule.split(x, [1, 3, 0], dim=1),
        lambda x: torch.split(x, [1, 3, 0], dim=1),
        [((2, 4),)],
    ),
    _spec(
        "split_method_dim",
        lambda x: x.split(2, -1),
        lambda x: x.split(2, -1),
        [((2, 3, 5),)],
    ),
    _spec(
        "split_some_pieces_used",  # the unused piece's gradient is zero (materialized)
        lambda x: chainrule.split(x, 2)[1] * 3,
        lambda x: torch.split(x, 2)[1] * 3,
        [((5, 2),)],
    ),
    *_both(
        "chunk",
        lambda x: chainrule.chunk(x, 3),
        lambda x: torch.chunk(x, 3),
        [((5, 2),), ((6,),), ((2, 3),)],
    ),
    _spec(
        "chunk_fewer_pieces",  # 6 into 4 chunks gives 3 of size 2, as PyTorch
        lambda x: x.chunk(4, dim=1),
        lambda x: x.chunk(4, dim=1),
        [((2, 6),)],
    ),
    *_both(
        "unbind",
        lambda x: chainrule.unbind(x),
        lambda x: torch.unbind(x),
        [((3, 2),), ((4,),)],
    ),
    _spec("unbind_dim", lambda x: x.unbind(-1), lambda x: x.unbind(-1), [((2, 3, 4),)]),
    _spec(
        "unbind_one_used",
        lambda x: chainrule.unbind(x, 1)[2],
        lambda x: torch.unbind(x, 1)[2],
        [((2, 3),)],
    ),
    _spec(
        "iterate_rows",  # Tensor.__iter__ unbinds
        lambda x: chainrule.stack([row * i for i, row in enumerate(x)]),
        lambda x: torch.stack([row * i for i, row in enumerate(x)]),
        [((3, 2),)],
    ),
    _spec(
        "narrow",
        lambda x: chainrule.narrow(x, 1, 1, 2),
        lambda x: torch.narrow(x, 1, 1, 2),
        [((2, 4),), ((3, 3, 2),)],
    ),
    _spec(
        "narrow_negative_start",
        lambda x: x.narrow(0, -3, 2),
        lambda x: x.narrow(0, -3, 2),
        [((5, 2),)],
    ),
    _spec("narrow_empty", lambda x: x.narrow(0, 2, 0), lambda x: x.narrow(0, 2, 0), [((3, 2),)]),
]

# ---- padding ---------------------------------------------------------------------------------


def _pad(name, pad, mode="constant", shapes=((2, 3, 4),), squared=False, **options):
    def fn(x):
        return chainrule.pad(x, pad, mode=mode, **options)

    def torch_fn(x):
        return F.pad(x, pad, mode=mode, **options)

    specs = [_spec(name, fn, torch_fn, list((s,) for s in shapes))]
    if squared:
        specs.append(_spec(f"{name}_squared", _squared(fn), _squared(torch_fn), [(shapes[0],)]))
    return specs


PADDING = [
    *_pad("pad_constant", (1, 2), shapes=((2, 3, 4), (3,), (2, 3)), squared=True),
    *_pad("pad_constant_two_dims", (1, 0, 2, 1)),
    *_pad("pad_constant_all_dims", (1, 1, 0, 2, 1, 0)),
    *_pad("pad_constant_value", (2, 1), value=1.5),
    *_pad("pad_constant_crop", (-1, 2, 1, -1), squared=True),
    *_pad("pad_constant_nothing", ()),
    *_pad("pad_reflect", (2, 1), mode="reflect", squared=True),
    *_pad("pad_reflect_two_dims", (1, 2, 2, 1), mode="reflect", shapes=((2, 3, 4),)),
    *_pad("pad_reflect_three_dims", (1, 1, 1, 0, 0, 1), mode="reflect", shapes=((1, 2, 3, 4),)),
    *_pad("pad_reflect_crop", (-1, 3), mode="reflect", shapes=((2, 4),)),
    *_pad("pad_replicate", (3, 1), mode="replicate", squared=True),
    *_pad("pad_replicate_two_dims", (2, 0, 1, 3), mode="replicate"),
    *_pad("pad_replicate_crop", (-1, 2), mode="replicate", shapes=((2, 4),)),
    *_pad("pad_circular", (1, 2), mode="circular", squared=True),
    *_pad("pad_circular_two_dims", (2, 1, 1, 3), mode="circular", shapes=((1, 3, 4),)),
    *_pad("pad_circular_crop", (-1, 3), mode="circular", shapes=((2, 4),)),
]


# ---- torch-namespace additions ---------------------------------------------------------------


def _repeat_counts(counts):
    """Inputs for repeat_interleave with tensor repeats: x of shape (len(counts), 3), counts."""
    return lambda rng: (rng.uniform(-2, 2, (len(counts), 3)), np.asarray(counts, dtype=np.int64))


TORCH_NAMESPACE = [
    _spec("ravel", chainrule.ravel, torch.ravel, [((2, 3),), ((),), ((4,),)]),
    _spec("ravel_method_transposed", lambda x: x.t().ravel(), lambda x: x.t().ravel(), [((2, 3),)]),
    _spec(
        "moveaxis",
        lambda x: chainrule.moveaxis(x, 0, -1),
        lambda x: torch.moveaxis(x, 0, -1),
        [((2, 3, 4),)],
    ),
    _spec(
        "swapaxes",
        lambda x: chainrule.swapaxes(x, 0, 2),
        lambda x: torch.swapaxes(x, 0, 2),
        [((2, 3, 4),)],
    ),
    _spec("swapdims", lambda x: x.swapdims(-1, 0), lambda x: x.swapdims(-1, 0), [((2, 3),)]),
    _spec("fliplr", chainrule.fliplr, torch.fliplr, [((2, 3),), ((2, 3, 4),)]),
    _spec("flipud", lambda x: x.flipud(), lambda x: x.flipud(), [((3,),), ((2, 3),)]),
    *_both("rot90", chainrule.rot90, torch.rot90, [((2, 3),), ((2, 3, 4),)]),
    *[
        _spec(
            f"rot90_k{k}_dims",
            lambda x, k=k: chainrule.rot90(x, k, (2, -3)),
            lambda x, k=k: torch.rot90(x, k, (2, -3)),
            [((2, 3, 4),)],
        )
        for k in (0, 2, 3, -1, 6)
    ],
    *_both(
        "select",
        lambda x: chainrule.select(x, 1, -1),
        lambda x: torch.select(x, 1, -1),
        [((2, 3, 4),)],
    ),
    _spec(
        "select_method", lambda x: x.select(0, 1), lambda x: x.select(0, 1), [((3,),), ((2, 3),)]
    ),
    _spec(
        "column_stack",
        lambda *xs: chainrule.column_stack(xs),
        lambda *xs: torch.column_stack(xs),
        [((3,), (3, 2), (3,)), ((), (1, 2)), ((2, 3, 1), (2, 1, 1))],
    ),
    *_both(
        "tensor_split_sections",
        lambda x: chainrule.tensor_split(x, 3, dim=1),
        lambda x: torch.tensor_split(x, 3, dim=1),
        [((2, 7),), ((2, 2),)],
    ),
    *_both(
        "tensor_split_indices",
        lambda x: chainrule.tensor_split(x, [1, -2, 1, 9]),
        lambda x: torch.tensor_split(x, [1, -2, 1, 9]),
        [((5, 2),), ((4,),)],
    ),
    _spec(
        "tensor_split_method",
        lambda x: x.tensor_split((2,), -1),
        lambda x: x.tensor_split((2,), -1),
        [((3, 4),)],
    ),
    _spec(
        "hsplit",
        lambda x: chainrule.hsplit(x, 2),
        lambda x: torch.hsplit(x, 2),
        [((4,),), ((3, 4),)],
    ),
    _spec("hsplit_indices", lambda x: x.hsplit([1, 3]), lambda x: x.hsplit([1, 3]), [((2, 4, 2),)]),
    _spec(
        "vsplit", lambda x: chainrule.vsplit(x, [1]), lambda x: torch.vsplit(x, [1]), [((3, 2),)]
    ),
    _spec("dsplit", lambda x: x.dsplit(2), lambda x: x.dsplit(2), [((2, 1, 4),)]),
    *_both(
        "repeat_interleave",
        lambda x: chainrule.repeat_interleave(x, 2),
        lambda x: torch.repeat_interleave(x, 2),
        [((2, 3),), ((),)],
    ),
    _spec(
        "repeat_interleave_dim",
        lambda x: x.repeat_interleave(3, dim=-1),
        lambda x: x.repeat_interleave(3, dim=-1),
        [((2, 3),)],
    ),
    _spec(
        "repeat_interleave_zero",
        lambda x: chainrule.repeat_interleave(x, 0, dim=0),
        lambda x: torch.repeat_interleave(x, 0, dim=0),
        [((2, 3),)],
    ),
    *_both(
        "repeat_interleave_tensor",
        lambda x, r: chainrule.repeat_interleave(x, r, dim=0),
        lambda x, r: torch.repeat_interleave(x, r, dim=0),
        [()],
        make_inputs=_repeat_counts([2, 0, 3, 1]),
    ),
    _spec(
        "repeat_interleave_tensor_flat",
        lambda x, r: chainrule.repeat_interleave(x, r, output_size=16),
        lambda x, r: torch.repeat_interleave(x, r, output_size=16),
        [()],
        make_inputs=lambda rng: (rng.uniform(-2, 2, (2, 3)), np.asarray([1, 2, 3, 4, 0, 6])),
    ),
    *_both("diff", chainrule.diff, torch.diff, [((5,),), ((2, 4),)]),
    _spec(
        "diff_n_dim",
        lambda x: chainrule.diff(x, n=2, dim=0),
        lambda x: torch.diff(x, n=2, dim=0),
        [((4, 3),), ((2, 3),)],
    ),
    *_both(
        "diff_prepend_append",
        lambda x, p, a: chainrule.diff(x, 2, -1, p, a),
        lambda x, p, a: torch.diff(x, 2, -1, p, a),
        [((2, 3), (2, 1), (2, 2))],
    ),
    *_both(
        "meshgrid",
        lambda *xs: chainrule.meshgrid(*xs, indexing="ij"),
        lambda *xs: torch.meshgrid(*xs, indexing="ij"),
        [((2,), (3,)), ((2,), (), (4,))],
    ),
    _spec(
        "meshgrid_xy",
        lambda *xs: chainrule.meshgrid(xs, indexing="xy"),
        lambda *xs: torch.meshgrid(xs, indexing="xy"),
        [((2,), (3,), (4,)), ((3,),)],
    ),
    *_both(
        "cartesian_prod",
        chainrule.cartesian_prod,
        torch.cartesian_prod,
        [((2,), (3,)), ((2,), (2,), (3,)), ((3,),)],
    ),
    *_both("diagflat", chainrule.diagflat, torch.diagflat, [((2, 2),), ((3,),), ((),)]),
    _spec(
        "diagflat_offset",
        lambda x: x.diagflat(-1),
        lambda x: x.diagflat(-1),
        [((2, 3),)],
    ),
]


SPECS: list[OpSpec] = [
    *RESHAPE,
    *TRANSPOSES,
    *BROADCASTING,
    *REORDERING,
    *JOINING,
    *SPLITTING,
    *PADDING,
    *TORCH_NAMESPACE,
]

assert len({spec.name for spec in SPECS}) == len(SPECS), "spec names must be unique"
