"""The AsyncAPI document: in step with the registries (docs/asyncapi.yaml), well-formed, served next to OpenAPI."""

import io

import pytest
import yaml
from django.core.management import call_command

from eventstore import asyncapi, messaging, registry


def resolve(document: dict, ref: str):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_the_committed_document_is_in_step_with_the_registries():
    call_command("asyncapi", "--check", stdout=io.StringIO())


def test_every_reference_resolves_and_every_operation_names_messages_of_its_own_channel():
    document = asyncapi.document()
    assert document["asyncapi"] == "3.0.0"
    for ref in refs(document):
        assert resolve(document, ref) is not None, ref
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert operation["action"] in ("send", "receive")
        assert all(m["$ref"].startswith(channel + "/messages/") for m in operation["messages"]), name


def test_channels_payloads_publishers_and_durables_come_from_the_registries():
    document = asyncapi.document()
    created = document["components"]["schemas"]["ordersapi.OrderCreated"]
    assert created["required"] == ["id", "customer_id", "payment_id", "shopping_id", "items"]
    assert created["properties"]["items"]["items"]["properties"]["price"]["type"] == "number"
    assert document["channels"]["mallbots.ordering.events.Order"]["address"] == "mallbots.ordering.events.Order"
    assert document["operations"]["ordering.send.mallbots.ordering.events.Order"]["x-module"] == "ordering"
    receivers = {op["x-durable"] for op in document["operations"].values() if op["action"] == "receive"}
    assert receivers == {d.name for d in messaging.durables() if not d.name.startswith("toy-")}
    depot_orders = document["operations"]["depot-orders.receive"]["messages"]
    assert sorted(m["$ref"].rsplit("/", 1)[1] for m in depot_orders) == sorted(
        messaging.get_durable("depot-orders").handlers)
    replies = document["channels"]["mallbots.cosec.replies.CreateOrder"]["messages"]
    assert {"am.Success", "am.Failure"} <= set(replies)
    documented = {m.name for m in registry.all_messages() if not m.cls.__module__.startswith("toyapp")}
    assert set(document["components"]["messages"]) == documented
    assert "mallbots.toy.events.Counter" not in document["channels"]


@pytest.mark.django_db
def test_the_document_is_served_as_yaml_and_json_without_a_token(client):
    response = client.get("/api/asyncapi/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.content) == asyncapi.document()
    as_json = client.get("/api/asyncapi?format=json")
    assert as_json.status_code == 200 and as_json.json()["asyncapi"] == "3.0.0"
    assert client.post("/api/asyncapi/").status_code == 405
