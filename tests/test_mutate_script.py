"""How `make mutate` (scripts/mutate.py) sizes its samples and picks the tests that judge a
mutant. Needs the `mutate` extra (Cosmic Ray)."""

from __future__ import annotations

import ast
import importlib.util
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("cosmic_ray")

_PATH = Path(__file__).resolve().parent.parent / "scripts" / "mutate.py"
_SPEC = importlib.util.spec_from_file_location("chainrule_mutate_script", _PATH)
mutate = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = mutate  # dataclasses look their module up by name
_SPEC.loader.exec_module(mutate)


def _margin(n, population):
    """The half-width of the 95% interval of a score of PLANNED_SCORE measured on n mutants."""
    p = mutate.PLANNED_SCORE
    fpc = (population - n) / (population - 1)
    return 1.96 * math.sqrt(p * (1 - p) / n * fpc)


@pytest.mark.parametrize("population", [20, 91, 266, 663, 3764, 10877, 10**6])
def test_a_sample_knows_the_score_to_five_points_at_95_percent(population):
    n = mutate.sample_size(population)
    assert n <= population
    assert _margin(n, population) <= 0.05 + 1e-12
    assert n == population or _margin(n - 1, population) > 0.05  # and no larger than needed


def test_the_wilson_interval_holds_the_score_and_stays_in_zero_one():
    low, high = mutate.wilson(95, 100)
    assert low < 0.95 < high and 0.88 < low and high < 0.98
    assert mutate.wilson(10, 10)[1] == 1.0 and mutate.wilson(0, 10)[0] == 0.0


_SOURCE = """\
LIMIT = 3


def f(x, scale=2):
    if x > LIMIT and (
        x < 10
    ):
        return x * scale
    for i in range(3):
        x += i
    return x


class C:
    size = 4

    def g(self):
        return self.size + 1
"""


def _mutant(line, column):
    return mutate.Mutant("ops", "chainrule/m.py", "core/NumberReplacer", 0, line, column, None)


def _choose(tmp_path, line, column, by_line):
    (tmp_path / "src" / "chainrule").mkdir(parents=True)
    (tmp_path / "src" / "chainrule" / "m.py").write_text(_SOURCE)
    durations = {"t::fast": 0.1, "t::slow": 2.0, "t::other": 0.5}
    cov = mutate.Coverage({"chainrule/m.py": by_line}, durations, set())
    mutant = _mutant(line, column)
    mutate._choose_tests(mutant, tmp_path, cov)
    return mutant


def test_a_statement_is_judged_by_the_tests_that_run_any_of_its_lines(tmp_path):
    # the condition spans lines 5-7; only line 6 was traced for t::slow
    by_line = {5: {"t::fast"}, 6: {"t::slow"}, 8: {"t::other"}}
    mutant = _choose(tmp_path, 6, 12, by_line)
    assert mutant.tests == ["t::fast", "t::slow"]  # the fastest first, not the body's test


def test_a_default_argument_is_judged_by_the_tests_that_call_its_function(tmp_path):
    by_line = {4: {""}, 5: {"t::slow"}, 8: {"t::fast"}, 18: {"t::other"}}
    mutant = _choose(tmp_path, 4, 15, by_line)
    assert mutant.tests == ["t::fast", "t::slow"]


def test_a_constant_is_judged_by_the_tests_that_run_its_module(tmp_path):
    by_line = {1: {""}, 15: {""}, 5: {"t::slow"}, 18: {"t::other"}}
    assert _choose(tmp_path, 1, 8, by_line).tests == ["t::other", "t::slow"]


def test_a_line_no_test_runs_survives_without_a_run(tmp_path):
    mutant = _choose(tmp_path, 10, 13, {1: {""}, 5: {"t::fast"}})
    assert mutant.tests == [] and mutant.files == [] and "no test" in mutant.how


def test_the_innermost_statement_holds_the_mutation():
    tree = ast.parse(_SOURCE)
    node, outer = mutate._statement(tree, 10, 13)
    assert isinstance(node, ast.AugAssign) and isinstance(outer[-1], ast.For)
    node, _ = mutate._statement(tree, 6, 12)
    assert isinstance(node, ast.If) and list(mutate._header_lines(node)) == [5, 6, 7]
