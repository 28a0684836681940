"""Transitions -> messages a person reads in Slack or an e-mail client.

What one run caused is one message: a run that fails because a symbol never loaded opens a
run failure and a failed asset check (and perhaps symbol streaks), and the message titled by
the most important of them lists the others below it, with the run's link once. Its recovery
is one message too. Staleness has no run: one message per direction per tick, so twenty
symbols going stale at once is one message listing twenty lines, not twenty messages. The
incidents stay separate in `alert_incident`; only the messages are grouped. Every text passes
through `redact`, so neither the API key nor a password can reach a channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stockpipe.alerts.incidents import (
    CHECK_FAILED,
    RUN_FAILED,
    STALE,
    SYMBOL_STREAK,
    Transition,
)
from stockpipe.redact import redact

PREFIX = "stockpipe"
_STATUS_ORDER = ("loaded", "up_to_date", "deferred", "failed")


@dataclass(frozen=True, slots=True)
class Message:
    title: str  # one line: the e-mail subject, the first line in Slack
    lines: tuple[str, ...] = ()
    link: str = ""

    def text(self) -> str:
        body = "\n".join(self.lines)
        return f"{body}\n{self.link}" if self.link else body

    def slack_payload(self) -> dict[str, Any]:
        text = f"*{self.title}*\n{self.text()}".rstrip()
        return {"text": text, "unfurl_links": False}

    def redacted(self, secrets: Iterable[str | None]) -> Message:
        wanted = list(secrets)
        return Message(
            redact(self.title, wanted),
            tuple(redact(line, wanted) for line in self.lines),
            redact(self.link, wanted),
        )


def render(transitions: Sequence[Transition], secrets: Iterable[str | None] = ()) -> list[Message]:
    """Messages for these transitions, in the order of the first transition of each."""
    wanted = list(secrets)
    return [render_batch(batch, wanted) for batch in batches(transitions)]


def batches(transitions: Sequence[Transition]) -> list[list[Transition]]:
    """The transitions one message carries: all that one run caused, or one direction of
    staleness; in the order of each batch's first transition."""
    found: dict[tuple[str, ...], list[Transition]] = {}
    for t in transitions:
        run_id = t.run_id
        key = ("run", run_id) if run_id else ("stale", t.kind, str(t.recovered))
        found.setdefault(key, []).append(t)
    return list(found.values())


def render_batch(batch: Sequence[Transition], secrets: Iterable[str | None] = ()) -> Message:
    """One message: the most important part titles it, the others follow under their own
    headings, and the run's link (if any) ends it."""
    parts: list[Message] = []
    for kind, recovered in _PART_ORDER:
        members = [t for t in batch if t.kind == kind and t.recovered == recovered]
        if not members:
            continue
        if kind == RUN_FAILED:
            parts.extend(_run(t) for t in members)
        else:
            parts.append(_GROUPED[kind](members, recovered))
    first, rest = parts[0], parts[1:]
    lines = list(first.lines)
    for part in rest:
        lines.extend(["", part.title.removeprefix(f"{PREFIX}: ") + ":", *part.lines])
    link = next((p.link for p in parts if p.link), "")
    return Message(first.title, tuple(lines), link).redacted(secrets)


def test_alert_message(hostname: str, moment: str) -> Message:
    return Message(
        f"{PREFIX}: test alert",
        (
            f"A test message from `stockpipe alerts test` on {hostname} at {moment}.",
            "If you read this, this channel receives stockpipe's alerts.",
        ),
    )


def _run(t: Transition) -> Message:
    d = t.details
    if t.recovered:
        c = t.close_details
        runs = "run" if t.occurrences == 1 else "runs"
        return Message(
            f"{PREFIX}: {t.subject} recovered",
            (
                f"Run {c.get('run_id', '?')} of {t.subject} succeeded after {t.occurrences}"
                f" failed {runs} since {_when(t.opened_at)}.",
            ),
            str(c.get("url", "")),
        )
    lines = [f"Job: {d['job']}", f"Run: {d['run_id']}"]
    counts = d.get("counts") or {}
    if counts:
        lines.append(
            "Symbols: "
            + ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in _by_status(counts))
        )
    if d.get("failed"):
        lines.append("Failed:")
        lines.extend(f"  {subject}: {reason}" for subject, reason in d["failed"])
    if d.get("deferred"):
        lines.append("Deferred: " + ", ".join(d["deferred"]))
    if d.get("error"):
        lines.append(f"Error: {d['error']}")
    return Message(f"{PREFIX}: run of {d['job']} failed", tuple(lines), str(d.get("url", "")))


