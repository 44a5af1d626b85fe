"""The kiosks: the action mix, each behaviour as a sequence of API calls, and what the clients of one
run share (``Load``: the HTTP client, the counters, the pacer, what they learnt of the catalog, the
orders being followed)."""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from busywork.http import HttpClient, RequestFailed, Response
from busywork.stats import Stats

MIX = {"browse": 25, "buy": 35, "register": 10, "setup_store": 5, "add_inventory": 10, "rebrand": 15}
APPROVED = frozenset({"approved", "in-progress", "ready", "completed"})
REJECTED = frozenset({"rejected", "cancelled"})
MAX_STORES = 200
MAX_PRODUCTS_PER_STORE = 40
MAX_CUSTOMERS = 1000
CENT = Decimal("0.01")

ADJECTIVES = ("Blue", "Happy", "Golden", "Quiet", "Rapid", "Urban", "Rustic", "Lucky", "Bright", "Little")
NOUNS = ("Widget", "Lamp", "Kettle", "Scarf", "Teapot", "Notebook", "Candle", "Backpack", "Mug", "Puzzle")
SHOPS = ("Emporium", "Outlet", "Corner", "Depot", "Boutique", "Market", "Works", "Gallery")
NAMES = ("Ada", "Ben", "Chloe", "Dmitri", "Esther", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Luis")


@dataclass
class Product:
    id: str
    store_id: str
    name: str
    price: Decimal


@dataclass
class World:
    """What the clients learnt about the catalog and the customers (shared, grows within fixed caps)."""

    stores: dict[str, str] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    by_store: dict[str, set[str]] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)
    loaded: bool = False

    def add_store(self, store_id: str, name: str) -> None:
        self.stores[store_id] = name
        self.by_store.setdefault(store_id, set())

    def add_product(self, product: Product) -> None:
        self.products[product.id] = product
        self.by_store.setdefault(product.store_id, set()).add(product.id)

    def forget_product(self, product_id: str) -> None:
        product = self.products.pop(product_id, None)
        if product is not None:
            self.by_store.get(product.store_id, set()).discard(product_id)

    def forget_store(self, store_id: str) -> None:
        self.stores.pop(store_id, None)
        for product_id in self.by_store.pop(store_id, set()):
            self.products.pop(product_id, None)

    def add_customer(self, customer_id: str) -> None:
        if len(self.customers) >= MAX_CUSTOMERS:
            self.customers.pop(0)
        self.customers.append(customer_id)


class Pacer:
    """One token every ``1/rate`` seconds across all clients, no bursts; rate 0: a tiny await only."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    async def wait(self, until: float) -> bool:
        """Sleep until this caller's slot; ``False`` when the slot falls after ``until``."""
        if not self.interval:
            await asyncio.sleep(0.001)
            return time.monotonic() < until
        now = time.monotonic()
        slot = max(self.next, now)
        if slot >= until:
            return False
        self.next = slot + self.interval
        await asyncio.sleep(slot - now)
        return True


