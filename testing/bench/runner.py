"""One measured run: a fresh pair of namespaces, one responder on CPU 0, the load generator on
CPU 1, figures from the generator's log and the responder's /proc entries."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from labs.peers.daemon import PeerError, tail

from . import procstat
from .figures import RunFigures, busy, rates, series
from .generator import INITIATORS, Case, Generator
from .responders import RESPONDERS
from .topology import BenchNet, udp_counters

SETTLE_S = 0.5
# above this many SAs the responder is killed instead of shut down in order
ORDERLY_STOP_MAX = 20000


def measure(responder_name: str, case: Case, count: int, workdir: Path) -> RunFigures:
    """Run ``count`` IKE SAs of ``case`` against one responder; its figures."""
    if count % INITIATORS:
        raise ValueError(f"--n {count}: must be a multiple of {INITIATORS} "
                         "(the generator's initiator threads)")
    directory = workdir / f"{case.name}-{count}-{responder_name}-{time.monotonic_ns()}"
    with BenchNet() as net:
        responder = RESPONDERS[responder_name](directory / "responder", net.responder_ns)
        generator = Generator(directory / "generator", net.generator_ns)
        pid = responder.start(case)
        try:
            time.sleep(SETTLE_S)
            before = procstat.sample(pid)
            udp_before = udp_counters(net.responder_ns)
            gen_before = udp_counters(net.generator_ns)
            gen_pid = generator.start(case, count)
            try:
                log = generator.wait(count, timeout=max(90.0, count / 40))
                # before the generator stops: it deletes its SAs on the way out
                after = procstat.sample(pid)
                gen_cpu = procstat.sample(gen_pid).cpu_s
                udp_after = udp_counters(net.responder_ns)
                gen_after = udp_counters(net.generator_ns)
                held = responder.established()
            finally:
                generator.stop()
        except PeerError as e:
            raise PeerError(f"{responder_name} {case.name} N={count}: {e}\n"
                            f"responder log:\n{tail(responder.log)}") from None
        finally:
            if count > ORDERLY_STOP_MAX and getattr(responder, "profile_to", None) is None:
                responder.abort()
            else:
                responder.stop()
    initiated = list(log.initiated.values())
    established = list(log.established.values())
    overall, first, last = rates(initiated, established)
    done = max(len(established), 1)
    figures = RunFigures(
        responder=responder_name, case=case.name, count=count,
        established_gen=len(established), established_resp=held,
        retransmits=log.retransmits, rate=overall, first10=first, last10=last,
        cpu_ms_per_sa=(after.cpu_s - before.cpu_s) * 1000 / done,
        rss_kb_per_sa=(after.rss_kb - before.rss_kb) / done,
        udp_rcvbuf_errors=udp_after["RcvbufErrors"] - udp_before["RcvbufErrors"],
        udp_in_errors=udp_after["InErrors"] - udp_before["InErrors"],
        gen_rcvbuf_errors=gen_after["RcvbufErrors"] - gen_before["RcvbufErrors"],
        series=series(initiated, established),
        responder_busy=busy(after.cpu_s - before.cpu_s, initiated, established),
        generator_busy=busy(gen_cpu, initiated, established))
    print(f"  {responder_name:10} {case.name} N={count}: {figures.rate:.0f} SA/s, "
          f"{figures.cpu_ms_per_sa:.2f} CPU ms/SA, {figures.rss_kb_per_sa:.1f} kB/SA, "
          f"{figures.established_gen}/{count} established (responder holds "
          f"{figures.established_resp}), {figures.retransmits} retransmits, "
          f"busy: responder {figures.responder_busy:.0%}, generator "
          f"{figures.generator_busy:.0%}; {figures.udp_rcvbuf_errors} rcvbuf drops "
          f"({figures.gen_rcvbuf_errors} at the generator)", file=sys.stderr, flush=True)
    return figures
