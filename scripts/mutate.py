"""Mutation testing of chainrule with Cosmic Ray, scoped per package (`make mutate`; issue 17).

For each package: Cosmic Ray lists every mutant of its modules (restricted to the operators in
OPERATORS: the small, realistic slips of arithmetic, comparison, logic, constants and loops),
this script draws a deterministic sample of them (sorted by place, then `random.Random(SEED)`),
and Cosmic Ray applies each in turn to a scratch copy of the repository and runs the package's
own test files (TESTS) with `pytest -x`. A mutant is killed when the tests fail or time out.

Results go to docs/mutation-results.json (one entry per sampled mutant, kept between runs, so a
package can be rerun alone) and the report to docs/mutation.md: the score per package and every
mutant that survived, with its note from docs/mutation-notes.toml (the test that now kills it, or
why it is equivalent). `--survivors` reruns only the mutants that survived last time, which is
how a new test is confirmed to kill them.

    python scripts/mutate.py                      # every package (about 25 minutes, 2 cores)
    python scripts/mutate.py --package optim      # one package
    python scripts/mutate.py --survivors          # only last run's survivors
    python scripts/mutate.py --report-only        # rewrite docs/mutation.md from the results
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import toml  # Cosmic Ray's own dependency
from cosmic_ray.commands.init import init as cosmic_ray_init
from cosmic_ray.mutating import mutate_and_test
from cosmic_ray.testing import run_tests
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "mutation-results.json"
NOTES = ROOT / "docs" / "mutation-notes.toml"
REPORT = ROOT / "docs" / "mutation.md"
SEED = 17

# package -> (modules or folders under src/chainrule, test files that specify it, sample size).
# The sample sizes keep the whole run under 30 minutes on a 2-core machine.
PACKAGES: dict[str, tuple[list[str], list[str], int]] = {
    "ops": (
        ["ops"],
        [
            "tests/test_ops.py",
            "tests/test_batch_rules.py",
            "tests/test_elementwise_semantics.py",
            "tests/test_reduction_semantics.py",
            "tests/test_indexing_semantics.py",
            "tests/test_tensor.py",
        ],
        10,
    ),
    "autograd": (
        ["autograd"],
        [
            "tests/test_engine.py",
            "tests/test_function.py",
            "tests/test_forward_ad.py",
            "tests/test_grad_mode.py",
            "tests/test_autograd_functional.py",
            "tests/test_gradcheck.py",
            "tests/test_anomaly.py",
            "tests/test_saved_hooks.py",
            "tests/test_grad_ownership.py",
            "tests/test_mutation_kills.py",
        ],
        8,
    ),
    "func": (
        ["func"],
        [
            "tests/test_func.py",
            "tests/test_vmap.py",
            "tests/test_batch_rules.py",
            "tests/test_autograd_functional.py",
            "tests/test_mutation_kills.py",
        ],
        6,
    ),
    "nn": (
        ["nn"],
        [
            "tests/test_nn_modules.py",
            "tests/test_functional.py",
            "tests/test_nn_init.py",
            "tests/test_mutation_kills.py",
        ],
        5,
    ),
    "optim": (
        ["optim"],
        ["tests/test_optim.py", "tests/test_lr_scheduler.py", "tests/test_mutation_kills.py"],
        8,
    ),
    "data": (["data"], ["tests/test_data.py", "tests/test_mutation_kills.py"], 6),
    "serialization": (
        ["serialization.py"],
        ["tests/test_serialization.py", "tests/test_mutation_kills.py"],
        5,
    ),
    "apps": (
        ["apps"],
        [
            "tests/test_mutation_kills.py",
            "tests/test_apps.py",
            "tests/test_cli_inputs.py",
            "tests/test_cli_resume.py",
        ],
        3,
    ),
}

# Finer maps where a package's tests are slow: module prefix -> test files (longest prefix wins).
# "specs:FAMILY" stands for test_ops.py's cases of the specs in tests/op_specs/FAMILY.py.
_OPS_COMMON = [
    "specs:edges",
    "specs:coverage",
    "tests/test_mutation_kills.py",
    "tests/test_batch_rules.py",
]
MODULE_TESTS: dict[str, list[str]] = {
    "chainrule/ops/elementwise.py": [
        "specs:elementwise",
        "tests/test_elementwise_semantics.py",
        *_OPS_COMMON,
    ],
    "chainrule/ops/special.py": ["specs:special", *_OPS_COMMON],
    "chainrule/ops/reduction.py": [
        "specs:reduction",
        "tests/test_reduction_semantics.py",
        *_OPS_COMMON,
    ],
    "chainrule/ops/indexing.py": [
        "specs:indexing",
        "tests/test_indexing_semantics.py",
        *_OPS_COMMON,
    ],
    "chainrule/ops/embedding.py": ["specs:nn_ops", "specs:indexing", *_OPS_COMMON],
    "chainrule/ops/linalg.py": ["specs:linalg", "tests/test_linalg.py", *_OPS_COMMON],
    "chainrule/ops/decompositions.py": [
        "specs:linalg",
        "tests/test_decompositions.py",
        *_OPS_COMMON,
    ],
    **{
        f"chainrule/ops/{name}.py": ["specs:nn_ops", "tests/test_functional.py", *_OPS_COMMON]
        for name in (
            "activation",
            "convolution",
            "dropout",
            "interpolation",
            "linear",
            "losses",
            "nn_common",
            "normalization",
            "pooling",
        )
    },
    **{
        f"chainrule/ops/{name}.py": ["specs:shape", "tests/test_tensor.py", *_OPS_COMMON]
        for name in ("shape", "conversion", "creation", "arguments", "tensor_methods")
    },
    "chainrule/nn/modules/": ["tests/test_nn_modules.py"],
    "chainrule/nn/utils/": ["tests/test_nn_modules.py"],
    "chainrule/nn/init.py": ["tests/test_nn_init.py", "tests/test_nn_modules.py"],
    "chainrule/nn/functional.py": [
        "tests/test_functional.py",
        "tests/test_nn_modules.py",
        "tests/test_mutation_kills.py",
    ],
    "chainrule/apps/cli.py": ["tests/test_cli_inputs.py", "tests/test_apps.py"],
    "chainrule/apps/training.py": ["tests/test_cli_resume.py", "tests/test_apps.py"],
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


def _modules(targets: list[str], src: Path) -> list[Path]:
    paths: list[Path] = []
    for target in targets:
        path = src / "chainrule" / target
        paths.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return paths


def _scratch_copy() -> Path:
    """A copy of what the tests need, so mutants never touch the working tree."""
    scratch = Path(tempfile.mkdtemp(prefix="chainrule-mutate-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("src", "tests", "benchmarks", "docs", "scripts"):
        shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "Makefile"):
        shutil.copy2(ROOT / name, scratch / name)
    return scratch


def _mutant_id(item, scratch: Path) -> str:
    (mutation,) = item.mutations
    module = Path(mutation.module_path).relative_to(scratch / "src").as_posix()
    return f"{module}:{mutation.operator_name}:{mutation.occurrence}"


def _sample(package: str, scratch: Path, size: int) -> list:
    """A deterministic sample of the package's mutants (same code, same sample)."""
    targets = PACKAGES[package][0]
    with use_db(str(scratch / f"{package}.sqlite"), WorkDB.Mode.create) as db:
        cosmic_ray_init(_modules(targets, scratch / "src"), db, {})
        items = [i for i in db.work_items if i.mutations[0].operator_name in OPERATORS]
    items.sort(key=lambda i: (_mutant_id(i, scratch), i.mutations[0].start_pos))
    chosen = random.Random(f"{SEED}:{package}").sample(items, min(size, len(items)))
    return sorted(chosen, key=lambda i: _mutant_id(i, scratch)), len(items)


