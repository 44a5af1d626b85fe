"""Baskets use cases: one function per command, each one transaction (architecture.md §6).

Every function loads the basket, calls the domain and saves; projections and the outbox run inside the
same transaction through the handlers registered in ``baskets.handlers``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from baskets import caches
from baskets.domain import Basket, ProductChoice
from eventstore import codec, store
from eventstore.errors import NotFound
from eventstore.ids import is_valid_id, new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case

baskets = Repository(Basket)


def start_basket(*, customer_id: str) -> str:
    """Start an open basket for ``customer_id`` (BasketStarted → ``basketsapi.BasketStarted``); returns its id.

    Raises ``DomainError`` when the customer id is blank. The customer's existence is not checked.
    """
    with use_case():
        basket = Basket.start(new_id(), customer_id=customer_id)
        baskets.create(basket)
    return basket.id


def add_item(*, basket_id: str, product_id: str, quantity: int) -> None:
    """Add ``quantity`` of a catalog product, capturing its store name, product name and price (BasketItemAdded).

    Checks, in order: basket exists, product exists and is not removed, its store exists (``NotFound``);
    basket open, quantity > 0, store participating (``DomainError``). Product and store come from the
    caches, read through ``stores.public`` on a miss.
    """
    with use_case():
        basket = baskets.load(basket_id)
        product, shop = caches.product_with_store(product_id) if is_valid_id(product_id) else (None, None)
        if product is None or product.removed:
            raise NotFound("product")
        if shop is None or shop.removed:
            raise NotFound("store")
        basket.add_item(ProductChoice(store_id=shop.id, product_id=product.id, store_name=shop.name,
                                      product_name=product.name, price=product.price,
                                      store_participating=shop.participating), quantity)
        baskets.save(basket)


def remove_item(*, basket_id: str, product_id: str, quantity: int) -> None:
    """Take ``quantity`` of a product out of the basket; the line goes at 0 (BasketItemRemoved).

    Checks, in order: basket exists, product id well-formed (``NotFound``); basket open, quantity > 0
    (``DomainError``). A product that is not in the basket changes nothing; the catalog is not consulted.
    """
    with use_case():
        basket = baskets.load(basket_id)
        if not is_valid_id(product_id):
            raise NotFound("product")
        basket.remove_item(product_id, quantity)
        baskets.save(basket)


def cancel_basket(*, basket_id: str) -> None:
    """Cancel an open basket at the customer's request (BasketCanceled reason ``customer`` →
    ``basketsapi.BasketCanceled``). Raises ``NotFound``; ``DomainError`` unless open."""
    with use_case():
        basket = baskets.load(basket_id)
        basket.cancel()
        baskets.save(basket)


def checkout_basket(*, basket_id: str, payment_id: str) -> None:
    """Close the basket with the kiosk's payment authorization (BasketCheckedOut → ``basketsapi.BasketCheckedOut``
    with the captured items). Checks: exists; open, has items, payment id not blank. The payment itself is the
    saga's business."""
    with use_case():
        basket = baskets.load(basket_id)
        basket.checkout(payment_id)
        baskets.save(basket)


def expire_basket(*, basket_id: str, now: dt.datetime | None = None) -> bool:
    """Cancel the basket as abandoned (BasketCanceled reason ``abandoned``) if it is open and its latest event
    happened at least ``BASKET_ABANDON_AFTER_MINUTES`` before ``now``; otherwise nothing. Returns whether it
    expired. A concurrent change to the basket raises ``ConcurrencyError`` and nothing is saved."""
    with use_case():
        basket = baskets.load(basket_id)
        [latest] = store.read(Basket.stream_type, basket.id, basket.version - 1)
        expired = basket.expire(now=now or codec.utcnow(), last_activity=latest.occurred_at,
                                idle_after=dt.timedelta(minutes=settings.BASKET_ABANDON_AFTER_MINUTES))
        baskets.save(basket)
    return expired
