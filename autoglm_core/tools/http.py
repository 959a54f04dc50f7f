"""Runs HTTP tools with httpx, guarded against server-side request forgery (SSRF).

The model chooses the arguments, so a call must never reach the server's own network unless an
operator said so. Before every request (the first and each redirect) the host is resolved and every
address it resolves to is checked: private, loopback, link-local, multicast, reserved, unspecified
and cloud-metadata addresses are refused unless the host name or the address is on the allowlist.
The request then goes to the checked address itself (not the name again, which a second DNS answer
could point elsewhere: DNS rebinding), with the original Host header and TLS server name.
Redirects are followed by hand (at most `max_redirects`), each one checked the same way. The body is
read as a stream and abandoned at the size cap; the whole call runs under one timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from autoglm_core.tools.registry import HttpSpec, ToolSpec, url_placeholders

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints (AWS/GCP/Azure IPv4, AWS IPv6); refused even if a network rule would pass them.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
_REDIRECTS = (301, 302, 303, 307, 308)


class ToolCallError(Exception):
    """A tool failed; the message goes back to the model (and the caller) as the call's error."""


@dataclass(frozen=True)
class HttpPolicy:
    """Server settings for HTTP tools."""

    allowlist: tuple[str, ...] = ()  # host names or CIDRs that may be private (e.g. "127.0.0.1/32")
    max_response_bytes: int = 256 * 1024
    default_timeout_s: float = 10.0
    max_redirects: int = 3
    secrets: Mapping[str, str] = field(default_factory=dict)

    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(entry.lower().rstrip(".") for entry in self.allowlist if not _is_network(entry))

    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.allowlist if _is_network(e))


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, RFC 8215) and
# IPv4-compatible addresses (::a.b.c.d, deprecated but still routed by some stacks).
_IPV4_IN_LOW_BITS = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, NAT64, IPv4-compatible, 6to4, Teredo."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client)
    if any(address in net for net in _IPV4_IN_LOW_BITS) and int(address) > 1:  # not :: or ::1
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    """Whether an address is a normal public one. An IPv6 form of an IPv4 address (mapped, NAT64,
    IPv4-compatible, 6to4, Teredo) is public only when that IPv4 address is too."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner and not all(is_public(v4) for v4 in inner):
            return False
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return False
    # is_global is False for private, loopback, link-local, reserved, shared (CGNAT) and unspecified.
    return address.is_global and not address.is_multicast


async def resolve_checked(host: str, port: int, policy: HttpPolicy) -> IPAddress:
    """The address to connect to for host, after checking every address it resolves to."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else await _resolve(host, port)
    if host.lower().rstrip(".") in policy.allowed_hosts():
        return addresses[0]
    networks = policy.allowed_networks()
    for address in addresses:
        allowed = any(address in net for net in networks) and address not in METADATA_ADDRESSES
        if not (allowed or is_public(address)):
            raise ToolCallError(f"refused: {host} resolves to the non-public address {address}")
    return addresses[0]


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ToolCallError(f"cannot resolve {host}: {error.strerror}") from None
    # Strip an IPv6 zone ("fe80::1%eth0"): it names an interface, not a different address.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise ToolCallError(f"cannot resolve {host}")
    # IPv4 first: the one address we connect to should be the one most networks can reach.
    return sorted(dict.fromkeys(addresses), key=lambda a: a.version)


def build_request(spec: HttpSpec, arguments: Mapping[str, Any]) -> tuple[str, dict[str, str], Any]:
    """(url, query parameters, JSON body or None) for a call. Path values are percent-encoded whole,
    so an argument cannot add path segments, a query or a fragment."""
    used = url_placeholders(spec.url_template)
    missing = [name for name in used if name not in arguments]
    if missing:
        raise ToolCallError(f"missing arguments for the URL: {', '.join(missing)}")
    url = spec.url_template.format(**{n: quote(_text(arguments[n]), safe="") for n in used})
    rest = {k: v for k, v in arguments.items() if k not in used}
    if spec.method == "GET":
        return url, {k: _text(v) for k, v in rest.items() if v is not None}, None
    return url, {}, rest


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


async def call_http_tool(tool: ToolSpec, arguments: Mapping[str, Any], policy: HttpPolicy) -> Any:
    """Calls an HTTP tool; the decoded JSON response (or its text). Raises ToolCallError."""
    assert tool.http is not None, "call_http_tool needs an HTTP tool"
    spec = tool.http
    timeout = spec.timeout_s or policy.default_timeout_s
    url, query, body = build_request(spec, arguments)
    headers = {name: _secret(policy, secret) for name, secret in spec.secret_headers.items()}
    try:
        async with asyncio.timeout(timeout):
            # Merged: the template's own query parameters stay.
            full_url = httpx.URL(url).copy_merge_params(query) if query else httpx.URL(url)
            return await _fetch(spec.method, full_url, headers, body, policy)
    except TimeoutError:
        raise ToolCallError(f"timed out after {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise ToolCallError(f"HTTP request failed: {type(error).__name__}: {error}") from None


def _secret(policy: HttpPolicy, name: str) -> str:
    if name not in policy.secrets:
        raise ToolCallError(f"server secret {name!r} is not configured")
    return policy.secrets[name]


async def _fetch(method: str, url: httpx.URL, headers: dict[str, str], body: Any, policy: HttpPolicy) -> Any:
    # trust_env=False: a proxy from the environment would connect by name and undo the address check.
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None) as client:
        for _ in range(policy.max_redirects + 1):
            status, location, content, content_type = await _send_pinned(
                client, method, url, headers, body, policy
            )
            if status not in _REDIRECTS or location is None:
                return _decode(status, content, content_type)
            next_url = url.join(location)
            if next_url.host != url.host:
                headers = {}  # secrets are for the registered host only, never for a redirect target
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = next_url
    raise ToolCallError(f"too many redirects (more than {policy.max_redirects})")


async def _send_pinned(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    headers: dict[str, str],
    body: Any,
    policy: HttpPolicy,
) -> tuple[int, str | None, bytes, str]:
    """Sends one request to the checked address of url's host; (status, location, body, type)."""
    if url.scheme not in ("http", "https") or not url.host:
        raise ToolCallError(f"refused: only http and https URLs, not {str(url)[:100]!r}")
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await resolve_checked(url.host, port, policy)
    pinned = url.copy_with(host=str(address))
    request_headers = {**headers, "Host": url.netloc.decode("ascii")}
    # TLS: the certificate is checked against the real name (sni_hostname), not the address.
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    request = client.build_request(method, pinned, headers=request_headers, json=body, extensions=extensions)
    response = await client.send(request, stream=True)
    try:
        location = response.headers.get("location") if response.status_code in _REDIRECTS else None
        content = await _read_capped(response, policy.max_response_bytes)
        return response.status_code, location, content, response.headers.get("content-type", "")
    finally:
        await response.aclose()


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ToolCallError(f"response too large: {declared} bytes, the limit is {limit}")
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            # Stop reading: the rest of a huge (or endless) body is never downloaded.
            raise ToolCallError(f"response too large: more than {limit} bytes")
    return bytes(data)


def _decode(status: int, content: bytes, content_type: str) -> Any:
    text = content.decode("utf-8", errors="replace")
    if status >= 400:
        raise ToolCallError(f"HTTP {status}: {text[:200]}")
    if status in _REDIRECTS:
        raise ToolCallError(f"HTTP {status} without a Location header")
    if "json" in content_type or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text
