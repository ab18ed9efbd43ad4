"""nic's NAT: masquerade road-north's traffic as it leaves for east-west.

Rules are installed in nic's own namespace, so they can never touch the host's tables. The
lab uses iptables-legacy: it works on the host kernel and inside User-Mode-Linux, whose module
tree has ip_tables/iptable_nat/xt_MASQUERADE but no nft_chain_nat (so nft NAT chains cannot be
created there). The same NAT as an nft ruleset is kept for machines without iptables-legacy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from labs.hosts import HOSTS, LANS, NAT_MODES, NAT_PORTS

IPTABLES = "iptables-legacy"


def _check(mode: str) -> None:
    if mode not in NAT_MODES:
        raise ValueError(f"unknown NAT mode {mode!r}: one of {', '.join(NAT_MODES)}")


def _inside_and_outside_if() -> tuple[str, str]:
    nic = HOSTS["nic"]
    inside = LANS["road-north"].networks[0]
    outside_if = next(a.ifname for a in nic.attachments if a.lan == "east-west")
    return inside, outside_if


def nat_commands(mode: str, ports: str = NAT_PORTS) -> list[list[str]]:
    """The iptables-legacy commands (argv lists) for ``mode``; none for "none"."""
    _check(mode)
    if mode == "none":
        return []
    inside, outside_if = _inside_and_outside_if()
    base = [IPTABLES, "-t", "nat", "-A", "POSTROUTING", "-s", inside, "-o", outside_if]
    commands = []
    if mode == "masquerade-ports":
        # TCP and UDP get their source ports rewritten too; everything else (ICMP) only its
        # address. --to-ports takes "low-high"; iptables insists on a protocol for it.
        for proto in ("udp", "tcp"):
            commands.append([*base, "-p", proto, "-j", "MASQUERADE", "--to-ports", ports])
    commands.append([*base, "-j", "MASQUERADE"])
    return commands


def nat_ruleset(mode: str) -> str:
    """The same NAT as ``nft -f`` text (for hosts without iptables-legacy); "" for "none"."""
    _check(mode)
    if mode == "none":
        return ""
    inside, outside_if = _inside_and_outside_if()
    rules = []
    if mode == "masquerade-ports":
        rules.append(f'ip saddr {inside} oifname "{outside_if}" meta l4proto {{ tcp, udp }} '
                     f"masquerade to :{NAT_PORTS}")
    rules.append(f'ip saddr {inside} oifname "{outside_if}" masquerade')
    body = "\n".join(f"        {rule}" for rule in rules)
    return ("table ip lab_nat {\n"
            "    chain postrouting {\n"
            "        type nat hook postrouting priority srcnat; policy accept;\n"
            f"{body}\n"
            "    }\n"
            "}\n")


def use_iptables() -> bool:
    """iptables-legacy when installed (works everywhere), else nft."""
    return shutil.which(IPTABLES) is not None


# --- for scenario scripts: show NAT ports stably -------------------------------------------

NIC_PORT = "NICPORT"  # what a port from nic's rewriting range is shown as
_PORT_AFTER = re.compile(r"(?:(?<=\d:)|(?<=\d:UDP/)|(?<=sport )|(?<=dport ))(\d{1,5})\b")


def nat_port_range(ports: str = NAT_PORTS) -> range:
    """``"LOW-HIGH"`` as a range; ValueError when it is not one of UDP ports."""
    low, _, high = ports.partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) <= int(high) <= 65535):
        raise ValueError(f"port range must be LOW-HIGH within 1-65535, not {ports!r}")
    return range(int(low), int(high) + 1)


def mark_nat_ports(text: str, ports: str = NAT_PORTS, word: str = NIC_PORT) -> str:
    """``text`` with every port (after ``ADDR:``, ``ADDR:UDP/``, ``sport``, ``dport``) that
    lies in nic's rewriting range ``ports`` replaced by ``word``: transcripts then show *that*
    nic rewrote a port, which the generic PORT sanitizer would hide, without the value."""
    wanted = nat_port_range(ports)
    return _PORT_AFTER.sub(lambda m: word if int(m[1]) in wanted else m[1], text)


def mark_all(text: str, marks: list[tuple[str, str]]) -> str:
    """:func:`mark_nat_ports` for each (ports, word) in turn."""
    for ports, word in marks:
        text = mark_nat_ports(text, ports, word)
    return text


def encap_lines(xfrm_state_text: str) -> list[str]:
    """One line per ESP-in-UDP SA of ``ip xfrm state``: its addresses and encapsulation ports."""
    lines, addresses = [], ""
    for line in xfrm_state_text.splitlines():
        words = line.split()
        if line.startswith("src ") and len(words) >= 4:
            addresses = f"{words[1]} -> {words[3]}"
        elif "encap type" in line and len(words) >= 7:
            lines.append(f"{addresses} {words[2]} sport {words[4]} dport {words[6]}")
    return lines


def restore_text(commands: list[list[str]]) -> str:
    """The nat table holding exactly ``commands``' rules, as iptables-restore input."""
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]"]
    for argv in commands:
        lines.append(" ".join(argv[argv.index("-A"):]))
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def remap(ports: str) -> None:
    """In nic's namespace: rewrite ports into ``ports`` from now on, and forget every mapping
    (a NAT that rebooted or timed its mappings out): the next datagram of each flow gets a
    new port from the new range.

    The table is replaced in one step (iptables-restore): between a flush and the new rules,
    road's datagrams would leave un-NATed and a conntrack entry without NAT would be made.
    """
    commands = nat_commands("masquerade-ports", ports)
    subprocess.run([f"{IPTABLES}-restore"], input=restore_text(commands), text=True,
                   check=True)
    # conntrack -F says how many entries it deleted on stderr: not stable, not needed
    subprocess.run(["conntrack", "-F"], check=True, stderr=subprocess.DEVNULL)


USAGE = """usage: python -m labs.nat encap [MARK...]  this namespace's ESP-in-UDP SAs and ports
       python -m labs.nat mark [MARK...]   stdin to stdout with nic's ports marked
       python -m labs.nat remap PORTS      (on nic) rewrite into PORTS now, flush conntrack
MARK is PORTS or PORTS=WORD: ports in PORTS (LOW-HIGH) are shown as WORD (default NICPORT);
without MARK, nic's range 20000-20999 is shown as NICPORT"""


def _marks(args: list[str]) -> list[tuple[str, str]]:
    marks = []
    for arg in args or [NAT_PORTS]:
        ports, _, word = arg.partition("=")
        nat_port_range(ports)  # validates
        if word and not word.isalnum():
            raise ValueError(f"WORD must be letters and digits, not {word!r}")
        marks.append((ports, word or NIC_PORT))
    return marks


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("encap", "mark", "remap") \
            or (args[0] == "remap" and len(args) != 2):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        marks = _marks(args[1:])
    except ValueError as err:
        print(f"python -m labs.nat {args[0]}: {err}", file=sys.stderr)
        return 2
    if args[0] == "remap":
        try:
            remap(marks[0][0])
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"python -m labs.nat remap: {err}", file=sys.stderr)
            return 1
        return 0
    if args[0] == "mark":
        sys.stdout.write(mark_all(sys.stdin.read(), marks))
        return 0
    out = subprocess.run(["ip", "xfrm", "state"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"ip xfrm state failed: {out.stderr.strip()}", file=sys.stderr)
        return 1
    for line in encap_lines(out.stdout):
        print(mark_all(line, marks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