def _spec_cases(family: str) -> list[str]:
    """test_ops.py's node ids for the specs of one tests/op_specs family (names unique among
    all specs only: pytest numbers repeated ids)."""
    every = [str(spec) for spec in importlib.import_module("tests.op_specs").SPECS]
    names = [str(spec) for spec in importlib.import_module(f"tests.op_specs.{family}").SPECS]
    test = "tests/test_ops.py::test_op_matches_torch_and_finite_differences"
    return [f"{test}[{name}]" for name in names if every.count(name) == 1]


def _test_command(package: str, module: str | None = None) -> str:
    """pytest on the tests of `module` (MODULE_TESTS) or else of `package`."""
    prefixes = [p for p in MODULE_TESTS if module is not None and module.startswith(p)]
    selected = MODULE_TESTS[max(prefixes, key=len)] if prefixes else PACKAGES[package][1]
    tests: list[str] = []
    for test in selected:
        if test.startswith("specs:"):
            tests.extend(_spec_cases(test.removeprefix("specs:")))
        elif Path(test).exists():  # in the scratch copy (the cwd)
            tests.append(test)
    python = sys.executable
    return f"{python} -m pytest -x -q -p no:cacheprovider --no-header " + " ".join(
        shlex.quote(t) for t in tests
    )


def _run_package(
    package: str, scratch: Path, results: dict, survivors_only: bool, size: int | None
) -> None:
    items, population = _sample(package, scratch, size or PACKAGES[package][2])
    started = time.monotonic()
    baselines: dict[str, float] = {}  # test command -> seconds without a mutant
    print(f"{package}: {len(items)} of {population} mutants", flush=True)
    for item in items:
        key = _mutant_id(item, scratch)
        previous = results.get(key)
        wanted = previous is None or (survivors_only and previous["outcome"] == "survived")
        if not wanted:
            continue  # already tested (results are kept between runs; --fresh starts over)
        (mutation,) = item.mutations
        command = _test_command(package, key.split(":")[0])
        if command not in baselines:
            before = time.monotonic()
            outcome, output = run_tests(command, timeout=1200)
            if outcome != TestOutcome.SURVIVED:
                raise SystemExit(f"{key}: the tests fail without a mutant:\n{output[-3000:]}")
            baselines[command] = time.monotonic() - before
        timeout = max(60.0, 3 * baselines[command])
        result = mutate_and_test(item.mutations, command, timeout)
        if result.worker_outcome == WorkerOutcome.NO_TEST:
            continue
        outcome = "killed" if result.is_killed else "survived"
        if result.worker_outcome == WorkerOutcome.EXCEPTION:
            outcome = "incompetent"
        history = (previous or {}).get("history", []) + [outcome]
        results[key] = {
            "package": package,
            "line": mutation.start_pos[0],
            "definition": mutation.definition_name,
            "diff": "\n".join(
                line
                for line in (result.diff or "").splitlines()
                if line[:1] in "+-" and line[:3] not in ("+++", "---")
            ),
            "outcome": outcome,
            "history": history,
        }
        print(f"  {outcome:9} {key} (line {mutation.start_pos[0]})", flush=True)
        _save(results)
    results[f"_population:{package}"] = {"package": package, "population": population}
    _save(results)
    print(f"{package}: done in {time.monotonic() - started:.0f} s", flush=True)


