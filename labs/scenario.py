"""A netns scenario: its files, running it in a lab, and what the run produced.

A scenario is a directory (DESIGN.md §10, issue 6):

- ``description.txt``: what it shows;
- ``lab.toml`` (optional): ``hosts = ["west", "east", "nic"]`` (default: all five),
  ``nat = "none" | "masquerade" | "masquerade-ports"``, and ``kernel = "any" | "esp"`` (does it
  need an ESP data path? then it runs on the host only when the host kernel has ESP, else
  inside User-Mode-Linux);
- each host's configuration and secrets (``west.secrets``, ...), read by the scripts;
- numbered host scripts ``NN-HOST-what.sh`` run in order, each line in HOST's namespace, and
  ``final.sh``, run on every host that had a script;
- ``HOST.console.txt``: the expected transcript (``west # command`` then its output).

Scripts see ``$HOST``, ``$SCENARIO`` (the scenario directory), ``$WORKDIR`` (this run's
directory), ``$HOSTDIR`` (``$WORKDIR/$HOST``, made for them), ``$CAPTURES`` (the pcap of each
LAN: ``$CAPTURES/east-west.pcap``, ``$CAPTURES/road-north.pcap``), and PATH/PYTHONPATH with this
checkout's Python first, so ``pluto``, ``whack`` and ``python -m labs.verify`` work.

After the scripts, the run checks for XFRM state left in the kernel, processes left in the
hosts' namespaces, tracebacks in the transcripts or in any ``*.log`` of the work directory, and
namespaces left after teardown; each one found is a problem that fails the scenario.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labs.hosts import HOSTS
from labs.sanitize import sanitize
from labs.shell import in_netns, namespaces
from labs.topology import DEFAULT_HOSTS, Lab

SCRIPT_NAME = re.compile(r"^(\d+)-([a-z]+)-[\w.-]*\.sh$")
COMMAND_TIMEOUT = 60.0
TRACEBACK = "Traceback (most recent call last)"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ScenarioSpec:
    directory: Path
    hosts: tuple[str, ...]
    nat: str
    needs_esp: bool
    scripts: tuple[tuple[str, Path], ...]  # (host, script) in order

    @property
    def name(self) -> str:
        return self.directory.name

    @property
    def scripted_hosts(self) -> list[str]:
        return list(dict.fromkeys(host for host, _ in self.scripts))


def is_scenario(directory: Path) -> bool:
    return (directory / "description.txt").is_file() and any(
        SCRIPT_NAME.match(p.name) for p in directory.iterdir())


def find_scenarios(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and is_scenario(p))


def load(directory: Path) -> ScenarioSpec:
    """Read a scenario directory; ValueError names the file and what is wrong."""
    settings = {}
    lab_file = directory / "lab.toml"
    if lab_file.is_file():
        settings = tomllib.loads(lab_file.read_text())
    unknown = set(settings) - {"hosts", "nat", "kernel"}
    if unknown:
        raise ValueError(f"{lab_file}: unknown settings {sorted(unknown)}")
    hosts = tuple(settings.get("hosts", DEFAULT_HOSTS))
    kernel = settings.get("kernel", "any")
    if kernel not in ("any", "esp"):
        raise ValueError(f"{lab_file}: kernel must be \"any\" or \"esp\", not {kernel!r}")
    scripts = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        match = SCRIPT_NAME.match(path.name)
        if not match:
            continue
        host = match.group(2)
        if host not in hosts:
            raise ValueError(f"{path}: host {host!r} is not in this lab ({', '.join(hosts)})")
        scripts.append((host, path))
    for host in hosts:
        if host not in HOSTS:
            raise ValueError(f"{lab_file}: unknown host {host!r}")
    return ScenarioSpec(directory, hosts, settings.get("nat", "none"), kernel == "esp",
                        tuple(scripts))


@dataclass
class ScenarioResult:
    """What a run produced: sanitized transcripts and the problems found."""

    runner: str
    transcripts: dict[str, str] = field(default_factory=dict)  # file name -> sanitized text
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> ScenarioResult:
        return cls(**json.loads(text))


def script_lines(path: Path) -> list[str]:
    """The commands of a script: one per line (backslash continues), no blanks, no comments."""
    commands, pending = [], ""
    for raw in path.read_text().splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    return commands


class ScenarioRun:
    """One run of a scenario in a lab of its own, in this kernel."""

    def __init__(self, spec: ScenarioSpec, workdir: Path, prefix: str, runner: str) -> None:
        self.spec = spec
        self.workdir = workdir
        self.prefix = prefix
        self.runner = runner
        self.lab = Lab(prefix, spec.hosts, nat=spec.nat, capture_dir=workdir / "captures")
        self.consoles: dict[str, list[str]] = {}

    def run(self) -> ScenarioResult:
        started = time.monotonic()
        result = ScenarioResult(runner=self.runner)
        try:
            self.lab.up()
            try:
                for host, script in self.spec.scripts:
                    self._run_script(host, script)
                final = self.spec.directory / "final.sh"
                if final.is_file():
                    for host in self.spec.scripted_hosts:
                        self._run_script(host, final)
                result.problems += self._leftovers()
            finally:
                gone = self.lab.down()
                if gone:
                    result.problems.append(f"namespaces left after teardown: {gone}")
        except Exception as e:  # a broken lab is a failed scenario with its reason
            result.problems.append(f"lab failed: {e}")
        leaked = [ns for ns in namespaces() if ns.startswith(self.prefix + "-")]
        if leaked:
            result.problems.append(f"namespaces leaked: {leaked}")
        replacements = {str(self.workdir): "WORKDIR", str(self.spec.directory): "SCENARIO",
                        self.prefix: "PREFIX"}
        for host, lines in self.consoles.items():
            text = "\n".join(lines) + "\n"
            result.transcripts[f"{host}.console.txt"] = sanitize(text, replacements)
        result.problems += self._tracebacks(result.transcripts)
        result.seconds = time.monotonic() - started
        return result

    def environment(self, host: str) -> dict[str, str]:
        bindir = str(Path(sys.executable).parent)
        env = {
            "PATH": f"{bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONPATH": str(REPO), "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8", "HOST": host, "SCENARIO": str(self.spec.directory),
            "WORKDIR": str(self.workdir), "HOSTDIR": str(self.workdir / host),
            "CAPTURES": str(self.workdir / "captures"), "PREFIX": self.prefix,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        return env

    def _run_script(self, host: str, script: Path) -> None:
        hostdir = self.workdir / host
        hostdir.mkdir(parents=True, exist_ok=True)
        console = self.consoles.setdefault(host, [])
        for command in script_lines(script):
            console.append(f"{host} # {command}")
            output, status = self._run_command(host, command, hostdir)
            if output:
                console.append(output.rstrip("\n"))
            if status is None:
                console.append(f"[timed out after {COMMAND_TIMEOUT:.0f} s]")
            elif status != 0:
                console.append(f"[exit status {status}]")

    def _run_command(self, host: str, command: str, cwd: Path) -> tuple[str, int | None]:
        # Output goes to a file, not a pipe: a daemon the command leaves running keeps its
        # copy of stdout, and a pipe would then never reach end of file.
        out_path = cwd / ".command-output"
        with open(out_path, "w+") as out:
            proc = subprocess.Popen(in_netns(self.lab.netns(host), ["sh", "-c", command]),
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd,
                                    env=self.environment(host))
            try:
                status: int | None = proc.wait(timeout=COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                status = None
            out.seek(0)
            output = out.read()
        out_path.unlink()
        return output, status

    def _leftovers(self) -> list[str]:
        problems = []
        for host, text in self.lab.kernel_state().items():
            problems.append(f"{host}: XFRM state left in the kernel after final.sh:\n{text}")
        for host, processes in self.lab.leftover_processes().items():
            listed = ", ".join(f"{pid} ({name})" for pid, name in processes)
            problems.append(f"{host}: processes left after final.sh: {listed}")
        return problems

    def _tracebacks(self, transcripts: dict[str, str]) -> list[str]:
        problems = [f"traceback in {name}" for name, text in transcripts.items()
                    if TRACEBACK in text]
        for log in sorted(self.workdir.rglob("*.log")):
            if TRACEBACK in log.read_text(errors="replace"):
                problems.append(f"traceback in {log.relative_to(self.workdir)}:\n"
                                f"{log.read_text(errors='replace')[-3000:]}")
        return problems


def run_here(directory: Path, workdir: Path, prefix: str, runner: str = "host") -> ScenarioResult:
    """Run a scenario in this kernel (the host's, or the UML guest's when called inside it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return ScenarioRun(load(directory), workdir, prefix, runner).run()


def guest_main(argv: list[str]) -> int:
    """Inside a UML guest: ``python -m labs.scenario DIR WORKDIR PREFIX`` -> WORKDIR/result.json."""
    directory, workdir, prefix = Path(argv[0]), Path(argv[1]), argv[2]
    result = run_here(directory, workdir, prefix, runner="uml")
    (workdir / "result.json").write_text(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(guest_main(sys.argv[1:]))
