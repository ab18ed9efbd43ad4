"""The benchmark's outputs: a Markdown table (stdout), a JSON file and a PNG plot."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .figures import RunFigures, ratio, spread

COLUMNS = ["case", "N", "responder", "SA/s", "busy", "CPU ms/SA", "RSS kB/SA", "first 10% SA/s",
           "last 10% SA/s", "last/first", "established (gen/resp)", "retransmits",
           "rcvbuf drops", "ours/this SA/s", "this/ours CPU per SA"]


def group(runs: list[RunFigures]) -> dict[tuple[str, int, str], list[RunFigures]]:
    groups: dict[tuple[str, int, str], list[RunFigures]] = defaultdict(list)
    for run in runs:
        groups[(run.case, run.count, run.responder)].append(run)
    return groups


def markdown(runs: list[RunFigures], child_notes: dict[str, str]) -> str:
    """One row per case, N and responder; cells are min / median / max over the runs."""
    groups = group(runs)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for (case, count, responder), rs in groups.items():
        ours = groups.get((case, count, "pluto"))
        ours_rate = spread([r.rate for r in ours]).median if ours else 0.0
        own_rate = spread([r.rate for r in rs]).median
        rate_ratio = ratio(ours_rate, own_rate) if ours else None
        ours_cpu = spread([r.cpu_ms_per_sa for r in ours]).median if ours else 0.0
        cpu_ratio = ratio(spread([r.cpu_ms_per_sa for r in rs]).median, ours_cpu) if ours \
            else None
        name = case + (f" (child: {child_notes[responder]})" if "child" in case else "")
        cells = [
            name, str(count), responder,
            spread([r.rate for r in rs]).text(0),
            spread([100 * r.responder_busy for r in rs]).text(0) + "%",
            spread([r.cpu_ms_per_sa for r in rs]).text(2),
            spread([r.rss_kb_per_sa for r in rs]).text(1),
            spread([r.first10 for r in rs]).text(0),
            spread([r.last10 for r in rs]).text(0),
            spread([r.last10 / r.first10 if r.first10 else 0.0 for r in rs]).text(2),
            ", ".join(f"{r.established_gen}/{r.established_resp}" for r in rs),
            ", ".join(str(r.retransmits) for r in rs),
            ", ".join(str(r.udp_rcvbuf_errors) for r in rs),
            "-" if responder == "pluto" or rate_ratio is None else f"{rate_ratio:.2f}x",
            "-" if responder == "pluto" or cpu_ratio is None else f"{cpu_ratio:.2f}x",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_json(path: Path, runs: list[RunFigures], extra: dict) -> None:
    path.write_text(json.dumps({**extra, "runs": [r.as_dict() for r in runs]}, indent=1) + "\n")


def plot(path: Path, runs: list[RunFigures]) -> str:
    """Rate over time per responder, one panel per case and N (median run by rate).

    matplotlib comes with the `bench` extra; without it the plot is skipped, with a reason."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install '.[bench]')"
    panels: dict[tuple[str, int], list[RunFigures]] = defaultdict(list)
    for (case, count, _responder), rs in group(runs).items():
        rs = sorted(rs, key=lambda r: r.rate)
        panels[(case, count)].append(rs[len(rs) // 2])
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), squeeze=False)
    for ax, ((case, count), rs) in zip(axes[:, 0], panels.items(), strict=True):
        for r in rs:
            if len(r.series) < 2:
                continue
            width = r.series[1][0] - r.series[0][0]
            ax.plot([t for t, _ in r.series], [c / width for _, c in r.series], label=r.responder)
        ax.set_title(f"{case}, N={count}")
        ax.set_xlabel("seconds since the first initiation")
        ax.set_ylabel("IKE SAs/s")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f"plot: {path}"
