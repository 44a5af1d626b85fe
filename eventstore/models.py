"""Kernel tables (architecture.md §5.1). Written only by the kernel's own code."""

from django.db import models

from eventstore.codec import Decoder, Encoder


class StoredEvent(models.Model):
    global_position = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    stream_type = models.CharField(max_length=100)
    stream_id = models.CharField(max_length=64)
    version = models.IntegerField()
    event_name = models.CharField(max_length=200)
    event_version = models.SmallIntegerField(default=1)
    payload = models.JSONField(encoder=Encoder, decoder=Decoder)
    metadata = models.JSONField(encoder=Encoder, decoder=Decoder)
    occurred_at = models.DateTimeField()

    class Meta:
        db_table = "eventstore_event"
        constraints = [
            models.UniqueConstraint(fields=["stream_type", "stream_id", "version"], name="eventstore_event_stream_version")
        ]
        indexes = [models.Index(fields=["event_name"])]
        verbose_name = "event"

    def __str__(self) -> str:
        return f"{self.stream_type}/{self.stream_id}@{self.version} {self.event_name}"


class Snapshot(models.Model):
    stream_type = models.CharField(max_length=100)
    stream_id = models.CharField(max_length=64)
    version = models.IntegerField()
    snapshot_name = models.CharField(max_length=200)
    state = models.JSONField(encoder=Encoder, decoder=Decoder)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "eventstore_snapshot"
        constraints = [models.UniqueConstraint(fields=["stream_type", "stream_id"], name="eventstore_snapshot_stream")]


class OutboxMessage(models.Model):
    """One message to publish. ``dead_lettered_at``: the relay found it can never be published (too large
    for the server or the stream, ADR 20) and skips it until an operator retries it."""

    position = models.BigAutoField(primary_key=True)
    message_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    payload = models.JSONField(encoder=Encoder, decoder=Decoder)
    metadata = models.JSONField(encoder=Encoder, decoder=Decoder)
    sent_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    dead_lettered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "eventstore_outbox"
        indexes = [
            models.Index(fields=["position"], name="eventstore_outbox_pending",
                         condition=models.Q(published_at__isnull=True, dead_lettered_at__isnull=True)),
            models.Index(fields=["position"], name="eventstore_outbox_dead",
                         condition=models.Q(dead_lettered_at__isnull=False)),
        ]
        verbose_name = "outbox message"


class InboxMessage(models.Model):
    consumer = models.CharField(max_length=100)
    message_id = models.UUIDField()
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    payload = models.JSONField(encoder=Encoder, decoder=Decoder)
    metadata = models.JSONField(encoder=Encoder, decoder=Decoder)
    sent_at = models.DateTimeField(null=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "eventstore_inbox"
        constraints = [models.UniqueConstraint(fields=["consumer", "message_id"], name="eventstore_inbox_consumer_message")]
        indexes = [models.Index(fields=["received_at"])]
        verbose_name = "inbox message"


class AppliedVersion(models.Model):
    """The highest aggregate version a scope (a durable) applied, per aggregate (``eventstore.guards``)."""

    scope = models.CharField(max_length=100)
    stream_type = models.CharField(max_length=100)
    stream_id = models.CharField(max_length=64)
    version = models.IntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "eventstore_appliedversion"
        constraints = [models.UniqueConstraint(fields=["scope", "stream_type", "stream_id"],
                                               name="eventstore_appliedversion_key")]
        indexes = [models.Index(fields=["updated_at"])]
        verbose_name = "applied version"


class DeadLetter(models.Model):
    consumer = models.CharField(max_length=100)
    message_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=200)
    payload = models.JSONField(encoder=Encoder, decoder=Decoder, null=True)
    metadata = models.JSONField(encoder=Encoder, decoder=Decoder, null=True)
    raw = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True)
    deliveries = models.IntegerField(default=0)
    error = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_count = models.IntegerField(default=0)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "eventstore_deadletter"
        constraints = [models.UniqueConstraint(fields=["consumer", "message_id"], name="eventstore_deadletter_consumer_message")]
        verbose_name = "dead letter"


class SagaInstance(models.Model):
    STATUSES = ["running", "compensating", "completed", "compensated", "failed"]

    saga_name = models.CharField(max_length=100)
    saga_id = models.CharField(max_length=64)
    data = models.JSONField(encoder=Encoder, decoder=Decoder)
    step = models.IntegerField(default=-1)
    compensating = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=[(s, s) for s in STATUSES], default="running")
    last_error = models.TextField(blank=True, default="")
    resends = models.IntegerField(default=0)
    step_sent_at = models.DateTimeField(null=True)
    version = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "eventstore_sagainstance"
        constraints = [models.UniqueConstraint(fields=["saga_name", "saga_id"], name="eventstore_saga_name_id")]
        indexes = [models.Index(fields=["status", "step_sent_at"])]
        verbose_name = "saga instance"


class Checkpoint(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "eventstore_checkpoint"
