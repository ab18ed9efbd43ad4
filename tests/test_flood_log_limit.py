"""The log rate limiter (pluto/log.py) and the DDoS options of the command line."""

from __future__ import annotations

import pytest

from pluto.log import DebugFlags, Logger, LogRateLimiter, RateLimitedSink, rate_limited
from pluto.server.options import OptionsError, parse_options


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t


def _logger(clock: Clock, **limits) -> tuple[Logger, list[str]]:
    lines: list[str] = []
    return rate_limited(Logger(lines.append, DebugFlags(["base"])), clock.now, **limits), lines


def test_drop_notices_of_one_kind_are_limited_and_summarised():
    clock = Clock()
    logger, lines = _logger(clock, burst=3, window=10)
    for port in range(100):
        logger.log(f"packet from 198.51.100.{port}:UDP/{4000 + port}: IKE_AUTH message has "
                   f"unknown IKE SPIs {port:016x}/{port + 1:016x}; ignoring it")
    assert len(lines) == 3 and lines[2].startswith("packet from 198.51.100.2:UDP/4002")
    clock.t += 10
    logger.log("packet from 203.0.113.5:UDP/500: IKE_AUTH message has unknown IKE SPIs "
               "00000000000000aa/00000000000000bb; ignoring it")
    assert lines[3] == ("97 messages suppressed (more than 3 in 10 seconds) like: IKE_AUTH "
                        "message has unknown IKE SPIs #/#; ignoring it")
    assert lines[4].startswith("packet from 203.0.113.5")
    assert logger.sink.limiter.suppressed_total == 97


def test_other_lines_debug_lines_and_other_kinds_are_not_held_back():
    clock = Clock()
    logger, lines = _logger(clock, burst=1, window=60)
    for i in range(5):
        logger.log(f'"west-east" #{i}: responder established IKE SA')
        logger.debug("base", f"#{i} something; dropping it")
        logger.log(f"packet from 198.51.100.1:UDP/500: kind {'ab'[i % 2]} of drop; dropping it")
    assert sum("established" in line for line in lines) == 5
    assert sum(line.startswith("| ") for line in lines) == 5
    assert sum("of drop" in line for line in lines) == 2  # "kind a" and "kind b": two kinds
    assert logger.sink.limiter.suppressed_total == 3


def test_state_prefixed_drop_notices_are_limited_per_connection_and_kind():
    clock = Clock()
    logger, lines = _logger(clock, burst=2, window=60)
    for conn in ("a", "b"):
        state = logger.with_prefix(f'"{conn}" #7: ')
        for _ in range(10):
            state.log("INFORMATIONAL message failed its integrity check (tag); dropping it")
    assert len(lines) == 4


def test_the_table_of_kinds_is_bounded_and_flush_reports_what_is_held():
    clock = Clock()
    limiter = LogRateLimiter(clock.now, burst=1, window=60, max_kinds=10)
    sink_lines: list[str] = []
    sink = RateLimitedSink(sink_lines.append, limiter)
    for i in range(1000):
        sink(f"packet from 198.51.100.1:UDP/500: reason {chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
             "; dropping it")
    assert len(limiter._kinds) <= 11  # ten kinds and the shared slot for the rest
    assert len(sink_lines) <= 11
    summaries = limiter.flush()
    assert summaries and all("messages suppressed" in s for s in summaries)
    assert sum(int(s.split()[0]) for s in summaries) == limiter.suppressed_total
    assert limiter.flush() == []


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        LogRateLimiter(Clock().now, burst=0)
    with pytest.raises(ValueError):
        LogRateLimiter(Clock().now, window=0)


def test_ddos_options_parse_and_bad_ones_name_the_option():
    opts = parse_options(["--ddos-mode", "BUSY", "--ddos-ike-threshold", "100",
                          "--max-halfopen-ike", "200", "--max-halfopen-ike-per-peer=0"])
    assert (opts.ddos_mode, opts.ddos_ike_threshold, opts.max_halfopen_ike,
            opts.max_halfopen_ike_per_peer) == ("busy", 100, 200, 0)
    defaults = parse_options([])
    assert (defaults.ddos_mode, defaults.ddos_ike_threshold, defaults.max_halfopen_ike) == (
        "auto", 25_000, 50_000)
    for argv, named in ((["--ddos-mode", "sometimes"], "--ddos-mode"),
                        (["--ddos-ike-threshold", "-1"], "--ddos-ike-threshold"),
                        (["--max-halfopen-ike", "lots"], "--max-halfopen-ike")):
        with pytest.raises(OptionsError, match=named):
            parse_options(argv)
