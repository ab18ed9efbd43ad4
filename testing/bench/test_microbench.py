"""The in-process micro-benchmark establishes real childless IKE SAs and times only them."""

from __future__ import annotations

import pytest

from testing.bench import microbench


def test_each_run_establishes_a_childless_ike_sa_per_initiator_id(capsys):
    assert microbench.main(["--n", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("responder CPU per childless PSK x25519 IKE SA over 3: mean ")


def test_responder_holds_the_instances_without_child_sas():
    pair = microbench._pair(2)
    for i in range(2):
        pair.west.whack({"action": "initiate", "name": f"load-{i}"})
        pair.pump()
    east = pair.east.core
    kinds = [s.kind.name for s in east.states]
    assert kinds == ["STATE_V2_ESTABLISHED_IKE_SA"] * 2
    labels = sorted(s.conn.label for s in east.states)
    assert labels == ['"bench"[1] 198.18.0.2', '"bench"[2] 198.18.0.2']
    assert pair.east.kernel.installed_sas() == []
    assert [str(s.peer_id) for s in east.states] == ["@load-0.bench", "@load-1.bench"]


def test_a_bad_count_is_refused():
    with pytest.raises(SystemExit):
        microbench.main(["--n", "0"])
