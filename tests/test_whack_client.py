"""whack against a fake pluto on a UNIX socket: what it sends, prints and exits with."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from pluto.whack_protocol import (
    RC_COMMENT,
    RC_INFORMATIONAL,
    RC_LOG,
    RC_NEW_STATE,
    RC_NOTIFICATION,
    RC_SUCCESS,
    RC_UNKNOWN_NAME,
    ReplyLine,
    decode_request,
)
from whack.main import main

AUTHENTICATION_FAILED = 24  # RFC 7296 notify type
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def rundir():
    # Short: a UNIX socket path must fit in 108 bytes, pytest's tmp_path may not.
    path = tempfile.mkdtemp(prefix="whk", dir="/tmp")
    yield path
    shutil.rmtree(path)


class FakePluto:
    """Accepts one whack, records its request, plays a script, then closes.

    Script items: bytes are sent as they are, a float is a pause, a callable is called, None
    waits until whack hangs up (recorded in ``whack_hung_up``).
    """

    def __init__(self, path, script):
        self.path = path
        self.script = script
        self.request = None
        self.whack_hung_up = threading.Event()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.request = decode_request(data)
            for item in self.script:
                if item is None:
                    if conn.recv(1) == b"":
                        self.whack_hung_up.set()
                elif isinstance(item, float):
                    time.sleep(item)
                elif callable(item):
                    item()
                else:
                    conn.sendall(item)

    def close(self):
        self.thread.join(timeout=10)
        self.listener.close()


def lines(*replies):
    return b"".join(ReplyLine(rc, text, done).encode() for rc, text, done in replies)


@pytest.fixture
def fake_pluto(rundir):
    started = []

    def start(script, path=None):
        pluto = FakePluto(path or os.path.join(rundir, "pluto.ctl"), script)
        started.append(pluto)
        return pluto

    yield start
    for pluto in started:
        pluto.close()


def test_initiate_streams_progress_and_succeeds(rundir, fake_pluto, capsys):
    pluto = fake_pluto([lines(
        (RC_COMMENT, '"west-east" #1: initiating IKEv2 connection', False),
        (RC_COMMENT, '"west-east" #1: sent IKE_SA_INIT request to 127.0.0.2:UDP/500', False),
        (RC_NEW_STATE + 2, '"west-east" #2: initiator established Child SA using #1', False),
        (RC_SUCCESS, "", True))])
    status = main(["--rundir", rundir, "--name", "west-east", "--initiate"])
    assert pluto.request == [{"action": "initiate", "name": "west-east", "async": False}]
    assert capsys.readouterr().out == (
        '"west-east" #1: initiating IKEv2 connection\n'
        '"west-east" #1: sent IKE_SA_INIT request to 127.0.0.2:UDP/500\n'
        '"west-east" #2: initiator established Child SA using #1\n')
    assert status == 0


def test_failed_negotiation_exits_with_the_notification_code(rundir, fake_pluto, capsys):
    fake_pluto([lines(
        (RC_COMMENT, '"west-east" #1: sent IKE_AUTH request', False),
        (RC_NOTIFICATION + AUTHENTICATION_FAILED,
         '"west-east" #1: IKE SA authentication request rejected by peer: '
         'AUTHENTICATION_FAILED', False),
        (RC_COMMENT, "", True))])
    assert main(["--rundir", rundir, "--name", "west-east", "--initiate"]) == 224
    assert capsys.readouterr().out.endswith("AUTHENTICATION_FAILED\n")


def test_unknown_connection_code_and_text(rundir, fake_pluto, capsys):
    fake_pluto([lines((RC_UNKNOWN_NAME, 'no connection named "nope"', False),
                      (RC_UNKNOWN_NAME, "", True))])
    assert main(["--rundir", rundir, "--name", "nope", "--terminate"]) == 11
    captured = capsys.readouterr()
    assert captured.out == 'no connection named "nope"\n' and captured.err == ""


def test_status_lines_split_across_reads(rundir, fake_pluto, capsys):
    text = lines(*[(RC_INFORMATIONAL, f'#{n}: "west-east":500 STATE_V2_ESTABLISHED_IKE_SA',
                    False) for n in range(1, 40)],
                 (RC_COMMENT, "", False), (RC_COMMENT, "done here", True))
    script = []
    for start in range(0, len(text), 97):  # cut lines anywhere, even inside a character
        script += [text[start:start + 97], 0.001]
    pluto = fake_pluto(script)
    assert main(["--rundir", rundir, "--showstates"]) == 0
    assert pluto.request == [{"action": "showstates", "json": False}]
    expected = [f'#{n}: "west-east":500 STATE_V2_ESTABLISHED_IKE_SA' for n in range(1, 40)]
    assert capsys.readouterr().out.splitlines() == [*expected, "", "done here"]


def test_whole_request_reaches_pluto(rundir, fake_pluto):
    pluto = fake_pluto([lines((RC_LOG, "added", False), (RC_SUCCESS, "", True))])
    argv = ["--rundir", rundir, "--name", "a", "--host", "127.0.0.1", "--to", "--host",
            "127.0.0.2", "--psk", "--debug", "base", "--listen", "--initiate", "--async"]
    assert main(argv) == 0
    assert pluto.request == [
        {"action": "debug", "options": [["--debug", "base"]]},
        {"action": "add", "connection": {
            "name": "a", "left": {"host": "127.0.0.1"}, "right": {"host": "127.0.0.2"},
            "auth": "psk", "encrypt": True, "authenticate": False, "tunnel": False,
            "pfs": False, "compress": False, "disablearrivalcheck": False}},
        {"action": "listen"},
        {"action": "initiate", "name": "a", "async": True},
    ]


def test_ctlbase_names_the_socket(rundir, fake_pluto, capsys):
    base = os.path.join(rundir, "east")
    pluto = fake_pluto([lines((RC_COMMENT, "bye", True))], path=base + ".ctl")
    assert main(["--ctlbase", base, "--shutdown"]) == 0
    assert pluto.request == [{"action": "shutdown"}]
    assert capsys.readouterr().out == "bye\n"


def test_pluto_not_running(rundir, capsys):
    assert main(["--rundir", rundir, "--status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f'whack: Pluto is not running (no "{rundir}/pluto.ctl")\n'


def test_pluto_not_running_with_label_and_ctlbase(rundir, capsys):
    assert main(["--label", "west", "--ctlbase", f"{rundir}/x", "--status"]) == 1
    assert capsys.readouterr().err == f'whack: west: Pluto is not running (no "{rundir}/x.ctl")\n'


def test_stale_socket_file(rundir, capsys):
    path = os.path.join(rundir, "pluto.ctl")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # bound, never listening: what a crashed pluto leaves behind
    try:
        assert main(["--rundir", rundir, "--status"]) == 1
    finally:
        stale.close()
    assert capsys.readouterr().err == \
        f'whack: Pluto is not running (nothing listens on "{path}")\n'


def test_usage_error_exits_1_with_label(capsys):
    assert main(["--label", "road", "--name", "a", "--host", "nowhere"]) == 1
    assert capsys.readouterr().err == \
        "whack: road: --host 'nowhere': not an IP address (names are not resolved)\n"


def test_bad_reply_line(rundir, fake_pluto, capsys):
    fake_pluto([lines((RC_COMMENT, "fine", False)), b"this is not json\n"])
    assert main(["--rundir", rundir, "--status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "fine\n"
    assert captured.err.startswith("whack: bad reply line from pluto: ")


def test_pluto_going_away_before_done(rundir, fake_pluto, capsys):
    fake_pluto([lines((RC_COMMENT, "working", False)), b'{"rc": 0, "te'])
    assert main(["--rundir", rundir, "--listen"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "working\n"
    assert captured.err == "whack: pluto closed the connection before the request was done\n"


def test_shutdown_may_end_without_done(rundir, fake_pluto, capsys):
    fake_pluto([lines((RC_LOG, "shutting down", False))])
    assert main(["--rundir", rundir, "--shutdown"]) == 0
    assert capsys.readouterr().out == "shutting down\n"


def test_help_and_bad_options_do_not_need_pluto(capsys):
    assert main(["--rundir", "/nonexistent", "--help"]) == 0
    assert "--optionsfrom FILE" in capsys.readouterr().out
    assert main(["--rundir", "/nonexistent", "--impair", "help"]) == 0
    assert "ke-payload" in capsys.readouterr().out
    assert main(["--rundir", "/nonexistent", "--debug", "help"]) == 0
    assert "parsing" in capsys.readouterr().out
    assert main(["--rundir", "/nonexistent", "--debug", "parsnip"]) == 1
    assert "'parsnip'" in capsys.readouterr().err


def whack_process(*argv):
    return subprocess.Popen([sys.executable, "-m", "whack", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=REPOSITORY))


def test_ctrl_c_while_initiating(rundir, fake_pluto):
    pluto = fake_pluto([lines((RC_COMMENT, '"a" #1: sent IKE_SA_INIT request', False)), None])
    proc = whack_process("--rundir", rundir, "--name", "a", "--initiate")
    try:
        assert proc.stdout.readline() == '"a" #1: sent IKE_SA_INIT request\n'
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert out == ""
    assert err == "whack: interrupted; the negotiation continues in pluto\n"
    assert pluto.whack_hung_up.wait(timeout=10)


def test_stdout_closed_early_stops_quietly(rundir, fake_pluto):
    reader_closed = threading.Event()
    fake_pluto([lines((RC_COMMENT, "first", False)), lambda: reader_closed.wait(10),
                lines((RC_COMMENT, "second", False), (RC_COMMENT, "", True))])
    proc = whack_process("--rundir", rundir, "--status")
    try:
        assert proc.stdout.readline() == "first\n"
        proc.stdout.close()  # what `whack --status | head -1` does
        reader_closed.set()
        err = proc.stderr.read()
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (1, "")
