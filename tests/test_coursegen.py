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
    assert by_date[D(2022, 9, 1)].topic == "Optimization and stochastic gradient descent (part 1 of 2)"
    assert by_date[D(2022, 9, 2)].topic == "Optimization and stochastic gradient descent (part 2 of 2)"
    assert (by_date[D(2022, 9, 6)].week, by_date[D(2022, 9, 6)].plan_week) == (2, "2")
    # The two make-ups bring the plan a lecture ahead; the cancellation of 29 Sep puts it level again.
    assert (by_date[D(2022, 9, 8)].week, by_date[D(2022, 9, 8)].plan_week) == (2, "3")
    assert (by_date[D(2022, 10, 4)].week, by_date[D(2022, 10, 4)].plan_week) == (6, "6")
    assert by_date[D(2022, 11, 8)].topic == "Flow models (part 1 of 4)"  # plan weeks 10-11
    assert (by_date[D(2022, 11, 15)].week, by_date[D(2022, 11, 15)].plan_week) == (12, "11")
    assert by_date[D(2022, 12, 8)].week == 15


# ---------------------------------------------------------------- topics follow the lectures held


def _raw_with(raw, **changes):
    """A deep copy of course.yml's data with top-level lists replaced or plan entries pinned."""
    bad = copy.deepcopy(raw)
    for key, value in changes.items():
        if key == "pins":
            for i, day in value.items():
                bad["plan"][i]["starts_on"] = day
        else:
            bad[key] = value
    return bad


def _topics_by_date(course) -> dict[dt.date, tuple[str, ...]]:
    """Each lecture held, by date: the labels of its topics (() for review)."""
    return {s.date: tuple(p.label for p in s.parts) for s in build_schedule(course) if s.kind != "cancelled"}


def _topic_sequence(course) -> list[tuple[str, ...]]:
    return list(_topics_by_date(course).values())


MAKEUP = {"date": D(2022, 9, 16), "start": "11:00", "end": "12:15", "room": "43-1-306"}


def test_every_plan_topic_has_a_lecture_on_fall_2022(course, schedule):
    covered = {p.entry for s in schedule for p in s.parts}
    assert covered == set(range(len(course["plan"])))
    # ...and every plan week but the last (the term is two lectures short of the plan).
    weeks = {p.plan_week for s in schedule for p in s.parts}
    assert weeks == set(range(1, 15))


def test_batch_normalization_is_taught_in_week_9_after_the_cancelled_week_8(schedule):
    by_date = {s.date: s for s in schedule}
    for day in (D(2022, 10, 25), D(2022, 10, 27)):
        assert by_date[day].kind == "lecture" and by_date[day].week == 9 and by_date[day].plan_week == "8"
        assert by_date[day].topic.startswith("Batch normalization, ResNet, DenseNet (part ")
    assert by_date[D(2022, 10, 18)].kind == by_date[D(2022, 10, 20)].kind == "cancelled"


def test_no_lecture_has_two_topics_unless_pinned_so(course, raw):
    assert all(len(topics) == 1 for topics in _topics_by_date(course).values())
    shared = validate(_raw_with(raw, pins={10: D(2022, 12, 6), 11: D(2022, 12, 6)}))
    two = {day: topics for day, topics in _topics_by_date(shared).items() if len(topics) > 1}
    assert two == {D(2022, 12, 6): ("Variational auto-encoders", "Generative adversarial networks (part 1 of 4)")}


def test_a_cancellation_moves_the_following_topics_one_lecture_later(raw, course):
    before = _topics_by_date(course)
    after = _topics_by_date(validate(_raw_with(raw, cancellations=[*raw["cancellations"], D(2022, 9, 13)])))
    dates = list(before)
    cut = dates.index(D(2022, 9, 13))
    assert D(2022, 9, 13) not in after
    assert [after[d] for d in dates[:cut]] == [before[d] for d in dates[:cut]]
    assert [after[d] for d in dates[cut + 1:]] == [before[d] for d in dates[cut:-1]]


def test_a_makeup_pulls_the_following_topics_one_lecture_earlier(raw, course):
    before = _topics_by_date(course)
    after = _topics_by_date(validate(_raw_with(raw, makeups=[*raw["makeups"], MAKEUP])))
    dates = list(before)
    later = [d for d in dates if d > MAKEUP["date"]]
    assert after[MAKEUP["date"]] == before[later[0]]
    assert [after[d] for d in later[:-1]] == [before[d] for d in later[1:]]
    assert [after[d] for d in dates if d < MAKEUP["date"]] == [before[d] for d in dates if d < MAKEUP["date"]]


def test_the_shortfall_is_shown_on_the_page_and_printed_as_a_notice(course, capsys):
    page = coursegen.render_pages(course)["schedule.md"]
    out, err = capsys.readouterr()
    assert "| – | – | – | – | 15 | Generative adversarial networks, parts 3–4 of 4: **not reached** | – |" in page
    assert page.count(": **not reached** |") == 1
    assert out.startswith("coursegen: notice: ") and out.count("\n") == 1
    assert "Generative adversarial networks, parts 3–4 of 4 (plan week 15)" in out and "2022-12-08" in out
    assert err == ""


def test_spare_lectures_at_the_end_are_review_and_a_full_plan_prints_nothing(raw, capsys):
    extra = [{**MAKEUP, "date": D(2022, 12, 9 + k)} for k in range(4)]  # Fri 9 to Mon 12 Dec
    course = validate(_raw_with(raw, makeups=[*raw["makeups"], *extra]))
    sequence = _topic_sequence(course)
    assert sequence[-2:] == [(), ()] and sequence[-3] == ("Generative adversarial networks (part 4 of 4)",)
    page = coursegen.render_pages(course)["schedule.md"]
    assert "| Review |" in page and "not reached" not in page
    assert capsys.readouterr().out == ""


