"""`python -m chainrule.as_torch script.py`: an unmodified PyTorch program runs on chainrule."""

import functools
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch  # real PyTorch is imported in this process: install() must refuse

import chainrule.as_torch
from tests.warm_interpreters import WarmInterpreter

SCRIPT = """
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


x = torch.randn(96, 4)
y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
model = Net().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
scheduler = StepLR(optimizer, step_size=5, gamma=0.5)
for epoch in range(15):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
    scheduler.step()
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
torch.save(model.state_dict(), sys.argv[1])
again = Net()
again.load_state_dict(torch.load(sys.argv[1]))
print(torch.__name__, accuracy > 0.9, bool(torch.equal(again(x), model(x))), sys.argv[2])
"""


def _run(tmp_path, source, *args):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    command = [sys.executable, "-m", "chainrule.as_torch", str(script), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_a_pytorch_training_script_runs_unmodified(tmp_path):
    result = _run(tmp_path, SCRIPT, str(tmp_path / "model.pt"), "--flag")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "True", "True", "--flag"]


def test_a_torch_module_chainrule_lacks_is_refused_by_name(tmp_path):
    result = _run(tmp_path, "import torch\nimport torch.onnx\n")
    assert result.returncode != 0
    assert "torch.onnx has no chainrule counterpart" in result.stderr
    assert "ModuleNotFoundError" in result.stderr


def test_install_refuses_once_real_pytorch_is_imported():
    with pytest.raises(ImportError, match="already imported"):
        chainrule.as_torch.install()
    assert sys.modules["torch"].__name__ == "torch"  # nothing was changed


