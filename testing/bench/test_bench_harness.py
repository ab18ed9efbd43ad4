"""The benchmark harness's pure parts: log parsing, figures, configuration, the table.

The runs themselves need root, namespaces and the load-tester build: `tox -e bench -- --quick`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.bench import report
from testing.bench.__main__ import CASES, parse_args, plan
from testing.bench.figures import RunFigures, busy, rates, series, spread
from testing.bench.generator import (
    INITIATORS,
    EstablishedCounter,
    parse_log,
    strongswan_conf,
)
from testing.bench.responders import LIBRESWAN_IKE, PLUTO_IKE, RESPONDERS

LOG = """\
1700000000.000 05[IKE] initiating IKE_SA load-test[1] to 198.18.0.1
1700000000.010 06[IKE] initiating IKE_SA load-test[2] to 198.18.0.1
1700000000.050 07[IKE] IKE_SA load-test[2] established between 198.18.0.2[load-2.bench]...198.18.0.1[responder.bench]
1700000002.010 05[IKE] retransmit 1 of request with message ID 1
1700000002.100 08[IKE] initiating IKE_SA load-test[1] to 198.18.0.1
1700000002.500 08[IKE] IKE_SA load-test[1] established between 198.18.0.2[load-1.bench]...198.18.0.1[responder.bench]
"""


def test_parse_log_keeps_first_initiation_and_counts_retransmits():
    log = parse_log(LOG)
    # a second "initiating" line of SA 1 (after a COOKIE) keeps the first time
    assert log.initiated == {1: 1700000000.0, 2: 1700000000.01}
    assert log.established == {2: 1700000000.05, 1: 1700000002.5}
    assert log.retransmits == 1


def test_established_counter_reads_only_what_was_appended(tmp_path):
    log = tmp_path / "generator.log"
    lines = LOG.splitlines(keepends=True)
    counter = EstablishedCounter(log)
    assert counter() == 0                       # no log yet
    log.write_text("".join(lines[:3]) + lines[4][:30])   # ends inside an unfinished line
    assert counter() == 1
    with open(log, "a") as f:
        f.write(lines[4][30:] + lines[5])
    assert counter() == 2
    assert counter() == 2                       # nothing new


def test_rates_first_and_last_tenth():
    initiated = [0.0]
    # 100 SAs: the first ten one per 10 ms, the rest one per 100 ms
    established = [0.01 * (i + 1) for i in range(10)] + [0.1 + 0.1 * i for i in range(1, 91)]
    overall, first, last = rates(initiated, established)
    assert overall == pytest.approx(100 / 9.1)
    assert first == pytest.approx(10 / 0.1)
    assert last == pytest.approx(10 / 1.0)
    assert rates([], []) == (0.0, 0.0, 0.0)


def test_series_bins_cover_every_sa():
    bins = series([0.0], [0.1, 0.2, 0.9, 1.0], bins=2)
    assert bins == [(0.5, 2), (1.0, 2)]


def test_busy_is_cpu_over_the_run():
    assert busy(0.5, [10.0], [10.5, 12.0]) == pytest.approx(0.25)
    assert busy(1.0, [], []) == 0.0


def test_spread_text():
    assert spread([3.0, 1.0, 2.0]).text(0) == "1 / 2 / 3"
    assert spread([2.0, 2.0]).text(1) == "2.0"


def test_generator_config_is_childless_with_unique_ids():
    conf = strongswan_conf(CASES["psk-x25519"], 500, log=Path("/x.log"))
    assert "childless = yes" in conf
    assert "initiator_id = load-%d.bench" in conf
    assert "proposal = aes128gcm16-prfsha256-x25519" in conf
    assert "childless = no" in strongswan_conf(CASES["psk-x25519-child"], 500,
                                               log=Path("/x.log"))


def test_every_case_has_a_proposal_for_every_responder():
    for case in CASES.values():
        assert case.ike in LIBRESWAN_IKE and case.ike in PLUTO_IKE
    assert set(RESPONDERS) == {"pluto", "strongswan", "libreswan"}


def test_quick_plan_and_interleaving():
    quick = plan(parse_args(["--quick"]))
    assert {count for _, count, _, _ in quick} == {500}
    assert len(quick) == len(CASES)
    full = plan(parse_args(["--case", "psk-x25519", "--n", "2000"]))
    orders = [order for _, _, _, order in full]
    # each run starts with another responder; ours also alone at 100,000
    assert orders[:3] == [["pluto", "strongswan", "libreswan"],
                          ["strongswan", "libreswan", "pluto"],
                          ["libreswan", "pluto", "strongswan"]]
    assert full[-1][1] == 100000 and full[-1][3] == ["pluto"]


def test_bad_counts_are_refused_naming_the_option(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--n", "1001"])
    assert f"--n 1001: must be a positive multiple of {INITIATORS}" in capsys.readouterr().err


def _run(responder: str, rate: float, cpu: float) -> RunFigures:
    return RunFigures(responder=responder, case="psk-x25519", count=500, established_gen=500,
                      established_resp=500, retransmits=0, rate=rate, first10=rate,
                      last10=rate, cpu_ms_per_sa=cpu, rss_kb_per_sa=10.0, udp_rcvbuf_errors=0,
                      udp_in_errors=0, gen_rcvbuf_errors=0, series=[],
                      responder_busy=0.5, generator_busy=0.5)


def test_markdown_ratios_are_ours_over_theirs():
    table = report.markdown([_run("pluto", 100.0, 2.0), _run("libreswan", 200.0, 1.0)],
                            {"pluto": "", "libreswan": ""})
    row = next(line for line in table.splitlines() if "| libreswan |" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[-2] == "0.50x"   # our rate / theirs
    assert cells[-1] == "0.50x"   # their CPU per SA / ours
