"""Mutation testing of chainrule with Cosmic Ray, per package (`make mutate`; issue 17).

What it does, in order:

1. Cosmic Ray lists every mutant of each package's modules (restricted to OPERATORS: the small,
   realistic slips of arithmetic, comparison, logic, constants and loops), and this script draws
   a fixed-seed sample of them: all of them when the package is small, else enough for the
   score's 95% confidence interval to be within +-5 points while the score is at least
   PLANNED_SCORE (`sample_size`). The list is cached while the package's code is unchanged.
2. One coverage run of the test files (all but EXCLUDED_TESTS) on the unmutated code records,
   with one coverage context per test, which tests execute each line of the library, and how
   long each test takes; it is cached per test file while the library, that file and the
   tests' helpers are unchanged. A test that fails here never judges a mutant.
3. A mutant is judged by the tests that execute its statement, fastest first, with `pytest -x`
   (stop at the first failure), under a timeout of 30 s + 3x those tests' time in step 2. A
   statement that runs at import (a constant, a class attribute) is judged by the tests that
   run any line of its module; a default argument or decorator by the tests that run its
   function and the signature tests (SIGNATURE_TESTS). A line that no test executes in-process
   survives without a run, except in the packages whose tests run library code in child
   processes (SUBPROCESS_TESTS), where those test files judge it (and they judge the lines
   that tests run in-process too, after those tests). The mutant is killed when
   the tests fail or time out.
4. Runs are forked from a parent that has imported torch, NumPy, SciPy, pytest and Hypothesis,
   `--workers` at a time. A mutant inside a function is first run in memory: the parent has also
   imported chainrule and the test modules, and the forked run swaps the mutated code objects
   into the functions of the mutated module, then runs its first MAX_TESTS tests. A mutant that
   survives that, and every other mutant, is applied by Cosmic Ray to a scratch copy of the
   repository (one per worker) and run with all its tests in a fresh import of chainrule and
   the tests, so a survivor is never an artefact of the in-memory shortcut.

Results go to docs/mutation-results.json (one entry per sampled mutant, kept between runs, so a
package can be rerun alone) and the report to docs/mutation.md: the score per package with its
confidence interval, and every mutant that survived, with its note from docs/mutation-notes.toml
(the test that now kills it, or why it is equivalent). `--survivors` reruns only the mutants
that survived last time, which is how a new test is confirmed to kill them.

    python scripts/mutate.py                      # every package (docs/mutation.md: the time)
    python scripts/mutate.py --package optim      # one package
    python scripts/mutate.py --survivors          # only last run's survivors
    python scripts/mutate.py --report-only        # rewrite docs/mutation.md from the results
"""

from __future__ import annotations

import argparse
import ast
import compileall
import functools
import gc
import hashlib
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
import toml  # Cosmic Ray's own dependency
from cosmic_ray.commands.init import init as cosmic_ray_init
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator
from cosmic_ray.work_db import WorkDB, use_db

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "mutation-results.json"
NOTES = ROOT / "docs" / "mutation-notes.toml"
REPORT = ROOT / "docs" / "mutation.md"
SEED = 17

# The sample: large enough that a score p measured on it lies within MARGIN of the package's
# score at 95% confidence (z = 1.96) while the score is at least PLANNED_SCORE (the variance
# p(1 - p) is largest at the lowest score we plan for), with the finite-population correction.
Z = 1.96
MARGIN = 0.05
PLANNED_SCORE = 0.95
MAX_TESTS = 25  # tests in a mutant's first run, in memory (the fastest that reach it)

# package -> modules or folders under src/chainrule.
PACKAGES: dict[str, list[str]] = {
    "ops": ["ops"],
    "autograd": ["autograd"],
    "func": ["func"],
    "nn": ["nn"],
    "optim": ["optim"],
    "data": ["data"],
    "serialization": ["serialization.py"],
    "apps": ["apps"],
}

# The tests measured in step 2: every test file except those that add nothing here.
EXCLUDED_TESTS = {
    "tests/test_devices.py": "every op spec again on the fake device: the same lines, 2x the time",
    "tests/test_distributed_mpi.py": "needs MPI",
    "tests/test_docs_site.py": "builds the documentation site",
    "tests/test_benchmarks_smoke.py": "runs the benchmarks",
    "tests/test_layering.py": "reads the source, runs none of it",
    "tests/test_ops_doc.py": "reads docstrings",
    "tests/test_docstrings.py": "reads docstrings",
    "tests/test_docs.py": "runs the documentation's examples in subprocesses",
    "tests/test_import.py": "imports chainrule in subprocesses",
}

