"""The depot's invariants for ``manage.py audit`` (declared in ``DepotConfig.ready``)."""

from __future__ import annotations

from eventstore.audit import Finding, rows, sample


def bots_and_lists_agree() -> Finding:
    """An active bot holds exactly the list assigned to it, which is assigned or active; every assigned or
    active list is held by exactly that bot; no bot has two lists and no list two bots."""
    problems = rows(
        "SELECT 'bot ' || b.id FROM depot_bot b LEFT JOIN depot_shoppinglist l ON l.id = b.shopping_list_id"
        " WHERE b.status = 'active' AND (l.id IS NULL OR l.assigned_bot_id <> b.id"
        "                                OR l.status NOT IN ('assigned', 'active'))"
        " UNION ALL SELECT 'bot ' || b.id FROM depot_bot b WHERE b.status <> 'active' AND b.shopping_list_id <> ''"
        " UNION ALL SELECT 'list ' || l.id FROM depot_shoppinglist l LEFT JOIN depot_bot b ON b.id = l.assigned_bot_id"
        " WHERE l.status IN ('assigned', 'active') AND (b.id IS NULL OR b.status <> 'active'"
        "                                              OR b.shopping_list_id <> l.id)"
        " UNION ALL SELECT 'list ' || shopping_list_id FROM depot_bot WHERE status = 'active'"
        " GROUP BY shopping_list_id HAVING count(*) > 1 LIMIT 100")
    return Finding("bots-and-lists-agree", len(problems), sample([r[0] for r in problems]) if problems else
                   "every active bot holds exactly its one list")
