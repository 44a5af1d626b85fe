"""Long fuzzing (``make faults``, quality.md §3): schemathesis against the served OpenAPI schema, at least
``FUZZ_GROUP_CASES`` (2,000) generated requests per operation group (the OpenAPI tag = the module), as a
superuser; every response is checked: no 5xx, and no response that violates the schema (status code, content
type, headers and body conformance).

Each group is one test: first schemathesis' state machine over the links it infers from the schema (a created
store's id feeds its products, a basket's its checkout …), then every operation of the group with positive
and negative (schema-violating) data until the group has its cases. Ids in paths and bodies are often
replaced by ids the API knows (seeded at the start, then taken from every ``{"id": …}`` answer), and the
messages the requests caused are delivered in-process every ``DELIVER_EVERY`` cases, so sagas move orders on
and the operations meet real states, not only 404s. Violations are counted, not raised one at a time, so the
figures are complete; the test fails on any. The figures (cases, 5xx, violations per group) are printed at the
end of the session (``conftest.py``: the fault report).
"""

from __future__ import annotations

import math
import os
import random
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from eventstore.errors import RetryLater

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

GROUP_CASES = int(os.environ.get("FUZZ_GROUP_CASES", "2000"))
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "100"))
STATEFUL_STEPS = 20
DELIVER_EVERY = 100
KNOWN_ID_RATE = 0.6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# Sequences with valid data only: negative steps break hypothesis' replay of the shared state (its
# FlakyStrategyDefinition), and the operations' own runs below cover negative data.
schema.config.phases.stateful.generation.update(modes=[GenerationMode.POSITIVE])
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
GROUPS = sorted({tag for operation in OPERATIONS for tag in operation.tags or ["untagged"]})

# The id an operation's answer carries, by the path parameter (and body field) it names.
CREATES = {"createStore": "store_id", "addProduct": "product_id", "registerCustomer": "customer_id",
           "startBasket": "basket_id", "createOrder": "order_id", "authorizePayment": "payment_id",
           "registerBot": "bot_id", "createShoppingList": "list_id"}
BODY_FIELDS = {"storeId": "store_id", "productId": "product_id", "customerId": "customer_id", "orderId": "order_id",
               "paymentId": "payment_id", "botId": "bot_id", "basketId": "basket_id"}


@dataclass
class GroupFigures:
    group: str
    operations: int = 0
    cases: int = 0
    stateful_steps: int = 0
    server_errors: int = 0
    violations: int = 0
    statuses: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


class KnownIds:
    """Ids the API answered with, by path parameter name; ``pick`` swaps generated ids for them."""

    def __init__(self, seeded: dict[str, list[str]], rng: random.Random) -> None:
        self.ids = {name: list(values) for name, values in seeded.items()}
        self.rng = rng

    def learn(self, operation_id: str, response) -> None:
        name = CREATES.get(operation_id)
        if name and response.status_code == 200:
            try:
                self.ids.setdefault(name, []).append(str(response.json()["id"]))
            except (ValueError, KeyError, TypeError):
                pass

    def swap(self, case) -> None:
        for name in list(case.path_parameters or {}):
            known = self.ids.get(name) or self.ids.get("any")
            if known and self.rng.random() < KNOWN_ID_RATE:
                case.path_parameters[name] = self.rng.choice(known)
        self._swap_body(case.body)

    def _swap_body(self, body) -> None:
        if isinstance(body, list):
            for item in body:
                self._swap_body(item)
        elif isinstance(body, dict):
            for key, value in body.items():
                if key in BODY_FIELDS and self.ids.get(BODY_FIELDS[key]) and self.rng.random() < KNOWN_ID_RATE:
                    body[key] = self.rng.choice(self.ids[BODY_FIELDS[key]])
                elif isinstance(value, (dict, list)):
                    self._swap_body(value)


class Fuzzer:
    def __init__(self, figures: GroupFigures, headers: dict[str, str], known: KnownIds) -> None:
        self.figures, self.headers, self.known = figures, headers, known

    def run_case(self, case, *, stateful: bool = False) -> None:
        if not stateful:
            self.known.swap(case)
        response = case.call(headers=self.headers)
        self.record(case, response, stateful=stateful)

    def record(self, case, response, *, stateful: bool) -> None:
        figures = self.figures
        figures.cases += 1
        figures.stateful_steps += stateful
        figures.statuses[response.status_code] += 1
        self.known.learn(case.operation.definition.raw.get("operationId", ""), response)
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                if isinstance(failure, ServerError):
                    figures.server_errors += 1
                else:
                    figures.violations += 1
                if len(figures.samples) < 10:
                    figures.samples.append(f"{case.operation.label} {response.status_code}: {failure.title}: "
                                           f"{failure.message[:300]} | body {response.text[:200]}")
        if figures.cases % DELIVER_EVERY == 0:
            deliver()


