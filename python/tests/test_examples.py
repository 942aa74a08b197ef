"""The example programs: tutorial-style paho-mqtt programs run on ferromq with only the
import changed, and print exactly what they print on PyPI's paho-mqtt; Ctrl-C ends
loop_forever with a clean DISCONNECT; the embedded-broker example serves clients."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest

import ferromq
from conftest import TIMEOUT, Recorder, client_env, free_port, make_broker, need_client, note_skip
from helpers import connect, recording_client, subscribe

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

try:
    import paho.mqtt as _paho

    PAHO2 = int(_paho.__version__.split(".")[0]) >= 2
except ImportError:
    PAHO2 = False


def as_paho(src: str) -> str:
    """The same program importing paho-mqtt: only import lines may change."""
    out = []
    for line in src.splitlines(keepends=True):
        if line.startswith(("import ferromq", "from ferromq")):
            line = line.replace("ferromq.", "paho.mqtt.")
        out.append(line)
    return "".join(out)


def program(name: str, flavour: str, tmp: pathlib.Path) -> pathlib.Path:
    src = (EXAMPLES / name).read_text()
    if flavour == "ferromq":
        return EXAMPLES / name
    path = tmp / name
    path.write_text(as_paho(src))
    changed = [(a, b) for a, b in zip(src.splitlines(), path.read_text().splitlines()) if a != b]
    assert changed and all(a.startswith(("import ", "from ")) for a, _ in changed)
    return path


def _default_sigint() -> None:
    # A test run started in the background (`cmd &` in a script) inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt
    # handler: the Ctrl-C tests need the default back in the child.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Proc:
    """A child Python program whose output lines are collected by reader threads."""

    def __init__(self, path: pathlib.Path, port: int) -> None:
        env = client_env()
        env["MQTT_PORT"] = str(port)
        env["MQTT_HOST"] = "127.0.0.1"
        self.proc = subprocess.Popen([sys.executable, str(path)], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, preexec_fn=_default_sigint)
        self.lines = Recorder()
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.add), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err.append), daemon=True),
        ]
        for t in self.readers:
            t.start()

    @staticmethod
    def _read(stream: Any, sink: Any) -> None:
        for line in stream:
            sink(line.rstrip("\n"))
        stream.close()

    def wait_line(self, text: str) -> None:
        """Wait (bounded) until the program printed a line containing ``text``."""
        self.lines.wait_for(lambda ev: any(text in e[0] for e in ev))

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Wait for the exit (killing it after ``timeout``); return (rc, stdout, stderr)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.readers:
            t.join(TIMEOUT)
        out = "\n".join(e[0] for e in self.lines.events) + "\n"
        err = "\n".join(self.err)
        assert self.proc.returncode is not None
        if self.proc.returncode == -signal.SIGKILL:
            pytest.fail(f"{self.proc.args} did not finish\nstdout:\n{out}\nstderr:\n{err}")
        return self.proc.returncode, out, err


def spawn(path: pathlib.Path, port: int) -> Proc:
    return Proc(path, port)


def finish(proc: Proc, timeout: float = 30) -> tuple[int, str, str]:
    return proc.finish(timeout)


FLAVOURS = ["ferromq"] + (["paho"] if PAHO2 else [])


def run_pair(flavour: str, tmp: pathlib.Path) -> tuple[str, str]:
    """subscriber.py (loop_forever) + publisher.py (loop_start) on a fresh broker."""
    with make_broker() as b:
        # The retained message proves the subscription is in place before publishing.
        b.publish("tutorial/hello", "retained hello", qos=1, retain=True)
        sub = spawn(program("subscriber.py", flavour, tmp), b.port)
        try:
            sub.wait_line("tutorial/hello")
            rc, pub_out, err = finish(spawn(program("publisher.py", flavour, tmp), b.port))
            assert rc == 0, err
        finally:
            rc, sub_out, err = finish(sub)
        assert rc == 0, err
    return sub_out, pub_out


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_tutorial_subscriber_and_publisher(flavour, tmp_path):
    need_client()
    sub_out, pub_out = run_pair(flavour, tmp_path)
    assert sub_out.splitlines() == [
        "Connected with result code 0",
        "tutorial/hello b'retained hello'",
        *[f"tutorial/count b'{i}'" for i in range(5)],
        "tutorial/count b'bye'",
        "Subscriber done",
    ]
    assert pub_out.splitlines() == [
        *[f"published {i} mid ok: True is_published: True" for i in range(5)],
        "Publisher done",
    ]


@pytest.mark.parametrize("name", ["mqtt5_v2_callbacks.py", "helpers_single_simple.py"])
def test_examples_print_the_same_as_on_paho(name, tmp_path):
    need_client()
    outputs = {}
    for flavour in FLAVOURS:
        with make_broker() as b:
            rc, out, err = finish(spawn(program(name, flavour, tmp_path), b.port))
            assert rc == 0, err
            outputs[flavour] = out
    assert outputs["ferromq"].strip(), "the example printed nothing"
    if not PAHO2:
        note_skip("comparison with paho-mqtt (pip install 'paho-mqtt>=2')")
    assert len(set(outputs.values())) == 1, outputs


def test_ctrl_c_stops_loop_forever_with_a_clean_disconnect():
    need_client()
    b = make_broker()
    reasons: list[int] = []
    gone = threading.Event()
    b.on_client_disconnect = lambda cl: (reasons.append(cl.reason), gone.set())
    with b:
        b.publish("tutorial/hello", "retained hello", qos=1, retain=True)
        proc = spawn(EXAMPLES / "subscriber.py", b.port)
        proc.wait_line("tutorial/hello")  # on_message ran: loop_forever is running
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = finish(proc)
        assert "KeyboardInterrupt" in err and rc != 0
        assert gone.wait(TIMEOUT)
        assert reasons == [0], "the broker must have received DISCONNECT"


def test_broker_example_serves_and_stops_on_ctrl_c(rec):
    need_client()
    port = free_port()
    proc = spawn(EXAMPLES / "broker_with_callbacks.py", port)
    try:
        proc.wait_line(f"broker listening on 127.0.0.1:{port}")
        c = recording_client(rec, client_id="visitor")
        c.username_pw_set("guest")
        connect(c, rec, port)
        ok = subscribe(c, rec, [("status/#", 1), ("private/x", 1)])
        assert ok[4] == (1, 128)
        rec.wait("on_message")
        assert rec.of("on_message")[0][3].payload == b"up"
        c.publish("chat", "hi", 1).wait_for_publish(TIMEOUT)
        c.disconnect()
        anon = Recorder()
        a = recording_client(anon, client_id="anonymous")
        a.connect("127.0.0.1", port)
        anon.wait("on_connect")
        assert anon.of("on_connect")[0][4] == ferromq.CONNACK_REFUSED_NOT_AUTHORIZED
    finally:
        proc.proc.send_signal(signal.SIGINT)
        rc, out, err = finish(proc)
    assert rc == 0, err
    assert "connect: visitor as guest" in out
    assert "subscribe: visitor -> private/x" in out
    assert "publish: visitor -> chat: b'hi' (qos 1)" in out
    assert out.rstrip().endswith("broker stopped")