def test_usage_without_a_script(tmp_path):
    command = [sys.executable, "-m", "chainrule.as_torch"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "usage" in result.stderr


def test_torch_special_and_distributions_resolve_to_chainrules(tmp_path):
    script = (
        "import torch\n"
        "from torch.distributions import Normal, kl_divergence\n"
        "print(type(torch.special.expit(torch.zeros(1))).__module__.split('.')[0])\n"
        "print(float(kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))))\n"
    )
    result = _run(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "0.5"]


def test_a_program_checking_the_version_takes_the_branch_of_the_pytorch_chainrule_follows(
    tmp_path,
):
    """torch.__version__ is the mirrored PyTorch release, chainrule's version its local label,
    and compares as PyTorch's TorchVersion does (strings, tuples, packaging)."""
    script = (
        "import torch, torch.version\n"
        "from packaging.version import Version\n"
        "v = torch.__version__\n"
        "print(v.split('+')[0], v >= '1.10', v >= (2, 0), v < (2, 13), v == '2.13.0')\n"
        "print(Version(v).release[:2] >= (2, 0), torch.version.__version__ == v)\n"
        "import torch.library, torch.storage, torch.backends.mkldnn, torch.backends.openmp\n"
    )
    result = _run(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        torch.__version__.split("+")[0]
    ] + "True True False False".split() + [
        "True",
        "True",
    ]
    real = torch.__version__
    assert (real >= "1.10", real >= (2, 0), real < (2, 13), real == "2.13.0") == (
        True,
        True,
        False,
        False,
    )


def test_older_idioms_import_and_run(tmp_path):
    """What scripts written for PyTorch 0.4-1.x still import: Variable, the backends'
    submodules, _LRScheduler as a base class, the module files under torch.nn.modules,
    torch.nn.utils.rnn and torch.optim's per-optimizer modules."""
    script = """
        import torch
        import torch.backends.cudnn as cudnn
        from torch.autograd import Variable
        from torch.nn.modules.loss import _Loss
        from torch.nn.utils.rnn import pad_sequence
        from torch.optim.adamw import AdamW
        from torch.optim.lr_scheduler import _LRScheduler

        cudnn.benchmark = True
        x = Variable(torch.ones(3), requires_grad=True)

        class Halving(_LRScheduler):
            def get_lr(self):
                return [group["lr"] / 2 for group in self.optimizer.param_groups]

        class Squares(_Loss):
            def forward(self, a, b):
                return ((a - b) ** 2).sum()

        optimizer = AdamW([x], lr=1.0)
        scheduler = Halving(optimizer)
        loss = Squares()(x, torch.zeros(3))
        loss.backward()
        optimizer.step()
        scheduler.step()
        padded = pad_sequence([torch.ones(2), torch.ones(1)])
        print(isinstance(x, Variable), x.grad.tolist(), scheduler.get_last_lr(),
              tuple(padded.shape), cudnn.is_available())
    """
    result = _run(tmp_path, script)
    assert result.returncode == 0, result.stderr
    under_torch = subprocess.run(
        [sys.executable, str(tmp_path / "train.py")], capture_output=True, text=True, timeout=120
    )
    assert under_torch.returncode == 0, under_torch.stderr
    assert result.stdout == under_torch.stdout == "True [2.0, 2.0, 2.0] [0.25] (2, 2) False\n"


def test_every_alias_imports_and_holds_torchs_classes_there():
    """Each aliased module imports, and a class PyTorch defines in that module (say
    torch.nn.modules.container.Sequential) is in chainrule's counterpart whenever chainrule
    has it at all (in chainrule.nn or chainrule.optim)."""
    import importlib
    import inspect

    import chainrule.nn
    import chainrule.optim

    # The lazy layers live together in chainrule/nn/modules/lazy.py (PyTorch spreads them
    # over conv.py, linear.py, batchnorm.py and instancenorm.py): `from
    # torch.nn.modules.conv import LazyConv2d` fails.
    elsewhere = {"LazyLinear"} | {
        f"Lazy{kind}{n}d"
        for kind in ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm")
        for n in (1, 2, 3)
    }
    for torch_name, ours in chainrule.as_torch.ALIASES.items():
        module = importlib.import_module(ours)
        if not torch_name.startswith(("torch.nn.modules.", "torch.optim.")):
            continue
        theirs = importlib.import_module(torch_name)
        owner = chainrule.nn if torch_name.startswith("torch.nn") else chainrule.optim
        for name, value in vars(theirs).items():
            defined_there = inspect.isclass(value) and value.__module__ == torch_name
            public = not name.startswith("_") and name not in elsewhere
            if defined_there and public and hasattr(owner, name):
                assert hasattr(module, name), f"{ours} lacks {name} ({torch_name} has it)"


def test_each_torch_distributions_family_module_holds_its_names_here():
    """`from torch.distributions.normal import Normal` and the like: every name in the
    __all__ of PyTorch's module for a family (and of constraints, constraint_registry, kl,
    transforms and utils) is in chainrule's module standing for it."""
    import importlib

    families = [
        name for name in chainrule.as_torch.ALIASES if name.startswith("torch.distributions.")
    ]
    assert len(families) == 47  # the families, exp_family and the five shared modules
    for torch_name in families:
        ours = importlib.import_module(chainrule.as_torch.ALIASES[torch_name])
        missing = [n for n in importlib.import_module(torch_name).__all__ if not hasattr(ours, n)]
        assert not missing, f"{ours.__name__} lacks {missing} ({torch_name} has them)"


# ---- whole PyTorch programs, run by both libraries -----------------------------------------------

PROGRAMS = sorted((Path(__file__).parent / "as_torch_programs").glob("*.py"))


@pytest.fixture(scope="session")
def warm_interpreters():
    """Per test worker, an interpreter per library that has made its imports once; each
    program runs in a fork of it as under `python prog.py` / `python -m chainrule.as_torch
    prog.py` (tests/warm_interpreters.py says why and how)."""
    interpreters = {library: WarmInterpreter(library) for library in ("torch", "chainrule")}
    yield interpreters
    for interpreter in interpreters.values():
        interpreter.close()


def _run_program(program, tmp_path, interpreters, *, library, deterministic):
    """Run `program` under real PyTorch or under chainrule.as_torch; its JSON."""
    checkpoint = tmp_path / f"{library}-{deterministic}.pt"
    flags = ["--deterministic"] if deterministic else []
    result = interpreters[library].run(program, [str(checkpoint), *flags], tmp_path, timeout=300)
    assert result.returncode == 0, f"{program.name} under {library}:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.pop("library") == library
    return report


def _close(ours, theirs):
    """The same JSON, numbers equal up to float32 training noise."""
    if isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_close(ours[k], theirs[k]) for k in theirs)
    if isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_close, ours, theirs))
    if isinstance(theirs, float):
        return ours == pytest.approx(theirs, rel=1e-4, abs=1e-6)
    return ours == theirs


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_a_pytorch_program_runs_unmodified_and_matches_pytorch(
    program, tmp_path, warm_interpreters
):
    """Each program in tests/as_torch_programs is plain PyTorch (a model, a DataLoader with
    worker processes, an optimizer and a scheduler, torch.save / torch.load of its state).
    With --deterministic nothing random enters its losses, so chainrule's must be PyTorch's;
    without it (shuffled data, random init, dropout) it must still run."""
    run = functools.partial(_run_program, program, tmp_path, warm_interpreters)
    theirs = run(library="torch", deterministic=True)
    ours = run(library="chainrule", deterministic=True)
    assert _close(ours, theirs), f"chainrule: {ours}\ntorch:     {theirs}"
    shuffled = run(library="chainrule", deterministic=False)
    assert shuffled.keys() == theirs.keys() and all(map(math.isfinite, shuffled["losses"]))


