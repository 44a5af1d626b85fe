"""Errors every module raises and every entry point maps (REST handler, consumer runner, saga)."""

from django.db import IntegrityError


class DomainError(Exception):
    """A business rule refused the command. REST → 400; command handler → Failure reply."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    """The addressed thing does not exist. REST → 404 ``<thing> not found``; command → Failure."""

    def __init__(self, thing: str):
        super().__init__(f"{thing} not found")
        self.thing = thing
        self.message = f"{thing} not found"


class Forbidden(Exception):
    """Authenticated but not allowed for this object. REST → 403."""

    def __init__(self, message: str = "permission denied"):
        super().__init__(message)
        self.message = message


class ConcurrencyError(Exception):
    """Another writer appended to the stream first. REST → 409; message → redelivery."""

    def __init__(self, thing: str):
        super().__init__(f"the {thing} was changed by another request")
        self.thing = thing
        self.message = f"the {thing} was changed by another request"


class VersionConflict(IntegrityError, ConcurrencyError):
    """A ``ConcurrencyError`` found by the database: the unique version constraint of the event table, or the
    version check of a deferred saga update (``eventstore_expect_rows``).

    Also an ``IntegrityError``, so that ``transaction.atomic()`` rolls back when it surfaces at commit.
    """

    def __init__(self, thing: str):
        ConcurrencyError.__init__(self, thing)


class RetryLater(Exception):
    """The target is not in a state where the message applies yet: redeliver with backoff."""


class OutboxError(RuntimeError):
    """The outbox was used outside a transaction."""
