"""Ordering use cases. Each function is one transaction: load the Order, call the domain, save.

Saving runs the projections and writes the integration events (ordering.handlers) in the same
transaction; creating an order also starts the create-order saga in it (ordering.saga).
"""

from __future__ import annotations

from depot import public as depot_public
from eventstore.errors import DomainError, NotFound
from eventstore.ids import new_id
from eventstore.repository import Repository
from eventstore.transactions import use_case
from ordering import domain, saga
from ordering.domain import Order, OrderItem
from payments import public as payments_public
from stores import public as stores_public

orders = Repository(Order)


def create_order(*, customer_id: str, payment_id: str, items: list[dict], order_id: str | None = None) -> str:
    """Create a pending order and start its create-order saga.

    Emits OrderCreated (→ ``ordersapi.OrderCreated``) and the saga's first command.
    """
    with use_case():
        order = Order.create(order_id or new_id(), customer_id=customer_id, payment_id=payment_id, items=items)
        orders.create(order)
        saga.start(order)
    return order.id


def place_order(*, customer_id: str, payment_id: str, items: list[dict]) -> str:
    """``POST /api/ordering``: an order of catalog products at their catalog names and prices (what the
    kiosk sends for them is ignored), then the same saga as a checkout. Returns the new order id.

    Checks, in order: E1, E2, E3, per item E11–E15 and the quantity and product bounds (the domain); then
    per product, in order of first appearance: 404 ``product not found`` (unknown, removed or malformed),
    404 ``store not found``, ``create order command: the product does not belong to the store`` (the
    item's storeId is not the product's store), ``create order command: the store is not participating``;
    then the total bound. Emits what ``create_order`` emits.
    """
    with use_case():
        requested = Order.check_request(customer_id=customer_id, payment_id=payment_id, items=items)
        return create_order(customer_id=customer_id, payment_id=payment_id,
                            items=[_from_catalog(item) for item in requested])


def _from_catalog(item: OrderItem) -> dict:
    product = stores_public.find_product(item.product_id)
    if product is None or product.removed:
        raise NotFound("product")
    store = stores_public.find_store(product.store_id)
    if store is None:
        raise NotFound("store")
    if item.store_id != store.id:
        raise DomainError(domain.PRODUCT_NOT_OF_STORE)
    if not store.participating:
        raise DomainError(domain.STORE_NOT_PARTICIPATING)
    return {"product_id": product.id, "store_id": store.id, "store_name": store.name, "product_name": product.name,
            "price": product.price, "quantity": item.quantity}


def create_order_from_checkout(*, basket_id: str, customer_id: str, payment_id: str, items: list[dict]) -> bool:
    """Order id = basket id. A checkout for an order that already exists is ignored (returns False)."""
    with use_case():
        if orders.find(basket_id) is not None:
            return False
        create_order(order_id=basket_id, customer_id=customer_id, payment_id=payment_id, items=items)
    return True


def approve_order(*, order_id: str, shopping_id: str) -> None:
    """Saga step 5. Emits OrderApproved unless already approved; E5 otherwise."""
    with use_case():
        order = orders.load(order_id)
        order.approve(shopping_id)
        orders.save(order)


def reject_order(*, order_id: str, reason: str) -> None:
    """Saga compensation. Emits OrderRejected; no-op when already rejected or cancelled; E6 otherwise."""
    with use_case():
        order = orders.load(order_id)
        order.reject(reason)
        orders.save(order)


def cancel_order(*, order_id: str, reason: str) -> None:
    """Kiosk (reason customer) or staff cancellation; refused (E4) once the invoice is paid. Emits OrderCanceled."""
    with use_case():
        order = orders.load(order_id)
        order.cancel(reason, invoice_paid=payments_public.invoice_is_paid(order_id))
        orders.save(order)


def ready_order(*, order_id: str) -> None:
    """Staff recovery: ready the order from its completed shopping list (E7, E9). Emits OrderReadied or OrderCanceled."""
    with use_case():
        order = orders.load(order_id)
        shopping_list = depot_public.shopping_list_for_order(order_id)
        picked = None
        if shopping_list is not None and shopping_list.status == "completed":
            picked = {item.product_id: item.picked_quantity for item in shopping_list.items}
        order.ready_by_staff(picked)
        orders.save(order)


def complete_order(*, order_id: str) -> None:
    """Staff recovery: complete a ready order whose invoice is paid (E8, E10). Emits OrderCompleted."""
    with use_case():
        order = orders.load(order_id)
        order.complete_by_staff(invoice_paid=payments_public.invoice_is_paid(order_id))
        orders.save(order)


def start_order(*, order_id: str, bot_id: str) -> None:
    """A bot started shopping. Raises RetryLater while pending; unknown orders are ignored."""
    with use_case():
        order = orders.find(order_id)
        if order is not None:
            order.start(bot_id)
            orders.save(order)


def ready_order_from_list(*, order_id: str, picked: dict[str, int]) -> None:
    """The shopping list was completed. Raises RetryLater while pending; unknown orders are ignored."""
    with use_case():
        order = orders.find(order_id)
        if order is not None:
            order.ready_from_list(picked)
            orders.save(order)


def cancel_order_for_list(*, order_id: str) -> None:
    """The shopping list was cancelled. Raises RetryLater while pending; unknown orders are ignored."""
    with use_case():
        order = orders.find(order_id)
        if order is not None:
            order.cancel_for_list()
            orders.save(order)


def complete_order_from_invoice(*, order_id: str, invoice_id: str) -> None:
    """The invoice was paid: ready → completed; anything else is ignored."""
    with use_case():
        order = orders.find(order_id)
        if order is not None:
            order.complete_from_invoice(invoice_id)
            orders.save(order)