def test_a_pin_puts_its_topic_on_its_date_and_the_rest_flows_around_it(raw, capsys):
    # Flows pinned to 1 Nov: the two topics before it give up a lecture each; the rest follows the pin.
    course = validate(_raw_with(raw, pins={9: D(2022, 11, 1)}))
    by_date = _topics_by_date(course)
    assert by_date[D(2022, 11, 1)] == ("Flow models (part 1 of 4)",)
    assert by_date[D(2022, 10, 25)] == ("Batch normalization, ResNet, DenseNet",)
    assert by_date[D(2022, 10, 27)] == ("ResNext, SENet, DNCNN, super-resolution, inverse problem",)
    assert by_date[D(2022, 12, 8)] == ("Generative adversarial networks (part 4 of 4)",)
    assert {p.entry for s in build_schedule(course) for p in s.parts} == set(range(len(raw["plan"])))
    coursegen.render_pages(course)
    out = capsys.readouterr().out
    assert "'Batch normalization, ResNet, DenseNet' gets 1 of its 2 lectures" in out and "not reached" not in out


def test_lectures_left_before_a_pin_are_review(raw):
    course = validate(_raw_with(raw, pins={11: D(2022, 12, 8)}))
    by_date = _topics_by_date(course)
    assert by_date[D(2022, 12, 6)] == ()
    assert by_date[D(2022, 12, 8)] == ("Generative adversarial networks (part 1 of 4)",)
    assert {p.part for p in course["_parsed"]["lecture_plan"].not_reached} == {2, 3, 4}


BAD_PINS = [
    ({7: D(2022, 10, 18)}, "plan[7].starts_on", "cancelled"),
    ({7: D(2022, 10, 19)}, "plan[7].starts_on", "no lecture meets that day"),
    ({7: D(2022, 11, 1), 9: D(2022, 10, 25)}, "plan[9].starts_on", "plan's order"),
    ({5: D(2022, 9, 6)}, "plan[5].starts_on", "leaves 2 lecture(s) for the 5 topic(s)"),
    ({5: "2022-10-32"}, "plan[5].starts_on", "is not a real date"),
]


@pytest.mark.parametrize(("pins", "field", "words"), BAD_PINS, ids=[b[2] for b in BAD_PINS])
def test_a_pin_that_cannot_be_honoured_names_the_field(raw, pins, field, words):
    with pytest.raises(CourseDataError) as err:
        validate(_raw_with(raw, pins=pins))
    assert err.value.field == field and words in str(err.value)


def test_calendar_titles_agree_with_the_schedule_page(course):
    icalendar = pytest.importorskip("icalendar")
    page = coursegen.render_pages(course)["schedule.md"]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in page.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    page_topics = {int(row[0]): row[5] for row in rows}
    calendar = icalendar.Calendar.from_ical(coursegen.render_ics(course))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(page_topics) == 28
    seen = set()
    for event in events:
        head, topic = str(event["SUMMARY"]).split(": ", 1)
        number = int(head.split(" lecture ")[1].split()[0])
        assert topic == page_topics[number], number
        held = next(s for s in build_schedule(course) if s.number == number)
        assert event.decoded("DTSTART").date() == held.date
        seen.add(topic.split(" (part ")[0])
    assert {entry["topic"] for entry in course["plan"]} == seen


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
                 "5:00–6:15 pm", "the pace may vary", "Live (in-person or online) attendance is required",
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
            assert chapter["file"].startswith(("course/", "lectures/", "homework/")) or chapter["file"] == "notation"
    assert toc["parts"][-1]["chapters"][0] == {"file": "notation"}  # the notation page, under "About this book"


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
    (("term", "start"), "2022-09-31", "term.start"),
    (("exams", "midterm", "date"), "2022-02-29", "exams.midterm.date"),
    (("plan", 3, "start_on"), D(2022, 9, 20), "plan[3].start_on"),
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


@pytest.mark.parametrize(("line", "field", "value"), [
    ("  start: 2022-09-01 ", "term.start", "2022-09-31"),
    ("  - 2022-10-18", "cancellations[1]", "2022-10-32"),
    ("  - date: 2022-09-07", "makeups[1].date", "2022-09-07 25:00:00"),
], ids=["term.start", "cancellations", "makeups-datetime"])
def test_an_impossible_date_in_the_file_stops_with_one_line(tmp_path, root, line, field, value):
    # PyYAML raises a bare ValueError inside its loader for these; the field must still be named.
    text = (root / "course.yml").read_text(encoding="utf-8")
    assert line in text
    key = line.split("2022")[0]
    bad = tmp_path / "course.yml"
    bad.write_text(text.replace(line, f"{key}{value} ", 1), encoding="utf-8")
    with pytest.raises(CourseDataError) as err:
        load_course(bad)
    assert err.value.field == field and repr(value) in str(err.value) and "\n" not in str(err.value)
    proc = subprocess.run([sys.executable, "-m", "tools.coursegen", "--check", "--course", str(bad)],
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == f"error: {err.value}"


def test_a_quoted_date_is_read_as_a_date(raw):
    course = validate(_mutate(raw, ("term", "start"), "2022-09-01"))
    assert course["_parsed"]["start"] == D(2022, 9, 1)
