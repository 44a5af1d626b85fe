"""The garbage collector set-up every process gets from the site app (ADR 28)."""

import gc

from mallbots_site.apps import tune_garbage_collector


def test_a_threshold_freezes_start_up_objects_and_sets_the_youngest_generations_threshold():
    before = gc.get_threshold()
    try:
        tune_garbage_collector(12_345)
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)


def test_zero_changes_nothing():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    tune_garbage_collector(0)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, frozen)


def test_every_process_of_the_site_runs_tuned(settings):
    assert settings.GC_THRESHOLD == 50_000
    assert gc.get_threshold()[0] == settings.GC_THRESHOLD