class Load:
    """One run: shared state of the clients, the pacer and the background order polls."""

    def __init__(self, http: HttpClient, *, rate: float, underpay_rate: float, reuse_customer_rate: float) -> None:
        self.http = http
        self.stats = Stats()
        self.world = World()
        self.world_lock = asyncio.Lock()
        self.pacer = Pacer(rate)
        self.underpay_rate = underpay_rate
        self.reuse_customer_rate = reuse_customer_rate
        self.polls: set[asyncio.Task] = set()
        self.poll_deadline = math.inf

    def follow(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.polls.add(task)
        task.add_done_callback(self.polls.discard)


class Kiosk:
    """The behaviours; one instance per client, sharing the ``World``, the HTTP client and the stats."""

    def __init__(self, load: Load, rng: random.Random) -> None:
        self.load, self.http, self.stats, self.world, self.rng = load, load.http, load.stats, load.world, rng

    async def send(self, op: str, method: str, path: str, body: Any = None) -> Response | None:
        """One request, counted by ``op``; ``None`` (counted as an error by type) when no HTTP answer came."""
        self.stats.operations[op] += 1
        try:
            response = await self.http.request(method, path, body)
        except RequestFailed as exc:
            self.stats.error(f"{exc.kind} {op}")
            await asyncio.sleep(0.2)
            return None
        self.stats.statuses[response.status] += 1
        if response.status >= 500:
            self.stats.server_errors += 1
        return response

    def unexpected(self, op: str, response: Response) -> None:
        self.stats.error(f"{response.status} {op}: {response.message or '(no message)'}")

    async def call(self, op: str, method: str, path: str, body: Any = None,
                   expect: tuple[int, ...] = (200,)) -> Response | None:
        """One request; an answer outside ``expect`` is counted by status and message and gives ``None``."""
        response = await self.send(op, method, path, body)
        if response is not None and response.status not in expect:
            self.unexpected(op, response)
            return None
        return response

    # --- catalog knowledge -------------------------------------------------------------------------

    async def refresh_stores(self) -> list[str]:
        response = await self.call("getParticipatingStores", "GET", "/api/stores/participating")
        if response is None:
            return list(self.world.stores)
        listed = {s["id"]: s["name"] for s in response.body.get("stores", [])}
        for store_id in set(self.world.stores) - set(listed):
            self.world.forget_store(store_id)
        for store_id, name in listed.items():
            self.world.add_store(store_id, name)
        return list(listed)

    async def refresh_products(self, store_id: str) -> list[Product]:
        response = await self.call("getStoreProducts", "GET", f"/api/stores/{store_id}/products", expect=(200, 404))
        if response is None:
            return []
        if response.status == 404:
            self.world.forget_store(store_id)
            return []
        listed = [Product(p["id"], p["storeId"], p["name"], Decimal(str(p["price"])))
                  for p in response.body.get("products", [])]
        for product_id in self.world.by_store.get(store_id, set()) - {p.id for p in listed}:
            self.world.forget_product(product_id)
        for product in listed:
            self.world.add_product(product)
        return listed

    async def load_world(self) -> None:
        """Learn the existing catalog once (participating stores, products of a few of them)."""
        async with self.load.world_lock:
            if self.world.loaded:
                return
            stores = await self.refresh_stores()
            for store_id in self.rng.sample(stores, min(8, len(stores))):
                await self.refresh_products(store_id)
            self.world.loaded = True

    async def ensure_catalog(self) -> bool:
        """Some product to sell: known, found on the server, or created (a new store with products)."""
        await self.load_world()
        if self.world.products:
            return True
        for store_id in list(self.world.stores)[:3]:
            if await self.refresh_products(store_id):
                return True
        await self.setup_store()
        return bool(self.world.products)

    def pick_products(self, count: int) -> list[Product]:
        products = list(self.world.products.values())
        return self.rng.sample(products, min(count, len(products)))

    async def customer(self) -> str | None:
        if self.world.customers and self.rng.random() < self.load.reuse_customer_rate:
            return self.rng.choice(self.world.customers)
        return await self.register()

    # --- behaviours --------------------------------------------------------------------------------

    async def browse(self) -> None:
        """Look at the participating stores and one catalog, fill a basket, think again, cancel it."""
        stores = await self.refresh_stores()
        if not stores:
            await self.setup_store()
            return
        store_id = self.rng.choice(stores)
        products = await self.refresh_products(store_id)
        if not products:
            await self.add_inventory(store_id)
            return
        opened = await self.open_basket()
        if opened is None:
            return
        _, basket_id = opened
        chosen = self.rng.sample(products, min(len(products), self.rng.randint(1, 3)))
        added = [p for p in chosen if await self.add_item(basket_id, p, self.rng.randint(1, 3))]
        if added and self.rng.random() < 0.3:
            await self.call("removeItem", "PUT", f"/api/baskets/{basket_id}/removeItem",
                            {"productId": added[0].id, "quantity": 1})
        await self.call("getBasket", "GET", f"/api/baskets/{basket_id}")
        await self.call("cancelBasket", "DELETE", f"/api/baskets/{basket_id}")

    async def buy(self) -> None:
        """Fill a basket, pay for it (sometimes short), check out, and follow the order in the background."""
        if not await self.ensure_catalog():
            return
        opened = await self.open_basket()
        if opened is None:
            return
        customer_id, basket_id = opened
        local_total = Decimal("0")
        for product in self.pick_products(self.rng.randint(1, 4)):
            quantity = self.rng.randint(1, 3)
            if await self.add_item(basket_id, product, quantity):
                local_total += product.price * quantity
        response = await self.call("getBasket", "GET", f"/api/baskets/{basket_id}")
        if response is None:
            return
        basket = response.body.get("basket", {})
        if not basket.get("items"):
            await self.call("cancelBasket", "DELETE", f"/api/baskets/{basket_id}")
            return
        total = Decimal(str(basket["total"])) if "total" in basket else local_total
        amount, short = max(total, CENT), False
        if total > CENT and self.rng.random() < self.load.underpay_rate:
            amount, short = max(CENT, (total * Decimal("0.9")).quantize(CENT, ROUND_DOWN)), True
        response = await self.call("authorizePayment", "POST", "/api/payments",
                                   {"customerId": customer_id, "amount": amount})
        if response is None:
            return
        started = time.monotonic()
        response = await self.call("checkoutBasket", "PUT", f"/api/baskets/{basket_id}/checkout",
                                   {"paymentId": response.body["id"]})
        if response is None:
            return
        self.stats.checkouts += 1
        self.load.follow(self.follow_order(basket_id, started, expect_approved=not short))

    async def follow_order(self, order_id: str, started: float, *, expect_approved: bool) -> None:
        """Poll the order until it is final; give up (unresolved) at the run's poll deadline.

        Polls are spaced by 15 % of the time since checkout (20 ms to 1 s): the latency error stays
        proportional, and a slow system is not buried under its own polls.
        """
        while time.monotonic() < self.load.poll_deadline:
            await asyncio.sleep(min(1.0, max(0.02, 0.15 * (time.monotonic() - started))))
            response = await self.call("getOrder", "GET", f"/api/ordering/{order_id}", expect=(200, 404))
            status = response.body.get("order", {}).get("status") if response and response.status == 200 else None
            if status in APPROVED or status in REJECTED:
                elapsed = (time.monotonic() - started) * 1000
                self.stats.final_ms.append(elapsed)
                if status in APPROVED:
                    self.stats.approved += 1
                    self.stats.approved_ms.append(elapsed)
                    if not expect_approved:
                        self.stats.error("unexpected approval: an order paid short was approved")
                else:
                    self.stats.rejected += 1
                    if expect_approved:
                        self.stats.error(f"unexpected {status}: an order paid in full")
                    else:
                        self.stats.rejected_expected += 1
                return
        self.stats.unresolved += 1

    async def register(self) -> str | None:
        """Register a customer; now and then change their SMS number."""
        first = self.rng.choice(NAMES)
        response = await self.call("registerCustomer", "POST", "/api/customers",
                                   {"name": f"{first} {self.rng.choice(NOUNS)}son", "smsNumber": self.sms()})
        if response is None:
            return None
        customer_id = response.body["id"]
        self.world.add_customer(customer_id)
        if self.rng.random() < 0.1:
            await self.call("changeSmsNumber", "PUT", f"/api/customers/{customer_id}/change-sms",
                            {"smsNumber": self.sms()})
        return customer_id

    async def setup_store(self) -> None:
        """Open a store with a handful of products (add inventory instead once the mall is full)."""
        if len(self.world.stores) >= MAX_STORES:
            await self.add_inventory()
            return
        name = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(SHOPS)}"
        response = await self.call("createStore", "POST", "/api/stores",
                                   {"name": name, "location": f"Level {self.rng.randint(1, 4)}, "
                                                              f"unit {self.rng.randint(1, 120)}"})
        if response is None:
            return
        store_id = response.body["id"]
        self.world.add_store(store_id, name)
        for _ in range(self.rng.randint(3, 8)):
            await self.add_product(store_id)

    async def add_inventory(self, store_id: str | None = None) -> None:
        """Add one to three products to a store that is not full."""
        if store_id is None:
            await self.load_world()
            open_stores = [s for s, products in self.world.by_store.items()
                           if s in self.world.stores and len(products) < MAX_PRODUCTS_PER_STORE]
            if not open_stores:
                if len(self.world.stores) < MAX_STORES:
                    await self.setup_store()
                else:
                    await self.rebrand()
                return
            store_id = self.rng.choice(open_stores)
        for _ in range(self.rng.randint(1, 3)):
            await self.add_product(store_id)

    async def rebrand(self) -> None:
        """Rename a store or a product, or move a product's price up or down."""
        await self.load_world()
        choice = self.rng.random()
        if choice < 0.25 or not self.world.products:
            if not self.world.stores:
                await self.setup_store()
                return
            store_id = self.rng.choice(list(self.world.stores))
            name = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(SHOPS)}"
            if await self.call("rebrandStore", "PUT", f"/api/stores/{store_id}/rebrand", {"name": name}):
                self.world.stores[store_id] = name
            return
        product = self.rng.choice(list(self.world.products.values()))
        if choice < 0.5:
            name = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"
            if await self.call("rebrandProduct", "PUT", f"/api/stores/products/{product.id}/rebrand",
                               {"name": name, "description": f"Now {name.lower()}"}):
                product.name = name
            return
        response = await self.call("getProduct", "GET", f"/api/stores/products/{product.id}", expect=(200, 404))
        if response is None:
            return
        if response.status == 404:
            self.world.forget_product(product.id)
            return
        price = Decimal(str(response.body["product"]["price"]))
        step = (price * Decimal(self.rng.randint(1, 20)) / 100).quantize(CENT, ROUND_HALF_UP) or CENT
        if choice < 0.75 or price - step < Decimal("0.50"):
            op, new_price = "increasePrice", price + step
        else:
            op, new_price = "decreasePrice", price - step
        if await self.call(op, "PUT", f"/api/stores/products/{product.id}/{op}", {"price": new_price}):
            product.price = new_price

    # --- small steps -------------------------------------------------------------------------------

    async def open_basket(self) -> tuple[str, str] | None:
        """A customer (known or newly registered) and a new basket of theirs; ``None`` when either failed."""
        customer_id = await self.customer()
        if customer_id is None:
            return None
        response = await self.call("startBasket", "POST", "/api/baskets", {"customerId": customer_id})
        return (customer_id, response.body["id"]) if response else None

    async def add_item(self, basket_id: str, product: Product, quantity: int) -> bool:
        """Add an item; a product or store that went away (or stopped participating) is forgotten."""
        response = await self.send("addItem", "PUT", f"/api/baskets/{basket_id}/addItem",
                                   {"productId": product.id, "quantity": quantity})
        if response is None:
            return False
        if response.status == 200:
            return True
        self.unexpected("addItem", response)
        if response.message == "product not found":
            self.world.forget_product(product.id)
        elif response.message in ("store not found", "the store is not participating"):
            self.world.forget_store(product.store_id)
        return False

    async def add_product(self, store_id: str) -> None:
        name = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"
        price = Decimal(self.rng.randint(50, 5000)) / 100
        response = await self.call("addProduct", "POST", f"/api/stores/{store_id}/products",
                                   {"name": name, "description": f"A {name.lower()}",
                                    "sku": f"SKU-{self.rng.randrange(10 ** 8):08d}", "price": price})
        if response is not None:
            self.world.add_product(Product(response.body["id"], store_id, name, price))

    def sms(self) -> str:
        return f"+1555{self.rng.randrange(10 ** 7):07d}"