def _save(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def _load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def _write_report(results: dict) -> None:
    notes = toml.loads(NOTES.read_text()) if NOTES.exists() else {}
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (scripts/mutate.py, Cosmic Ray); do not edit by hand. A sample",
        "of each package's mutants is applied one at a time and the package's tests run; the",
        "score is killed / (sampled - equivalent). Each mutant that ever survived is listed with",
        "its note from docs/mutation-notes.toml: the test that now kills it, or why it cannot be",
        "killed (an equivalent mutant: the same behaviour by another route).",
        "",
        "`first run` is the score before the tests written for its survivors; `score` is the",
        "score now (the survivors rerun with `--survivors`). The samples are small (PACKAGES",
        "in scripts/mutate.py: 3 to 10 mutants a package, to fit about 30 minutes on a shared",
        "2-core machine), so a score says these slips are caught, not that 95% of a package's",
        "mutants would be: `--sample N` draws more (in a large package, a superset).",
        "A mutant's id counts its operator's occurrences in the module, so an edit above it can",
        "move the id onto another mutant (the sample is drawn again from the edited code).",
        "",
        "| package | mutants | sampled | killed | survived | equivalent | first run | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    survivors = []
    for package in PACKAGES:
        entries = {
            k: v for k, v in results.items() if not k.startswith("_") and v["package"] == package
        }
        if not entries:
            continue
        population = results.get(f"_population:{package}", {}).get("population", "?")
        killed = sum(v["outcome"] == "killed" for v in entries.values())
        alive = {k: v for k, v in entries.items() if v["outcome"] == "survived"}
        equivalent = sum(notes.get(k, {}).get("equivalent", False) for k in alive)
        incompetent = sum(v["outcome"] == "incompetent" for v in entries.values())
        considered = len(entries) - equivalent - incompetent  # a mutant that never ran: out
        score = 100.0 * killed / considered if considered else 100.0
        first = sum(v.get("history", [v["outcome"]])[0] == "killed" for v in entries.values())
        first_score = 100.0 * first / considered if considered else 100.0
        lines.append(
            f"| {package} | {population} | {len(entries)} | {killed} | "
            f"{len(alive) - equivalent} | {equivalent} | {first_score:.0f}% | {score:.0f}% |"
        )
        survivors.extend(
            (k, v) for k, v in sorted(entries.items()) if "survived" in v.get("history", [])
        )
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
            note.get("note", "No note yet."),
            "",
        ]
    REPORT.write_text("\n".join(lines).rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES))
    parser.add_argument("--survivors", action="store_true", help="rerun last survivors only")
    parser.add_argument("--sample", type=int, help="mutants per package (default: PACKAGES)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    results = {} if args.fresh else _load_results()
    if not args.report_only:
        scratch = _scratch_copy()
        os.chdir(scratch)
        os.environ["PYTHONPATH"] = str(scratch / "src")
        sys.path[:0] = [str(scratch / "src"), str(scratch)]
        try:
            for package in args.package or list(PACKAGES):
                _run_package(package, scratch, results, args.survivors, args.sample)
        finally:
            os.chdir(ROOT)
            shutil.rmtree(scratch, ignore_errors=True)
    _write_report(results)
    print(f"report: {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
