"""Generate the course pages, the table of contents and the calendar from course.yml.

Run from the repository root: `python -m tools.coursegen`. It validates
course.yml first and stops, naming the bad field, when a value is malformed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGES = ("index", "schedule", "grading", "staff", "prerequisites", "references")
BOOK_PAGES = ("execution-status",)  # about the book itself, listed last in the table of contents
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CourseDataError(ValueError):
    """course.yml is malformed; the message names the field and what is expected."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"course.yml: field '{field}' {problem}")
        self.field = field


# ---------------------------------------------------------------- validation


def _get(data: dict, field: str, kind: type | tuple, *, optional: bool = False):
    """Fetch a dotted `field` from `data` and check its type, naming the field on error."""
    node = data
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            if optional:
                return None
            raise CourseDataError(field, "is missing")
        node = node[part]
    if node is None and optional:
        return None
    if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        expected = {"date": "a date written YYYY-MM-DD", "str": "a string"}.get(names, names)
        raise CourseDataError(field, f"must be {expected}, got {node!r}")
    return node


def _time(data: dict, field: str, *, optional: bool = False) -> dt.time | None:
    value = _get(data, field, str, optional=optional)
    if value is None:
        return None
    if not TIME_RE.match(value):
        raise CourseDataError(field, f'must be a 24-hour time written "HH:MM", got {value!r}')
    return dt.time.fromisoformat(value)


def _date(data: dict, field: str, *, optional: bool = False) -> dt.date | None:
    value = _get(data, field, (dt.date, str), optional=optional)
    if isinstance(value, str):
        raise CourseDataError(field, f"must be a date written YYYY-MM-DD, got {value!r}")
    if isinstance(value, dt.datetime):
        raise CourseDataError(field, f"must be a date without a time, got {value!r}")
    return value


@dataclass(frozen=True)
class Slot:
    """A weekly meeting slot or a one-off session."""

    start: dt.time
    end: dt.time


