"""The homework authoring format: a closed vocabulary, and errors that name the file and line."""

from __future__ import annotations

import pytest

from tools.homework.derive import derive
from tools.homework.source import HomeworkError, near_marker, read_assignment

FRONT = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# A tiny assignment
"""
TEST = """
```{code-cell} ipython3
:tags: [hidden-test]

# TEST q1 (1 point)
assert square(2) == 4
```
"""
GOOD = """
```{code-cell} ipython3
def square(x):
    # BEGIN SOLUTION
    return x * x
    # END SOLUTION
```
"""


def write(tmp_path, body: str, front: str = FRONT, tests: str = TEST):
    path = tmp_path / "hw-tiny.md"
    path.write_text(front + body + tests, encoding="utf-8")
    return path


def line_of(path, needle: str) -> int:
    """The 1-based line of the source on which `needle` first appears."""
    return next(i for i, line in enumerate(path.read_text().split("\n"), start=1) if needle in line)


def test_a_good_source_is_read_with_its_regions_and_tests(tmp_path):
    path = write(tmp_path, GOOD)
    assignment = read_assignment(path)
    code = [c for c in assignment.cells if c.kind == "code"]
    assert code[0].regions and code[0].line == line_of(path, "def square")
    assert code[1].test.question == "q1" and code[1].test.points == 1 and code[1].test.visibility == "hidden"
    assert assignment.title == "A tiny assignment"


# (body, the text on the line the error must name, a phrase of the message)
BAD = {
    "misspelled": (GOOD.replace("# END SOLUTION", "# END SOLUTON"), "END SOLUTON", "looks like a solution marker"),
    "lower case": (GOOD.replace("# BEGIN SOLUTION", "# begin solution"), "begin solution", "upper case"),
    "no space": (GOOD.replace("# BEGIN SOLUTION", "#BEGIN SOLUTION"), "#BEGIN", "looks like"),
    "trailing words": (GOOD.replace("# END SOLUTION", "# END SOLUTION q1"), "END SOLUTION q1", "looks like"),
    "html near miss": ("\nText.\n<!-- BEGIN SOLUTION-->\nsecret\n<!-- END SOLUTION -->\n" + GOOD,
                       "SOLUTION-->", "looks like"),
    "html reversed": ("\nText.\n<!-- SOLUTION END -->\n" + GOOD, "SOLUTION END", "looks like"),
    "unclosed": (GOOD.replace("    # END SOLUTION\n", ""), "BEGIN SOLUTION", "never closed"),
    "end without begin": (GOOD.replace("    # BEGIN SOLUTION\n", ""), "END SOLUTION", "without a"),
    "nested": (GOOD.replace("    return x * x\n", "    # BEGIN SOLUTION \n    return x * x\n"),
               "# BEGIN SOLUTION ", "do not nest"),
    "empty region": (GOOD.replace("    return x * x\n", ""), "END SOLUTION", "empty solution region"),
    "marker in a string literal": ('\n```{code-cell} ipython3\nnote = """\n# BEGIN SOLUTION\nsecret = 1\n'
                                   '# END SOLUTION\n"""\n```\n' + GOOD, "# BEGIN SOLUTION", "string literal"),
    "marker text in a one-line string": ('\n```{code-cell} ipython3\nprint("# BEGIN SOLUTION")\n```\n' + GOOD,
                                         "print(", "looks like"),
    "code marker in markdown": ("\nText.\n# BEGIN SOLUTION\nsecret\n# END SOLUTION\n" + GOOD,
                                "# BEGIN SOLUTION", "marker for code"),
    "html marker in code": (GOOD.replace("    # BEGIN SOLUTION", "    # <!-- BEGIN SOLUTION -->"),
                            "<!-- BEGIN", "looks like"),
    "unknown tag": ("\n```{code-cell} ipython3\n:tags: [hidden_test]\n\nx = 1\n```\n" + GOOD, "x = 1",
                    "unknown tag 'hidden_test' (did you mean 'hidden-test'?)"),
    "two tags": ("\n```{code-cell} ipython3\n:tags: [solution, public-test]\n\nx = 1\n```\n" + GOOD, "x = 1",
                 "at most one tag"),
    "unknown option": ("\n```{code-cell} ipython3\n---\nmystnb: {}\n---\nx = 1\n```\n" + GOOD, "x = 1",
                       "unknown cell option"),
    "tagged markdown test": ('\n+++ {"tags": ["hidden-test"]}\n\nSecret text.\n\n+++\n' + GOOD, "Secret text",
                             "only code cells"),
    "markers in a solution cell": ("\n```{code-cell} ipython3\n:tags: [solution]\n\n# BEGIN SOLUTION\nx = 1\n"
                                   "# END SOLUTION\n```\n" + GOOD, "# BEGIN SOLUTION", "takes no markers"),
    "untagged test": (GOOD + "\n```{code-cell} ipython3\n# TEST q2 (1 point)\nassert True\n```\n",
                      "# TEST q2", "not tagged"),
    "not valid Python": ("\n```{code-cell} ipython3\nx = (1,\n```\n" + GOOD, "x = (1,", "not valid Python"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_broken_source_fails_naming_file_and_line(tmp_path, case):
    body, needle, phrase = BAD[case]
    path = write(tmp_path, body)
    with pytest.raises(HomeworkError) as err:
        read_assignment(path)
    assert str(err.value).startswith(f"{path}:{line_of(path, needle)}: "), str(err.value)
    assert phrase in str(err.value)


HEADERS = {
    "no header": "assert True",
    "wrong unit": "# TEST q1 (2 pts)",
    "lower case": "# test q1 (2 points)",
    "no question": "# TEST (2 points)",
    "zero points for a hidden test": "# TEST q1 (0 points)",
}


@pytest.mark.parametrize("header", HEADERS.values(), ids=list(HEADERS))
def test_a_bad_test_header_fails_on_its_line(tmp_path, header):
    tests = f"\n```{{code-cell}} ipython3\n:tags: [hidden-test]\n\n{header}\nassert square(2) == 4\n```\n"
    path = write(tmp_path, GOOD, tests=tests)
    with pytest.raises(HomeworkError) as err:
        read_assignment(path)
    assert str(err.value).startswith(f"{path}:{line_of(path, header)}: ")


def test_a_source_without_a_graded_test_is_refused(tmp_path):
    with pytest.raises(HomeworkError, match="no graded test"):
        read_assignment(write(tmp_path, GOOD, tests=""))


def test_unknown_front_matter_and_a_missing_front_matter_are_refused(tmp_path):
    with pytest.raises(HomeworkError, match="unknown front-matter"):
        read_assignment(write(tmp_path, GOOD, front=FRONT.replace("kernelspec", "colab: {}\nkernelspec")))
    with pytest.raises(HomeworkError, match=":1: must start with the jupytext front matter"):
        read_assignment(write(tmp_path, GOOD, front="# No front matter\n"))


def test_a_region_that_breaks_the_student_code_is_reported(tmp_path):
    # A stub is a statement: a region inside an expression leaves the student an invalid cell.
    body = ("\n```{code-cell} ipython3\ntotal = sum([\n    1,\n    # BEGIN SOLUTION\n    2,\n    # END SOLUTION\n"
            "])\n```\n" + GOOD)
    path = write(tmp_path, body)
    with pytest.raises(HomeworkError, match="student version of this cell is not valid Python") as err:
        derive(path, tmp_path / "out")
    assert str(err.value).startswith(f"{path}:{line_of(path, 'total = sum')}: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("line", ["# the solution ends here", "The steady state solution of the ODE",
                                  "# test the function on a small input", "We begin with the solution of (1).",
                                  "**Solution.**", "x = solve(A, b)  # solution of Ax = b"])