def _streaks(members: list[Transition], recovered: bool) -> Message:
    count = _count(len(members), "symbol")
    if recovered:
        back = tuple(
            f"{t.subject}: {t.close_details.get('status', 'ok').replace('_', ' ')} in run"
            f" {t.close_details.get('run_id', '?')}, after {_consecutive(t)} failed or deferred"
            " runs in a row"
            for t in members
        )
        return Message(f"{PREFIX}: {count} recovered", back, _link(members, recovered))
    lines = tuple(
        f"{t.subject}: {t.details['status']} in {t.details['consecutive']} consecutive runs;"
        f" last: {t.details.get('message') or t.details['status']}"
        for t in members
    )
    return Message(
        f"{PREFIX}: {count} failed or deferred run after run", lines, _link(members, recovered)
    )


def _checks(members: list[Transition], recovered: bool) -> Message:
    count = _count(len(members), "asset check")
    if recovered:
        passed = tuple(
            f"{t.subject}: passes again ({t.close_details.get('summary', '')})" for t in members
        )
        verb = "passes" if len(members) == 1 else "pass"
        return Message(f"{PREFIX}: {count} {verb} again", passed, _link(members, recovered))
    lines: list[str] = []
    for t in members:
        d = t.details
        lines.append(f"{t.subject}: {d.get('summary', 'failed')}")
        if d.get("symbols"):
            lines.append("  symbols: " + ", ".join(d["symbols"]))
        lines.extend(f"  {example}" for example in d.get("examples", []))
    return Message(f"{PREFIX}: {count} failed", tuple(lines), _link(members, recovered))


def _stale(members: list[Transition], recovered: bool) -> Message:
    count = _count(len(members), "symbol")
    if recovered:
        fresh = tuple(
            f"{t.subject}{_in_table(t.close_details)}: fresh again,"
            f" newest bar {t.close_details.get('latest') or 'none'}"
            + (f" ({t.close_details['note']})" if t.close_details.get("note") else "")
            for t in members
        )
        return Message(f"{PREFIX}: {count} up to date again", fresh)
    window = members[0].details.get("window_hours")
    lines = [
        f"{t.subject}{_in_table(t.details)}: newest bar {t.details.get('latest')},"
        f" {_count(int(t.details.get('sessions_behind', 0)), _unit(t.details))} missing"
        f" since {t.details.get('missing_since')}"
        for t in members
    ]
    lines.append(
        "Usual causes: the API budget ran out, the schedule is off, or the daemon was down;"
        " `stockpipe status` shows each symbol's last result."
    )
    return Message(f"{PREFIX}: {count} stale for more than {window:g} h", tuple(lines))


_GROUPED = {SYMBOL_STREAK: _streaks, CHECK_FAILED: _checks, STALE: _stale}
# Problems before recoveries; within each, the run before what it explains.
_PART_ORDER = (
    (RUN_FAILED, False), (CHECK_FAILED, False), (SYMBOL_STREAK, False), (STALE, False),
    (RUN_FAILED, True), (CHECK_FAILED, True), (SYMBOL_STREAK, True), (STALE, True),
)  # fmt: skip
# What a weekly (monthly) symbol misses is a period's closing row, not one session's bar.
_UNITS = {"weekly": "week", "monthly": "month"}


def _link(members: list[Transition], recovered: bool) -> str:
    for t in members:
        url = (t.close_details if recovered else t.details).get("url")
        if url:
            return str(url)
    return ""


def _unit(details: dict[str, Any]) -> str:
    return _UNITS.get(str(details.get("series")), "session")


def _in_table(details: dict[str, Any]) -> str:
    return f" in {details['table']}" if details.get("table") else ""


def _consecutive(t: Transition) -> int:
    return int(t.details.get("consecutive", 0)) + t.occurrences - 1


def _by_status(counts: dict[str, int]) -> list[str]:
    # JSONB keeps keys in its own order: show the statuses in the pipeline's order.
    known = [s for s in _STATUS_ORDER if counts.get(s)]
    return known + sorted(s for s in counts if s not in _STATUS_ORDER and counts[s])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _when(moment: Any) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(moment)
