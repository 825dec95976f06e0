"""The floor: W3 and W4 written by hand in NumPy, forward, backward and SGD update, with the
same shapes, data and initial parameters as the framework versions.

No autodiff library can beat the arithmetic it has to do, so the floor's steps/s is what
chainrule's recording, dispatching and bookkeeping cost is measured against. The convolution
is plain im2col (one matmul per layer, a loop over the 25 kernel offsets for col2im), the
kind of code a careful NumPy user writes, not a tuned kernel.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks import common

# ---- the pieces ----------------------------------------------------------------------------


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    grad = exp / total
    grad[rows, labels] -= 1
    grad /= len(labels)
    return loss, grad


def im2col(x: np.ndarray, kernel: int, pad: int) -> np.ndarray:
    """(N, C, H, W) -> (C * k * k, N * H * W) columns of a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (kernel, kernel), axis=(2, 3))  # (N, C, H, W, k, k)
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kernel * kernel, n * h * w)


def col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: int, pad: int) -> np.ndarray:
    """The adjoint of im2col: add each column entry back onto the input pixel it came from."""
    n, c, h, w = shape
    blocks = cols.reshape(c, kernel, kernel, n, h, w)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(kernel):
        for j in range(kernel):
            padded[:, :, i : i + h, j : j + w] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return padded[:, :, pad : pad + h, pad : pad + w]


def conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple:
    """A 'same' convolution; returns the output and the columns the backward needs."""
    n, _, h, w = x.shape
    cols = im2col(x, common.W4_KERNEL, common.W4_PAD)
    out = weight.reshape(len(weight), -1) @ cols + bias[:, None]  # (O, N * H * W)
    return out.reshape(len(weight), n, h, w).transpose(1, 0, 2, 3), cols


def conv_backward(
    g: np.ndarray, x_shape: tuple, weight: np.ndarray, cols: np.ndarray, need_x: bool
):
    """Gradients of a 'same' convolution: (input or None, weight, bias)."""
    g_rows = g.transpose(1, 0, 2, 3).reshape(len(weight), -1)  # (O, N * H * W)
    grad_weight = (g_rows @ cols.T).reshape(weight.shape)
    grad_bias = g_rows.sum(axis=1)
    grad_x = None
    if need_x:
        grad_cols = weight.reshape(len(weight), -1).T @ g_rows
        grad_x = col2im(grad_cols, x_shape, common.W4_KERNEL, common.W4_PAD)
    return grad_x, grad_weight, grad_bias


def maxpool_forward(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling, stride 2: the largest of the four strided corners of each window."""
    top = np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2])
    bottom = np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])
    return np.maximum(top, bottom)


def maxpool_backward(g: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Route each gradient to its window's maximum, the first one in row-major order on ties
    (PyTorch's CPU convention)."""
    grad = np.zeros_like(x)
    free = np.ones(out.shape, dtype=bool)
    for i in (0, 1):
        for j in (0, 1):
            hit = (x[:, :, i::2, j::2] == out) & free
            grad[:, :, i::2, j::2] = g * hit
            free &= ~hit
    return grad


# ---- the train steps -----------------------------------------------------------------------


def mlp_step(params: dict, inputs: np.ndarray, labels: np.ndarray, lr: float) -> tuple:
    """One SGD step of Linear-ReLU-...-Linear + cross-entropy; returns (loss, grads)."""
    layers = len(params) // 2
    activations = [inputs]
    h = inputs
    for layer in range(layers):
        h = h @ params[f"{2 * layer}.weight"].T + params[f"{2 * layer}.bias"]
        if layer < layers - 1:
            h = np.maximum(h, 0)
            activations.append(h)
    loss, g = cross_entropy(h, labels)
    grads = {}
    for layer in reversed(range(layers)):
        if layer < layers - 1:
            g = g * (activations[layer + 1] > 0)
        weight = params[f"{2 * layer}.weight"]
        grads[f"{2 * layer}.weight"] = g.T @ activations[layer]
        grads[f"{2 * layer}.bias"] = g.sum(axis=0)
        if layer > 0:
            g = g @ weight
    for name, grad in grads.items():
        params[name] -= lr * grad
    return loss, grads


def cnn_step(params: dict, inputs: np.ndarray, labels: np.ndarray, lr: float) -> tuple:
    """One SGD step of the W4 network; returns (loss, grads)."""
    a1, cols1 = conv_forward(inputs, params["0.weight"], params["0.bias"])
    r1 = np.maximum(a1, 0)
    p1 = maxpool_forward(r1)
    a2, cols2 = conv_forward(p1, params["3.weight"], params["3.bias"])
    r2 = np.maximum(a2, 0)
    p2 = maxpool_forward(r2)
    flat = p2.reshape(len(p2), -1)
    logits = flat @ params["7.weight"].T + params["7.bias"]
    loss, g = cross_entropy(logits, labels)

    grads = {"7.weight": g.T @ flat, "7.bias": g.sum(axis=0)}
    g = (g @ params["7.weight"]).reshape(p2.shape)
    g = maxpool_backward(g, r2, p2) * (a2 > 0)
    g, grads["3.weight"], grads["3.bias"] = conv_backward(
        g, p1.shape, params["3.weight"], cols2, need_x=True
    )
    g = maxpool_backward(g, r1, p1) * (a1 > 0)
    _, grads["0.weight"], grads["0.bias"] = conv_backward(
        g, inputs.shape, params["0.weight"], cols1, need_x=False
    )
    for name, grad in grads.items():
        params[name] -= lr * grad
    return loss, grads


# ---- the workloads -------------------------------------------------------------------------


def w3(quick: bool = False) -> dict:
    """W3 floor: 784-1024-1024-10 MLP, batch 256, SGD; steps/s and peak RSS."""
    sizes = common.W3_SIZES
    inputs, labels = common.classification_data(common.W3_BATCH, sizes[:1], sizes[-1])
    params = common.initial_parameters(common.mlp_shapes(sizes))
    step = functools.partial(mlp_step, params, inputs, labels, common.LEARNING_RATE)
    return common.train_figures("W3", step, 30, 3, quick, memory=True)


def w4(quick: bool = False) -> dict:
    """W4 floor: the two-conv CNN, batch 64 of 1x28x28, SGD; steps/s and peak RSS."""
    inputs, labels = common.classification_data(common.W4_BATCH, (1, 28, 28), common.W4_CLASSES)
    params = common.initial_parameters(common.cnn_shapes())
    step = functools.partial(cnn_step, params, inputs, labels, common.LEARNING_RATE)
    return common.train_figures("W4", step, 20, 3, quick, memory=True)


FLOORS = {"W3": w3, "W4": w4}
