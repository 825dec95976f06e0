"""Transformer layers (Vaswani et al., 2017) with PyTorch's submodule names and defaults:
TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder and
Transformer. Only PyTorch's reference ("slow") path exists here: no nested tensors, no fused
fast path, the same numbers.

>>> import chainrule
>>> from chainrule import nn
>>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
>>> layer(chainrule.randn(3, 5, 8)).shape
chainrule.Size([3, 5, 8])
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import DomainError, ShapeError
from chainrule.nn import init
from chainrule.nn.modules.activation import GELU, MultiheadAttention, ReLU
from chainrule.nn.modules.containers import ModuleList
from chainrule.nn.modules.dropout import Dropout
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module
from chainrule.nn.modules.normalization import LayerNorm
from chainrule.ops import creation
from chainrule.ops.autocast import is_autocast_enabled
from chainrule.ops.linalg import triu


def _generate_square_subsequent_mask(
    sz: int, device: Device | str | None = None, dtype: DType | None = None
) -> Tensor:
    """(sz, sz) additive causal mask: -inf above the diagonal, 0 on and below it."""
    return triu(creation.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise DomainError(f"activation should be relu/gelu, not {activation}")  # PyTorch's RuntimeError


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    if src.dim() == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int | None) -> bool:
    """is_causal if given; else whether `mask` equals the causal mask of its size."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
        if tuple(mask.shape) == tuple(causal.shape):
            make_causal = bool((mask == causal).all())
        else:
            make_causal = False
    return make_causal


def _float_mask(
    mask: Tensor | None, name: str, like: Tensor, other: Tensor | None = None, other_name: str = ""
) -> Tensor | None:
    return F._canonical_mask(mask, name, like.dtype, other, other_name)


