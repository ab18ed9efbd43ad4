"""The `pluto` command: parse the command line, become a daemon, run the server.

Exit status as pluto(8) says: 0 all is well (so far: the parent of a forking pluto exits once
the daemon is ready), 1 something is wrong (bad options, cannot listen...), 10 the lock file
exists and its pluto is alive. Without ``--nofork`` the daemon forks, starts a new session and
changes directory to /; the parent waits on a pipe until the daemon holds the lock file and the
control socket (or reports why it could not) and exits with the daemon's verdict.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys

from pluto import __version__, impair
from pluto.log import Logger, debug_help
from pluto.server.daemon import MakeCore, PlutoServer, StartupError
from pluto.server.interfaces import InterfaceError, listen_addresses
from pluto.server.logsink import LogSink, open_sink
from pluto.server.options import USAGE, CoreOptions, OptionsError, PlutoOptions, parse_options

XFRM_MISSING = ("this kernel has no XFRM netlink interface ({error}); load xfrm_user, or use "
                "--noklips to record SAs in memory instead")


def main(argv: list[str] | None = None, *, make_core: MakeCore | None = None) -> int:
    """``make_core`` replaces the protocol core (tests run the server around a fake one)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        # the core's modules register their impairs (revival, install-ipsec-sa-*...) on
        # import: --impair on this command line must know them
        import pluto.engine.core  # noqa: F401
    except ImportError:
        pass  # reported below, when the core is needed
    try:
        opts = parse_options(argv)
    except OptionsError as err:
        return _fail(str(err))
    answer = _informational(opts)
    if answer is not None:
        print(answer)
        return 0
    if opts.debug_impair.actions:
        names = ", ".join(action.spec.name for action in opts.debug_impair.actions)
        return _fail(f"--impair {names}: an action impair acts on a running pluto; "
                     f"use whack --impair")
    if not opts.noklips and make_core is None:
        missing = xfrm_unavailable()
        if missing is not None:  # fail early: before the lock file, sockets and forking
            return _fail(XFRM_MISSING.format(error=missing))
    if make_core is None:
        try:
            import pluto.engine.core  # noqa: F401  (fail early, before forking)
        except ImportError as err:
            return _fail(f"the protocol core (pluto/engine/core.py) cannot be loaded: {err}")
        make_core = make_pluto_core
    opts.make_paths_absolute()
    if opts.conf is not None:
        make_core = with_config(make_core, opts)
    try:
        addresses = listen_addresses(opts.listen, opts.interfaces)
    except InterfaceError as err:
        return _fail(str(err))
    try:
        if opts.logfile is not None and not opts.logappend:
            open(opts.logfile, "w").close()  # config setup: logappend=no
        sink = open_sink(stderrlog=opts.stderrlog, logfile=opts.logfile)
    except OSError as err:
        return _fail(f'--logfile: cannot open "{opts.logfile}": {err.strerror}')
    if opts.nofork:
        return _run_foreground(opts, addresses, make_core, sink)
    return _run_daemon(opts, addresses, make_core, sink)


def xfrm_unavailable() -> str | None:
    """Why this kernel's NETLINK_XFRM cannot be opened, or None when it can."""
    from pluto.kernel.xfrm_socket import open_netlink

    try:
        open_netlink().close()
    except OSError as err:
        return err.strerror or str(err)
    return None


def _informational(opts: PlutoOptions) -> str | None:
    """The text of --help, --version, --debug help, --impair help or list, if asked for."""
    if opts.wants_help:
        return USAGE.rstrip("\n")
    if opts.wants_version:
        return f"pluto {__version__} (Python)"
    di = opts.debug_impair
    if di.wants_debug_help:
        return debug_help()
    if di.wants_impair_help:
        return impair.help_text()
    if di.wants_impair_list:
        return "\n".join(di.impairs.list_lines())
    return None


def _fail(message: str, code: int = 1) -> int:
    print(f"pluto: {message}", file=sys.stderr)
    return code


