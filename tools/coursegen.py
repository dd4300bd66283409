"""Generate the course pages, the table of contents and the calendar from course.yml.

Run from the repository root: `python -m tools.coursegen`. It validates
course.yml first and stops, naming the bad field, when a value is malformed.

Topics follow the lectures that take place, not the calendar: each plan entry takes as
many lectures as there are weekly meetings for each week it spans, in the plan's order,
over the regular meetings that are not cancelled and the make-ups. An entry may pin its
first lecture to a date with `starts_on: YYYY-MM-DD`; the other topics flow around it. A
plan that runs past the last lecture is marked "not reached" and the build prints a notice.
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
PLAN_FIELDS = frozenset({"weeks", "topic", "lectures", "starts_on"})
ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


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
    if isinstance(value, dt.datetime):
        raise CourseDataError(field, f"must be a date without a time, got {value!r}")
    if isinstance(value, str):
        # A quoted date arrives as a string, an impossible one (2022-09-31) as a _BadDate.
        match = ISO_DATE_RE.match(value.strip())
        if match:
            try:
                return dt.date(*map(int, match.groups()))
            except ValueError as err:
                raise CourseDataError(field, f"is not a real date: {value!r} ({err})") from None
        if isinstance(value, _BadDate):
            raise CourseDataError(field, f"is not a real date: {value!r} ({value.reason})")
        raise CourseDataError(field, f"must be a date written YYYY-MM-DD, got {value!r}")
    return value


class _BadDate(str):
    """A YAML scalar that looks like a timestamp but names no real day (`2022-09-31`).

    PyYAML raises a bare ValueError from inside its loader for these, which would stop
    the build with a traceback and no field name; we keep the text so that `_date` can
    report it against the field it appears in.
    """

    reason = ""


class _CourseLoader(yaml.SafeLoader):
    """The safe loader, except that impossible dates load as `_BadDate` instead of raising."""


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        bad = _BadDate(loader.construct_scalar(node))
        bad.reason = str(err)
        return bad


_CourseLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


@dataclass(frozen=True)
class Slot:
    """A weekly meeting slot or a one-off session."""

    start: dt.time
    end: dt.time


def load_course(path: str | Path) -> dict:
    """Read and validate course.yml; return it with dates and times parsed."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_CourseLoader)  # a SafeLoader
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
    pins: dict[int, dt.date] = {}
    for i, entry in enumerate(plan):
        name = f"plan[{i}]"
        if not isinstance(entry, dict):
            raise CourseDataError(name, "must be a mapping with weeks, topic and lectures")
        unknown = sorted(set(entry) - PLAN_FIELDS)
        if unknown:
            raise CourseDataError(f"{name}.{unknown[0]}", "is not a field of a plan entry "
                                  f"(the fields are {', '.join(sorted(PLAN_FIELDS))})")
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
        pin = _prefixed(_date, entry, name, "starts_on", optional=True)
        if pin is not None:
            pins[i] = pin

    assignments = _assignments(raw, start, weeks)

    course = dict(raw)
    course["_parsed"] = {
        "start": start, "weeks": weeks, "offset": offset, "meetings": parsed_meetings,
        "cancellations": cancellations, "makeups": makeups, "exams": exams,
        "assignments": assignments,
    }
    held = [day for day, _, kind, _ in _meeting_rows(course["_parsed"]) if kind != "cancelled"]
    course["_parsed"]["lecture_plan"] = plan_lectures(plan, held, len(parsed_meetings), pins,
                                                      set(cancellations))
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
class Part:
    """One lecture's share of a plan topic: `part` of the `parts` lectures the topic takes."""

    entry: int  # index of the topic in the plan
    topic: str
    plan_week: int  # the plan week this part of the topic belongs to
    part: int
    parts: int

    @property
    def label(self) -> str:
        """The topic as the schedule and calendar name it, e.g. "Flow models (part 2 of 4)"."""
        return self.topic if self.parts == 1 else f"{self.topic} (part {self.part} of {self.parts})"


@dataclass(frozen=True)
class LecturePlan:
    """The plan laid over the lectures that take place: each lecture's topics, and what is left."""

    lectures: tuple[tuple[Part, ...], ...]  # per lecture held, in date order; () means review
    not_reached: tuple[Part, ...]  # parts of the plan that come after the last lecture
    notices: tuple[str, ...]  # one sentence per shortfall: a topic cut short or not reached


