"""Child processes: logs, waiting for them, stopping them (also when they ignore SIGTERM)."""

import signal
import sys
from pathlib import Path

import pytest

from devtools.processes import LoggedProcess, ProcessError, stop, tail, wait_until

STUBBORN = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(120)")
TERMINABLE = "import time; print('ready', flush=True); time.sleep(120)"


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _logged(tmp_path, code: str, name: str, **popen) -> LoggedProcess:
    process = LoggedProcess([sys.executable, "-c", code], tmp_path / f"{name}.log", **popen)
    wait_until(lambda: "ready" in process.log_path.read_text(), 30, f"{name} ready", watch=[process])
    return process


def test_given_a_log_then_tail_joins_the_last_lines_and_a_missing_log_reads_empty(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("one\ntwo\nthree\nfour\n")
    assert tail(log, 2) == "three | four"
    assert tail(tmp_path / "missing.log") == ""


def test_given_processes_when_stopped_then_sigterm_ends_them(tmp_path):
    first, second = _logged(tmp_path, TERMINABLE, "first"), _logged(tmp_path, TERMINABLE, "second")
    stop(first, second, timeout=30)
    assert (first.returncode, second.returncode) == (-signal.SIGTERM, -signal.SIGTERM)


def test_given_a_process_ignoring_sigterm_with_a_child_in_its_own_session_when_stopped_then_both_are_killed(tmp_path):
    code = ("import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', sys.argv[1]], "
            "start_new_session=True); print('child', child.pid, flush=True); exec(sys.argv[1])")
    parent = LoggedProcess([sys.executable, "-c", code, STUBBORN], tmp_path / "parent.log", start_new_session=True)
    wait_until(lambda: parent.log_path.read_text().count("ready") == 2, 30, "parent and child ready", watch=[parent])
    child = int(parent.log_path.read_text().split("child ")[1].split()[0])
    stop(parent, timeout=0.5)
    assert parent.returncode == -signal.SIGKILL
    wait_until(lambda: _gone(child), 30, "the child killed")


def test_given_a_process_that_exits_when_waiting_then_the_error_names_it_with_its_log(tmp_path):
    process = LoggedProcess([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], tmp_path / "exits.log")
    with pytest.raises(ProcessError, match=r"server ready: process exited with 3: boom"):
        wait_until(lambda: False, 60, "server ready", watch=[process], interval=0.05)


def test_given_append_then_the_log_keeps_earlier_output(tmp_path):
    log = tmp_path / "kept.log"
    log.write_text("earlier\n")
    LoggedProcess([sys.executable, "-c", "print('later')"], log, append=True).wait(30)
    assert log.read_text() == "earlier\nlater\n"
    LoggedProcess([sys.executable, "-c", "print('fresh')"], log).wait(30)
    assert log.read_text() == "fresh\n"
