"""Read a pluto log file (``--logfile``: each line stamped ``Nov 24 09:15:07.123456: ...``).

Counts what a soak run judges: Child and IKE rekeys (as initiator, so each rekey is counted
once when both logs are read), lines that mean a rekey or an SA went wrong, retransmissions,
and tracebacks, with the time of each so losses can be matched to rekey windows.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

STAMP = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d)\.(\d{6}): (.*)$")
CONN = re.compile(r'^"([^"]+)"')
CHILD_REKEY = re.compile(r"initiator rekeyed Child SA #\d+")
IKE_REKEY = re.compile(r"initiator rekeyed IKE SA #\d+")
RESPONDER_REKEY = re.compile(r"responder rekeyed (Child|IKE) SA #\d+")
ESTABLISHED_CHILD = re.compile(r"initiator established Child SA")
# Lines that mean a rekey (or an SA) did not go as it should.
FAILURE = re.compile(
    r"giving up|second timeout|lifetime expired|failed|NO_PROPOSAL_CHOSEN|TS_UNACCEPTABLE"
    r"|INVALID_|went away before its rekey|no answer to the Delete|error"
    r"|half-open IKE SAs", re.IGNORECASE)
RETRANSMIT = re.compile(r"retransmission")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


@dataclass
class Event:
    when: float  # seconds since the epoch (the log's local time)
    conn: str  # the connection name, or "" for lines without one
    text: str


@dataclass
class LogSummary:
    child_rekeys: list[Event] = field(default_factory=list)
    ike_rekeys: list[Event] = field(default_factory=list)
    established: list[Event] = field(default_factory=list)
    failures: list[Event] = field(default_factory=list)
    responder_rekeys: int = 0  # each must match an initiator's rekey in the other log
    retransmits: int = 0
    tracebacks: list[str] = field(default_factory=list)
    lines: int = 0


def _when(stamp: str, micros: str, year: int) -> float:
    parsed = time.strptime(f"{year} {stamp}", "%Y %b %d %H:%M:%S")
    return time.mktime(parsed) + int(micros) / 1e6


def scan(text: str, year: int | None = None) -> LogSummary:
    """Summarize one log; lines without a stamp (continuations, tracebacks) still count."""
    year = year or time.localtime().tm_year
    summary = LogSummary()
    last = 0.0
    for raw in text.splitlines():
        summary.lines += 1
        match = STAMP.match(raw)
        if match:
            last = _when(match.group(1), match.group(2), year)
            body = match.group(3)
        else:
            body = raw
        if TRACEBACK.search(body):
            summary.tracebacks.append(raw)
            continue
        if body.startswith("| "):
            continue  # debug lines tell stories, not outcomes
        conn_match = CONN.match(body)
        event = Event(last, conn_match.group(1) if conn_match else "", body)
        if CHILD_REKEY.search(body):
            summary.child_rekeys.append(event)
        elif IKE_REKEY.search(body):
            summary.ike_rekeys.append(event)
        elif RESPONDER_REKEY.search(body):
            summary.responder_rekeys += 1
        elif ESTABLISHED_CHILD.search(body):
            summary.established.append(event)
        elif RETRANSMIT.search(body):
            summary.retransmits += 1
        elif FAILURE.search(body):
            summary.failures.append(event)
    return summary