# Tests that read signatures instead of calling: they judge a default argument's mutant too.
SIGNATURE_TESTS = ["tests/test_torch_defaults.py"]

# Packages whose tests run library code in child processes (DataLoader workers, the command
# line), which the coverage run does not see: a mutant on a line no test runs in-process is
# judged by these test files instead.
SUBPROCESS_TESTS: dict[str, list[str]] = {
    "data": ["tests/test_data.py", "tests/test_dataloader_workers.py"],  # worker processes
    "apps": ["tests/test_apps.py", "tests/test_cli_resume.py"],
}

# Cosmic Ray's operators kept: the slips a person makes. Left out: binary operators swapped for
# bit shifts and other exotic ones (killed at once by a TypeError, they only pad the score),
# ExceptionReplacer and RemoveDecorator (mostly import-time crashes), VariableReplacer and
# VariableInserter (random names, not reproducible slips).
OPERATORS = {
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Div",
    "core/ReplaceBinaryOperator_Div_Mul",
    "core/ReplaceBinaryOperator_Mul_Add",
    "core/ReplaceBinaryOperator_Pow_Mul",
    "core/ReplaceBinaryOperator_FloorDiv_Div",
    "core/ReplaceBinaryOperator_Mod_FloorDiv",
    "core/ReplaceComparisonOperator_Lt_LtE",
    "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE",
    "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Eq_NotEq",
    "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceComparisonOperator_Is_IsNot",
    "core/ReplaceComparisonOperator_IsNot_Is",
    "core/ReplaceUnaryOperator_USub_UAdd",
    "core/ReplaceUnaryOperator_Delete_Not",
    "core/AddNot",
    "core/ReplaceTrueWithFalse",
    "core/ReplaceFalseWithTrue",
    "core/ReplaceAndWithOr",
    "core/ReplaceOrWithAnd",
    "core/ReplaceBreakWithContinue",
    "core/ReplaceContinueWithBreak",
    "core/NumberReplacer",
    "core/ZeroIterationForLoop",
}


def sample_size(population: int) -> int:
    """Mutants to draw from `population` so the score is known to +-MARGIN (95% confidence)."""
    n0 = Z * Z * PLANNED_SCORE * (1 - PLANNED_SCORE) / (MARGIN * MARGIN)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def wilson(killed: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of killed / n."""
    if n == 0:
        return 0.0, 1.0
    p = killed / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Mutant:
    package: str
    module: str  # "chainrule/ops/shape.py"
    operator: str
    occurrence: int
    line: int
    column: int
    definition: str | None
    tests: list[str] = field(default_factory=list)  # node ids, fastest first
    files: list[str] = field(default_factory=list)  # whole test files (subprocess fallback)
    how: str = ""  # how the tests were chosen

    @property
    def key(self) -> str:
        return f"{self.module}:{self.operator}:{self.occurrence}"


# ---------------------------------------------------------------- scratch copies and sampling


def _scratch_copy() -> Path:
    """A copy of what the tests need, so mutants never touch the working tree. Its bytecode is
    compiled with hash checks, so a mutated source is never run from a stale .pyc (the runs
    themselves write none)."""
    scratch = Path(tempfile.mkdtemp(prefix="chainrule-mutate-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("src", "tests", "benchmarks", "docs", "scripts", "examples"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "Makefile"):
        shutil.copy2(ROOT / name, scratch / name)
    compileall.compile_dir(
        scratch / "src",
        quiet=1,
        invalidation_mode=compileall.py_compile.PycInvalidationMode.CHECKED_HASH,
    )
    return scratch


def _modules(targets: list[str], src: Path) -> list[Path]:
    paths: list[Path] = []
    for target in targets:
        path = src / "chainrule" / target
        paths.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return paths


def _sample(package: str, scratch: Path, size: int | None) -> tuple[list[Mutant], int]:
    """A deterministic sample of the package's mutants (same code, same sample)."""
    src = scratch / "src"
    modules = _modules(PACKAGES[package], src)
    digest = hashlib.sha256(" ".join(sorted(OPERATORS)).encode())
    for path in modules:
        digest.update(path.relative_to(src).as_posix().encode() + path.read_bytes())
    cache = Path(tempfile.gettempdir()) / "chainrule-mutate-mutants" / f"{digest.hexdigest()}.json"
    if cache.exists():  # the same code: the same mutants (Cosmic Ray takes minutes to list them)
        mutants = [Mutant(**fields) for fields in json.loads(cache.read_text())]
    else:
        mutants = []
        with use_db(str(scratch / f"{package}.sqlite"), WorkDB.Mode.create) as db:
            cosmic_ray_init(modules, db, {})
            for item in db.work_items:
                (mutation,) = item.mutations
                if mutation.operator_name not in OPERATORS:
                    continue
                mutants.append(
                    Mutant(
                        package,
                        Path(mutation.module_path).relative_to(src).as_posix(),
                        mutation.operator_name,
                        mutation.occurrence,
                        mutation.start_pos[0],
                        mutation.start_pos[1],
                        getattr(mutation, "definition_name", None),
                    )
                )
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([asdict(m) for m in mutants]))
    mutants.sort(key=lambda m: (m.key, m.line, m.column))
    population = len(mutants)
    chosen = random.Random(f"{SEED}:{package}").sample(
        mutants, min(size or sample_size(population), population)
    )
    return sorted(chosen, key=lambda m: (m.module, m.line, m.column)), population


