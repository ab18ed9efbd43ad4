"""The soak harness: its parts on their own (quick, no root), and a short soak in the lab.

The lab run (root; User-Mode-Linux where the host kernel has no ESP) is the CI-sized version
of ``python -m testing.soak``: 6 tunnels rekeying every few seconds for 30 s with traffic.
It runs with east's rekey=no: with both ends starting rekeys, pluto loses requests sent over
an IKE SA that the peer rekeyed (README.md, "Found on the way"), and the run fails by chance.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testing.soak import __main__ as cli
from testing.soak import logscan, plan, traffic, verdict

REPO = Path(__file__).resolve().parent.parent.parent


def test_tunnels_are_disjoint_30s_in_the_benchmark_range():
    items = plan.tunnels(300)
    nets = [t.west_net for t in items] + [t.east_net for t in items]
    assert len(set(nets)) == 600
    assert all(n.prefixlen == 30 and (n.subnet_of(plan.WEST_BLOCK) or n.subnet_of(plan.EAST_BLOCK))
               for n in nets)
    assert items[1].west_client == "198.18.64.5" and items[1].east_client == "198.19.64.5"
    with pytest.raises(ValueError, match="--tunnels must be 1..4096"):
        plan.tunnels(4097)


def test_sample_spreads_over_all_tunnels():
    items = plan.tunnels(100)
    chosen = plan.sample(items, 4)
    assert [t.index for t in chosen] == [0, 25, 50, 75]
    assert plan.sample(items[:3], 10) == items[:3]


def test_ipsec_conf_gives_each_tunnel_its_ids_and_subnets():
    items = plan.tunnels(2)
    east = plan.ipsec_conf("east", items, plan.Lifetimes(20, 30, 6, 100), "/r", "/l", "/s")
    assert "\tauto=add\n" in east and "\tsalifetime=20s\n" in east
    assert ("conn soak1\n\tleftid=@east-soak1\n\trightid=@west-soak1\n"
            "\tleftsubnet=198.19.64.4/30\n\trightsubnet=198.18.64.4/30\n") in east
    assert "rekey=no" not in east
    assert "\trekey=no\n" in plan.ipsec_conf("east", items, plan.Lifetimes(), "/r", "/l", "/s",
                                             east_rekeys=False)
    assert plan.secrets_file(items).splitlines()[1].startswith("@west-soak1 @east-soak1 : PSK")


def test_lifetimes_must_leave_room_for_the_fuzzed_margin():
    plan.Lifetimes(21, 30, 10, 100).validate()
    with pytest.raises(ValueError, match="--salifetime 20 must exceed"):
        plan.Lifetimes(20, 30, 10, 100).validate()


def test_cli_refuses_bad_counts_naming_the_option(capsys):
    with pytest.raises(SystemExit):
        cli.parse(["--tunnels", "0"])
    assert "--tunnels must be 1..4096" in capsys.readouterr().err


LOG = """\
Nov 24 09:15:07.000000: "soak3" #9: initiator rekeyed Child SA #4 using #2; IPsec tunnel
Nov 24 09:15:08.500000: "soak3" #10: initiator rekeyed IKE SA #2 {cipher=AES_GCM_16_256}
Nov 24 09:15:09.000000: "soak4" #11: responder rekeyed Child SA #5 using #3; IPsec tunnel
Nov 24 09:15:09.100000: "soak4" #3: STATE_V2_REKEY_CHILD_I: retransmission; will wait 1 s
Nov 24 09:15:10.000000: "soak5" #12: STATE_V2_REKEY_CHILD_I: 60 second timeout exceeded
Nov 24 09:15:10.050000: packet from 198.51.100.45:UDP/500: 16 half-open IKE SAs from this address
Nov 24 09:15:10.100000: | a debug line mentioning failed is no outcome
Traceback (most recent call last):
"""


def test_logscan_counts_rekeys_failures_and_tracebacks():
    summary = logscan.scan(LOG, year=2026)
    assert [e.conn for e in summary.child_rekeys] == ["soak3"]
    assert [e.conn for e in summary.ike_rekeys] == ["soak3"]
    assert summary.ike_rekeys[0].when - summary.child_rekeys[0].when == pytest.approx(1.5)
    assert summary.responder_rekeys == 1 and summary.retransmits == 1
    assert [e.conn for e in summary.failures] == ["soak5", ""]
    assert len(summary.tracebacks) == 1


def test_flat_flags_rss_and_fd_growth_after_warmup_only():
    steady = verdict.Samples("west", [(0, 10000, 30), (12, 50000, 12), (60, 51000, 13)])
    assert verdict.flat(steady, warmup=10) == []
    leaking = verdict.Samples("east", [(12, 50000, 12), (60, 70000, 40)])
    problems = verdict.flat(leaking, warmup=10)
    assert problems == ["east: pluto RSS grew from 50000 KiB to 70000 KiB",
                        "east: pluto open fds grew from 12 to 40"]


def test_losses_are_matched_to_rekeys_of_their_tunnel():
    sent = {"0": [100.0, 100.2, 100.4, 100.6, 110.0], "1": [100.0, 105.0, 110.0]}
    received = {"0": [0, 2, 3], "1": [0, 2]}
    total, lost, lines = verdict.losses(sent, received, {"soak0": [101.0]},
                                        {"0": "soak0", "1": "soak1"})
    # the last second of sending is not counted: 4 + 2 datagrams
    assert (total, lost) == (6, 2)
    assert lines == ["soak0 seq 1 sent at 100.200 (within 2 s of a rekey)",
                     "soak1 seq 1 sent at 105.000 (no rekey nearby)"]


def test_traffic_source_and_sink_count_real_datagrams_on_loopback(tmp_path):
    port = 20000 + (hash(str(tmp_path)) % 20000)
    sink = subprocess.Popen([sys.executable, "-m", "testing.soak.traffic", "sink", str(port),
                             str(tmp_path / "sink.json"), "--seconds", "10"], cwd=REPO)
    try:
        assert traffic.wait_ready(str(tmp_path / "sink.json"), timeout=30)
        subprocess.run([sys.executable, "-m", "testing.soak.traffic", "source", str(port),
                        str(tmp_path / "source.json"), "--seconds", "1", "--rate", "20",
                        "0:127.0.0.1:127.0.0.1", "7:127.0.0.1:127.0.0.1"],
                       cwd=REPO, check=True, timeout=20)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    sent = json.loads((tmp_path / "source.json").read_text())["sent"]
    received = json.loads((tmp_path / "sink.json").read_text())["received"]
    assert set(sent) == {"0", "7"} and 15 <= len(sent["7"]) <= 22
    assert sorted(received["7"]) == list(range(len(sent["7"])))


@pytest.mark.root
def test_short_soak_in_the_lab(tmp_path):
    reason = cli.skip_reason()
    if reason:
        pytest.skip(reason)
    args = cli.parse(["--minutes", "0.5", "--tunnels", "6", "--traffic-tunnels", "6",
                      "--rate", "5", "--salifetime", "16", "--ikelifetime", "24",
                      "--rekeymargin", "5", "--rekeyfuzz", "100", "--east-rekey", "no"])
    lines, problems = cli.run(args, tmp_path)
    report = "\n".join(lines)
    assert problems == [], f"{report}\n" + "\n".join(problems)
    raw = json.loads((tmp_path / "soak.json").read_text())
    assert raw["established_at_start"] == 6
    # the lifetimes force several Child rekeys per tunnel within 30 s; every one completed
    child = sum(len(logscan.scan((tmp_path / h / "pluto.log").read_text()).child_rekeys)
                for h in ("west", "east"))
    assert child >= 6, report
    source = json.loads((tmp_path / "source.json").read_text())
    assert sum(len(v) for v in source["sent"].values()) >= 6 * 5 * 25, report
