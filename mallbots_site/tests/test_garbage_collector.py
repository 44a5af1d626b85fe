"""The garbage collector set-up every process gets from the site app (ADR 28)."""

import gc

import pytest

from mallbots_site.apps import tune_garbage_collector


@pytest.fixture
def gc_calls(monkeypatch):
    """Record gc.freeze and gc.set_threshold calls: the freeze count itself drops whenever a frozen object dies."""
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(("freeze",)))
    monkeypatch.setattr(gc, "set_threshold", lambda *args: calls.append(("set_threshold", *args)))
    return calls


def test_a_threshold_freezes_start_up_objects_and_sets_the_youngest_generations_threshold(gc_calls):
    older = gc.get_threshold()[1:]
    tune_garbage_collector(12_345)
    assert gc_calls == [("freeze",), ("set_threshold", 12_345, *older)]


def test_zero_changes_nothing(gc_calls):
    tune_garbage_collector(0)
    assert gc_calls == []


def test_every_process_of_the_site_runs_tuned(settings):
    assert settings.GC_THRESHOLD == 50_000
    assert gc.get_threshold()[0] == settings.GC_THRESHOLD
