"""The load tools' HTTP client: response framing, keep-alive, requests as sent."""

import asyncio

import pytest

from devtools.http import Origin, encode_request, read_answer


@pytest.mark.parametrize("raw, expected", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", (200, False)),
    (b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", (404, True)),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", (200, False)),
])
def test_given_http_response_when_read_then_status_and_connection_close(raw, expected):
    async def read():
        reader = asyncio.StreamReader()
        reader.feed_data(raw + b"HTTP/1.1")
        result = await read_answer(reader)
        return result, await reader.read(8)

    result, rest = asyncio.run(read())
    assert (result.status, not result.keep_alive) == expected and rest == b"HTTP/1.1"


@pytest.mark.parametrize("raw, body, keep_alive", [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n\r\n", b"abcdef", True),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi", False),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", b"hi", True),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b"", True),
    (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", b"until the end", False),
])
def test_given_framings_when_read_then_body_and_keep_alive(raw, body, keep_alive):
    async def read():
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_answer(reader)

    answer = asyncio.run(read())
    assert (answer.body, answer.keep_alive) == (body, keep_alive)


def test_given_a_url_then_origin_and_request_bytes():
    origin = Origin.of("http://127.0.0.1:18081/bench/hello?x=1")
    assert (origin.host, origin.port, origin.netloc, origin.target) == (
        "127.0.0.1", 18081, "127.0.0.1:18081", "/bench/hello?x=1")
    assert Origin.of("http://example.test").target == "/"
    with pytest.raises(ValueError):
        Origin.of("https://example.test")
    assert encode_request("POST", "/api", "h:1", ["Authorization: Bearer t"], b"{}") == (
        b"POST /api HTTP/1.1\r\nHost: h:1\r\nConnection: keep-alive\r\nContent-Length: 2\r\n"
        b"Authorization: Bearer t\r\n\r\n{}")