WHERE_AM_I = """
import os, sys
import helper_beside
print(__name__, os.path.basename(__file__), sys.argv[1:], os.getcwd(), helper_beside.NAME)
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("library", ["torch", "chainrule"])
@pytest.mark.parametrize("status", [0, 3])
def test_a_warm_interpreter_runs_a_program_as_a_fresh_process_would(
    tmp_path, warm_interpreters, library, status
):
    """What the program sees (its name, file, argv, folder, modules beside it) and what it
    leaves (stdout, stderr, exit status) are those of `python prog.py` (or of `python -m
    chainrule.as_torch prog.py`), and an uncaught exception is a traceback and status 1."""
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / "helper_beside.py").write_text("NAME = 'beside'\n")
    program = folder / "where_am_i.py"
    program.write_text(WHERE_AM_I)
    launcher = ["-m", "chainrule.as_torch"] if library == "chainrule" else []
    fresh = subprocess.run(
        [sys.executable, *launcher, str(program), str(status)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    warm = warm_interpreters[library].run(program, [str(status)], tmp_path, timeout=120)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    assert warm.returncode == status and f"__main__ where_am_i.py ['{status}']" in warm.stdout

    program.write_text("raise KeyError('lost')\n")
    failed = warm_interpreters[library].run(program, [], tmp_path, timeout=120)
    assert failed.returncode == 1 and "KeyError: 'lost'" in failed.stderr


def test_a_script_imports_the_modules_beside_it_as_under_python(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "models.py").write_text("import torch.nn as nn\nNet = nn.Linear\n")
    script = "from models import Net\nprint(type(Net(2, 1).weight).__module__, __name__)\n"
    (tmp_path / "project" / "train.py").write_text(script)
    command = [sys.executable, "-m", "chainrule.as_torch", "project/train.py"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule.nn.parameter", "__main__"]


SPAWNED_WORKERS = """
import torch
from torch.utils.data import DataLoader, Dataset


