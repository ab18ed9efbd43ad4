"""Time from `whack --initiate` to an established Child SA between two plutos on loopback.

Two plutos (--noklips, 127.0.0.1 and 127.0.0.2 on a free port) share one PSK connection;
whack --initiate returns when the Child SA is up, so its wall time is the figure (whack's own
start-up included, as an operator sees it). The SA is brought down between tries.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from labs.peers.daemon import start_daemon, stop_daemon
from testing.pluto.loopback import free_port

HOSTS = {"west": "127.0.0.1", "east": "127.0.0.2"}
SECRET = "bench loopback secret, not for production"


def _conf(me: str, port: int, rundir: Path, log: Path, secrets: Path) -> str:
    return "\n".join([
        "config setup", "\tprotostack=none", f"\tlisten={HOSTS[me]}", f"\tikeport={port}",
        "\tnat-ikeport=0", f"\trundir={rundir}", f"\tlogfile={log}", f"\tsecretsfile={secrets}",
        "", "conn west-east", "\tauthby=secret", "\tikev2=insist",
        f"\tleft={HOSTS['west']}", "\tleftid=@west", f"\tleftikeport={port}",
        f"\tright={HOSTS['east']}", "\trightid=@east", f"\trightikeport={port}",
        "\tleftsubnet=198.18.1.0/24", "\trightsubnet=198.18.2.0/24",
        "\tike=aes_gcm128-sha2_256;x25519", "\tesp=aes_gcm128", "\tauto=add", ""])


def _whack(rundir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "whack", "--rundir", str(rundir), *args],
                          capture_output=True, text=True, timeout=60)


def measure(workdir: Path, tries: int = 5) -> dict[str, float]:
    """Milliseconds from whack --initiate to the Child SA (min, median, max over ``tries``)."""
    port = free_port()
    rundirs, pid_files = {}, {}
    workdir.mkdir(parents=True, exist_ok=True)
    secrets = workdir / "ipsec.secrets"
    secrets.write_text(f'@west @east : PSK "{SECRET}"\n')
    secrets.chmod(0o600)
    try:
        for host in HOSTS:
            rundir = workdir / host
            rundir.mkdir(exist_ok=True)
            conf = workdir / f"{host}.ipsec.conf"
            conf.write_text(_conf(host, port, rundir, workdir / f"{host}.log", secrets))
            pid_files[host] = workdir / f"{host}.pid.bench"
            rundirs[host] = rundir
            start_daemon([sys.executable, "-m", "pluto", "--nofork", "--config", str(conf)],
                         workdir / f"{host}.out", pid_files[host],
                         ready=(rundir / "pluto.ctl").exists, timeout=30.0)
        times = []
        for _ in range(tries):
            start = time.perf_counter()
            proc = _whack(rundirs["west"], "--name", "west-east", "--initiate")
            elapsed = (time.perf_counter() - start) * 1000
            if proc.returncode != 0 or "established Child SA" not in proc.stdout + proc.stderr:
                raise RuntimeError(f"whack --initiate failed ({proc.returncode}):\n"
                                   f"{proc.stdout}{proc.stderr}")
            times.append(elapsed)
            _whack(rundirs["west"], "--name", "west-east", "--terminate")
        return {"min_ms": min(times), "median_ms": statistics.median(times),
                "max_ms": max(times)}
    finally:
        for host, rundir in rundirs.items():
            _whack(rundir, "--shutdown")
            stop_daemon(pid_files[host])