def make_pluto_core(*, opts: PlutoOptions, transport, logger: Logger,
                    core_options: CoreOptions):
    """The real core with the system clock and the OS's randomness; the kernel is XFRM, or
    nostack with ``--noklips``. With XFRM, the ACQUIRE/EXPIRE monitor joins the running loop
    and ``core.close()`` (the server's clean-up) flushes what pluto installed."""
    from pluto.connections.secrets import Secrets, SecretsError
    from pluto.crypto.rand import RandomSource
    from pluto.engine import core
    from pluto.engine.host import SystemClock
    from pluto.kernel.nostack import NoStack

    clock = SystemClock()
    rand = RandomSource()
    try:
        secrets = Secrets.load([opts.secretsfile], warn=logger.log)
    except (SecretsError, OSError) as err:
        # as libreswan does: say what is wrong and run; --rereadsecrets loads it once fixed
        logger.log(f"ERROR: --secretsfile {opts.secretsfile}: {err}; running without secrets "
                   "until whack --rereadsecrets reads it")
        secrets = Secrets.from_text("")
    options = engine_options(core_options, opts, getattr(core, "CoreOptions", None))
    if opts.noklips:
        logger.log("using the nostack kernel back end (--noklips): SAs are recorded in memory, "
                   "nothing is installed in the kernel")
        return core.Pluto(clock=clock, rand=rand, kernel=NoStack(rand, clock, logger),
                          transport=transport, logger=logger,
                          impairs=opts.debug_impair.impairs, secrets=secrets, options=options)
    events = _KernelEvents()
    kernel, monitor = open_xfrm(logger, events)
    pluto = core.Pluto(clock=clock, rand=rand, kernel=kernel, transport=transport,
                       logger=logger, impairs=opts.debug_impair.impairs, secrets=secrets,
                       options=options)
    events.core = pluto
    pluto.on_close.extend([monitor.close, kernel.close])
    return pluto


class _KernelEvents:
    """Hands the monitor's ACQUIREs and EXPIREs to the core (made after the monitor)."""

    def __init__(self) -> None:
        self.core = None

    def acquire(self, event) -> None:
        if self.core is not None:
            self.core.kernel_acquire(event)

    def expire(self, event) -> None:
        if self.core is not None:
            self.core.kernel_expire(event)


def open_xfrm(logger: Logger, events: _KernelEvents):
    """The XFRM back end and its ACQUIRE/EXPIRE monitor, attached to the running loop.

    StartupError, clearly worded, when the kernel has no XFRM (or pluto may not use it).
    """
    from pluto.kernel.xfrm import XfrmKernel
    from pluto.kernel.xfrm_monitor import XfrmMonitor

    try:
        kernel = XfrmKernel(logger)
    except OSError as err:
        raise StartupError(XFRM_MISSING.format(error=err.strerror or err)) from None
    try:
        monitor = XfrmMonitor(events.acquire, events.expire, logger)
    except OSError as err:
        kernel.close()
        raise StartupError("cannot listen for the kernel's XFRM ACQUIRE and EXPIRE messages: "
                           f"{err.strerror or err}") from None
    monitor.attach(asyncio.get_running_loop())
    logger.log("using the XFRM kernel back end (netlink)")
    return kernel, monitor


def with_config(make_core: MakeCore, opts: PlutoOptions) -> MakeCore:
    """``make_core``, then the conns of --config added through the core's whack API."""

    def make(*, opts: PlutoOptions, transport, logger: Logger, core_options: CoreOptions):
        from pluto.config.startup import load_connections

        core = make_core(opts=opts, transport=transport, logger=logger,
                         core_options=core_options)
        logger.log(f'loading connections from "{opts.config}"')
        for note in opts.setup_notes:
            logger.log(note)
        load_connections(core, opts.conf, logger.log)
        return core

    return make


