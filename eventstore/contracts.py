"""Kernel replies: every command handler answers with one of these (events.md §5)."""

from dataclasses import dataclass

from eventstore.registry import message

REPLIES_SUBJECT = "mallbots.replies"


@message("am.Success", REPLIES_SUBJECT)
@dataclass(frozen=True)
class Success:
    pass


@message("am.Failure", REPLIES_SUBJECT)
@dataclass(frozen=True)
class Failure:
    message: str = ""
