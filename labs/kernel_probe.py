"""Can this kernel carry ESP? Decides between running the lab on the host or inside UML.

The probe installs one ESP SA with our own XFRM back end in a throwaway namespace (created and
deleted here, so the host's XFRM state is never touched). A kernel without ESP refuses the
NEWSA with EPROTONOSUPPORT (../shared/lab-notes.md).
"""

from __future__ import annotations

import functools
import ipaddress
import os

from labs.shell import run

RUNNER_ENV = "PLUTO_LAB_RUNNER"  # "host" or "uml" forces the choice


@functools.cache
def esp_probe() -> tuple[bool, str]:
    """(True, why) when the host kernel installs ESP SAs, else (False, why not)."""
    from pluto.kernel.ops import KernelError, SaId, SaSpec
    from pluto.kernel.xfrm import XfrmKernel

    netns = f"esp-probe-{os.getpid()}"
    run(["ip", "netns", "add", netns])
    try:
        kernel = XfrmKernel(netns=netns)
        try:
            here, there = ipaddress.ip_address("192.0.2.1"), ipaddress.ip_address("192.0.2.2")
            anywhere = ipaddress.ip_network("192.0.2.0/24")
            kernel.add_sa(SaSpec(id=SaId(there, 0x1000), src=here, mode="tunnel",
                                 src_selector=anywhere, dst_selector=anywhere,
                                 encrypt="AES_CBC", encrypt_key=bytes(16), encrypt_key_bits=128,
                                 integ="HMAC_SHA2_256_128", integ_key=bytes(32), reqid=1))
        except KernelError as e:
            return False, f"host kernel cannot install ESP SAs ({e.args[0]})"
        finally:
            kernel.close()
    finally:
        run(["ip", "netns", "del", netns], check=False)
    return True, "host kernel installs ESP SAs"


def choose_runner(needs_esp: bool) -> tuple[str, str]:
    """("host" or "uml", the reason), honouring PLUTO_LAB_RUNNER when set."""
    forced = os.environ.get(RUNNER_ENV)
    if forced in ("host", "uml"):
        return forced, f"{RUNNER_ENV}={forced}"
    if not needs_esp:
        return "host", "the scenario needs no ESP data path"
    esp, why = esp_probe()
    return ("host" if esp else "uml"), why
