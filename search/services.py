"""Search has no commands: its read model changes only through the ``search-*`` durables' handlers
(``search.handlers``) and ``manage.py rebuild_projections search``."""
