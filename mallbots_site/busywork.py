"""Busywork: a crowd of kiosks and store staff driving the API over HTTP (product.md F1, F3, F5, F6).

Each client loops over a weighted mix of behaviours (``MIX``): browse the participating stores and a
catalog, fill a basket and walk away; buy (register or reuse a customer, fill a basket, authorize a
payment for its total, about 5 % of the time deliberately a little short, check out, then follow the
order in the background until it is approved or rejected); register customers; set up stores; add
inventory; rebrand stores and products and move prices. ``--rate`` paces actions across all clients
with one shared pacer; at rate 0 every client runs back to back with a tiny await between actions.

HTTP goes through ``HttpClient``, a small HTTP/1.1 keep-alive client on asyncio streams (no
dependency). The checkout latency is measured from sending the checkout request to the first
``GET /api/ordering/{basketId}`` answer showing a final status; polls are 20 ms apart at first, then
15 % of the time elapsed since checkout (at most 1 s). ``run_load`` returns a ``Summary``; the
``busywork`` management command wraps it.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

MIX = {"browse": 25, "buy": 35, "register": 10, "setup_store": 5, "add_inventory": 10, "rebrand": 15}
APPROVED = frozenset({"approved", "in-progress", "ready", "completed"})
REJECTED = frozenset({"rejected", "cancelled"})
MAX_STORES = 200
MAX_PRODUCTS_PER_STORE = 40
MAX_CUSTOMERS = 1000
IDLE_CONNECTION_SECONDS = 20.0
CENT = Decimal("0.01")

ADJECTIVES = ("Blue", "Happy", "Golden", "Quiet", "Rapid", "Urban", "Rustic", "Lucky", "Bright", "Little")
NOUNS = ("Widget", "Lamp", "Kettle", "Scarf", "Teapot", "Notebook", "Candle", "Backpack", "Mug", "Puzzle")
SHOPS = ("Emporium", "Outlet", "Corner", "Depot", "Boutique", "Market", "Works", "Gallery")
NAMES = ("Ada", "Ben", "Chloe", "Dmitri", "Esther", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Luis")


class RequestFailed(Exception):
    """A request that got no HTTP answer; ``kind`` is ``timeout`` or ``connection error (<exception>)``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Response:
    status: int
    body: Any

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""