# ---------------------------------------------------------------- forked pytest runs


def _child(
    scratch: Path,
    log: Path,
    args: list[str],
    plugins: list,
    bytecode: bool = False,
    patch: tuple[str, str, str] | None = None,
) -> None:
    """In a forked child: run pytest in `scratch` and exit with its status (never returns).
    Only the coverage run (no mutant) writes bytecode: the tests' rewritten modules.

    With `patch` (module file, original source, mutated source), the mutant is applied in
    memory to the library and tests the parent imported (`_warm`); without it, whatever the
    parent imported of chainrule and the tests is forgotten and imported again from `scratch`,
    where the mutant may be on disk."""
    status = 3
    try:
        os.setpgid(0, 0)  # its own process group, so a timeout kills its children too
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        if patch is not None:
            _patch(*patch)
        else:
            for name in [n for n in sys.modules if n.split(".")[0] in ("chainrule", "tests")]:
                del sys.modules[name]
            sys.path[:] = [p for p in sys.path if p not in _WARM_PATHS]
        os.chdir(scratch)
        sys.dont_write_bytecode = not bytecode
        if not bytecode:
            os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        os.environ["PYTHONPATH"] = str(scratch / "src")
        sys.path[:0] = [str(scratch / "src"), str(scratch)]
        status = int(pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", *args], plugins))
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


_WARM_PATHS: list[str] = []  # what _warm put on sys.path
_FUNCTIONS: dict[str, list] = {}  # library file -> its function objects in the parent
_CACHES: dict[str, list] = {}  # library file -> functools caches of its functions


def _warm(scratch: Path, test_files: list[str]) -> None:
    """Import chainrule and the test modules once, in the parent, so that a run whose mutant
    can be applied in memory (`_patch`) starts with everything imported and only collects."""
    _WARM_PATHS[:] = [str(scratch / "src"), str(scratch)]
    sys.path[:0] = _WARM_PATHS
    os.environ["PYTHONPATH"] = str(scratch / "src")
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        import importlib

        importlib.import_module("chainrule")
        for file in test_files:
            try:
                importlib.import_module("tests." + Path(file).stem)
            except BaseException as error:  # noqa: BLE001 - a skip at import, say
                print(f"  not preloaded: {file} ({type(error).__name__})", flush=True)
    finally:
        os.chdir(cwd)
    prefix = str(scratch / "src") + os.sep
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename.startswith(prefix):
            _FUNCTIONS.setdefault(obj.__code__.co_filename, []).append(obj)
        elif isinstance(obj, functools._lru_cache_wrapper):
            code = getattr(getattr(obj, "__wrapped__", None), "__code__", None)
            if code is not None and code.co_filename.startswith(prefix):
                _CACHES.setdefault(code.co_filename, []).append(obj)


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    """Every code object nested in `code`, depth first, in the compiler's order."""
    found = []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.append(const)
            found.extend(_code_objects(const))
    return found


def _patch(file: str, original: str, mutated: str) -> None:
    """Give every function of `file` the code the mutated source compiles to (functions made
    later are made from their patched parents), and empty that file's functools caches."""
    before = _code_objects(compile(original, file, "exec", dont_inherit=True))
    after = _code_objects(compile(mutated, file, "exec", dont_inherit=True))
    if len(before) != len(after):
        raise RuntimeError("the mutant changes which functions exist: judge it from disk")
    new = {old: code for old, code in zip(before, after) if old != code}
    for function in _FUNCTIONS.get(file, []):
        if function.__code__ in new:
            function.__code__ = new[function.__code__]
    for cache in _CACHES.get(file, []):
        cache.cache_clear()


def _fork(
    scratch: Path,
    log: Path,
    args: list[str],
    plugins: list,
    patch: tuple[str, str, str] | None = None,
) -> int:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        _child(scratch, log, args, plugins, patch=patch)
    return pid


class _Select:
    """pytest plugin: keep only the wanted node ids, in the wanted order."""

    def __init__(self, wanted: list[str] | None):
        self.wanted = wanted

    def pytest_collection_modifyitems(self, config, items):
        if self.wanted is None:
            return
        order = {nodeid: i for i, nodeid in enumerate(self.wanted)}
        kept = sorted((i for i in items if i.nodeid in order), key=lambda i: order[i.nodeid])
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in order])
        items[:] = kept


