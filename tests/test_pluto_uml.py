"""pluto with real ESP: two plutos (without --noklips) inside a User-Mode-Linux guest.

The host kernel has no ESP, so this test boots ``linux.uml`` (labs/uml.py) and runs this file
inside it as ``python tests/test_pluto_uml.py RESULTS_DIR``: the west/east namespaces of
tests/test_pluto_kernel.py, pluto started in each, the connection added with whack and brought
up with ``whack --initiate``; then traffic between the client addresses, ``ip -s xfrm state``
and ``whack --trafficstatus`` read back, a Child SA rekey while traffic flows, ``--terminate``
and ``--shutdown``. The guest writes what it saw to RESULTS_DIR (on the shared host root) and
the host side asserts on it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from labs.uml import run_in_uml, unavailable_reason  # noqa: E402
from tests.test_pluto_kernel import CONN, Lab, without_socket_policies  # noqa: E402

WEST_CLIENT, EAST_CLIENT = "198.18.1.254", "198.18.2.254"


def _counters(text: str) -> list[tuple[int, int]]:
    """(bytes, packets) of each SA in ``ip -s xfrm state`` output."""
    return [(int(b), int(p)) for b, p in re.findall(r"(\d+)\(bytes\), (\d+)\(packets\)", text)]


def _ping(lab: Lab, count: int = 3) -> bool:
    done = lab.inside("west", "ping", "-c", str(count), "-i", "0.2", "-W", "2", "-I",
                      WEST_CLIENT, EAST_CLIENT, check=False)
    return done.returncode == 0


def guest(results: Path) -> int:
    """Runs inside the UML guest."""
    facts: dict[str, object] = {}
    lab = Lab(results, prefix="uml")
    try:
        lab.build()
        for host in ("west", "east"):
            lab.start(host, "--impair", "revival")
            lab.whack(host, *CONN)
        initiate = lab.whack("west", "--name", "west-east", "--initiate", check=False)
        facts["initiate"] = [initiate.returncode, initiate.stdout]
        facts["ping"] = _ping(lab)
        lab.udp("west", WEST_CLIENT, EAST_CLIENT, count=5)
        facts["west_state"] = lab.ip("west", "-s", "xfrm", "state")
        facts["east_state"] = lab.ip("east", "-s", "xfrm", "state")
        facts["trafficstatus"] = lab.whack("west", "--trafficstatus").stdout
        # rekey while a sender keeps going
        sender = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("west"), sys.executable, "-c",
             "import socket, time\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             f"s.bind(('{WEST_CLIENT}', 0))\n"
             "for _ in range(60):\n"
             f"    s.sendto(b'y' * 32, ('{EAST_CLIENT}', 9)); time.sleep(0.05)\n"])
        rekey = lab.whack("west", "--name", "west-east", "--rekey-child", check=False)
        sender.wait(30)
        facts["rekey"] = [rekey.returncode, rekey.stdout]
        facts["ping_after_rekey"] = _ping(lab)
        facts["states_after_rekey"] = lab.whack("west", "--showstates").stdout
        facts["west_state_after_rekey"] = lab.ip("west", "-s", "xfrm", "state")
        terminate = lab.whack("west", "--name", "west-east", "--terminate", check=False)
        facts["terminate"] = [terminate.returncode, terminate.stdout]
        time.sleep(0.5)  # east handles the Delete
        facts["after_terminate"] = {host: [lab.ip(host, "xfrm", "state"),
                                           lab.ip(host, "xfrm", "policy")]
                                    for host in ("west", "east")}
        facts["reinitiate"] = lab.whack("west", "--name", "west-east", "--initiate",
                                        check=False).returncode
        for host in ("west", "east"):
            lab.whack(host, "--shutdown", check=False)
            facts[f"{host}_exit"] = lab.wait_exit(host)
        facts["after_shutdown"] = {host: [lab.ip(host, "xfrm", "state"),
                                          lab.ip(host, "xfrm", "policy")]
                                   for host in ("west", "east")}
    except Exception as err:  # reported to the host side, which fails with the logs
        facts["error"] = repr(err)
    finally:
        facts["logs"] = {host: lab.log(host) for host in ("west", "east")}
        lab.close()
        (results / "facts.json").write_text(json.dumps(facts, indent=1))
    return 0


@pytest.mark.root
def test_pluto_carries_esp_traffic_rekeys_and_cleans_up_inside_uml(tmp_path):
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    os.chmod(tmp_path, 0o755)
    result = run_in_uml([sys.executable, str(Path(__file__).resolve()), str(tmp_path)],
                        memory="512M", timeout=150, workdir=str(REPO), prefix="pluto-h16")
    facts_path = tmp_path / "facts.json"
    assert facts_path.exists(), result.describe()
    facts = json.loads(facts_path.read_text())
    logs = "\n".join(f"--- {host} ---\n{text}" for host, text in facts["logs"].items())
    assert "error" not in facts, f"{facts['error']}\n{logs}"
    assert facts["initiate"][0] == 0, f"{facts['initiate']}\n{logs}"
    assert facts["ping"], logs
    for host in ("west", "east"):
        counters = _counters(facts[f"{host}_state"])
        assert len(counters) == 2 and all(b > 0 and p > 0 for b, p in counters), \
            facts[f"{host}_state"]
    traffic = facts["trafficstatus"]
    match = re.search(r"inBytes=(\d+), outBytes=(\d+)", traffic)
    assert match and int(match[1]) > 0 and int(match[2]) > 0, traffic
    assert facts["rekey"][0] == 0, f"{facts['rekey']}\n{logs}"
    assert facts["ping_after_rekey"], logs
    assert "#3:" in facts["states_after_rekey"], facts["states_after_rekey"]
    assert facts["terminate"][0] == 0, facts["terminate"]
    for host, (state, policy) in facts["after_terminate"].items():
        # pluto still runs: only its IKE sockets' bypass policies may remain
        assert state == "" and without_socket_policies(policy) == "", (host, state, policy, logs)
        assert "socket in" in policy and "socket out" in policy, (host, policy)
    assert facts["reinitiate"] == 0, logs
    assert (facts["west_exit"], facts["east_exit"]) == (0, 0), logs
    for host, (state, policy) in facts["after_shutdown"].items():
        assert state == "" and policy == "", (host, state, policy, logs)
    assert "Traceback" not in logs, logs


if __name__ == "__main__":
    sys.exit(guest(Path(sys.argv[1])))
