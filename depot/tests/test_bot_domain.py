"""The Bot state machine of product.md §6.7, table-driven, without a database."""

import pytest

from depot import domain
from depot.domain import Bot
from eventstore.errors import DomainError

STATES = ["offline", "idle", "active"]
E2, E3, E4, E5 = domain.BOT_ALREADY_ONLINE, domain.BOT_ALREADY_OFFLINE, domain.BOT_SHOPPING, domain.BOT_NOT_AVAILABLE


def committed(bot: Bot) -> Bot:
    bot.version += len(bot.pending)
    bot.pending = []
    return bot


def bot_in(status: str) -> Bot:
    bot = Bot.register("bot-1", name="  Robo  ")
    if status in ("idle", "active"):
        bot.go_online()
    if status == "active":
        bot.assign("list-1")
    assert bot.status == status
    return committed(bot)


COMMANDS = {
    "go online": lambda bot: bot.go_online(),
    "go offline": lambda bot: bot.go_offline(),
    "assign": lambda bot: bot.assign("list-2"),
    "release (its list)": lambda bot: bot.release("list-1"),
    "release (another list)": lambda bot: bot.release("list-9"),
}

# Per command, per state (offline, idle, active): ("→", new state, events) | ("=",) | ("E", text)
TABLE = {
    "go online": [("→", "idle", ["BotWentOnline"]), ("E", E2), ("E", E2)],
    "go offline": [("E", E3), ("→", "offline", ["BotWentOffline"]), ("E", E4)],
    "assign": [("E", E5), ("→", "active", ["BotAssigned"]), ("E", E5)],
    "release (its list)": [("=",), ("=",), ("→", "idle", ["BotReleased"])],
    "release (another list)": [("=",), ("=",), ("=",)],
}

CASES = [(command, state, outcome) for command, outcomes in TABLE.items() for state, outcome in zip(STATES, outcomes)]


@pytest.mark.parametrize("command,state,outcome", CASES, ids=[f"{c}@{s}" for c, s, _ in CASES])
def test_state_machine(command, state, outcome):
    bot = bot_in(state)
    if outcome[0] == "E":
        with pytest.raises(DomainError) as refused:
            COMMANDS[command](bot)
        assert refused.value.message == outcome[1]
        assert bot.pending == [] and bot.status == state
    elif outcome[0] == "=":
        COMMANDS[command](bot)
        assert bot.pending == [] and bot.status == state
    else:
        COMMANDS[command](bot)
        assert (bot.status, [type(e).__name__ for e in bot.pending]) == (outcome[1], outcome[2])
        assert bot.available == (bot.status == "idle")


def test_register_trims_the_name_and_starts_offline_then_a_blank_name_is_refused():
    bot = Bot.register("bot-1", name="  Robo  ")
    assert (bot.bot_name, bot.status, bot.shopping_list_id, bot.available) == ("Robo", "offline", "", False)
    assert bot.pending[0].to_payload() == {"name": "Robo"}
    with pytest.raises(DomainError) as refused:
        Bot.register("bot-2", name="   ")
    assert refused.value.message == "the bot name cannot be blank"


def test_assignment_and_release_track_the_list():
    bot = bot_in("active")
    assert bot.shopping_list_id == "list-1"
    assert bot.release("list-1") is True
    assert (bot.status, bot.shopping_list_id) == ("idle", "")
