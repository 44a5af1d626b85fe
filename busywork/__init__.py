"""Busywork: a crowd of kiosks and store staff driving the API over HTTP (product.md F1, F3, F5, F6).

Each client loops over a weighted mix of behaviours (``MIX``): browse the participating stores and a
catalog, fill a basket and walk away; buy (register or reuse a customer, fill a basket, authorize a
payment for its total, about 5 % of the time deliberately a little short, check out, then follow the
order in the background until it is approved or rejected); register customers; set up stores; add
inventory; rebrand stores and products and move prices. ``--rate`` paces actions across all clients
with one shared pacer; at rate 0 every client runs back to back with a tiny await between actions.

The checkout latency is measured from sending the checkout request to the first
``GET /api/ordering/{basketId}`` answer showing a final status; polls are 20 ms apart at first, then
15 % of the time elapsed since checkout (at most 1 s).

``http`` is the JSON client (over ``devtools.http``, keep-alive), ``kiosk`` the action mix and the
behaviours with what the clients share (pacer, catalog knowledge), ``stats`` the counters and the
summary, ``runner`` ``run_load`` and ``seed_catalog``, ``tokens`` the staff token of the ``busywork``
user. ``manage.py busywork`` wraps ``run_load``. A tool, not part of the product: only that command
imports it.
"""

from busywork.kiosk import MIX
from busywork.runner import run_load, seed_catalog
from busywork.stats import Summary
from busywork.tokens import issue_busywork_token

__all__ = ["MIX", "Summary", "issue_busywork_token", "run_load", "seed_catalog"]
