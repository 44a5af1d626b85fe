"""A toy saga over three toy participants, for the saga framework's tests.

Steps: 0 — compensation ``AbortShipment`` (desk); 1 — ``Reserve`` (warehouse, reply ``Reserved`` stores the
reservation id), compensation ``Release`` (skipped without a reservation); 2 — ``Book`` (courier); 3 —
``CloseShipment`` (desk). A ``SagaParticipant`` row per command name makes that command fail with its text;
a cancelled ``Shipment`` makes the saga compensate after the next forward success.
"""

from dataclasses import dataclass

from django.db import transaction

from eventstore import messaging, sagas
from eventstore.commands import command_handler
from eventstore.errors import DomainError
from eventstore.registry import message
from toyapp.models import SagaParticipant, Shipment

WAREHOUSE = "mallbots.toy.warehouse.commands"
COURIER = "mallbots.toy.courier.commands"
DESK = "mallbots.toy.desk.commands"
REPLIES = "mallbots.toy.replies.Shipment"


@message("toyapi.Reserve", WAREHOUSE)
@dataclass(frozen=True)
class Reserve:
    shipment_id: str
    item: str
    quantity: int


@message("toyapi.Reserved", REPLIES)
@dataclass(frozen=True)
class Reserved:
    id: str


@message("toyapi.Release", WAREHOUSE)
@dataclass(frozen=True)
class Release:
    id: str


@message("toyapi.Book", COURIER)
@dataclass(frozen=True)
class Book:
    shipment_id: str
    reservation_id: str


@message("toyapi.CloseShipment", DESK)
@dataclass(frozen=True)
class CloseShipment:
    id: str


@message("toyapi.AbortShipment", DESK)
@dataclass(frozen=True)
class AbortShipment:
    id: str
    reason: str


def _cancelled_meanwhile(data) -> bool:
    return Shipment.objects.filter(id=data.saga_id, cancelled=True).exists()


def _store_reservation(data, reply: Reserved) -> None:
    data["reservation_id"] = reply.id


SHIPMENT = sagas.Saga(
    name="toy.Shipment",
    reply_channel=REPLIES,
    steps=[
        sagas.Step(compensation=lambda data: AbortShipment(id=data.saga_id, reason=data.last_error)),
        sagas.Step(
            action=lambda data: Reserve(shipment_id=data.saga_id, item=data["item"], quantity=data["quantity"]),
            compensation=lambda data: Release(id=data["reservation_id"]) if data["reservation_id"] else None,
            reply_handlers={"toyapi.Reserved": _store_reservation},
        ),
        sagas.Step(action=lambda data: Book(shipment_id=data.saga_id, reservation_id=data["reservation_id"])),
        sagas.Step(action=lambda data: CloseShipment(id=data.saga_id)),
    ],
    on_forward_success=_cancelled_meanwhile,
)


def start_shipment(shipment_id: str, *, item: str = "widget", quantity: int = 1) -> None:
    """Create the toy shipment and start its saga in one transaction."""
    with transaction.atomic():
        Shipment.objects.create(id=shipment_id)
        sagas.start(SHIPMENT, shipment_id, {"item": item, "quantity": quantity, "reservation_id": ""})


def _participate(received) -> None:
    participant, _ = SagaParticipant.objects.get_or_create(command=received.name)
    if participant.fail_with:
        raise DomainError(participant.fail_with)
    participant.handled += 1
    participant.save(update_fields=["handled"])


@command_handler
def reserve(received):
    _participate(received)
    return Reserved(id=f"r-{received.message.shipment_id}")


@command_handler
def succeed(received):
    _participate(received)


@command_handler
def close_shipment(received):
    _participate(received)
    Shipment.objects.filter(id=received.message.id).update(status="closed")


@command_handler
def abort_shipment(received):
    _participate(received)
    Shipment.objects.filter(id=received.message.id).update(status="aborted", reason=received.message.reason)


messaging.declare(name="toy-warehouse-commands", module="toy", subject=WAREHOUSE,
                  handlers={"toyapi.Reserve": reserve, "toyapi.Release": succeed})
messaging.declare(name="toy-courier-commands", module="toy", subject=COURIER, handlers={"toyapi.Book": succeed})
messaging.declare(name="toy-desk-commands", module="toy", subject=DESK,
                  handlers={"toyapi.CloseShipment": close_shipment, "toyapi.AbortShipment": abort_shipment})
sagas.declare_replies(SHIPMENT, durable="toy-saga-replies", module="toy")