class TransformerEncoderLayer(Module):
    """One Transformer encoder block: self-attention, then a position-wise feed-forward network.

    Each of the two sub-blocks is wrapped in a residual connection and a LayerNorm, after it
    (post-norm, x = norm(x + block(x))) or, with norm_first=True, before it (x = x +
    block(norm(x))). The feed-forward block is linear2(dropout(activation(linear1(x)))).
    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False): src_mask is an (S, S)
    attention mask and src_key_padding_mask an (N, S) mask of padding tokens, True (bool) or -inf
    (float) marking what is masked out.

    Args:
        d_model (int): E, the number of features of each token.
        nhead (int): the number of attention heads; must divide d_model.
        dim_feedforward (int): the hidden width of the feed-forward block (default: 2048).
        dropout (float): the dropout probability, applied to the attention weights, inside the
            feed-forward block and before each residual addition (default: 0.1).
        activation (str | Callable): the feed-forward block's nonlinearity, 'relu' (the
            default, as F.relu), 'gelu', or any unary callable.
        layer_norm_eps (float): the LayerNorms' eps (default: 1e-5).
        batch_first (bool): tokens are (N, S, E) instead of (S, N, E) (default: False).
        norm_first (bool): pre-norm: apply each LayerNorm before its block, inside the residual
            branch, instead of after the residual addition (post-norm, the default and the
            original paper's). Pre-norm is usually easier to train deep.
        bias (bool): learn the biases of the Linear and LayerNorm layers (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: src (S, N, E), or (N, S, E) with batch_first, or (S, E) unbatched
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> layer(chainrule.zeros(10, 2, 16)).shape
        chainrule.Size([10, 2, 16])
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        src_key_padding_mask = _float_mask(
            src_key_padding_mask, "src_key_padding_mask", src, src_mask, "src_mask"
        )
        src_mask = _float_mask(src_mask, "src_mask", src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(
        self,
        x: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool = False,
    ) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerEncoder(Module):
    """A stack of `num_layers` encoder layers, each a deep copy of `encoder_layer`.

    The input goes through the copies in turn (each with its own parameters, all starting from the
    given layer's values), then through `norm` if one is given (usual with pre-norm layers).
    forward(src, mask=None, src_key_padding_mask=None, is_causal=None) passes the masks to every
    layer; is_causal=None detects a causal `mask` by itself.

    Args:
        encoder_layer (TransformerEncoderLayer): the layer to copy.
        num_layers (int): the number of copies.
        norm (Module, optional): a final normalisation, e.g. LayerNorm(d_model) (default: none).
        enable_nested_tensor (bool): PyTorch's inference fast path for padded batches
            (default: True). chainrule has no nested tensors and always masks, but gives what
            that path gives: where PyTorch would take it (see `_nested_padding`), padded
            positions come out as zeros (then through `norm`). Where a layer cannot take it,
            PyTorch's warning says why and `use_nested_tensor` is False.
        mask_check (bool): whether the fast path first checks that the padding is at the end of
            each sequence (it is skipped otherwise) (default: True).

    Shape:
        - Input: src (S, N, E), or (N, S, E) with batch_first layers, or (S, E) unbatched
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
        >>> encoder(chainrule.zeros(2, 10, 16)).shape
        chainrule.Size([2, 10, 16])
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(
                "enable_nested_tensor is True, but self.use_nested_tensor is False because "
                f"{why_not}",
                stacklevel=2,
            )
            self.use_nested_tensor = False

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        src_key_padding_mask = _float_mask(
            src_key_padding_mask, "src_key_padding_mask", src, mask, "mask"
        )
        mask = _float_mask(mask, "mask", src)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        padding = self._nested_padding(src, mask, src_key_padding_mask)
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                is_causal=is_causal,
                src_key_padding_mask=src_key_padding_mask,
            )
        if padding is not None:  # PyTorch's nested output padded back with zeros
            output = output.masked_fill(padding.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(
        self, src: Tensor, mask: Tensor | None, src_key_padding_mask: Tensor | None
    ) -> Tensor | None:
        """The padded positions (N, S) where PyTorch would run this batch as nested tensors,
        else None: inference (eval, and no gradient wanted of the input or the first layer),
        batched input, a padding mask and no attention mask, no autocast, and (with
        mask_check) each sequence's padding at its end. That path gives zeros there."""
        first = self.layers[0]
        wants_grad = is_grad_enabled() and (
            src.requires_grad or any(p.requires_grad for p in first.parameters())
        )
        if (
            not self.use_nested_tensor
            or first.training
            or src.dim() != 3
            or src_key_padding_mask is None
            or mask is not None
            or is_autocast_enabled(src.device.type)
            or wants_grad
        ):
            return None
        padding = src_key_padding_mask != 0  # the float mask is -inf where padded
        if self.mask_check:
            ends_padded = padding.long().cummax(dim=1).values.bool()
            if not bool((ends_padded == padding).all()):  # padding between tokens
                return None
        return padding


def _why_not_nested(layer: Module) -> str:
    """PyTorch's reason for not running an encoder of these layers as nested tensors, or ''."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (
            f"{name}.self_attn.batch_first was not True"
            "(use batch_first for better inference performance)"
        )
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerDecoderLayer(Module):
    """One Transformer decoder block: self-attention, attention to the memory, feed-forward.

    Each of the three sub-blocks is wrapped in a residual connection and a LayerNorm, after it
    (post-norm) or, with norm_first=True, before it (pre-norm). forward(tgt, memory, tgt_mask,
    memory_mask, tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal=False,
    memory_is_causal=False): tgt_mask (T, T) is usually the causal mask of
    Transformer.generate_square_subsequent_mask, so a position cannot attend to later ones.

    Args:
        d_model (int): E, the number of features of each token.
        nhead (int): the number of attention heads; must divide d_model.
        dim_feedforward (int): the hidden width of the feed-forward block (default: 2048).
        dropout (float): the dropout probability, applied to the attention weights, inside the
            feed-forward block and before each residual addition (default: 0.1).
        activation (str | Callable): the feed-forward block's nonlinearity, 'relu' (the
            default, as F.relu), 'gelu', or any unary callable.
        layer_norm_eps (float): the LayerNorms' eps (default: 1e-5).
        batch_first (bool): tokens are (N, S, E) instead of (S, N, E) (default: False).
        norm_first (bool): pre-norm: apply each LayerNorm before its block, inside the residual
            branch, instead of after the residual addition (post-norm, the default and the
            original paper's). Pre-norm is usually easier to train deep.
        bias (bool): learn the biases of the Linear and LayerNorm layers (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: tgt (T, N, E) and memory (S, N, E), or (N, T, E) and (N, S, E) with
          batch_first, or (T, E) and (S, E) unbatched
        - Output: tgt's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> layer(chainrule.zeros(7, 2, 16), chainrule.zeros(10, 2, 16)).shape
        chainrule.Size([7, 2, 16])
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **factory
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation = activation

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    _sa_block = TransformerEncoderLayer._sa_block  # the same block: self_attn, dropout1

    def _mha_block(
        self,
        x: Tensor,
        memory: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool = False,
    ) -> Tensor:
        x = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerDecoder(Module):
    """A stack of `num_layers` decoder layers, each a deep copy of `decoder_layer`.

    The target goes through the copies in turn, every one attending to the same `memory`, then
    through `norm` if one is given. forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False) passes the masks to every layer.

    Args:
        decoder_layer (TransformerDecoderLayer): the layer to copy.
        num_layers (int): the number of copies.
        norm (Module, optional): a final normalisation, e.g. LayerNorm(d_model) (default: none).

    Shape:
        - Input: tgt (T, N, E) and memory (S, N, E), or batch-first or unbatched like the
          layers
        - Output: tgt's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
        >>> decoder = nn.TransformerDecoder(layer, num_layers=2)
        >>> decoder(chainrule.zeros(7, 2, 16), chainrule.zeros(10, 2, 16)).shape
        chainrule.Size([7, 2, 16])
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _detect_is_causal_mask(
            tgt_mask, tgt_is_causal, _get_seq_len(tgt, batch_first)
        )
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    An encoder (num_encoder_layers TransformerEncoderLayers and a final LayerNorm) reads the source
    sequence into a memory; a decoder (num_decoder_layers TransformerDecoderLayers and a final
    LayerNorm) produces one output per target token, attending to that memory. Token embeddings,
    positional encodings and the output projection are not included. Every weight matrix (dimension
    > 1) starts xavier_uniform_. forward(src, tgt, src_mask, tgt_mask, memory_mask,
    src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask, ...) takes the masks of the
    layers.

    Args:
        d_model (int): E, the number of features of each token (default: 512).
        nhead (int): the number of attention heads; must divide d_model (default: 8).
        num_encoder_layers (int): the encoder's depth (default: 6).
        num_decoder_layers (int): the decoder's depth (default: 6).
        dim_feedforward (int): the hidden width of the feed-forward blocks (default: 2048).
        dropout (float): the dropout probability in every layer (default: 0.1).
        activation (str | Callable): the feed-forward nonlinearity, 'relu' (the default),
            'gelu' or any unary callable.
        custom_encoder (Module, optional): used instead of the built-in encoder.
        custom_decoder (Module, optional): used instead of the built-in decoder.
        layer_norm_eps (float): the LayerNorms' eps (default: 1e-5).
        batch_first (bool): sequences are (N, S, E) instead of (S, N, E) (default: False).
        norm_first (bool): pre-norm layers instead of post-norm ones (default: False).
        bias (bool): learn the biases of the Linear and LayerNorm layers (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: src (S, N, E) and tgt (T, N, E), or (N, S, E) and (N, T, E) with batch_first,
          or (S, E) and (T, E) unbatched
        - Output: tgt's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1,
        ...                        num_decoder_layers=1, dim_feedforward=32)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(chainrule.zeros(10, 2, 16), chainrule.zeros(7, 2, 16), tgt_mask=tgt_mask).shape
        chainrule.Size([7, 2, 16])
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **factory,
            )
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **factory,
            )
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        is_batched = src.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if is_batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ShapeError(
                f"the batch number of src and tgt must be equal (src {tuple(src.shape)}, tgt "
                f"{tuple(tgt.shape)})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(
                f"the feature number of src and tgt must be equal to d_model ({self.d_model}); "
                f"got src {tuple(src.shape)}, tgt {tuple(tgt.shape)}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(
        sz: int, device: Device | str | None = None, dtype: DType | None = None
    ) -> Tensor:
        """The causal mask: -inf where a position would attend to a later one, else 0."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for param in self.parameters():
            if param.dim() > 1:
                init.xavier_uniform_(param)
