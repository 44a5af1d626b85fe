"""The supervisor's output pump: every line of a child prefixed with its name, partial lines kept whole."""

import io
import os
import sys
import types

from mallbots_site.supervisor import Child, Supervisor


def test_given_lines_in_chunks_when_pumped_then_each_line_is_prefixed_once(monkeypatch):
    read_end, write_end = os.pipe()
    os.write(write_end, b"first line\nsecond ")
    os.write(write_end, b"half\nno newline at the end")
    os.close(write_end)
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", types.SimpleNamespace(buffer=out))
    supervisor = Supervisor([Child("relay", []), Child("web", [])], env={})
    with os.fdopen(read_end, "rb") as stream:
        supervisor._pump(supervisor.children[0], stream)
    assert out.getvalue().decode().splitlines() == [
        "relay | first line", "relay | second half", "relay | no newline at the end"]