def _plan_week(weeks: list[int], part: int, parts: int) -> int:
    """The plan week of `part` (1-based) of a topic over `weeks` split into `parts` lectures."""
    return weeks[(part - 1) * len(weeks) // parts]


def plan_lectures(plan: list[dict], held: list[dt.date], per_week: int,
                  pins: dict[int, dt.date] | None = None, cancelled: set[dt.date] | None = None) -> LecturePlan:
    """Lay the plan's topics over the lectures held, in order, `per_week` lectures per plan week.

    A topic takes `per_week` lectures for each week it spans, so a cancellation delays the
    topics after it by one lecture and a make-up brings them forward by one. `pins` maps a
    plan index to the date of its first lecture: topics before a pin that do not fit are cut
    short (each keeps at least one lecture) and lectures left over before it are review.
    Consecutive topics pinned to one date share that lecture. Topics that run past the last
    lecture are not reached. Raises CourseDataError naming the pin when it cannot be honoured.
    """
    pins, cancelled = pins or {}, cancelled or set()
    starts: list[tuple[int, int]] = []  # (plan index, lecture index) where a segment of the plan starts
    previous: tuple[int, dt.date] | None = None
    for i in sorted(pins):
        day, field = pins[i], f"plan[{i}].starts_on"
        if day not in held:
            why = "that meeting is cancelled" if day in cancelled else "no lecture meets that day"
            raise CourseDataError(field, f"({day}) is not a day on which a lecture takes place ({why})")
        if previous is not None and day < previous[1]:
            raise CourseDataError(field, f"({day}) is before plan[{previous[0]}].starts_on ({previous[1]}): "
                                  "pinned topics must keep the plan's order")
        previous = (i, day)
        starts.append((i, held.index(day)))
    if not starts or starts[0][0] != 0:
        starts.insert(0, (0, 0))

    lectures: list[list[Part]] = [[] for _ in held]
    not_reached: list[Part] = []
    notices: list[str] = []
    for s, (first, lecture) in enumerate(starts):
        last, stop = (starts[s + 1] if s + 1 < len(starts) else (len(plan), len(held)))
        entries = list(range(first, last))
        needs = [per_week * len(plan[i]["weeks"]) for i in entries]
        room = stop - lecture
        if s + 1 < len(starts):  # a pin ends this segment: fit its topics into the lectures before it
            pinned = plan[last]["topic"]
            if room == 0 and len(entries) == 1 and first in pins:
                needs, room = [1], 1  # pinned to the same day as the next topic: they share it
            elif room < len(entries):
                raise CourseDataError(f"plan[{last}].starts_on",
                                      f"({pins[last]}) leaves {room} lecture(s) for the {len(entries)} topic(s) "
                                      f"before it (plan[{first}] to plan[{last - 1}]): pin it later, or pin "
                                      "those topics to the same day")
            planned = list(needs)
            while sum(needs) > room:  # cut the longest topic, the later one on a tie
                longest = max((need, k) for k, need in enumerate(needs))[1]
                needs[longest] -= 1
            for i, need, plan_need in zip(entries, needs, planned, strict=True):
                if need < plan_need:
                    notices.append(f"'{plan[i]['topic']}' gets {need} of its {plan_need} lectures, to fit "
                                   f"before '{pinned}' (pinned to {pins[last]})")
        for i, need in zip(entries, needs, strict=True):
            weeks = plan[i]["weeks"]
            for part in range(1, need + 1):
                piece = Part(i, plan[i]["topic"], _plan_week(weeks, part, need), part, need)
                if lecture < len(held):
                    lectures[lecture].append(piece)
                    lecture += 1
                else:
                    not_reached.append(piece)
    if not_reached:
        after = f"after the last lecture ({held[-1]})" if held else "(no lecture takes place)"
        pieces = "; ".join(_reach_text(group) for group in _by_topic(not_reached))
        notices.append(f"{len(not_reached)} planned lecture(s) come {after}, so these are not reached: {pieces}")
    return LecturePlan(tuple(tuple(ls) for ls in lectures), tuple(not_reached), tuple(notices))


def _by_topic(parts: list[Part] | tuple[Part, ...]) -> list[list[Part]]:
    groups: list[list[Part]] = []
    for piece in parts:
        if groups and groups[-1][0].entry == piece.entry and groups[-1][0].plan_week == piece.plan_week:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return groups


def _reach_text(group: list[Part]) -> str:
    """The parts of one topic in one plan week, e.g. "Flow models, parts 3–4 of 4 (plan week 11)"."""
    first, last = group[0], group[-1]
    if first.parts == 1:
        which = ""
    elif first.part == 1 and last.part == last.parts:
        which = f", all {first.parts} lectures"
    elif first is last:
        which = f", part {first.part} of {first.parts}"
    else:
        which = f", parts {first.part}–{last.part} of {first.parts}"
    return f"{first.topic}{which} (plan week {first.plan_week})"


def not_reached_rows(course: dict) -> list[dict]:
    """The plan weeks past the last lecture, one row per topic and plan week, for the schedule page."""
    return [{"plan_week": group[0].plan_week, "text": _reach_text(group).rsplit(" (plan week", 1)[0]}
            for group in _by_topic(course["_parsed"]["lecture_plan"].not_reached)]


def plan_notice(course: dict) -> str:
    """The build's notice about the plan ("" when every topic gets all its lectures)."""
    notices = course["_parsed"]["lecture_plan"].notices
    if not notices:
        return ""
    text = "coursegen: notice: " + "; ".join(notices) + "."
    if course["_parsed"]["lecture_plan"].not_reached:
        text += ' The schedule page marks them "not reached".'
    return text


@dataclass(frozen=True)
class Session:
    """One row of the schedule: a lecture, a make-up or a cancelled meeting."""

    date: dt.date
    start: dt.time
    end: dt.time
    kind: str  # "lecture", "makeup" or "cancelled"
    week: int  # the calendar (teaching) week of the date
    room: str
    number: int | None  # running number of the lectures that take place
    note: str = ""
    parts: tuple[Part, ...] = ()  # the plan topics of a lecture held; () for review or a cancellation

    @property
    def topic(self) -> str:
        """What the lecture covers, as the page and the calendar name it ("" when cancelled)."""
        if self.kind == "cancelled":
            return ""
        return " · ".join(p.label for p in self.parts) if self.parts else "Review"

    @property
    def plan_week(self) -> str:
        """The plan week(s) of the lecture's topics, e.g. "8" ("" for review or a cancellation)."""
        return ", ".join(dict.fromkeys(str(p.plan_week) for p in self.parts))


def _meeting_rows(p: dict) -> list[tuple[dt.date, Slot, str, dict | None]]:
    """Every meeting of the term in date order: (day, slot, kind, the make-up or None)."""
    rows = []
    for week in range(1, p["weeks"] + 1):
        monday = _week_monday(p["start"], week)
        for meeting in p["meetings"]:
            day = monday + dt.timedelta(days=meeting["weekday"])
            if day < p["start"]:
                continue
            rows.append((day, meeting["slot"], "cancelled" if day in p["cancellations"] else "lecture", None))
    rows += [(m["date"], m["slot"], "makeup", m) for m in p["makeups"]]
    rows.sort(key=lambda r: (r[0], r[1].start))
    return rows


def build_schedule(course: dict) -> list[Session]:
    """Every meeting of the term in date order, cancellations and make-ups marked, topics assigned."""
    p = course["_parsed"]
    online = course["format"]["online"]
    topics = iter(p["lecture_plan"].lectures)
    sessions, number = [], 0
    for day, slot, kind, makeup in _meeting_rows(p):
        week = (day - _week_monday(p["start"], 1)).days // 7 + 1
        if kind == "cancelled":
            sessions.append(Session(day, slot.start, slot.end, kind, week, f"{course['format']['room']} and {online}",
                                    None, "No class"))
            continue
        number += 1
        room = f"{makeup['room'] if makeup else course['format']['room']} and {online}"
        note = makeup["note"].strip() if makeup else ""
        sessions.append(Session(day, slot.start, slot.end, kind, week, room, number, note, next(topics)))
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
    book_pages = [{"file": "notation"}] + [{"file": f"course/{p}"} for p in BOOK_PAGES]  # notation.md: by hand
    parts.append({"caption": "About this book", "chapters": book_pages})
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


def event_title(course: dict, session: Session) -> str:
    """The calendar title of a lecture held, e.g. "M1407.001200 lecture 3 (make-up): Flow models (part 1 of 4)"."""
    makeup = " (make-up)" if session.kind == "makeup" else ""
    return f"{course['course']['number']} lecture {session.number}{makeup}: {session.topic}"


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
        summary = event_title(course, s)
        lines += ["BEGIN:VEVENT",
                  f"UID:{s.date:%Y%m%d}-{s.start:%H%M}-{re.sub(r'[^A-Za-z0-9]', '', info['number'])}@course-book",
                  f"DTSTAMP:{stamp}", f"DTSTART:{utc(s.date, s.start)}", f"DTEND:{utc(s.date, s.end)}",
                  f"SUMMARY:{_ics_escape(summary)}",
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
        "not_reached": not_reached_rows(course),
    }
    notice = plan_notice(course)
    if notice:
        print(notice)  # a notice, not a warning: a short term is the instructor's call, not a build error
    pages = {f"{name}.md": env.get_template(f"{name}.md.j2").render(**context) for name in PAGES + BOOK_PAGES}
    pages["homework.md"] = env.get_template("homework.md.j2").render(**context)
    return pages


def generate(course_file: Path, root: Path, *, toc: bool = False) -> list[Path]:
    """Validate `course_file`, then write the untracked course/*.md and course/course.ics under
    `root`; with `toc`, write only the tracked _toc.yml instead (`make toc`)."""
    course = load_course(course_file)
    if toc:
        outputs = {root / "_toc.yml": render_toc(course)}
    else:
        outputs = {root / "course" / name: text for name, text in render_pages(course).items()}
        outputs[root / "course" / "course.ics"] = render_ics(course)
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
    parser.add_argument("--toc", action="store_true", help="write only _toc.yml (tracked: commit it)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            load_course(args.course)
            print(f"{args.course}: OK")
            return 0
        written = generate(args.course, args.root, toc=args.toc)
    except CourseDataError as err:
        print(f"error: {err}\nFix {args.course} and run the build again.", file=sys.stderr)
        return 2
    print(f"coursegen: {len(written)} file(s) updated from {args.course.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
