#!/usr/bin/env python
import os
import sys


def main() -> None:
    """Complete the environment (embedded PostgreSQL/NATS, development key: ``mallbots_site.bootstrap``), then
    run the Django command. Every command, ``run_all`` included, starts here; its children inherit the
    environment and attach."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")
    from mallbots_site import bootstrap

    bootstrap.prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