class Where(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return type(torch.zeros(1)).__module__.split(".")[0]


if __name__ == "__main__":
    loader = DataLoader(Where(), batch_size=None, num_workers=1, multiprocessing_context="spawn")
    print(*loader)
"""


def test_workers_started_by_spawn_see_chainrule_as_torch_too(tmp_path):
    """A spawned child runs the script again (as __mp_main__): its `import torch` must be
    chainrule's as well, or the script's Dataset would build real PyTorch tensors."""
    result = _run(tmp_path, SPAWNED_WORKERS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "chainrule"]


def test_what_a_program_prints_about_its_tensors_reads_as_under_pytorch(tmp_path):
    """Printed dtypes, sizes, legacy type names, tensors and torch.testing.assert_close's
    messages say `torch.` under as_torch, as they do under PyTorch, so a ported program's
    output is the same text."""
    script = """
        import torch
        x = torch.tensor([[0.1876, -0.0364, -0.3207]], dtype=torch.float64, requires_grad=True)
        print(x)
        print(x.dtype, x.shape, x.size(1), x.type(), torch.tensor([1.5]).half())
        print(torch.get_default_dtype(), torch.long, torch.ones(2, 3).shape)
        print(torch.nn.ParameterDict({"w": torch.nn.Parameter(torch.ones(2))}))
        for a, b in ((torch.tensor([1]), torch.tensor([1.0])), (torch.ones(2), torch.ones(3))):
            try:
                torch.testing.assert_close(a, b)
            except AssertionError as error:
                print(error)
    """
    result = _run(tmp_path, script)
    assert result.returncode == 0, result.stderr
    under_torch = subprocess.run(
        [sys.executable, str(tmp_path / "train.py")], capture_output=True, text=True, timeout=120
    )
    assert under_torch.returncode == 0, under_torch.stderr
    assert result.stdout == under_torch.stdout
    assert "torch.Size([1, 3])" in result.stdout


def test_the_helper_modules_layer_code_imports_resolve_as_under_pytorch(tmp_path):
    """Custom layers import torch.nn.modules.utils's _pair, annotate with torch.types and
    torch.nn.common_types, pin attention kernels with torch.nn.attention and mark functions
    with torch.compiler, and profile with torch.autograd.profiler: under as_torch each runs and
    prints what PyTorch's prints."""
    script = """
        import torch
        from torch.compiler import disable, is_compiling
        from torch.nn.attention import SDPBackend, sdpa_kernel
        from torch.nn.common_types import _size_2_t
        from torch.nn.modules.utils import _pair, _triple, consume_prefix_in_state_dict_if_present
        from torch.types import Number
        from torch.utils.hooks import RemovableHandle

        @disable
        def scale(x: torch.Tensor, by: Number) -> torch.Tensor:
            return x * by

        def kernel(size: _size_2_t) -> tuple:
            return _pair(size)

        q = torch.arange(6.0).reshape(1, 2, 3) / 6
        with sdpa_kernel([SDPBackend.MATH]):
            out = torch.nn.functional.scaled_dot_product_attention(q, q, q)
        state = {"module.weight": 1, "bias": 2}
        consume_prefix_in_state_dict_if_present(state, "module.")
        handle = torch.nn.Linear(2, 2).register_forward_hook(lambda *args: None)
        print(kernel(3), kernel((1, 2)), _triple(2), state, is_compiling())
        print(round(float(scale(out, 2).sum()), 4), isinstance(handle, RemovableHandle))
        with torch.autograd.profiler.profile(record_shapes=True) as prof:
            with torch.autograd.profiler.record_function("scaled"):
                scale(out, 3)
        print(len(prof.key_averages()) > 0, "scaled" in {row.key for row in prof.key_averages()})
        torch.serialization.add_safe_globals([complex])
        with torch.serialization.safe_globals([divmod]):
            print(complex in torch.serialization.get_safe_globals())
    """
    result = _run(tmp_path, script)
    assert result.returncode == 0, result.stderr
    under_torch = subprocess.run(
        [sys.executable, str(tmp_path / "train.py")], capture_output=True, text=True, timeout=120
    )
    assert under_torch.returncode == 0, under_torch.stderr
    assert result.stdout == under_torch.stdout