def test_ordinary_text_is_not_taken_for_a_marker(line):
    assert not near_marker(line)


@pytest.mark.parametrize("line", ["# BEGIN SOLUTON", "# begin solution", "#BEGINSOLUTION", "# END-SOLUTION",
                                  "<!-- END SOLUTION ->", "<!-- solution begin -->", "# BEGIN SOLUTIONS"])
def test_near_misses_are_taken_for_markers(line):
    assert near_marker(line)


# ---------------------------------------------------------------- what a test may use (tests run in the grader)


GIVEN = """
```{code-cell} ipython3
import math


def helper(x):
    return x + 1


data = [1, 2, 3]
```
"""


def test_a_test_sees_the_prelude_its_own_names_and_the_answers(tmp_path):
    tests = TEST.replace("assert square(2) == 4", "values = [helper(v) for v in range(3)]\n"
                         "assert square(math.floor(2.5)) == 4 and values")
    assignment = read_assignment(write(tmp_path, GIVEN + GOOD, tests=tests))
    assert assignment.uses == (("square",),)
    assert "import math" in assignment.prelude and "def helper" in assignment.prelude
    assert "data = " not in assignment.prelude


@pytest.mark.parametrize(("use", "phrase"), [("data[0]", "which a given cell computes"),
                                             ("undefined_thing", "neither the test")])
def test_a_test_that_uses_another_name_is_refused(tmp_path, use, phrase):
    path = write(tmp_path, GIVEN + GOOD, tests=TEST.replace("square(2) == 4", f"square(2) == 4 and {use}"))
    with pytest.raises(HomeworkError) as err:
        read_assignment(path)
    assert phrase in err.value.problem and err.value.line == line_of(path, use)