def load_course(path: str | Path) -> dict:
    """Read and validate course.yml; return it with dates and times parsed."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseDataError("(file)", f"cannot be read: {path} does not exist") from None
    except yaml.YAMLError as err:
        raise CourseDataError("(file)", f"is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise CourseDataError("(file)", "must be a mapping of sections (course, term, ...)")
    return validate(raw)


def validate(raw: dict) -> dict:
    """Check every field the generators use; raise CourseDataError naming the first bad one."""
    for field in ("course.title", "course.number", "course.term", "course.institution",
                  "format.room", "format.online", "format.attendance", "exams.format",
                  "homework.submission", "staff.instructor.name", "staff.instructor.office"):
        _get(raw, field, str)
    start = _date(raw, "term.start")
    weeks = _get(raw, "term.teaching_weeks", int)
    if not 1 <= weeks <= 30:
        raise CourseDataError("term.teaching_weeks", f"must be between 1 and 30, got {weeks}")
    offset = _get(raw, "term.utc_offset_hours", (int, float))
    if not -12 <= offset <= 14:
        raise CourseDataError("term.utc_offset_hours", f"must be between -12 and 14, got {offset}")

    meetings = _get(raw, "meetings", list)
    if not meetings:
        raise CourseDataError("meetings", "must list at least one weekly meeting")
    parsed_meetings = []
    for i, _ in enumerate(meetings):
        day = _get(raw["meetings"][i], "day", str) if isinstance(meetings[i], dict) else None
        if day not in DAYS:
            raise CourseDataError(f"meetings[{i}].day", f"must be one of {', '.join(DAYS)}, got {day!r}")
        slot = _slot(meetings[i], f"meetings[{i}]")
        parsed_meetings.append({"day": day, "weekday": DAYS.index(day), "slot": slot})

    end_of_term = _week_monday(start, weeks + 1)
    cancellations = []
    for i, value in enumerate(_get(raw, "cancellations", list)):
        day = _prefixed(_date, {str(i): value}, "cancellations", str(i))
        if not start <= day < end_of_term:
            raise CourseDataError(f"cancellations[{i}]", f"({day}) is outside the term ({start} to {end_of_term})")
        if day.weekday() not in {m["weekday"] for m in parsed_meetings}:
            raise CourseDataError(f"cancellations[{i}]", f"({day}, a {DAYS[day.weekday()]}) is not a meeting day")
        cancellations.append(day)

    makeups = []
    for i, item in enumerate(_get(raw, "makeups", list)):
        name = f"makeups[{i}]"
        if not isinstance(item, dict):
            raise CourseDataError(name, f"must be a mapping with date, start, end and room, got {item!r}")
        day = _prefixed(_date, item, name, "date")
        slot = _slot(item, name)
        room = _prefixed(_get, item, name, "room", str)
        note = _prefixed(_get, item, name, "note", str, optional=True) or ""
        live = _prefixed(_get, item, name, "live_attendance_required", bool, optional=True)
        makeups.append({"date": day, "slot": slot, "room": room, "note": note,
                        "live_attendance_required": bool(live)})

    exams = {}
    for exam in ("midterm", "final"):
        exams[exam] = {
            "date": _date(raw, f"exams.{exam}.date", optional=True),
            "start": _time(raw, f"exams.{exam}.start", optional=True),
            "room": _get(raw, f"exams.{exam}.room", str, optional=True),
        }

    grading = _get(raw, "grading", dict)
    for key, value in grading.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise CourseDataError(f"grading.{key}", f"must be a non-negative percentage, got {value!r}")
    if sum(grading.values()) != 100:
        raise CourseDataError("grading", f"weights must sum to 100, got {sum(grading.values())}")

    for group in ("graduate_tas", "undergraduate_tas"):
        names = _get(raw, f"staff.{group}", list)
        for i, person in enumerate(names):
            if not isinstance(person, str) or not person.strip():
                raise CourseDataError(f"staff.{group}[{i}]", f"must be a name, got {person!r}")

    plan = _get(raw, "plan", list)
    seen_weeks: set[int] = set()
    for i, entry in enumerate(plan):
        name = f"plan[{i}]"
        if not isinstance(entry, dict):
            raise CourseDataError(name, "must be a mapping with weeks, topic and lectures")
        entry_weeks = _prefixed(_get, entry, name, "weeks", list)
        if not entry_weeks or not all(isinstance(w, int) and 1 <= w <= weeks for w in entry_weeks):
            raise CourseDataError(f"{name}.weeks",
                                  f"must list teaching weeks between 1 and {weeks}, got {entry_weeks!r}")
        if seen_weeks & set(entry_weeks):
            raise CourseDataError(f"{name}.weeks", f"repeats week(s) {sorted(seen_weeks & set(entry_weeks))}")
        seen_weeks |= set(entry_weeks)
        _prefixed(_get, entry, name, "topic", str)
        lectures = _prefixed(_get, entry, name, "lectures", list)
        for j, lecture in enumerate(lectures):
            if not isinstance(lecture, str) or not re.fullmatch(r"lectures/[a-z0-9-]+", lecture):
                raise CourseDataError(f"{name}.lectures[{j}]",
                                      f"must look like 'lectures/topic-name' (no extension), got {lecture!r}")

    assignments = _assignments(raw, start, weeks)

    course = dict(raw)
    course["_parsed"] = {
        "start": start, "weeks": weeks, "offset": offset, "meetings": parsed_meetings,
        "cancellations": cancellations, "makeups": makeups, "exams": exams,
        "assignments": assignments,
    }
    return course


def _assignments(raw: dict, start: dt.date, weeks: int) -> list[dict]:
    """Check the optional `assignments` list (homework, tools/homework); return it with due dates."""
    parsed: list[dict] = []
    for i, item in enumerate(_get(raw, "assignments", list, optional=True) or []):
        assignment = _assignment(item, f"assignments[{i}]", start, weeks)
        if assignment["id"] in {a["id"] for a in parsed}:
            raise CourseDataError(f"assignments[{i}].id", f"repeats the id {assignment['id']!r} of an earlier one")
        parsed.append(assignment)
    return parsed


def _assignment(item, name: str, start: dt.date, weeks: int) -> dict:
    """Check one assignment: id, title, source in homework/, due week within the term."""
    if not isinstance(item, dict):
        raise CourseDataError(name, f"must be a mapping with id, title, source and due_week, got {item!r}")
    unknown = sorted(set(item) - {"id", "title", "source", "due_week"})
    if unknown:
        raise CourseDataError(f"{name}.{unknown[0]}", "is not a field of an assignment "
                              "(the fields are id, title, source, due_week)")
    ident = _prefixed(_get, item, name, "id", str)
    if not re.fullmatch(r"[a-z][a-z0-9-]*", ident):
        raise CourseDataError(f"{name}.id", f"must be lower-case letters, digits and hyphens (e.g. hw1), got {ident!r}")
    title = _prefixed(_get, item, name, "title", str)
    if not title.strip():
        raise CourseDataError(f"{name}.title", "must not be empty")
    source = _prefixed(_get, item, name, "source", str)
    if not re.fullmatch(r"homework/[a-z0-9][a-z0-9-]*\.md", source):
        raise CourseDataError(f"{name}.source", f"must look like 'homework/hw1-topic.md', got {source!r}")
    due = _prefixed(_get, item, name, "due_week", int)
    if not 1 <= due <= weeks:
        raise CourseDataError(f"{name}.due_week", f"must be a teaching week between 1 and {weeks}, got {due}")
    monday = _week_monday(start, due)
    return {"id": ident, "title": title, "source": source, "due_week": due,
            "due_from": monday, "due_to": monday + dt.timedelta(days=6)}


def _prefixed(getter, item: dict, prefix: str, key: str, *args, **kwargs):
    """Call a field getter on a list item, reporting errors as `prefix.key`."""
    try:
        return getter(item, key, *args, **kwargs)
    except CourseDataError as err:
        field = f"{prefix}[{err.field}]" if err.field.isdigit() else f"{prefix}.{err.field}"
        raise CourseDataError(field, str(err).split(f"'{err.field}' ", 1)[1]) from None


def _slot(item: dict, prefix: str) -> Slot:
    start = _prefixed(_time, item, prefix, "start")
    end = _prefixed(_time, item, prefix, "end")
    if end <= start:
        raise CourseDataError(f"{prefix}.end", f"({end:%H:%M}) must be after start ({start:%H:%M})")
    return Slot(start, end)


# ---------------------------------------------------------------- schedule


def _week_monday(start: dt.date, week: int) -> dt.date:
    """The Monday of teaching week `week` (week 1 contains the term's first day)."""
    return start - dt.timedelta(days=start.weekday()) + dt.timedelta(weeks=week - 1)


@dataclass(frozen=True)
class Session:
    """One row of the schedule: a lecture, a make-up or a cancelled meeting."""

    date: dt.date
    start: dt.time
    end: dt.time
    kind: str  # "lecture", "makeup" or "cancelled"
    week: int
    topic: str
    room: str
    number: int | None  # running number of the lectures that take place
    note: str = ""


def topic_of_week(course: dict, week: int) -> str:
    """The lecture plan's topic for teaching week `week` ("" when the plan is silent)."""
    for entry in course["plan"]:
        if week in entry["weeks"]:
            return entry["topic"]
    return ""


def build_schedule(course: dict) -> list[Session]:
    """Every meeting of the term in date order, cancellations and make-ups marked."""
    p = course["_parsed"]
    fmt = course["format"]
    regular_room = f"{fmt['room']} and {fmt['online']}"
    rows: list[tuple[dt.date, dt.time, str, str, str]] = []
    for week in range(1, p["weeks"] + 1):
        monday = _week_monday(p["start"], week)
        for meeting in p["meetings"]:
            day = monday + dt.timedelta(days=meeting["weekday"])
            if day < p["start"]:
                continue
            kind = "cancelled" if day in p["cancellations"] else "lecture"
            rows.append((day, meeting["slot"], kind, regular_room, "No class" if kind == "cancelled" else ""))
    for makeup in p["makeups"]:
        rows.append((makeup["date"], makeup["slot"], "makeup", f"{makeup['room']} and {fmt['online']}",
                     makeup["note"]))
    rows.sort(key=lambda r: (r[0], r[1].start))
    sessions, number = [], 0
    for day, slot, kind, room, note in rows:
        week = (day - _week_monday(p["start"], 1)).days // 7 + 1
        if kind != "cancelled":
            number += 1
        sessions.append(Session(day, slot.start, slot.end, kind, week, topic_of_week(course, week),
                                room, number if kind != "cancelled" else None, note.strip()))
    return sessions


# ---------------------------------------------------------------- outputs


def week_caption(entry: dict) -> str:
    """The table-of-contents caption of a plan entry, e.g. "Weeks 10–11 · Flow models"."""
    weeks = entry["weeks"]
    label = f"Week {weeks[0]}" if len(weeks) == 1 else f"Weeks {weeks[0]}–{weeks[-1]}"
    return f"{label} · {entry['topic']}"


def render_toc(course: dict) -> str:
    """The _toc.yml text: course pages, then one part per plan entry that has lectures."""
    parts = [{"caption": "Course", "chapters": [{"file": f"course/{p}"} for p in PAGES[1:]]}]
    for entry in course["plan"]:
        if entry["lectures"]:
            parts.append({"caption": week_caption(entry), "chapters": [{"file": f} for f in entry["lectures"]]})
    parts.append({"caption": "Homework", "chapters": [{"file": "course/homework"}]})  # tools/homework
    parts.append({"caption": "About this book", "chapters": [{"file": f"course/{p}"} for p in BOOK_PAGES]})
    toc = {"format": "jb-book", "root": "course/index", "parts": parts}
    header = ("# GENERATED by `python -m tools.coursegen` from course.yml: edit course.yml, not this file.\n"
              "# `make book` regenerates it; a test checks that the committed copy is up to date.\n")
    return header + yaml.safe_dump(toc, sort_keys=False, allow_unicode=True, width=1000)


def _ics_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets as RFC 5545 asks (continuations start with a space)."""
    out, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def render_ics(course: dict) -> str:
    """An iCalendar file with every lecture and make-up that takes place (times in UTC)."""
    p, info = course["_parsed"], course["course"]
    offset = dt.timedelta(hours=p["offset"])
    stamp = dt.datetime.combine(p["start"], dt.time()).strftime("%Y%m%dT%H%M%SZ")

    def utc(day: dt.date, time: dt.time) -> str:
        return (dt.datetime.combine(day, time) - offset).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//course-book//coursegen//EN",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_ics_escape(info['number'] + ' ' + info['title'])}"]
    for s in build_schedule(course):
        if s.kind == "cancelled":
            continue
        summary = f"{info['number']} lecture {s.number}" + (" (make-up)" if s.kind == "makeup" else "")
        lines += ["BEGIN:VEVENT",
                  f"UID:{s.date:%Y%m%d}-{s.start:%H%M}-{re.sub(r'[^A-Za-z0-9]', '', info['number'])}@course-book",
                  f"DTSTAMP:{stamp}", f"DTSTART:{utc(s.date, s.start)}", f"DTEND:{utc(s.date, s.end)}",
                  f"SUMMARY:{_ics_escape(summary + ': ' + s.topic)}",
                  f"LOCATION:{_ics_escape(s.room)}"]
        if s.note:
            lines.append(f"DESCRIPTION:{_ics_escape(s.note)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_ics_fold(line) for line in lines) + "\r\n"


def _exam_text(exam: dict) -> str:
    if exam["date"] is None:
        return "announced on eTL"
    text = f"{exam['date']:%A %d %B %Y}"
    if exam["start"] is not None:
        text += f", {exam['start']:%H:%M}"
    if exam["room"]:
        text += f", {exam['room']}"
    return text


def time_span(slot: Slot) -> str:
    """A slot in 12-hour form, as the course website writes it: "5:00–6:15 pm"."""

    def clock(t: dt.time) -> str:
        return f"{(t.hour - 1) % 12 + 1}:{t.minute:02d}"

    start_half, end_half = ("am" if t.hour < 12 else "pm" for t in (slot.start, slot.end))
    if start_half == end_half:
        return f"{clock(slot.start)}–{clock(slot.end)} {end_half}"
    return f"{clock(slot.start)} {start_half}–{clock(slot.end)} {end_half}"


def meeting_text(course: dict) -> str:
    """The weekly meetings in words, e.g. "Tuesdays and Thursdays, 5:00–6:15 pm"."""
    meetings = course["_parsed"]["meetings"]
    spans = {time_span(m["slot"]) for m in meetings}
    if len(spans) == 1:
        days = [f"{m['day']}s" for m in meetings]
        joined = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]
        return f"{joined}, {spans.pop()}"
    return "; ".join(f"{m['day']}s {time_span(m['slot'])}" for m in meetings)


def render_pages(course: dict) -> dict[str, str]:
    """The Markdown text of each course page, keyed by file name."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    context = {
        "c": course, "p": course["_parsed"], "schedule": build_schedule(course),
        "exam_text": {k: _exam_text(v) for k, v in course["_parsed"]["exams"].items()},
        "captions": [week_caption(e) for e in course["plan"]],
        "meeting_text": meeting_text(course), "time_span": time_span,
    }
    pages = {f"{name}.md": env.get_template(f"{name}.md.j2").render(**context) for name in PAGES + BOOK_PAGES}
    pages["homework.md"] = env.get_template("homework.md.j2").render(**context)
    return pages


def generate(course_file: Path, root: Path) -> list[Path]:
    """Validate `course_file`, then write course/*.md, course/course.ics and _toc.yml under `root`."""
    course = load_course(course_file)
    outputs = {root / "course" / name: text for name, text in render_pages(course).items()}
    outputs[root / "course" / "course.ics"] = render_ics(course)
    outputs[root / "_toc.yml"] = render_toc(course)
    written = []
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Only touch files whose text changed, so an unchanged rebuild re-reads nothing.
        if not path.exists() or path.read_bytes() != text.encode("utf-8"):
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(text.encode("utf-8"))
            tmp.replace(path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=ROOT / "course.yml")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="only validate course.yml")
    args = parser.parse_args(argv)
    try:
        if args.check:
            load_course(args.course)
            print(f"{args.course}: OK")
            return 0
        written = generate(args.course, args.root)
    except CourseDataError as err:
        print(f"error: {err}\nFix {args.course} and run the build again.", file=sys.stderr)
        return 2
    print(f"coursegen: {len(written)} file(s) updated from {args.course.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
