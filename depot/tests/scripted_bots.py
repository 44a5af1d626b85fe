"""The bot simulator with scripted draws instead of random ones, for end-to-end tests that need to know
which items a bot reports unavailable: the simulator's own code runs unchanged.

``python -m depot.tests.scripted_bots 0.99,0.0,0.99 run_bots --count 1``: the bots' successive draws
are 0.99, 0.0, 0.99, then 0.99 for ever (an item is unavailable when its draw is below
``BOT_SIM_UNAVAILABLE_RATE``).
"""

from __future__ import annotations

import os
import sys


class ScriptedDraws:
    def __init__(self, draws: list[float]) -> None:
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0) if self.draws else 0.99


def main(argv: list[str]) -> None:
    import django
    from django.core.management import execute_from_command_line

    draws = ScriptedDraws([float(value) for value in argv[0].split(",") if value])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mallbots_site.settings")
    django.setup()
    from depot import simulator

    simulator.new_random = lambda: draws
    execute_from_command_line(["manage.py", *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