class HttpClient:
    """HTTP/1.1 with keep-alive on asyncio streams: a pool of idle connections, at most ``max_connections``
    requests in flight. A GET on a reused connection that the server had closed is retried once."""

    def __init__(self, base_url: str, token: str = "", *, timeout: float = 10.0, max_connections: int = 64) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"base URL must be http://host[:port], not {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.netloc = parts.netloc
        self.token = token
        self.timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def request(self, method: str, path: str, body: Any = None) -> Response:
        payload = json.dumps(body, default=_json_default).encode() if body is not None else b""
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", f"Host: {self.netloc}", "Accept: application/json",
                 "Connection: keep-alive", f"Content-Length: {len(payload)}"]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        if body is not None:
            lines.append("Content-Type: application/json")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        async with self._slots:
            try:
                return await self._exchange(data, retry=method == "GET")
            except asyncio.TimeoutError:
                raise RequestFailed("timeout") from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                raise RequestFailed(f"connection error ({type(exc).__name__})") from None

    async def _exchange(self, data: bytes, retry: bool) -> Response:
        reader, writer, reused = await self._connection()
        try:
            writer.write(data)
            status, keep_alive, body = await asyncio.wait_for(_read_response(reader), self.timeout)
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            if reused and retry:
                return await self._exchange(data, retry=False)
            raise
        except BaseException:
            writer.close()
            raise
        if keep_alive:
            self._idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return Response(status, body)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        now = time.monotonic()
        while self._idle:
            reader, writer, since = self._idle.pop()
            if now - since < IDLE_CONNECTION_SECONDS and not reader.at_eof():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        return reader, writer, False

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer, _ in idle:
            writer.close()
        for _, writer, _ in idle:
            try:
                await writer.wait_closed()
            except OSError:
                pass


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, Any]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status = head[0].split(" ", 2)[:2]
    headers = {}
    for line in head[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
    if "content-length" in headers:
        raw = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        raw = b"".join(chunk[:-2] for chunk in chunks)
    elif int(status) in (204, 304) or 100 <= int(status) < 200:
        raw = b""
    else:
        raw, keep_alive = await reader.read(), False
    try:
        body = json.loads(raw, parse_float=Decimal) if raw else None
    except ValueError:
        body = None
    return int(status), keep_alive, body


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), ``None`` for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Stats:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    server_errors: int = 0
    actions: Counter = field(default_factory=Counter)
    checkouts: int = 0
    approved: int = 0
    rejected: int = 0
    rejected_expected: int = 0
    unresolved: int = 0
    approved_ms: list[float] = field(default_factory=list)
    final_ms: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class Summary:
    """The outcome of one run. Latencies are in milliseconds; ``*_per_second`` use the load phase length."""

    duration: float
    clients: int
    rate: float
    requests: int
    statuses: dict[str, int]
    errors: dict[str, int]
    server_errors: int
    actions: dict[str, int]
    checkouts: int
    approved: int
    rejected: int
    rejected_expected: int
    unresolved: int
    approved_ms: list[float]
    final_ms: list[float]

    @classmethod
    def of(cls, stats: Stats, *, duration: float, clients: int, rate: float) -> "Summary":
        return cls(duration=duration, clients=clients, rate=rate, requests=stats.requests,
                   statuses={str(k): v for k, v in sorted(stats.statuses.items())},
                   errors=dict(stats.errors.most_common()), server_errors=stats.server_errors,
                   actions=dict(stats.actions.most_common()), checkouts=stats.checkouts, approved=stats.approved,
                   rejected=stats.rejected, rejected_expected=stats.rejected_expected, unresolved=stats.unresolved,
                   approved_ms=list(stats.approved_ms), final_ms=list(stats.final_ms))

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration if self.duration > 0 else 0.0

    @property
    def checkouts_per_second(self) -> float:
        return self.checkouts / self.duration if self.duration > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def latency(self, p: float) -> float | None:
        """Checkout → approved latency percentile (ms)."""
        return percentile(self.approved_ms, p)

    @property
    def problems(self) -> int:
        """What should never happen: 5xx, no answer, a checkout without the expected outcome, a client bug.

        4xx answers are not problems: concurrent clients legitimately run into business rules.
        """
        return self.server_errors + self.unresolved + sum(
            count for kind, count in self.errors.items() if not kind[:1].isdigit())

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 2), "clients": self.clients, "rate": self.rate,
            "requests": self.requests, "requests_per_second": round(self.requests_per_second, 1),
            "checkouts": self.checkouts, "checkouts_per_second": round(self.checkouts_per_second, 2),
            "approved": self.approved, "rejected": self.rejected, "rejected_expected": self.rejected_expected,
            "unresolved": self.unresolved,
            "checkout_to_approved_ms": {f"p{p}": _round(self.latency(p)) for p in (50, 95, 99)},
            "checkout_to_final_ms": {f"p{p}": _round(percentile(self.final_ms, p)) for p in (50, 95, 99)},
            "server_errors": self.server_errors, "errors": self.errors, "statuses": self.statuses,
            "actions": self.actions, "problems": self.problems,
        }

    def format(self) -> str:
        def ms(p: float) -> str:
            value = self.latency(p)
            return "—" if value is None else f"{value:.0f} ms"

        lines = [
            f"busywork: {self.clients} clients, {self.duration:.1f} s, rate "
            + (f"{self.rate:g} actions/s" if self.rate else "unpaced"),
            f"  requests   {self.requests} ({self.requests_per_second:.1f}/s)",
            f"  checkouts  {self.checkouts} ({self.checkouts_per_second:.2f}/s): {self.approved} approved, "
            f"{self.rejected} rejected ({self.rejected_expected} short-paid on purpose), {self.unresolved} unresolved",
            f"  checkout → approved  p50 {ms(50)}  p95 {ms(95)}  p99 {ms(99)}  ({len(self.approved_ms)} orders)",
            "  actions    " + ", ".join(f"{name} {count}" for name, count in self.actions.items()),
            "  statuses   " + ", ".join(f"{status}: {count}" for status, count in self.statuses.items()),
            f"  server errors (5xx) {self.server_errors}; errors {self.error_count}" + (":" if self.errors else ""),
        ]
        lines += [f"    {count:6d}  {kind}" for kind, count in self.errors.items()]
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


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


class Kiosk:
    """The behaviours; one instance per client, sharing the ``World``, the HTTP client and the stats."""

    def __init__(self, load: "Load", rng: random.Random) -> None:
        self.load, self.http, self.stats, self.world, self.rng = load, load.http, load.stats, load.world, rng

    async def send(self, op: str, method: str, path: str, body: Any = None) -> Response | None:
        """One request, counted; ``None`` (counted as an error by type) when no HTTP answer came."""
        self.stats.requests += 1
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
        customer_id = await self.customer()
        if customer_id is None:
            return
        basket_id = await self.start_basket(customer_id)
        if basket_id is None:
            return
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
        customer_id = await self.customer()
        if customer_id is None:
            return
        basket_id = await self.start_basket(customer_id)
        if basket_id is None:
            return
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

    async def start_basket(self, customer_id: str) -> str | None:
        response = await self.call("startBasket", "POST", "/api/baskets", {"customerId": customer_id})
        return response.body["id"] if response else None

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


async def _client(load: Load, kiosk: Kiosk, mix: dict[str, float], stop_at: float, stop: asyncio.Event) -> None:
    names, weights = list(mix), list(mix.values())
    while not stop.is_set() and await load.pacer.wait(stop_at):
        if stop.is_set():
            break
        behaviour = kiosk.rng.choices(names, weights)[0]
        load.stats.actions[behaviour] += 1
        try:
            await getattr(kiosk, behaviour)()
        except Exception as exc:  # a broken answer must not end the run; it is counted and shown
            load.stats.error(f"busywork {behaviour}: {type(exc).__name__}: {exc}")
            await asyncio.sleep(0.1)


