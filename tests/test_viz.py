"""viz: the backward graph as DOT (nodes, edges, labels, gradient colours), rendering, and the
model summary table."""

import os
import re
import shutil

import numpy as np
import pytest

import chainrule
from chainrule import nn, viz
from chainrule.errors import BackendError

graphviz = pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")

NODE = re.compile(r'^\s*(\w+) \[label="([^"]*)"(.*)\]$', re.MULTILINE)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)", re.MULTILINE)


def parse(dot: str) -> tuple[dict[str, list[str]], set[tuple[str, str]], dict[str, str]]:
    """DOT source -> ({name: label lines}, {(tail title, head title)}, {name: attributes})."""
    labels = {name: label.split("\n") for name, label, _ in NODE.findall(dot)}
    attrs = {name: rest for name, _, rest in NODE.findall(dot)}
    edges = {(labels[a][0], labels[b][0]) for a, b in EDGE.findall(dot)}
    return labels, edges, attrs


def test_known_expression_nodes_and_edges():
    w = chainrule.ones(3, requires_grad=True)
    b = chainrule.zeros(3, requires_grad=True)
    x = chainrule.ones(3)  # needs no gradient: no node
    loss = (w * x + b).sum()
    labels, edges, _ = parse(viz.graph(loss, params={"w": w, "b": b}).source)
    titles = sorted(lines[0] for lines in labels.values())
    assert titles == ["AddBackward0", "MulBackward0", "SumBackward0", "b", "output", "w"]
    assert edges == {
        ("w", "MulBackward0"),
        ("MulBackward0", "AddBackward0"),
        ("b", "AddBackward0"),
        ("AddBackward0", "SumBackward0"),
        ("SumBackward0", "output"),
    }
    by_title = {lines[0]: lines for lines in labels.values()}
    assert by_title["MulBackward0"][1] == "(3,) float32"
    assert by_title["SumBackward0"][1] == "() float32"
    assert by_title["w"][1] == "(3,) float32"


def test_params_as_pairs_and_unnamed_leaves():
    model = nn.Linear(2, 1)
    x = chainrule.ones(4, 2, requires_grad=True)
    out = model(x).sum()
    labels, _, _ = parse(viz.graph(out, params=model.named_parameters()).source)
    titles = {lines[0] for lines in labels.values()}
    assert {"weight", "bias", "leaf"} <= titles  # x has no name: "leaf"


def test_shared_subexpression_is_one_node():
    x = chainrule.ones(2, requires_grad=True)
    y = x.exp()
    z = (y * y + y).sum()
    labels, edges, _ = parse(viz.graph(z).source)
    assert sum(lines[0] == "ExpBackward0" for lines in labels.values()) == 1
    assert ("ExpBackward0", "MulBackward0") in edges
    assert ("ExpBackward0", "AddBackward0") in edges


def test_deep_graph_without_recursion():
    x = chainrule.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    labels, _, _ = parse(viz.graph(y).source)
    assert len(labels) == 3000 + 2  # the muls, the leaf, the output


def test_gradient_colours_show_vanishing_and_exploding():
    small = chainrule.ones(3, requires_grad=True)
    large = chainrule.ones(3, requires_grad=True)
    loss = (small * 1e-9).sum() + (large * 1e6).sum()
    with viz.record_gradients() as recorder:
        loss.backward()
    labels, _, attrs = parse(viz.graph(loss, params={"small": small, "large": large}).source)
    by_title = {lines[0]: name for name, lines in labels.items()}
    assert "#3b4cc0" in attrs[by_title["small"]]  # dark blue: vanishing
    assert "#b40426" in attrs[by_title["large"]]  # red: exploding
    assert labels[by_title["small"]][-1] == f"|grad| {np.sqrt(3) * 1e-9:.2e}"
    norms = sorted(recorder.norms)
    names = [name for name, _ in norms]
    assert (
        names
        == ["AccumulateGrad"] * 2 + ["AddBackward0"] + ["MulBackward0"] * 2 + ["SumBackward0"] * 2
    )
    expected = [np.sqrt(3) * 1e-9, np.sqrt(3) * 1e6, 1.0, np.sqrt(3), np.sqrt(3), 1.0, 1.0]
    assert [value for _, value in norms] == pytest.approx(expected, rel=1e-6)
    assert "vanishing" in viz.graph(loss).source  # the legend