class _Contexts:
    """pytest plugin for the coverage run: one coverage context per test, and its duration."""

    def __init__(self, cov, out: Path):
        self.cov, self.out = cov, out
        self.durations: dict[str, float] = {}
        self.failed: set[str] = set()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.cov.switch_context(item.nodeid)
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            self.durations[item.nodeid] = time.perf_counter() - started
            self.cov.switch_context("")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)

    def pytest_sessionfinish(self, session):
        self.cov.stop()
        self.cov.save()
        payload = {"durations": self.durations, "failed": sorted(self.failed)}
        self.out.write_text(json.dumps(payload))


def _coverage_child(scratch: Path, files: list[str], log: Path) -> None:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        import coverage

        include = [str(scratch / "src" / "chainrule" / "*")]
        cov = coverage.Coverage(data_file=str(scratch / "coverage.sqlite"), include=include)
        cov.start()
        _child(scratch, log, files, [_Contexts(cov, scratch / "durations.json")], bytecode=True)
    _, status = os.waitpid(pid, 0)
    if not (scratch / "durations.json").exists():
        raise SystemExit(f"the coverage run failed (status {status}): see {log}")


def _cache_path(scratch: Path, file: str) -> Path:
    """Where one test file's coverage is kept: it holds while the library's code, the test file
    and the tests' helpers (op_specs, ...) are unchanged."""
    code = hashlib.sha256()
    for path in sorted((scratch / "src").rglob("*.py")):
        code.update(path.relative_to(scratch).as_posix().encode() + path.read_bytes())
    test = hashlib.sha256((scratch / file).read_bytes())
    for path in sorted((scratch / "tests").rglob("*.py")):
        if not path.name.startswith("test_"):
            test.update(path.relative_to(scratch).as_posix().encode() + path.read_bytes())
    folder = Path(tempfile.gettempdir()) / "chainrule-mutate-coverage" / code.hexdigest()[:16]
    return folder / f"{Path(file).stem}-{test.hexdigest()[:16]}.json"


