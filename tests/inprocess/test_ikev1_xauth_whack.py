"""whack's side of the XAUTH prompts: the command line's --xauthuser/--xauthpass reach the
initiate action, and on pluto's RC 41 / RC 40 lines whack reads the username (echoed) and
password (not echoed) and answers with xauth-answer on a second connection (a fake pluto on a
real UNIX socket stands in for the daemon here)."""

from __future__ import annotations

import io
import socket
import threading

import pytest

from pluto.whack_protocol import (
    RC_ENTERSECRET,
    RC_SUCCESS,
    RC_USERPROMPT,
    ReplyLine,
    decode_request,
)
from whack import client, xauth_prompt
from whack.options import WhackUsageError, parse_command_line


def test_command_line_credentials_go_with_initiate():
    command = parse_command_line(["--name", "road", "--initiate", "--xauthname", "alice",
                                  "--xauthpass", "pw"])
    assert command.actions == [{"action": "initiate", "name": "road", "async": False,
                                "xauthuser": "alice", "xauthpass": "pw"}]
    with pytest.raises(WhackUsageError, match="--xauthuser/--xauthpass go with --initiate"):
        parse_command_line(["--name", "road", "--route", "--xauthuser", "alice"])


def test_read_answer_names_the_state_and_reads_without_echo_for_the_password():
    asked = []
    action = xauth_prompt.read_answer(
        RC_ENTERSECRET, '"road" #3: XAUTH password:',
        read_line=lambda p: pytest.fail("the password must not be echoed"),
        read_secret=lambda p: asked.append(p) or "s3cret")
    assert action == {"action": "xauth-answer", "serial": 3, "password": "s3cret"}
    assert asked == ['"road" #3: XAUTH password: ']
    with pytest.raises(xauth_prompt.PromptError, match="no answer on standard input"):
        xauth_prompt.read_answer(RC_USERPROMPT, '"road" #3: XAUTH username:',
                                 read_line=lambda p: (_ for _ in ()).throw(EOFError()))


def test_whack_answers_prompts_over_a_second_connection(tmp_path, monkeypatch):
    path = str(tmp_path / "pluto.ctl")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    answers: list[dict] = []

    def fake_pluto() -> None:
        main, _ = server.accept()
        with main, main.makefile("rb") as stream:
            stream.readline()  # the initiate request
            for rc, text in ((RC_USERPROMPT, '"road" #1: XAUTH username:'),
                             (RC_ENTERSECRET, '"road" #1: XAUTH password:')):
                main.sendall(ReplyLine(rc, text).encode())
                side, _ = server.accept()
                with side, side.makefile("rb") as side_stream:
                    answers.extend(decode_request(side_stream.readline()))
                    side.sendall(ReplyLine(0, "", done=True).encode())
            main.sendall(ReplyLine(RC_SUCCESS, '"road" #2: IPsec SA established').encode())
            main.sendall(ReplyLine(0, "", done=True).encode())

    thread = threading.Thread(target=fake_pluto, daemon=True)
    thread.start()
    monkeypatch.setattr("builtins.input", lambda prompt: "alice")
    monkeypatch.setattr(xauth_prompt.getpass, "getpass", lambda prompt: "pw")
    monkeypatch.setattr(client, "read_answer", _with_patched_readers(xauth_prompt))
    out = io.StringIO()
    status = client.send_request(path, [{"action": "initiate", "name": "road"}], out)
    thread.join(5)
    server.close()
    assert status == 0
    assert answers == [{"action": "xauth-answer", "serial": 1, "username": "alice"},
                       {"action": "xauth-answer", "serial": 1, "password": "pw"}]
    assert out.getvalue() == '"road" #2: IPsec SA established\n'  # prompts are not printed


def _with_patched_readers(module):
    """read_answer with the monkeypatched input/getpass (its defaults were bound early)."""
    original = module.read_answer

    def read(rc, prompt):
        return original(rc, prompt, read_line=lambda p: input(p),
                        read_secret=lambda p: module.getpass.getpass(p))
    return read
