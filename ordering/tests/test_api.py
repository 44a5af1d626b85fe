"""Order endpoints of api.md §4.4 that take ``{}``: the body is parsed before anything is looked up (§1.4)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["ready", "complete"])
@pytest.mark.parametrize("body,message", [("{bad", "the request body is not valid JSON"),
                                          ("[1]", "the request body must be a JSON object")])
def test_given_a_malformed_body_when_an_order_is_readied_or_completed_then_400_before_404(as_who, action, body,
                                                                                           message):
    status, answer = as_who("depot_staff")("PUT", f"/api/ordering/no-such-order/{action}", body)
    assert (status, answer) == (400, {"code": 3, "message": message, "details": []})


@pytest.mark.parametrize("action", ["ready", "complete"])
def test_given_an_empty_object_when_an_unknown_order_is_readied_or_completed_then_404(as_who, action):
    status, answer = as_who("depot_staff")("PUT", f"/api/ordering/no-such-order/{action}", {})
    assert (status, answer["message"]) == (404, "order not found")
