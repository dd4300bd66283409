"""The course pages, calendar and table of contents generated from course.yml."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys

import pytest
import yaml

from tools import coursegen
from tools.coursegen import CourseDataError, build_schedule, load_course, validate

D = dt.date


@pytest.fixture(scope="module")
def raw(root):
    return yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def course(root):
    return load_course(root / "course.yml")


@pytest.fixture(scope="module")
def schedule(course):
    return build_schedule(course)


def test_term_starts_on_thursday_1_september_2022(schedule):
    first = schedule[0]
    assert (first.date, first.kind, first.number) == (D(2022, 9, 1), "lecture", 1)
    assert first.date.strftime("%A") == "Thursday"
    assert (first.start, first.end) == (dt.time(17, 0), dt.time(18, 15))


def test_regular_lectures_are_tuesdays_and_thursdays_in_43_1_201(schedule):
    regular = [s for s in schedule if s.kind != "makeup"]
    assert {s.date.strftime("%A") for s in regular} == {"Tuesday", "Thursday"}
    assert all(s.room == "43-1-201 and Zoom" for s in regular if s.kind == "lecture")
    assert all((s.start, s.end) == (dt.time(17, 0), dt.time(18, 15)) for s in regular)


def test_cancellations_are_marked_and_not_numbered(schedule):
    cancelled = [s for s in schedule if s.kind == "cancelled"]
    assert [s.date for s in cancelled] == [D(2022, 9, 29), D(2022, 10, 18), D(2022, 10, 20)]
    assert all(s.number is None for s in cancelled)


def test_makeups_on_2_and_7_september_in_the_recording_studio(schedule):
    makeups = [s for s in schedule if s.kind == "makeup"]
    assert [s.date for s in makeups] == [D(2022, 9, 2), D(2022, 9, 7)]
    for s in makeups:
        assert (s.start, s.end) == (dt.time(11, 0), dt.time(12, 15))
        assert "43-1-306 recording studio" in s.room
        assert "sign up" in s.note and "eTL" in s.note


def test_lectures_are_numbered_consecutively_in_date_order(schedule):
    held = [s for s in schedule if s.kind != "cancelled"]
    assert [s.number for s in held] == list(range(1, len(held) + 1))
    assert [s.date for s in schedule] == sorted(s.date for s in schedule)
    # 15 teaching weeks of two meetings, less the first Tuesday (before the start),
    # less three cancellations, plus two make-ups.
    assert len(held) == 15 * 2 - 1 - 3 + 2


def test_weeks_follow_the_lecture_plan(schedule):
    by_date = {s.date: s for s in schedule}
    assert by_date[D(2022, 9, 1)].topic == "Optimization and stochastic gradient descent"
    assert by_date[D(2022, 9, 6)].week == 2
    assert by_date[D(2022, 11, 1)].topic == "Flow models"  # week 10 of "Weeks 10-11"
    assert by_date[D(2022, 12, 8)].week == 15


def test_schedule_page_marks_cancellations_and_makeups(course):
    page = coursegen.render_pages(course)["schedule.md"]
    assert "~~Thu 29 Sep~~" in page and "~~Tue 18 Oct~~" in page and "~~Thu 20 Oct~~" in page
    assert page.count("**No class**") == 3
    assert page.count("**make-up**") == 2 and "## Make-up lectures" in page
    assert "{download}`course.ics" in page


@pytest.mark.parametrize("exam", ["midterm", "final"])
def test_exam_dates_say_announced_on_etl_until_filled_in(raw, exam):
    course = validate(copy.deepcopy(raw))
    assert f"| {exam.capitalize()} | announced on eTL |" in coursegen.render_pages(course)["schedule.md"]
    filled = copy.deepcopy(raw)
    filled["exams"][exam].update(date=D(2022, 10, 25), start="17:00", room="43-1-201")
    page = coursegen.render_pages(validate(filled))["schedule.md"]
    assert "Tuesday 25 October 2022, 17:00, 43-1-201" in page


def test_home_page_states_format_and_announcements(course):
    page = coursegen.render_pages(course)["index.md"]
    for fact in ("M1407.001200", "Fall 2022", "hybrid", "43-1-201", "Zoom", "Tuesdays and Thursdays",
                 "5:00–6:15 pm", "Live (in-person or online) attendance is required",
                 "Fri 02 Sep, 11:00 am–12:15 pm", "Wed 07 Sep, 11:00 am–12:15 pm", "43-1-306 recording studio",
                 "No class** on Thu 29 Sep, Tue 18 Oct, Thu 20 Oct", "through eTL"):
        assert fact in page, fact


def test_grading_and_staff_pages(course):
    pages = coursegen.render_pages(course)
    for line in ("| Homework | 30% |", "| Midterm exam | 30% |", "| Final exam | 40% |",
                 "hand-written (no computers), in person, and 4 hours long"):
        assert line in pages["grading.md"]
    staff = pages["staff.md"]
    names = ["Ernest K. Ryu", "Joo Young Choi", "Haneol Kijm", "Sehyun Kwon", "Jongmin Lee", "Dongyeob Kim",
             "Jae yeon Kim", "Wonseok Lee", "Yeeseok Oh", "Kunwoo Na", "Jaeseung Park"]
    assert all(name in staff for name in names)
    assert "27-205" in staff
    assert "@" not in staff and "Photo" not in staff and "Chanwoo" not in staff


def test_calendar_lists_every_held_lecture_in_utc(course, schedule):
    ics = coursegen.render_ics(course)
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    unfolded = ics.replace("\r\n ", "")
    starts = [line.split(":", 1)[1] for line in unfolded.split("\r\n") if line.startswith("DTSTART:")]
    assert len(starts) == sum(s.kind != "cancelled" for s in schedule)
    assert starts[0] == "20220901T080000Z"  # 17:00 in Seoul (UTC+9)
    assert "20220902T020000Z" in starts  # the 11:00 make-up
    assert not any(s.startswith(("20220929", "20221018", "20221020")) for s in starts)
    uids = [line for line in unfolded.split("\r\n") if line.startswith("UID:")]
    assert len(set(uids)) == len(uids)


def test_committed_toc_matches_course_yml(root, course):
    assert (root / "_toc.yml").read_text(encoding="utf-8") == coursegen.render_toc(course), (
        "_toc.yml is out of date: run `python -m tools.coursegen` (or `make book`) and commit it"
    )


def test_toc_captions_come_from_the_plan(course):
    toc = yaml.safe_load(coursegen.render_toc(course))
    captions = [part["caption"] for part in toc["parts"]]
    assert "Week 1 · Optimization and stochastic gradient descent" in captions
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            assert chapter["file"].startswith(("course/", "lectures/", "homework/"))


def test_generation_is_idempotent(tmp_path, root):
    assert coursegen.generate(root / "course.yml", tmp_path)
    assert coursegen.generate(root / "course.yml", tmp_path) == []


def _mutate(raw, path, value):
    bad = copy.deepcopy(raw)
    node = bad
    *parents, last = path
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return bad


BAD = [
    (("term", "start"), "next autumn", "term.start"),
    (("term", "start"), KeyError, "term.start"),
    (("meetings", 0, "day"), "Tuesdai", "meetings[0].day"),
    (("meetings", 1, "start"), "5pm", "meetings[1].start"),
    (("meetings", 1, "end"), "16:00", "meetings[1].end"),
    (("cancellations", 1), "18 Oct", "cancellations[1]"),
    (("cancellations", 0), D(2022, 9, 28), "cancellations[0]"),  # a Wednesday
    (("makeups", 0, "room"), None, "makeups[0].room"),
    (("makeups", 1, "date"), "2022-09-07T11", "makeups[1].date"),
    (("grading", "final"), 50, "grading"),
    (("grading", "midterm"), "thirty", "grading.midterm"),
    (("staff", "graduate_tas", 2), "", "staff.graduate_tas[2]"),
    (("plan", 0, "lectures", 0), "lectures/week1.md", "plan[0].lectures[0]"),
    (("plan", 1, "weeks"), [1], "plan[1].weeks"),
    (("exams", "final", "start"), "late", "exams.final.start"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD, ids=[b[2] for b in BAD])
def test_malformed_course_data_names_the_bad_field(raw, path, value, field):
    with pytest.raises(CourseDataError) as err:
        validate(_mutate(raw, path, value))
    assert err.value.field == field
    assert f"'{field}'" in str(err.value)


def test_malformed_course_file_stops_the_build(tmp_path, raw, root):
    bad = tmp_path / "course.yml"
    bad.write_text(yaml.safe_dump(_mutate(raw, ("meetings", 0, "day"), "Tuesdai"), allow_unicode=True))
    proc = subprocess.run([sys.executable, "-m", "tools.build", "--profile", "quick", "--course", str(bad)],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "field 'meetings[0].day'" in proc.stderr and "Tuesdai" in proc.stderr
    assert "Building the book" not in proc.stdout
