"""Run a command inside a User-Mode-Linux guest: a real kernel data path (ESP, AH, IPComp)
on machines whose own kernel has XFRM but no ESP (../shared/lab-notes.md).

The guest boots ``linux.uml`` with the host's root shared read-write as hostfs, so the same
Python, virtualenv and checkout are visible at the same paths. ``labs/uml_init.sh`` is its
init: it gives the guest its own /proc, /sys, /dev and /run, loads the requested modules
(from the UML package's module tree), runs the command with output and exit status written to a per-run host
directory, and powers off. Each run gets its own ``umid`` and ``uml_dir``; on timeout the
guest's process group (which we started) is killed; the run directory is removed unless
``keep`` is asked for.

    result = run_in_uml("ip -V", modules=["xfrm_user"])
    result.returncode, result.output
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UML_KERNEL = "/usr/bin/linux.uml"
UML_MODULES = Path("/usr/lib/uml/modules")
INIT_SCRIPT = Path(__file__).with_name("uml_init.sh")

# What an IPsec data path needs: veth for the topology, xfrm_user for netlink, the
# transforms, and the crypto templates the kernel names build on.
IPSEC_MODULES = (
    "veth", "xfrm_user", "esp4", "esp6", "ah4", "ipcomp", "xfrm4_tunnel", "authenc",
    "authencesn", "cbc", "ctr", "gcm", "ghash-generic", "seqiv", "echainiv", "sha256_generic",
    "sha512_generic", "hmac", "chacha20poly1305", "deflate",
)


@dataclass(frozen=True)
class UmlResult:
    returncode: int | None  # None: the command never finished (timeout or boot failure)
    output: str  # the command's stdout and stderr
    init_log: str  # module loading
    console: str  # the guest kernel's console
    seconds: float

    def describe(self) -> str:
        """Everything, for a test failure message."""
        return (f"exit status {self.returncode} after {self.seconds:.1f} s\n"
                f"--- output ---\n{self.output}\n--- init ---\n{self.init_log}\n"
                f"--- console (tail) ---\n{self.console[-3000:]}")


def unavailable_reason() -> str | None:
    """Why UML cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "User-Mode-Linux labs need root (the guest shares the host root read-write)"
    if not os.access(UML_KERNEL, os.X_OK):
        return f"{UML_KERNEL} is missing: apt-get install -y user-mode-linux"
    if not any(UML_MODULES.glob("*/kernel")):
        return f"no UML modules under {UML_MODULES}"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def run_in_uml(command: str | Sequence[str], modules: Sequence[str] = IPSEC_MODULES,
               memory: str = "256M", timeout: float = 60.0, workdir: str | None = None,
               keep: bool = False, prefix: str = "pluto-uml") -> UmlResult:
    """Boot a guest, run ``command`` (a shell string or argv) inside it, return the result."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    if not isinstance(command, str):
        command = shlex.join(command)
    # On hostfs the guest sees this directory at the same path.
    run_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    umid = f"{prefix}-{os.getpid()}-{run_dir.name[-8:]}"
    uml_dir = run_dir / "uml"
    uml_dir.mkdir()
    (run_dir / "command.sh").write_text(command + "\n")
    for release in UML_MODULES.iterdir():
        modules_dir = run_dir / "modroot" / "lib" / "modules"
        modules_dir.mkdir(parents=True, exist_ok=True)
        (modules_dir / release.name).symlink_to(release)
    argv = [
        UML_KERNEL, f"mem={memory}", "rootfstype=hostfs", "rootflags=/", "rw",
        f"init={INIT_SCRIPT}", "con0=null,fd:1", "con=null", f"umid={umid}",
        f"uml_dir={uml_dir}", f"PLUTO_UML_DIR={run_dir}",
        f"PLUTO_UML_MODULES={','.join(modules)}",
        f"PLUTO_UML_WORKDIR={workdir or os.getcwd()}",
    ]
    started = time.monotonic()
    with open(run_dir / "console", "wb") as console:
        guest = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        try:
            guest.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The guest is a group of host processes; the group is ours (start_new_session).
            os.killpg(guest.pid, signal.SIGKILL)
            guest.wait()
    seconds = time.monotonic() - started
    rc_text = _read(run_dir / "rc").strip()
    result = UmlResult(
        returncode=int(rc_text) if rc_text.lstrip("-").isdigit() else None,
        output=_read(run_dir / "output"), init_log=_read(run_dir / "init.log"),
        console=_read(run_dir / "console"), seconds=seconds)
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m labs.uml COMMAND...``: run a command in a guest, print what it said."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m labs.uml COMMAND [ARGS...]", file=sys.stderr)
        return 2
    result = run_in_uml(args)
    sys.stdout.write(result.output)
    if result.returncode is None:
        print(result.describe(), file=sys.stderr)
        return 1
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