def engine_options(core_options: CoreOptions, opts: PlutoOptions, engine_class):
    """The core's own options class, filled with what the command line says.

    The core may define its options with more fields (retransmit timers...) than the server
    knows; those keep their defaults, and only the fields both know are passed.
    """
    if engine_class is None or not dataclasses.is_dataclass(engine_class):
        return core_options
    values = {f.name: getattr(core_options, f.name) for f in dataclasses.fields(core_options)}
    values["listen"] = list(core_options.listen)
    values["nat_listen"] = list(core_options.nat_listen)
    values["secrets_patterns"] = [opts.secretsfile]
    known = {f.name for f in dataclasses.fields(engine_class) if f.init}
    return engine_class(**{name: value for name, value in values.items() if name in known})


def _server(opts: PlutoOptions, addresses, make_core: MakeCore, sink: LogSink,
            ready) -> PlutoServer:
    logger = Logger(sink, opts.debug_impair.debug)
    return PlutoServer(opts, addresses=addresses, make_core=make_core, logger=logger,
                       ready=ready)


def _run_foreground(opts: PlutoOptions, addresses, make_core: MakeCore, sink: LogSink) -> int:
    def ready() -> None:
        # pluto(8): with --nofork, "Pluto initialized" goes to standard out once the lock
        # file and the control socket exist.
        print("Pluto initialized", flush=True)

    server = _server(opts, addresses, make_core, sink, ready)
    try:
        return asyncio.run(server.serve())
    except StartupError as err:
        _log_fatal(server, opts, str(err))
        return _fail(str(err), err.code)
    finally:
        sink.close()


def _run_daemon(opts: PlutoOptions, addresses, make_core: MakeCore, sink: LogSink) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return _wait_for_daemon(read_end)
    os.close(read_end)
    code = 1
    try:
        code = _daemon_child(opts, addresses, make_core, sink, write_end)
    finally:
        # Never return into the parent's code path, whatever happened.
        os._exit(code)


def _wait_for_daemon(read_end: int) -> int:
    """The parent: the daemon writes "CODE\\nMESSAGE" on the pipe, or dies without a word."""
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while chunk := pipe.read(4096):
            chunks.append(chunk)
    report = b"".join(chunks).decode(errors="replace")
    code_text, _, message = report.partition("\n")
    if not code_text.strip().isdigit():
        return _fail("the daemon exited before it was ready")
    code = int(code_text)
    if message:
        print(f"pluto: {message}", file=sys.stderr)
    return code


def _daemon_child(opts: PlutoOptions, addresses, make_core: MakeCore, sink: LogSink,
                  write_end: int) -> int:
    os.setsid()
    os.chdir("/")
    _detach_stdio(keep_stderr=opts.stderrlog)
    reported = False

    def report(code: int, message: str = "") -> None:
        nonlocal reported
        if reported:
            return
        reported = True
        try:
            os.write(write_end, f"{code}\n{message}".encode())
            os.close(write_end)
        except OSError:
            pass  # the parent is gone; nobody to tell

    server = _server(opts, addresses, make_core, sink, lambda: report(0))
    try:
        code = asyncio.run(server.serve())
    except StartupError as err:
        _log_fatal(server, opts, str(err))
        report(err.code, str(err))
        code = err.code
    except BaseException as err:
        report(1, f"the daemon failed: {err!r}")
        server.logger.log(f"pluto: the daemon failed: {err!r}")
        code = 1
    finally:
        sink.close()
    report(code)
    return code


def _detach_stdio(keep_stderr: bool) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    targets = [0, 1] if keep_stderr else [0, 1, 2]
    for fd in targets:
        os.dup2(devnull, fd)
    os.close(devnull)


def _log_fatal(server: PlutoServer, opts: PlutoOptions, message: str) -> None:
    # stderr gets the message from the caller; a log file or syslog should have it too.
    sink = server.logger.sink
    if isinstance(sink, LogSink):
        sink.log_elsewhere(f"pluto: {message}")


if __name__ == "__main__":
    sys.exit(main())
