"""Turn a soak run's files (soak.json, both pluto logs, the traffic counts) into a report
and the list of reasons it failed."""

from __future__ import annotations

import json
from pathlib import Path

from testing.soak import logscan, verdict

WARMUP = 10.0  # seconds of traffic before the first RSS/fd sample that counts


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def judge(workdir: Path) -> tuple[list[str], list[str]]:
    """(report lines, problems); no problems means the soak passed."""
    raw = _load(workdir / "soak.json")
    problems = list(raw.get("problems", []))
    if "samples" not in raw:
        return ["the soak run produced no figures"], problems or ["soak.json has no samples"]
    logs = {}
    for host in ("west", "east"):
        text = (workdir / host / "pluto.log").read_text(errors="replace") \
            if (workdir / host / "pluto.log").is_file() else ""
        stderr = (workdir / host / "pluto.stderr").read_text(errors="replace") \
            if (workdir / host / "pluto.stderr").is_file() else ""
        logs[host] = logscan.scan(text + "\n" + stderr)
    child = sum(len(s.child_rekeys) for s in logs.values())
    ike = sum(len(s.ike_rekeys) for s in logs.values())
    answered = sum(s.responder_rekeys for s in logs.values())
    # Before the traffic starts, failed first attempts are expected with many tunnels (the
    # per-peer half-open limit) and revived; from then on, every failure line counts.
    start = raw.get("traffic_started", 0.0)
    failures = [f"{h}: {e.text}" for h, s in logs.items() for e in s.failures
                if e.when >= start]
    setup_failures = sum(1 for s in logs.values() for e in s.failures if e.when < start)
    tracebacks = sum(len(s.tracebacks) for s in logs.values())
    retransmits = sum(s.retransmits for s in logs.values())
    rekey_times: dict[str, list[float]] = {}
    for s in logs.values():
        for e in s.child_rekeys + s.ike_rekeys:
            rekey_times.setdefault(e.conn, []).append(e.when)
    source, sink = _load(workdir / "source.json"), _load(workdir / "sink.json")
    names = {str(i): f"soak{i}" for i in range(raw.get("tunnels", 0))}
    sent, lost, lost_lines = verdict.losses(source.get("sent", {}), sink.get("received", {}),
                                            rekey_times, names)
    at_rekey = sum("within" in line for line in lost_lines)
    lines = [
        f"tunnels: {raw['tunnels']} ({raw.get('established_at_start')} up after "
        f"{raw.get('setup_seconds', 0):.0f} s), traffic on {raw['traffic_tunnels']} at "
        f"{raw['rate']:g}/s each, {raw['seconds']:.0f} s, lifetimes {raw['lifetimes']}, "
        f"east starts rekeys: {raw.get('east_rekeys', True)}",
        f"failure lines while setting up (before the traffic; revived): {setup_failures}",
        f"rekeys: {child} Child SA, {ike} IKE SA ({answered} completed by the responder); "
        f"failure lines: {len(failures)}; "
        f"retransmissions: {retransmits}; tracebacks: {tracebacks}",
        f"datagrams: {sent} sent, {lost} lost ({at_rekey} within "
        f"{verdict.REKEY_WINDOW:g} s of a rekey of their tunnel)",
    ]
    for host, points in raw["samples"].items():
        if points:
            after = [p for p in points if p[0] >= WARMUP] or points
            lines.append(f"{host} pluto: RSS {after[0][1]} -> {after[-1][1]} KiB (max "
                         f"{max(p[1] for p in points)}), fds {after[0][2]} -> {after[-1][2]}, "
                         f"{len(points)} samples")
        problems += verdict.flat(verdict.Samples(host, [tuple(p) for p in points]), WARMUP)
    counts = raw.get("sa_counts", [])
    if counts:
        lines.append(f"kernel ESP SAs during the run: west {min(c[1] for c in counts)}.."
                     f"{max(c[1] for c in counts)}, east {min(c[2] for c in counts)}.."
                     f"{max(c[2] for c in counts)}")
    left = raw.get("left_in_kernel", {})
    lines.append(f"left in the kernels after shutdown: {left or 'nothing'}")
    if child == 0:
        problems.append("no Child SA was rekeyed: lifetimes too long for the run?")
    if answered != child + ike:
        problems.append(f"{child + ike} rekeys completed by their initiator but {answered} by "
                        "their responder")
    if failures:
        problems.append(f"{len(failures)} failure lines in the logs, first: {failures[0]}")
    if tracebacks:
        problems.append(f"{tracebacks} tracebacks in the pluto logs")
    if sent == 0:
        problems.append("no traffic was sent")
    if lost:
        problems.append(f"{lost} of {sent} datagrams lost, first: {lost_lines[0]}")
    if left:
        problems.append(f"kernel SAs/policies left after shutdown: {left}")
    if raw.get("leftover_processes"):
        problems.append(f"processes left in the lab: {raw['leftover_processes']}")
    return lines, problems