@dataclass
class Coverage:
    lines: dict[str, dict[int, set[str]]]  # module ("chainrule/...") -> line -> node ids
    durations: dict[str, float]
    failed: set[str]

    @classmethod
    def measure(cls, scratch: Path, only: list[str] | None = None) -> Coverage:
        import coverage

        files = only or sorted(
            p.relative_to(scratch).as_posix()
            for p in (scratch / "tests").glob("test_*.py")
            if p.relative_to(scratch).as_posix() not in EXCLUDED_TESTS
        )
        caches = {file: _cache_path(scratch, file) for file in files}
        lines: dict[str, dict[int, set[str]]] = {}
        durations: dict[str, float] = {}
        failed: set[str] = set()
        missing = [file for file, cache in caches.items() if not cache.exists()]
        if missing:
            started = time.monotonic()
            print(f"coverage run: {len(missing)} test files ...", flush=True)
            for stale in ("durations.json", "coverage.sqlite"):
                (scratch / stale).unlink(missing_ok=True)
            _coverage_child(scratch, missing, scratch / "coverage.log")
            payload = json.loads((scratch / "durations.json").read_text())
            data = coverage.CoverageData(basename=str(scratch / "coverage.sqlite"))
            data.read()
            # per test file: its node ids, and for each line the indices of those that run it
            # (-1: the line runs at import)
            per_file: dict[str, dict] = {
                file: {"tests": [], "lines": {}, "durations": {}, "failed": []} for file in missing
            }
            index: dict[str, int] = {}
            for nodeid, seconds in payload["durations"].items():
                entry = per_file[nodeid.split("::")[0]]
                index[nodeid] = len(entry["tests"])
                entry["tests"].append(nodeid)
                entry["durations"][nodeid] = seconds
            for nodeid in payload["failed"]:
                per_file[nodeid.split("::")[0]]["failed"].append(nodeid)
            for measured in data.measured_files():
                module = Path(measured).relative_to(scratch / "src").as_posix()
                for line, tests in data.contexts_by_lineno(measured).items():
                    for nodeid in tests:
                        if not nodeid:  # run at import: in every file's map
                            for entry in per_file.values():
                                entry["lines"].setdefault(module, {}).setdefault(line, [-1])
                        elif nodeid in index:
                            entry = per_file[nodeid.split("::")[0]]
                            by_line = entry["lines"].setdefault(module, {})
                            by_line.setdefault(line, []).append(index[nodeid])
            for file, entry in per_file.items():
                caches[file].parent.mkdir(parents=True, exist_ok=True)
                caches[file].write_text(json.dumps(entry, separators=(",", ":")))
            print(
                f"coverage run: {len(payload['durations'])} tests in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
        for cache in caches.values():
            entry = json.loads(cache.read_text())
            durations.update(entry["durations"])
            failed.update(entry["failed"])
            names = entry["tests"] + [""]  # index -1: run at import
            for module, by_line in entry["lines"].items():
                for line, tests in by_line.items():
                    lines.setdefault(module, {}).setdefault(int(line), set()).update(
                        names[i] for i in tests
                    )
        print(f"coverage: {len(durations)} tests, {len(failed)} failing (not used)", flush=True)
        for nodeid in sorted(failed):
            print(f"  failing without a mutant: {nodeid}", flush=True)
        return cls(lines, durations, failed)


def _statement(tree: ast.Module, line: int, column: int) -> tuple[ast.stmt, list[ast.stmt]]:
    """The innermost statement holding (line, column), and the statements enclosing it."""
    path: list[ast.stmt] = []
    body: list[ast.stmt] = tree.body
    while True:
        for node in body:
            start = (node.lineno, node.col_offset)
            for decorator in getattr(node, "decorator_list", []):
                start = min(start, (decorator.lineno, decorator.col_offset - 1))
            if start <= (line, column) <= (node.end_lineno, node.end_col_offset):
                path.append(node)
                inner = [
                    child
                    for name in ("body", "orelse", "finalbody", "handlers", "cases")
                    for child in getattr(node, name, [])
                ]
                for handler in inner:  # except and case clauses hold statements too
                    if not isinstance(handler, ast.stmt):
                        inner = inner + list(handler.body)
                body = [s for s in inner if isinstance(s, ast.stmt)]
                break
        else:
            return path[-1], path[:-1]


def _header_lines(node: ast.stmt) -> range:
    """The lines of a statement without its body (all of a simple statement)."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        return range(node.lineno, body[0].lineno)
    return range(node.lineno, node.end_lineno + 1)


def _choose_tests(mutant: Mutant, scratch: Path, cov: Coverage) -> None:
    """Which tests judge `mutant` (see the module docstring, step 3)."""
    by_line = cov.lines.get(mutant.module, {})
    tree = ast.parse((scratch / "src" / mutant.module).read_text())
    node, outer = _statement(tree, mutant.line, mutant.column)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    if isinstance(node, functions) and mutant.line < node.body[0].lineno:
        # a default argument or decorator: the tests that call the function
        lines = range(node.body[0].lineno, node.end_lineno + 1)
        mutant.how = "the tests that run its function, and those that read signatures"
    elif not any(isinstance(n, functions) for n in outer):
        lines = range(1, max(by_line, default=0) + 1)  # runs at import: the whole module
        mutant.how = "the tests that run its module (the statement runs at import)"
    else:
        lines = _header_lines(node)
        mutant.how = "the tests that run its statement"
    tests = set().union(*(by_line.get(line, set()) for line in lines)) - {""} - cov.failed
    if mutant.how.endswith("read signatures"):
        tests |= {t for t in cov.durations if t.split("::")[0] in SIGNATURE_TESTS} - cov.failed
    mutant.tests = sorted(tests, key=lambda t: (cov.durations.get(t, 0.0), t))
    if mutant.tests and mutant.package in SUBPROCESS_TESTS:
        # A line some test runs in-process may also run in the package's subprocesses, where
        # other tests check it: those judge it too, last (in memory they cannot see the
        # mutant, which only the run from disk gives the subprocesses).
        files = SUBPROCESS_TESTS[mutant.package]
        extra = {t for t in cov.durations if t.split("::")[0] in files} - cov.failed - tests
        mutant.tests += sorted(extra, key=lambda t: (cov.durations.get(t, 0.0), t))
    if not mutant.tests and mutant.package in SUBPROCESS_TESTS:
        mutant.files = SUBPROCESS_TESTS[mutant.package]
        mutant.how = "no test runs it in-process: the tests that run the package in subprocesses"
    elif not mutant.tests:
        mutant.how = "no test runs it"


# ---------------------------------------------------------------- the runs


@dataclass
class _Run:
    mutant: Mutant
    pid: int
    slot: int
    original: str
    deadline: float
    in_memory: bool
    started: float
    cpu: float = 0.0


def _judge(mutants: list[Mutant], scratches: list[Path], cov: Coverage, results: dict) -> None:
    """Run every mutant, `len(scratches)` at a time. A mutant inside a function is first run in
    memory with its first MAX_TESTS tests (quick: nothing to import); one that survives that,
    and every other mutant, is run from disk in a fresh interpreter state with all its tests,
    so that a survivor is never an artefact of the in-memory shortcut."""
    queue: list[tuple[Mutant, bool]] = [(m, _in_memory(m)) for m in mutants]
    running: dict[int, _Run] = {}
    cpu_before: dict[str, float] = {}  # CPU seconds of a survivor's in-memory run
    free = list(range(len(scratches)))
    while queue or running:
        while queue and free:
            mutant, in_memory = queue.pop(0)
            if not mutant.tests and not mutant.files:
                _record(mutant, "survived", 0, 0.0, results)
                continue
            slot = free.pop()
            scratch = scratches[slot]
            path = scratch / "src" / mutant.module
            original = path.read_text()
            operator = get_operator(mutant.operator)()
            mutated = mutate_code(original, operator, mutant.occurrence)
            if mutated is None:
                free.append(slot)
                continue
            tests = mutant.tests[:MAX_TESTS] if in_memory else mutant.tests
            files = sorted({t.split("::")[0] for t in tests} | set(mutant.files))
            wanted = None if mutant.files else tests
            seconds = sum(cov.durations.get(t, 1.0) for t in tests)
            if mutant.files:
                seconds = sum(d for t, d in cov.durations.items() if t.split("::")[0] in files)
            timeout = 30.0 + 3.0 * seconds
            log = scratch / "mutant.log"
            if in_memory:
                patch = (str(scratches[0] / "src" / mutant.module), original, mutated)
                pid = _fork(scratches[0], log, ["-x", *files], [_Select(wanted)], patch)
            else:
                path.write_text(mutated)
                pid = _fork(scratch, log, ["-x", *files], [_Select(wanted)])
            now = time.monotonic()
            running[pid] = _Run(mutant, pid, slot, original, now + timeout, in_memory, now)
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for run in running.values():
                if now > run.deadline:
                    os.killpg(run.pid, signal.SIGKILL)
            time.sleep(0.02)
            continue
        run = running.pop(pid)
        run.cpu += usage.ru_utime + usage.ru_stime
        scratch = scratches[run.slot]
        if not run.in_memory:
            (scratch / "src" / run.mutant.module).write_text(run.original)
        free.append(run.slot)
        code = os.waitstatus_to_exitcode(status)
        outcome = "survived" if code == 0 else "killed"  # a failure, a crash or the timeout
        if code in (3, 4, 5):  # internal error, usage error, nothing collected: not a verdict
            outcome = "survived" if run.in_memory else "incompetent"
            print((scratch / "mutant.log").read_text()[-2000:], flush=True)
        if outcome == "survived" and run.in_memory:
            queue.insert(0, (run.mutant, False))  # confirm it from disk
            cpu_before[run.mutant.key] = run.cpu
            continue
        seconds = time.monotonic() - run.started
        ran = len(run.mutant.tests) if not run.mutant.files else -1
        how = "in memory" if run.in_memory else "from disk"
        cpu = run.cpu + cpu_before.pop(run.mutant.key, 0.0)
        _record(run.mutant, outcome, ran, seconds, results, code == -signal.SIGKILL, how, cpu)


def _in_memory(mutant: Mutant) -> bool:
    """Whether the mutant can be applied by patching code objects: a statement inside a
    function, judged by tests that run in-process."""
    return mutant.how == "the tests that run its statement"


def _diff(mutant: Mutant) -> str:
    source = (ROOT / "src" / mutant.module).read_text()
    mutated = mutate_code(source, get_operator(mutant.operator)(), mutant.occurrence) or source
    before, after = source.splitlines(), mutated.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    return "\n".join(f"-{before[i]}\n+{after[i]}" for i in changed)


def _record(
    mutant: Mutant,
    outcome: str,
    tests: int,
    seconds: float,
    results: dict,
    timed_out: bool = False,
    how: str = "",
    cpu: float = 0.0,
) -> None:
    previous = results.get(mutant.key) or {}
    history = previous.get("history", []) + [outcome]
    results[mutant.key] = {
        "package": mutant.package,
        "line": mutant.line,
        "definition": mutant.definition,
        "diff": _diff(mutant),
        "outcome": outcome,
        "history": history,
        "judged_by": mutant.how,
        "tests": tests,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "run": how,
        **({"timed_out": True} if timed_out else {}),
    }
    print(
        f"  {outcome:9} {mutant.key} (line {mutant.line}, {tests} tests, {seconds:.1f} s)",
        flush=True,
    )
    _save(results)


def _run_package(
    package: str,
    scratches: list[Path],
    cov: Coverage,
    results: dict,
    survivors_only: bool,
    size: int | None,
) -> None:
    started = time.monotonic()
    mutants, population = _sample(package, scratches[0], size)
    keys = {m.key for m in mutants}
    for key in [k for k, v in results.items() if v.get("package") == package]:
        if key not in keys and not key.startswith("_"):
            del results[key]  # drawn from older code: no longer in the sample
    notes = toml.loads(NOTES.read_text()) if NOTES.exists() else {}
    wanted = [  # not yet run, or (--survivors) survived and not noted as equivalent
        m
        for m in mutants
        if (not survivors_only and m.key not in results)
        or (
            survivors_only
            and results.get(m.key, {}).get("outcome") == "survived"
            and not notes.get(m.key, {}).get("equivalent")
        )
    ]
    print(f"{package}: {len(mutants)} of {population} mutants, {len(wanted)} to run", flush=True)
    results.setdefault(f"_population:{package}", {})
    results[f"_population:{package}"].update(package=package, population=population)
    for mutant in wanted:
        _choose_tests(mutant, scratches[0], cov)
    _judge(wanted, scratches, cov, results)
    seconds = time.monotonic() - started
    meta = results[f"_population:{package}"]
    if not survivors_only:  # the time of the last run that ran new mutants
        meta["seconds"], meta["mutants_run"] = round(seconds), len(wanted)
    _save(results)
    print(f"{package}: done in {seconds:.0f} s", flush=True)


def _save(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def _load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


# ---------------------------------------------------------------- the report


def _write_report(results: dict) -> None:
    notes = toml.loads(NOTES.read_text()) if NOTES.exists() else {}
    run = results.get("_run", {})
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (scripts/mutate.py, Cosmic Ray; its docstring says how mutants",
        "are drawn and judged); do not edit by hand. The score is killed / (sampled -",
        "equivalent); `95% interval` is its Wilson score interval. Each mutant that survived a",
        "run is listed with its note from docs/mutation-notes.toml: the test that now kills it,",
        "or why it cannot be killed (an equivalent mutant: the same behaviour by another route).",
        "",
        f"The sample of each package: all its mutants when it has few, else enough for a score of "
        f"{PLANNED_SCORE:.0%} or more to be within +-{MARGIN:.0%} at 95% confidence "
        "(`sample_size`), drawn with a fixed seed. A mutant's id counts its operator's "
        "occurrences in the module, so an edit above it moves the id onto another mutant (the "
        "sample is drawn again from the edited code).",
        "",
    ]
    if run:
        lines += [
            f"Last full run: {run['date']}, {run['seconds'] / 60:.1f} minutes on {run['machine']} "
            f"({run['workers']} workers, `nice`; the coverage run {run['coverage_seconds']:.0f} s "
            "of it).",
            "",
        ]
    lines += [
        "`first run` is the score before the tests written for its survivors; `score` is the",
        "score now (the survivors rerun with `--survivors`).",
        "",
        "| package | mutants | planned sample | run | killed | survived | equivalent | first run "
        "| score | 95% interval | last run: mutants, minutes | CPU minutes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    survivors = []
    for package in PACKAGES:
        entries = {
            k: v for k, v in results.items() if not k.startswith("_") and v["package"] == package
        }
        if not entries:
            continue
        meta = results.get(f"_population:{package}", {})
        killed = sum(v["outcome"] == "killed" for v in entries.values())
        alive = {k: v for k, v in entries.items() if v["outcome"] == "survived"}
        equivalent = sum(notes.get(k, {}).get("equivalent", False) for k in alive)
        incompetent = sum(v["outcome"] == "incompetent" for v in entries.values())
        considered = len(entries) - equivalent - incompetent
        score = 100.0 * killed / considered if considered else 100.0
        first = sum(v.get("history", [v["outcome"]])[0] == "killed" for v in entries.values())
        first_score = 100.0 * first / considered if considered else 100.0
        low, high = wilson(killed, considered)
        population = meta.get("population")
        planned = sample_size(population) if population else "?"
        lines.append(
            f"| {package} | {population or '?'} | {planned} | {len(entries)} | {killed} | "
            f"{len(alive) - equivalent} | {equivalent} | {first_score:.0f}% | {score:.1f}% | "
            f"{100 * low:.0f}-{100 * high:.0f}% | "
            + (
                f"{meta['mutants_run']}, {meta['seconds'] / 60:.1f} | "
                if "mutants_run" in meta
                else "not recorded | "
            )
            + f"{sum(v.get('cpu_seconds', 0) for v in entries.values()) / 60:.1f} |"
        )
        survivors.extend(
            (k, v) for k, v in sorted(entries.items()) if "survived" in v.get("history", [])
        )
    if "_run_note" in notes:
        lines += ["", notes["_run_note"]["note"].strip()]
    lines += ["", "## Mutants that survived a run", ""]
    if not survivors:
        lines.append("None.")
    for key, entry in survivors:
        note = notes.get(key, {})
        status = entry["outcome"]
        if status == "survived" and note.get("equivalent"):
            status = "equivalent"
        lines += [
            f"### `{key}` ({entry['definition']}, line {entry['line']}): {status}",
            "",
            "```diff",
            entry["diff"] or "(no diff)",
            "```",
            "",
            f"Judged by {entry.get('judged_by', 'its package tests')}.",
            note.get("note", "No note yet."),
            "",
        ]
    REPORT.write_text("\n".join(lines).rstrip() + "\n")


def _preload() -> None:
    """Import what every run needs (never chainrule), so forked runs start warm."""
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import scipy.special  # noqa: F401
    import torch  # noqa: F401

    gc.freeze()  # what is loaded now is never collected: each run's gc.collect() stays quick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES))
    parser.add_argument("--survivors", action="store_true", help="rerun last survivors only")
    parser.add_argument("--sample", type=int, help="mutants per package (default: sample_size)")
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--tests", nargs="+", help="measure only these test files (a quick try)")
    args = parser.parse_args()
    results = {} if args.fresh else _load_results()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean the scratch copies up
    if not args.report_only:
        started = time.monotonic()
        _preload()
        scratches = [_scratch_copy()]
        try:
            cov = Coverage.measure(scratches[0], args.tests)
            for _ in range(args.workers - 1):  # with the tests' bytecode of the coverage run
                scratches.append(Path(tempfile.mkdtemp(prefix="chainrule-mutate-")))
                shutil.copytree(scratches[0], scratches[-1], dirs_exist_ok=True)
            _warm(scratches[0], sorted({t.split("::")[0] for t in cov.durations}))
            gc.freeze()  # the coverage map and the warm imports too: no run walks them
            coverage_seconds = time.monotonic() - started
            for package in args.package or list(PACKAGES):
                _run_package(package, scratches, cov, results, args.survivors, args.sample)
            if not args.package and not args.survivors:
                results["_run"] = {
                    "date": time.strftime("%Y-%m-%d", time.gmtime()),
                    "seconds": round(time.monotonic() - started),
                    "coverage_seconds": round(coverage_seconds),
                    "workers": args.workers,
                    "machine": f"{os.cpu_count()} cores",
                }
                _save(results)
        finally:
            for scratch in scratches:
                shutil.rmtree(scratch, ignore_errors=True)
    _write_report(results)
    print(f"report: {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