async def _progress(load: Load, started: float, every: float, report: Callable[[str], None]) -> None:
    previous = (0, 0, started)
    while True:
        await asyncio.sleep(every)
        stats, now = load.stats, time.monotonic()
        requests, checkouts, then = previous
        span = max(now - then, 1e-9)
        report(f"[{now - started:6.1f}s] {(stats.requests - requests) / span:7.1f} req/s  "
               f"{(stats.checkouts - checkouts) / span:6.2f} checkouts/s  "
               f"approved {stats.approved} rejected {stats.rejected} following {len(load.polls)}  "
               f"errors {stats.error_count} (5xx {stats.server_errors})")
        previous = (stats.requests, stats.checkouts, now)


async def run_load(base_url: str, token: str, *, clients: int = 10, duration: float = 60.0, rate: float = 0.0,
                   seed: int | None = None, mix: dict[str, float] | None = None, underpay_rate: float = 0.05,
                   reuse_customer_rate: float = 0.8, poll_grace: float = 15.0, request_timeout: float = 10.0,
                   progress: Callable[[str], None] | None = None, progress_every: float = 5.0,
                   handle_signals: bool = False) -> Summary:
    """Run ``clients`` kiosks for ``duration`` seconds against ``base_url``; return the summary.

    Actions are paced to ``rate`` per second in total (0: unpaced). After ``duration`` no new action
    starts; actions under way finish (each request is bounded by ``request_timeout``); orders still
    being followed get at most ``poll_grace`` more seconds, then count as unresolved. With
    ``handle_signals`` SIGINT/SIGTERM end the load phase early and still produce the summary.
    """
    mix = dict(mix or MIX)
    unknown = set(mix) - set(MIX)
    if unknown or not any(weight > 0 for weight in mix.values()):
        raise ValueError(f"mix needs positive weights for some of {', '.join(MIX)}; unknown: {sorted(unknown)}")
    http = HttpClient(base_url, token, timeout=request_timeout, max_connections=max(16, clients * 3))
    load = Load(http, rate=rate, underpay_rate=underpay_rate, reuse_customer_rate=reuse_customer_rate)
    master = random.Random(seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = [signal.SIGINT, signal.SIGTERM] if handle_signals else []
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    reporter = asyncio.ensure_future(_progress(load, started, progress_every, progress)) if progress else None
    try:
        workers = [asyncio.ensure_future(_client(load, Kiosk(load, random.Random(master.getrandbits(64))), mix,
                                                 started + duration, stop)) for _ in range(clients)]
        await asyncio.wait(workers)
        elapsed = time.monotonic() - started
        load.poll_deadline = time.monotonic() + poll_grace
        if load.polls:
            if progress:
                progress(f"load phase over after {elapsed:.1f} s; following {len(load.polls)} orders "
                         f"for at most {poll_grace:g} s")
            await asyncio.wait(set(load.polls), timeout=poll_grace + request_timeout)
        leftover = list(load.polls)
        for task in leftover:
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)
        load.stats.unresolved += len(leftover)
    finally:
        if reporter:
            reporter.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
        await http.close()
    return Summary.of(load.stats, duration=elapsed, clients=clients, rate=rate)


async def seed_catalog(base_url: str, token: str, *, stores: int = 5, products: int = 10,
                       seed: int | None = None) -> list[str]:
    """Create ``stores`` stores with ``products`` products each; return the store ids."""
    http = HttpClient(base_url, token)
    load = Load(http, rate=0, underpay_rate=0, reuse_customer_rate=0)
    kiosk = Kiosk(load, random.Random(seed))
    try:
        ids = []
        for _ in range(stores):
            response = await kiosk.call("createStore", "POST", "/api/stores",
                                        {"name": f"{kiosk.rng.choice(ADJECTIVES)} {kiosk.rng.choice(SHOPS)}",
                                         "location": f"Level {kiosk.rng.randint(1, 4)}"})
            if response is None:
                raise RuntimeError(f"cannot create a store: {dict(load.stats.errors)}")
            ids.append(response.body["id"])
            for _ in range(products):
                await kiosk.add_product(ids[-1])
        if load.stats.errors:
            raise RuntimeError(f"seeding the catalog failed: {dict(load.stats.errors)}")
        return ids
    finally:
        await http.close()


def issue_busywork_token(username: str = "busywork") -> tuple[str, str]:
    """Get or create the superuser ``username`` and issue it a staff token (1 day); return (raw, prefix).

    Needs database access. A superuser passes every access level (api.md §2.2).
    """
    from django.contrib.auth import get_user_model

    from access.tokens import issue_token

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_superuser": True, "is_staff": True, "is_active": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not (user.is_superuser and user.is_staff and user.is_active):
        user.is_superuser = user.is_staff = user.is_active = True
        user.save(update_fields=["is_superuser", "is_staff", "is_active"])
    token, raw = issue_token("staff", user=user, name=f"busywork {uuid.uuid4().hex[:8]}", expires_days=1)
    return raw, token.prefix
