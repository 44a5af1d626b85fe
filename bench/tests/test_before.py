"""The side-by-side module extracts an old commit once and judges this run's figures as ratios to its figures."""

from __future__ import annotations

import subprocess

import pytest

from bench import before, core


def git(repository, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repository), "-c", "user.name=bench", "-c", "user.email=bench@example.org",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "manage.py").write_text("print('old')\n")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "module.py").write_text("VALUE = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "old")
    old = git(repo, "rev-parse", "HEAD")
    (repo / "manage.py").write_text("print('new')\n")
    git(repo, "commit", "-q", "-am", "new")
    return repo, old


def test_the_old_commit_is_extracted_once_with_its_own_files(repository, tmp_path):
    repo, old = repository
    tree = before.extracted_tree(repo, old[:7], tmp_path / "var")

    assert tree == tmp_path / "var" / f"bench-before-{old[:7]}"
    assert (tree / "manage.py").read_text() == "print('old')\n"
    assert (tree / "pkg" / "module.py").read_text() == "VALUE = 1\n"
    assert (tree / ".commit").read_text().strip() == old

    (tree / "pkg" / "module.py").write_text("touched\n")
    assert before.extracted_tree(repo, old[:7], tmp_path / "var") == tree
    assert (tree / "pkg" / "module.py").read_text() == "touched\n"


def test_a_tree_of_another_commit_is_extracted_again(repository, tmp_path):
    repo, old = repository
    tree = before.extracted_tree(repo, old[:7], tmp_path / "var")
    (tree / ".commit").write_text("0" * 40 + "\n")
    (tree / "stale.txt").write_text("left over\n")

    before.extracted_tree(repo, old[:7], tmp_path / "var")

    assert not (tree / "stale.txt").exists()
    assert (tree / ".commit").read_text().strip() == old


def test_a_missing_commit_is_reported_not_raised_elsewhere(repository, tmp_path):
    repo, _ = repository
    with pytest.raises(before.CodeUnavailable, match="commit 1234567 is not in"):
        before.extracted_tree(repo, "1234567", tmp_path / "var")
    with pytest.raises(before.CodeUnavailable):
        before.extracted_tree(tmp_path / "not-a-repository", "1234567", tmp_path / "var")


def test_this_runs_figure_is_judged_as_a_ratio_to_the_old_codes():
    old_cpu = before.reported(core.measured("cpu_per_order", [160.0], "CPU ms/order", at_most=76.5),
                              "cpu_per_order_before_code")
    assert (old_cpu.name, old_cpu.value, old_cpu.passed, old_cpu.target) == (
        "cpu_per_order_before_code", 160.0, None, "reported")

    halved = before.against("cpu_per_order_vs_before_code", core.measured("cpu_per_order", [72.0], "CPU ms/order"),
                            old_cpu, at_most=0.5)
    not_halved = before.against("cpu_per_order_vs_before_code", core.measured("cpu_per_order", [88.0], "CPU ms/order"),
                                old_cpu, at_most=0.5)

    assert halved.ratio == pytest.approx(0.45) and halved.passed is True
    assert halved.baseline_name == "cpu_per_order_before_code" and halved.baseline_value == 160.0
    assert not_halved.ratio == pytest.approx(0.55) and not_halved.passed is False


def test_nothing_is_judged_when_either_side_was_not_measured():
    old_max = before.reported(core.skipped("e2e_max_checkouts", "no answer", unit="checkouts/s"),
                              "e2e_max_checkouts_before_code")
    assert old_max.value is None and old_max.skipped == "no answer"

    current = core.measured("e2e_max_checkouts", [20.0], "checkouts/s", at_least=30)
    assert before.against("e2e_max_vs_before_code", current, old_max, at_least=2).passed is None

    measured_old = before.reported(core.measured("e2e_max_checkouts", [7.0], "checkouts/s"), "old")
    missing = before.against("e2e_max_vs_before_code", None, measured_old, at_least=2)
    assert missing.value is None and missing.skipped == "this run's figure: not measured"
