"""HTTP tools against a local test server: requests, secrets, size cap, timeout, and SSRF refusals.

Refused targets (10.x, 169.254.169.254, ...) are refused before any connection is made, so these
tests never send traffic anywhere but 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from autoglm_core.tools.http import HttpPolicy, ToolCallError, build_request, call_http_tool, is_public
from autoglm_core.tools.registry import HttpMethod, HttpSpec, ToolSpec
from tests.tool_support import local_http_server

LOCAL = HttpPolicy(allowlist=("127.0.0.1",), max_response_bytes=64 * 1024, default_timeout_s=5.0)
OPEN = {"type": "object", "properties": {}, "additionalProperties": True}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with local_http_server() as url:
        yield url


def tool(url: str, method: HttpMethod = "GET", **kw: Any) -> ToolSpec:
    return ToolSpec("t", "", OPEN, "http", http=HttpSpec(method, url, **kw))


async def test_get_with_path_and_query_arguments(base_url: str) -> None:
    result = await call_http_tool(
        tool(base_url + "/echo/{city}"), {"city": "New York/../x", "days": 3}, LOCAL
    )
    # The path argument is encoded whole: it cannot climb out of its segment.
    assert result["path"] == "/echo/New%20York%2F..%2Fx"
    assert result["query"] == {"days": "3"}
    assert result["method"] == "GET"


async def test_post_sends_the_other_arguments_as_json(base_url: str) -> None:
    result = await call_http_tool(tool(base_url + "/echo", "POST"), {"q": "hi", "n": [1, 2]}, LOCAL)
    assert result["method"] == "POST" and result["body"] == {"q": "hi", "n": [1, 2]}


async def test_secret_headers_come_from_the_server(base_url: str) -> None:
    policy = HttpPolicy(allowlist=("127.0.0.1",), secrets={"key": "s3cret"})
    result = await call_http_tool(tool(base_url + "/echo", secret_headers={"X-Api-Key": "key"}), {}, policy)
    assert result["headers"]["x-api-key"] == "s3cret"


async def test_secrets_are_not_sent_to_a_redirect_target_on_another_host(base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    policy = HttpPolicy(allowlist=("127.0.0.1", "localhost"), secrets={"key": "s3cret"})
    url = base_url + f"/redirect?to=http://localhost:{port}/echo"
    result = await call_http_tool(tool(url, secret_headers={"X-Api-Key": "key"}), {}, policy)
    assert "x-api-key" not in result["headers"]
    # Connected to the checked address, but the Host header still names the host.
    assert result["headers"]["host"] == f"localhost:{port}"


async def test_json_errors_and_http_errors(base_url: str) -> None:
    assert (await call_http_tool(tool(base_url + "/weather/{city}"), {"city": "Paris"}, LOCAL))[
        "temperature_c"
    ] == 18
    with pytest.raises(ToolCallError, match="HTTP 404"):
        await call_http_tool(tool(base_url + "/weather/{city}"), {"city": "Atlantis"}, LOCAL)
    with pytest.raises(ToolCallError, match="missing arguments"):
        await call_http_tool(tool(base_url + "/weather/{city}"), {}, LOCAL)


async def test_response_size_cap_declared_and_streamed(base_url: str) -> None:
    with pytest.raises(ToolCallError, match="too large"):
        await call_http_tool(tool(base_url + "/big"), {}, LOCAL)
    started = time.monotonic()
    with pytest.raises(ToolCallError, match="too large"):
        await call_http_tool(tool(base_url + "/endless"), {}, LOCAL)
    assert time.monotonic() - started < 3  # stopped at the cap, not after reading the whole body


async def test_timeout(base_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(ToolCallError, match="timed out"):
        await call_http_tool(tool(base_url + "/slow", timeout_s=0.3), {}, LOCAL)
    assert time.monotonic() - started < 1.5


async def test_redirects_are_followed_and_limited(base_url: str) -> None:
    once = base_url + "/redirect?to=/weather/Tokyo"
    assert (await call_http_tool(tool(once), {}, LOCAL))["city"] == "Tokyo"
    loop = base_url + "/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/redirect%25253Fto%25253D/echo"
    with pytest.raises(ToolCallError, match="too many redirects"):
        await call_http_tool(tool(loop), {}, LOCAL)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/echo",  # loopback, not on the allowlist
        "http://localhost:{port}/echo",  # a name that resolves to loopback
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://0.0.0.0:{port}/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        # IPv6 forms of forbidden IPv4 addresses: NAT64, IPv4-compatible, 6to4, Teredo.
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "http://[64:ff9b::7f00:1]:{port}/",  # NAT64 of 127.0.0.1
        "http://[64:ff9b:1::a00:1]/",  # local-use NAT64 of 10.0.0.1
        "http://[::a9fe:a9fe]/",  # IPv4-compatible 169.254.169.254
        "http://[::127.0.0.1]:{port}/",
        "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
        "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    ],
)
async def test_ssrf_targets_are_refused_without_an_allowlist(base_url: str, url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    with pytest.raises(ToolCallError, match="refused"):
        await call_http_tool(tool(url.format(port=port)), {}, HttpPolicy())


async def test_redirect_to_a_private_address_is_refused(base_url: str) -> None:
    for target in ("http://10.0.0.7/admin", "http://169.254.169.254/latest/", "file:///etc/passwd"):
        with pytest.raises(ToolCallError, match="refused"):
            await call_http_tool(tool(base_url + "/redirect?to=" + target), {}, LOCAL)


async def test_metadata_address_stays_refused_even_in_an_allowlisted_network() -> None:
    policy = HttpPolicy(allowlist=("169.254.0.0/16",))
    with pytest.raises(ToolCallError, match="refused"):
        await call_http_tool(tool("http://169.254.169.254/"), {}, policy)


def test_public_addresses_pass_the_check() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1::1"))
    assert not is_public(ipaddress.ip_address("::ffff:10.0.0.1"))
    # NAT64 of a public IPv4 address is as public as that address.
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))


def test_build_request_splits_arguments() -> None:
    url, query, body = build_request(HttpSpec("GET", "https://e.com/a/{x}"), {"x": "a b", "flag": True})
    assert url == "https://e.com/a/a%20b" and query == {"flag": "true"} and body is None
    url, query, body = build_request(HttpSpec("POST", "https://e.com/a"), {"k": 1})
    assert query == {} and body == {"k": 1}
