"""The benchmark code cannot rot: every workload runs once on chainrule (smoke budget, no
timing asserted), the NumPy floor runs, and the models the workloads time really are the same
model in chainrule, PyTorch and the floor (same losses over two training steps)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common, layers, numpy_floor, workloads  # noqa: E402
from benchmarks import profile as benchmark_profile  # noqa: E402
from benchmarks import run as benchmark_run  # noqa: E402

import chainrule  # noqa: E402

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: these are checks, not timings, and test suites running side by
    side make spinning OpenMP threads very slow."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(workloads.WORKLOADS))
def test_workload_runs_on_chainrule(name):
    figures = workloads.run(name, "chainrule", quick=True)
    assert figures
    for figure in figures.values():
        assert math.isfinite(figure["value"]) and figure["value"] > 0
        assert figure["better"] in ("higher", "lower")
        assert figure["unit"]


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4", "W7", "W8"])
def test_workload_runs_compiled(name):
    """The step is captured (no graph break) and its first call is reported."""
    figures = workloads.run(name, workloads.COMPILED, quick=True)
    assert figures[name]["value"] > 0
    assert figures[f"{name} first call"]["unit"] == "s"


@pytest.mark.parametrize("name", sorted(numpy_floor.FLOORS))
def test_numpy_floor_runs(name):
    figures = workloads.run(name, "numpy", quick=True)
    assert figures[name]["unit"] == "steps/s" and figures[name]["value"] > 0
    assert figures[f"{name} peak RSS"]["value"] > 0


def _two_losses(step) -> list[float]:
    return [float(step().item()) for _ in range(2)]


@pytest.mark.parametrize("name", sorted(workloads.SETUPS))
def test_chainrule_and_torch_train_the_same_model(name):
    """Identical initial parameters and data: the first loss matches, and so does the loss
    after one optimizer step (so gradients and updates match too)."""
    setup = workloads.SETUPS[name]
    ours = _two_losses(setup(chainrule))
    theirs = _two_losses(setup(torch))
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)
    assert ours[1] < ours[0]


def _floor_losses(step, params, shape, classes) -> list[float]:
    inputs, labels = common.classification_data(shape[0], shape[1:], classes)
    return [step(params, inputs, labels, common.LEARNING_RATE)[0] for _ in range(2)]


def test_numpy_floor_mlp_matches_torch():
    sizes = common.W3_SIZES
    params = common.initial_parameters(common.mlp_shapes(sizes))
    ours = _floor_losses(numpy_floor.mlp_step, params, (common.W3_BATCH, sizes[0]), sizes[-1])
    theirs = _two_losses(workloads.SETUPS["W3"](torch))
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)


def test_numpy_floor_cnn_matches_torch():
    params = common.initial_parameters(common.cnn_shapes())
    shape = (common.W4_BATCH, 1, 28, 28)
    ours = _floor_losses(numpy_floor.cnn_step, params, shape, common.W4_CLASSES)
    theirs = _two_losses(workloads.SETUPS["W4"](torch))
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)


def test_numpy_floor_gradients_match_torch():
    """The floor's hand-written backward, parameter by parameter, against torch's."""
    params = common.initial_parameters(common.cnn_shapes())
    inputs, labels = common.classification_data(8, (1, 28, 28), common.W4_CLASSES)
    _, grads = numpy_floor.cnn_step(dict(params), inputs, labels, 0.0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip
    model.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    loss = nn.functional.cross_entropy(model(torch.from_numpy(inputs)), torch.from_numpy(labels))
    loss.backward()
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("name", ["grad", "autograd_grad", "hvp", "hvp_double_backward", "jvp"])
def test_w6_computes_what_torch_computes(name):
    ours = workloads.w6_setup("chainrule")[name]()
    theirs = workloads.w6_setup("torch")[name]()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


def test_profile_writes_every_section(tmp_path):
    """The profiler runs (one small workload, three steps) and its report keeps its shape, and
    every op's forward is put back afterwards."""
    out = tmp_path / "profiles.md"
    benchmark_profile.main(["--only", "W2", "--steps", "3", "--top", "12", "--out", str(out)])
    text = out.read_text()
    for heading in (
        "# chainrule profiles",
        "## W2",
        "### Top 12 by own time",
        "### Top 12 chainrule functions by cumulative time",
        "### Op forwards",
    ):
        assert heading in text
    assert "- CPU: " in text and "BLAS: " in text
    assert "ms per step**" in text and "**all op forwards**" in text
    # Every op passes through apply, but three steps are a small sample: a slow backward (a
    # collection, a loaded machine) can rank its whole call chain above it, hence 12 rows.
    cumulative = text.split("chainrule functions by cumulative time")[1].split("### Op forwards")[0]
    assert "`ops/op.py:apply`" in cumulative, cumulative
    assert "## W3" not in text
    for op in benchmark_profile.op_classes():
        for attribute in ("forward", "fused_jvp"):
            assert "ForwardTimer" not in getattr(getattr(op, attribute), "__qualname__", "")


def test_gpu_benchmark_runs_on_the_fake_device(capsys):
    """benchmarks/gpu.py is what gpu.sh runs on a GPU; here it runs at tiny sizes on the fake
    device, so the script is known to work before a GPU machine is lent."""
    from benchmarks import gpu

    gpu.main(["--device", "fake", "--passes", "1", "--repeats", "1"])
    table = capsys.readouterr().out
    assert "| W3 " in table and "| W7 " in table


def test_the_results_table_puts_torch_compile_beside_pytorch_eager():
    """The runner's table, from figures as the workloads report them: torch.compile's median
    and its ratio to PyTorch eager in columns of their own (no process is started here)."""

    def entries(*values):
        return [common.row(v, "steps/s", "higher") for v in values]

    figures = {
        "W2": {
            "chainrule": entries(700, 800, 900),
            "torch": entries(1000, 1000, 1000),
            "compiled": entries(1100, 1200, 1300),
            workloads.TORCH_COMPILED: entries(1500, 1600, 1700),
        }
    }
    header, _, line = benchmark_run.table(benchmark_run.summarize(figures))
    assert header.split(" | ")[-2:] == ["torch.compile", "ratio torch.compile / PyTorch |"]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[-2:] == ["1.6e+03 (1.5e+03-1.7e+03)", "1.6"]
    assert cells[9] == "1.2"  # compiled / PyTorch


@pytest.mark.parametrize("name", ["AvgPool2d 2", "topk 10", "Conv2d depthwise 3x3"])
def test_the_layer_sweep_runs_a_case_in_both_libraries(name):
    figures = layers.measure(name, repeats=1, calls=1)
    assert set(figures) == {"chainrule", "torch", "ratio"}
    assert all(math.isfinite(value) and value > 0 for value in figures.values())
