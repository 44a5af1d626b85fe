"""Integration events published by stores (events.md §4.1–4.2); payload keys are snake_case."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eventstore.registry import message

STORE_SUBJECT = "mallbots.stores.events.Store"
PRODUCT_SUBJECT = "mallbots.stores.events.Product"


@message("storesapi.StoreCreated", STORE_SUBJECT)
@dataclass(frozen=True)
class StoreCreated:
    """A store was created; it participates from creation."""

    id: str
    name: str
    location: str


@message("storesapi.StoreParticipationToggled", STORE_SUBJECT)
@dataclass(frozen=True)
class StoreParticipationToggled:
    """Participation was enabled or disabled (the reference misspelt it ``StoreParticipatingToggled``)."""

    id: str
    participating: bool


@message("storesapi.StoreRebranded", STORE_SUBJECT)
@dataclass(frozen=True)
class StoreRebranded:
    id: str
    name: str


@message("storesapi.ProductAdded", PRODUCT_SUBJECT)
@dataclass(frozen=True)
class ProductAdded:
    id: str
    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal


@message("storesapi.ProductRebranded", PRODUCT_SUBJECT)
@dataclass(frozen=True)
class ProductRebranded:
    id: str
    name: str
    description: str


@message("storesapi.ProductPriceIncreased", PRODUCT_SUBJECT)
@dataclass(frozen=True)
class ProductPriceIncreased:
    """``delta`` > 0; ``price`` is the new absolute price."""

    id: str
    delta: Decimal
    price: Decimal


@message("storesapi.ProductPriceDecreased", PRODUCT_SUBJECT)
@dataclass(frozen=True)
class ProductPriceDecreased:
    """``delta`` < 0; ``price`` is the new absolute price."""

    id: str
    delta: Decimal
    price: Decimal


@message("storesapi.ProductRemoved", PRODUCT_SUBJECT)
@dataclass(frozen=True)
class ProductRemoved:
    id: str
