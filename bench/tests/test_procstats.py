"""Roles of run_all's children and the CPU accounting of ``bench.procstats`` (no timing)."""

import os
import subprocess
import sys
import time

import pytest

from bench import procstats


@pytest.mark.parametrize("argv, role", [
    (["python", "-m", "gunicorn", "--bind", "fd://9", "mallbots_site.asgi:application"], "web"),
    (["python", "manage.py", "run_relay"], "relay"),
    (["python", "manage.py", "run_consumers", "--modules", "depot"], "consumers-depot"),
    (["python", "manage.py", "qcluster"], "qcluster"),
    (["python", "manage.py", "run_bots", "--count", "10"], "simulator"),
    (["python", "manage.py", "shell"], "other"),
])
def test_given_child_argv_when_role_then_named_by_its_command(argv, role):
    assert procstats.child_role(argv) == role


def test_given_samples_when_cpu_by_role_then_born_inside_counts_whole_and_others_the_difference():
    watch = procstats.Watch(lambda: {})
    watch.samples = {(1, 0.0): procstats.Sample("web", "w", 10.0, 12.5, born_inside=False),
                     (2, 0.0): procstats.Sample("web", "w2", 0.5, 1.5, born_inside=True),
                     (3, 0.0): procstats.Sample("relay", "r", 3.0, 3.25, born_inside=False)}
    assert watch.cpu_by_role() == {"web": 4.0, "relay": 0.25}


def test_given_own_process_when_watched_then_it_is_sampled_with_its_rss():
    with procstats.Watch(procstats.own_process, interval=0.01) as watch:
        sum(range(10000))
    [sample] = watch.samples.values()
    assert sample.role == "load generator" and sample.rss and not sample.born_inside
    assert watch.long_running() == [sample] and os.getpid() in procstats.own_process()


def test_given_a_process_tree_when_read_from_one_table_then_children_and_grandchildren_get_their_roles():
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)")
    child = subprocess.Popen([sys.executable, "-c", code, "run_relay"])
    try:
        table = None
        for _ in range(100):
            table = procstats.ProcessTable()
            if table.children.get(child.pid):
                break
            time.sleep(0.05)
        [grandchild] = table.children[child.pid]
        roles = procstats.roles_of_run_all(os.getpid(), table)
        assert {pid: roles[pid] for pid in (os.getpid(), child.pid, grandchild)} == {
            os.getpid(): "supervisor", child.pid: "relay", grandchild: "relay"}
        assert procstats.tree(child.pid, "postgres", table) == {child.pid: "postgres", grandchild: "postgres"}
    finally:
        for pid in procstats.ProcessTable().descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()
