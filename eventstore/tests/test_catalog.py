from pathlib import Path

from django.conf import settings

from eventstore import catalog


def test_committed_event_catalog_matches_the_registries():
    committed = (Path(settings.BASE_DIR) / "docs" / "event-catalog.md").read_text()
    assert committed == catalog.render(), "docs/event-catalog.md is stale: run `manage.py event_catalog`"


def test_catalog_lists_kernel_replies_with_payloads():
    text = catalog.render()
    assert "| `mallbots.cosec.replies.CreateOrder` | `am.Failure` | `message`: string |" in text
    assert "mallbots.replies" not in text
    assert "toy" not in text
