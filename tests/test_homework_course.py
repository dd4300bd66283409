"""Homework in the book: course.yml's assignments, the Homework page, publishing, and what is never built."""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from tools import coursegen
from tools.coursegen import CourseDataError, validate
from tools.homework import publish


@pytest.fixture(scope="module")
def raw(root):
    return yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))


def test_the_assignments_and_their_due_weeks(raw):
    course = validate(raw)
    assignments = course["_parsed"]["assignments"]
    assert [(a["id"], a["source"], a["due_week"]) for a in assignments] == [
        ("hw1", "homework/hw1-gradients-sgd.md", 2),
        ("hw2", "homework/hw2-logistic-regression.md", 3),
        ("hw3", "homework/hw3-softmax-mlp.md", 4),
        ("hw4", "homework/hw4-conv-backprop-init.md", 7),
        ("hw5", "homework/hw5-optimizers-batchnorm-architectures.md", 10),
        ("hw6", "homework/hw6-flows.md", 12),
    ]
    assert str(assignments[0]["due_from"]) == "2022-09-05" and str(assignments[0]["due_to"]) == "2022-09-11"


def test_assignments_are_optional(raw):
    bare = {k: v for k, v in raw.items() if k != "assignments"}
    assert validate(bare)["_parsed"]["assignments"] == []
    assert "Assignments are announced on eTL" in coursegen.render_pages(validate(bare))["homework.md"]


BAD = [
    ("not a list", None, "x", "assignments"),
    ("not a mapping", 0, "hw1", "assignments[0]"),
    ("id", 0, {"id": "HW 1"}, "assignments[0].id"),
    ("duplicate id", 1, {"id": "hw1"}, "assignments[1].id"),
    ("missing title", 0, {"title": KeyError}, "assignments[0].title"),
    ("source outside homework/", 1, {"source": "lectures/hw2.md"}, "assignments[1].source"),
    ("source not .md", 2, {"source": "homework/hw3.ipynb"}, "assignments[2].source"),
    ("due week too late", 0, {"due_week": 16}, "assignments[0].due_week"),
    ("due week not a number", 0, {"due_week": "two"}, "assignments[0].due_week"),
    ("unknown field", 0, {"due": "2022-09-09"}, "assignments[0].due"),
]


@pytest.mark.parametrize(("case", "index", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_malformed_assignments_name_the_bad_field(raw, case, index, change, field):
    bad = copy.deepcopy(raw)
    if index is None:
        bad["assignments"] = change
    elif not isinstance(change, dict):
        bad["assignments"][index] = change
    else:
        for key, value in change.items():
            if value is KeyError:
                del bad["assignments"][index][key]
            else:
                bad["assignments"][index][key] = value
    with pytest.raises(CourseDataError) as err:
        validate(bad)
    assert err.value.field == field and f"'{field}'" in str(err.value)


def test_homework_page_lists_assignments_with_downloads_and_due_weeks(raw):
    page = coursegen.render_pages(validate(raw))["homework.md"]
    for line in ("| 1 | Gradients and stochastic gradient descent | Week 2 (Mon 05 Sep – Sun 11 Sep) | "
                 "{download}`hw1.ipynb <homework/hw1.ipynb>` |",
                 "{download}`hw2.ipynb <homework/hw2.ipynb>`", "{download}`hw3.ipynb <homework/hw3.ipynb>`",
                 "Submit completed assignments through eTL."):
        assert line in page
    assert "solution" not in page.lower() and "colab.research" not in page


def test_toc_has_a_homework_part_and_no_homework_source(raw):
    toc = yaml.safe_load(coursegen.render_toc(validate(raw)))
    parts = {part["caption"]: [c["file"] for c in part["chapters"]] for part in toc["parts"]}
    assert parts["Homework"] == ["course/homework"]
    assert not any(f.startswith("homework/") for files in parts.values() for f in files)


def test_the_sources_are_never_built(root):
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    assert config["only_build_toc_files"] is True
    assert "homework" in config["exclude_patterns"]
    patterns = config["sphinx"]["config"].get("include_patterns", [])
    assert not any(p.startswith("homework") for p in patterns)


def make_root(root, tmp_path):
    """A copy of the repository's course.yml and homework sources, to publish from."""
    shutil.copy(root / "course.yml", tmp_path / "course.yml")
    shutil.copytree(root / "homework", tmp_path / "homework")
    return tmp_path


def test_publish_writes_the_student_notebooks_and_removes_stale_ones(root, tmp_path):
    site_root = make_root(root, tmp_path)
    stale = publish.published_dir(site_root) / "hw9.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    paths, written = publish.publish(site_root)
    assert sorted(p.name for p in paths) == [f"hw{i}.ipynb" for i in range(1, 7)] and written == paths
    assert not stale.exists()
    assert publish.publish(site_root)[1] == []  # unchanged: nothing rewritten
    assert "BEGIN SOLUTION" not in (publish.published_dir(site_root) / "hw1.ipynb").read_text()


def test_a_missing_source_names_the_field(root, tmp_path):
    site_root = make_root(root, tmp_path)
    (site_root / "homework" / "hw2-logistic-regression.md").unlink()
    with pytest.raises(CourseDataError) as err:
        publish.publish(site_root)
    assert err.value.field == "assignments[1].source"


def test_a_broken_source_stops_the_build_naming_file_and_line(root, tmp_path, capsys):
    site_root = make_root(root, tmp_path)
    source = site_root / "homework" / "hw1-gradients-sgd.md"
    text = source.read_text().replace("    # END SOLUTION\n", "    # END SOLUTON\n", 1)
    source.write_text(text)
    line = text.split("\n").index("    # END SOLUTON") + 1
    with pytest.raises(SystemExit) as exit_info:
        publish.build_step(site_root)
    assert exit_info.value.code == 2
    assert f"{source}:{line}: " in capsys.readouterr().err
    assert not publish.published_dir(site_root).exists()