def test_nan_gradient_is_magenta_and_recording_is_off_outside():
    x = chainrule.ones(2, requires_grad=True)
    y = (x * chainrule.tensor([1.0, float("nan")])).sum()
    with viz.record_gradients():
        y.backward(retain_graph=True)
    assert viz.norm_colour(float("nan")) in viz.graph(y).source
    z = (x * 2).sum()
    z.backward()
    assert "grad_norm" not in z.grad_fn.metadata


def test_show_saved():
    x = chainrule.ones(3, requires_grad=True)
    y = (x * chainrule.full((3,), 2.0)).exp()
    labels, _, _ = parse(viz.graph(y, show_saved=True).source)
    titles = [lines[0] for lines in labels.values()]
    assert "out" in titles and "x" in titles  # Exp saves its output, Mul its operand
    y.sum().backward()
    labels, _, _ = parse(viz.graph(y, show_saved=True).source)
    assert "out" not in [lines[0] for lines in labels.values()]  # freed by backward


@needs_dot
def test_render_and_svg(tmp_path):
    x = chainrule.ones(2, requires_grad=True)
    picture = viz.graph((x * x).sum(), params={"x": x})
    path = picture.render(str(tmp_path / "graph"), format="png", cleanup=True)
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert not os.path.exists(tmp_path / "graph")  # cleanup removed the DOT file
    assert picture._repr_svg_().lstrip().startswith("<?xml")


def test_clear_error_when_dot_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    picture = viz.graph(chainrule.ones(2, requires_grad=True).sum())
    with pytest.raises(BackendError, match="Graphviz `dot` program is not on PATH"):
        picture.render(str(tmp_path / "graph"), format="png")
    with pytest.raises(BackendError, match="apt-get install graphviz"):
        picture._repr_svg_()


@needs_dot
def test_train_graph_option_draws(tmp_path):
    from chainrule.apps import cli
    from chainrule.data import TensorDataset

    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    data = TensorDataset(chainrule.rand(4, 1, 4, 4), chainrule.zeros(4, dtype=chainrule.int64))
    cli._draw_graph(model, data, tmp_path)
    assert (tmp_path / "graph.png").stat().st_size > 0


def test_summary_table():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)
    )
    model.train()
    running = model[1].running_mean.clone()
    chainrule.manual_seed(7)
    expected_draw = chainrule.rand(3)
    chainrule.manual_seed(7)
    result = viz.summary(model, (1, 8, 8), print_summary=False)
    assert result.rows == [
        ("0 (Conv2d)", (-1, 4, 6, 6), 40),
        ("1 (BatchNorm2d)", (-1, 4, 6, 6), 8),
        ("2 (ReLU)", (-1, 4, 6, 6), 0),
        ("3 (Flatten)", (-1, 144), 0),
        ("4 (Linear)", (-1, 10), 1450),
    ]
    assert result.total_params == result.trainable_params == 1498
    text = str(result)
    assert "Total params: 1,498" in text
    assert "[-1, 4, 6, 6]" in text
    assert model.training and model[1].training  # mode restored
    assert np.array_equal(model[1].running_mean.numpy(), running.numpy())  # stats untouched
    assert np.array_equal(chainrule.rand(3).numpy(), expected_draw.numpy())  # RNG untouched


def test_summary_nested_modules_and_printing(capsys):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 3)
            self.scale = nn.Parameter(chainrule.ones(1))

        def forward(self, x):
            return self.inner(x) * self.scale

    model = nn.Sequential(Block(), nn.Linear(3, 2))
    model[1].weight.requires_grad_(False)
    result = viz.summary(model, (3,))
    assert [row[0] for row in result.rows] == ["0 (Block)", "0.inner (Linear)", "1 (Linear)"]
    assert result.depths == [0, 1, 0]
    assert result.rows[0][2] == 1  # its own parameter; the Linear inside has its own row
    assert result.total_params == 12 + 1 + 8
    assert result.trainable_params == 12 + 1 + 2
    assert "Non-trainable params: 6" in capsys.readouterr().out
