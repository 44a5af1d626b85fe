"""Stores and their catalogs (product.md §6.1–6.2): the Store and Product aggregates.

Text fields are stored trimmed; "blank" means empty after trimming. Commands that would change
nothing (``=`` in the state tables) record no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eventstore.domain import Aggregate, DomainEvent
from eventstore.errors import DomainError, NotFound
from eventstore.registry import domain_event
from eventstore.schema import money

SKU_MAX_LENGTH = 100  # the longest SKU the API and the admin accept (ADR 20)
STORE_NAME_BLANK = "the store name cannot be blank"
STORE_LOCATION_BLANK = "the store location cannot be blank"
ALREADY_PARTICIPATING = "the store is already participating"
ALREADY_NOT_PARTICIPATING = "the store is already not participating"

NEW_PRODUCT_NAME_BLANK = "initializing product: the product name cannot be blank"
NEW_PRODUCT_PRICE_NEGATIVE = "initializing product: the product price cannot be negative"
PRODUCT_NAME_BLANK = "the product name cannot be blank"
PRICE_CHANGE_IS_DECREASE = "the price change would be a decrease"
PRICE_CHANGE_IS_INCREASE = "the price change would be an increase"
PRODUCT_PRICE_NEGATIVE = "the product price cannot be negative"


@domain_event
@dataclass(frozen=True)
class StoreCreated(DomainEvent):
    name = "stores.StoreCreated"
    payload_keys = {"store_name": "name"}
    store_name: str
    location: str
    participating: bool = True


@domain_event
@dataclass(frozen=True)
class StoreParticipationEnabled(DomainEvent):
    name = "stores.StoreParticipationEnabled"


@domain_event
@dataclass(frozen=True)
class StoreParticipationDisabled(DomainEvent):
    name = "stores.StoreParticipationDisabled"


@domain_event
@dataclass(frozen=True)
class StoreRebranded(DomainEvent):
    name = "stores.StoreRebranded"
    payload_keys = {"store_name": "name"}
    store_name: str


@domain_event
@dataclass(frozen=True)
class ProductAdded(DomainEvent):
    name = "stores.ProductAdded"
    payload_keys = {"product_name": "name"}
    store_id: str
    product_name: str
    description: str
    sku: str
    price: Decimal


@domain_event
@dataclass(frozen=True)
class ProductRebranded(DomainEvent):
    name = "stores.ProductRebranded"
    payload_keys = {"product_name": "name"}
    product_name: str
    description: str


@domain_event
@dataclass(frozen=True)
class ProductPriceIncreased(DomainEvent):
    name = "stores.ProductPriceIncreased"
    delta: Decimal
    price: Decimal


@domain_event
@dataclass(frozen=True)
class ProductPriceDecreased(DomainEvent):
    name = "stores.ProductPriceDecreased"
    delta: Decimal
    price: Decimal


@domain_event
@dataclass(frozen=True)
class ProductRemoved(DomainEvent):
    name = "stores.ProductRemoved"


class Store(Aggregate):
    """A physical shop in the mall; participating from creation."""

    stream_type = "stores.Store"
    thing = "store"
    snapshot_name = "stores.StoreV1"

    name: str
    location: str
    participating: bool

    @classmethod
    def create(cls, id: str, name: str, location: str) -> "Store":
        """Checks E1 (name blank) then E2 (location blank); records StoreCreated (participating)."""
        name, location = name.strip(), location.strip()
        if not name:
            raise DomainError(STORE_NAME_BLANK)
        if not location:
            raise DomainError(STORE_LOCATION_BLANK)
        store = cls(id)
        store.raise_event(StoreCreated(store_name=name, location=location, participating=True))
        return store

    def enable_participation(self) -> None:
        if self.participating:
            raise DomainError(ALREADY_PARTICIPATING)
        self.raise_event(StoreParticipationEnabled())

    def disable_participation(self) -> None:
        if not self.participating:
            raise DomainError(ALREADY_NOT_PARTICIPATING)
        self.raise_event(StoreParticipationDisabled())

    def rebrand(self, name: str) -> None:
        """Checks E1; an unchanged name records nothing."""
        name = name.strip()
        if not name:
            raise DomainError(STORE_NAME_BLANK)
        if name != self.name:
            self.raise_event(StoreRebranded(store_name=name))

    def apply_StoreCreated(self, event: StoreCreated) -> None:
        self.name = event.store_name
        self.location = event.location
        self.participating = event.participating

    def apply_StoreParticipationEnabled(self, event: StoreParticipationEnabled) -> None:
        self.participating = True

    def apply_StoreParticipationDisabled(self, event: StoreParticipationDisabled) -> None:
        self.participating = False

    def apply_StoreRebranded(self, event: StoreRebranded) -> None:
        self.name = event.store_name


class Product(Aggregate):
    """One catalog entry of a store. Once removed, every command answers ``product not found``."""

    stream_type = "stores.Product"
    thing = "product"
    snapshot_name = "stores.ProductV1"

    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal
    removed: bool

    @classmethod
    def add(cls, id: str, *, store_id: str, name: str, description: str, sku: str, price: Decimal) -> "Product":
        """Checks E1 (name blank) then E2 (price negative); the caller checked that the store exists."""
        name, price = name.strip(), money(price)
        if not name:
            raise DomainError(NEW_PRODUCT_NAME_BLANK)
        if price < 0:
            raise DomainError(NEW_PRODUCT_PRICE_NEGATIVE)
        product = cls(id)
        product.raise_event(ProductAdded(store_id=store_id, product_name=name, description=description.strip(),
                                         sku=sku.strip(), price=price))
        return product

    def rebrand(self, name: str, description: str) -> None:
        """Checks removed (404) then E3; unchanged name and description record nothing."""
        self._require_active()
        name, description = name.strip(), description.strip()
        if not name:
            raise DomainError(PRODUCT_NAME_BLANK)
        if (name, description) != (self.name, self.description):
            self.raise_event(ProductRebranded(product_name=name, description=description))

    def increase_price(self, price: Decimal) -> None:
        """Checks removed (404); the same price records nothing; a lower one is E4."""
        self._require_active()
        price = money(price)
        if price == self.price:
            return
        if price < self.price:
            raise DomainError(PRICE_CHANGE_IS_DECREASE)
        self.raise_event(ProductPriceIncreased(delta=price - self.price, price=price))

    def decrease_price(self, price: Decimal) -> None:
        """Checks removed (404); the same price records nothing; then E5 (higher), E6 (negative)."""
        self._require_active()
        price = money(price)
        if price == self.price:
            return
        if price > self.price:
            raise DomainError(PRICE_CHANGE_IS_INCREASE)
        if price < 0:
            raise DomainError(PRODUCT_PRICE_NEGATIVE)
        self.raise_event(ProductPriceDecreased(delta=price - self.price, price=price))

    def remove(self) -> None:
        self._require_active()
        self.raise_event(ProductRemoved())

    def _require_active(self) -> None:
        if self.removed:
            raise NotFound(self.thing)

    def apply_ProductAdded(self, event: ProductAdded) -> None:
        self.store_id = event.store_id
        self.name = event.product_name
        self.description = event.description
        self.sku = event.sku
        self.price = event.price
        self.removed = False

    def apply_ProductRebranded(self, event: ProductRebranded) -> None:
        self.name = event.product_name
        self.description = event.description

    def apply_ProductPriceIncreased(self, event: ProductPriceIncreased) -> None:
        self.price = event.price

    def apply_ProductPriceDecreased(self, event: ProductPriceDecreased) -> None:
        self.price = event.price

    def apply_ProductRemoved(self, event: ProductRemoved) -> None:
        self.removed = True

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.price = money(self.price)