def deliver() -> None:
    """Let the messages the requests caused reach their consumers (in-process), so orders move on."""
    from eventstore.testing import deliver_all

    try:
        deliver_all(max_retries=3)
    except RetryLater:
        pass


def seeded_ids() -> dict[str, list[str]]:
    """One order through the whole flow (ready, invoiced), so every kind of id names something real."""
    from mallbots_site.tests.orders import given_ready_order
    from ordering import models as ordering_models
    from stores import models as stores_models

    order = given_ready_order()
    product = stores_models.Product.objects.first()
    return {"store_id": [product.store_id], "product_id": [product.id], "customer_id": [order.customer_id],
            "basket_id": [order.order_id], "order_id": [order.order_id], "payment_id": [order.payment_id],
            "list_id": [order.shopping_id], "bot_id": [order.bot_id], "invoice_id": [order.invoice_id],
            "any": [ordering_models.Order.objects.first().id]}


def run_stateful(fuzzer_of, scenarios: int) -> int:
    """Schemathesis' state machine over the links it infers from the schema; each step counts for the group
    of its operation (``fuzzer_of(group)``). Every scenario starts from the same database (a savepoint rolled
    back at its end), so the links draw from the same kinds of answers; when hypothesis still finds the
    strategies inconsistent between scenarios (``FlakyStrategyDefinition``: a link's value is drawn from what
    the API answered), the run goes on with fresh scenarios until ``scenarios`` ran. Returns the scenarios run."""
    machine = schema.build_state_machine(feedback=NO_FEEDBACK, link_calibration=None)
    headers = fuzzer_of(GROUPS[0]).headers
    started = [0]

    class Counted(machine):
        def setup(self):
            started[0] += 1
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case):
            """A link can carry an empty value (a bot's ``shoppingListId`` before it has a list); in a path it
            would address another operation (``/shopping//start`` is ``/shopping/start``), so it becomes an
            unknown id."""
            for name, value in (case.path_parameters or {}).items():
                if value in ("", None):
                    case.path_parameters[name] = str(uuid.uuid4())

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            for group in case.operation.tags or ["untagged"]:
                fuzzer_of(group).record(case, response, stateful=True)

    for attempt in range(10):
        try:
            Counted.run(settings=hypothesis_settings(
                max_examples=scenarios - started[0], stateful_step_count=STATEFUL_STEPS, deadline=None,
                database=None, derandomize=attempt == 0, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck)))
        except FlakyStrategyDefinition:
            pass
        if started[0] >= scenarios:
            break
    return started[0]


def run_operation(fuzzer: Fuzzer, operation, mode: GenerationMode, examples: int, round_: int) -> None:
    """``examples`` cases of ``operation``; each round has its own (repeatable) seed."""
    @seed(zlib.crc32(f"{operation.label} {mode.value} {round_}".encode()))
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def fuzz(case):
        fuzzer.run_case(case)

    try:
        fuzz()
    except Unsatisfiable:
        pass


FIGURES: dict[str, GroupFigures] = {}


def figures_of(group: str) -> GroupFigures:
    operations = [operation for operation in OPERATIONS if group in (operation.tags or ["untagged"])]
    return FIGURES.setdefault(group, GroupFigures(group, operations=len(operations)))


def test_stateful_sequences_follow_the_inferred_links_without_a_server_error_or_a_schema_violation(
        superuser_headers):
    """Runs first: its steps count towards each group's cases."""
    known = KnownIds(seeded_ids(), random.Random(0))
    fuzzers = {}

    def fuzzer_of(group: str) -> Fuzzer:
        return fuzzers.setdefault(group, Fuzzer(figures_of(group), superuser_headers, known))

    assert run_stateful(fuzzer_of, STATEFUL_SCENARIOS) >= STATEFUL_SCENARIOS
    stateful = {group: FIGURES[group] for group in fuzzers}
    assert sum(f.stateful_steps for f in stateful.values()) > 0
    assert not any(f.server_errors or f.violations for f in stateful.values()), \
        "\n".join(sample for f in stateful.values() for sample in f.samples)


@pytest.mark.parametrize("group", GROUPS)
def test_every_operation_group_gets_its_cases_without_a_server_error_or_a_schema_violation(
        group, superuser_headers, fault_report):
    figures = figures_of(group)
    operations = [operation for operation in OPERATIONS if group in (operation.tags or ["untagged"])]
    fuzzer = Fuzzer(figures, superuser_headers, KnownIds(seeded_ids(), random.Random(group)))
    rounds = 0
    while figures.cases < GROUP_CASES and rounds < 20:
        missing = GROUP_CASES - figures.cases
        per_operation = max(1, math.ceil(missing / len(operations) / 2))
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run_operation(fuzzer, operation, mode, per_operation, rounds)
        rounds += 1
    fault_report.fuzzing(figures)
    assert figures.cases >= GROUP_CASES, figures
    assert (figures.server_errors, figures.violations) == (0, 0), "\n".join(figures.samples)
