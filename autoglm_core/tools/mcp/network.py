"""The HTTP client of streamable-HTTP MCP servers, under the SSRF rules of HTTP tools.

The MCP SDK sends every request (the first, each redirect it follows, the event stream, the session's
DELETE) through an httpx2 client we give it. Its transport checks each request the way HTTP tools are
checked (`tools.http.resolve_checked`): the host is resolved, every address it resolves to must be
public or on the allowlist, and the connection goes to the checked address itself (never the name
again, which a second DNS answer could point elsewhere), with the original Host header and TLS name.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2

from autoglm_core.tools.http import HttpPolicy, ToolCallError, resolve_checked


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """Checks the address of every request and connects to that address."""

    def __init__(self, policy: HttpPolicy) -> None:
        # trust_env=False: a proxy from the environment would connect by name and undo the check.
        super().__init__(trust_env=False)
        self._policy = policy

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise httpx2.ConnectError(
                f"refused: only http and https URLs, not {url.scheme!r}", request=request
            )
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            address = await resolve_checked(url.host, port, self._policy)
        except ToolCallError as error:
            raise httpx2.ConnectError(str(error), request=request) from None
        # The Host header was set from the name when the request was built; only the address changes.
        request.url = url.copy_with(host=str(address))
        if url.scheme == "https":  # the certificate is checked against the name, not the address
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await super().handle_async_request(request)


def pinned_client(policy: HttpPolicy, headers: Mapping[str, str], timeout_s: float) -> httpx2.AsyncClient:
    """An httpx2 client for one MCP server. The read timeout is long: a server holds its event
    stream open between messages; each call has its own timeout above this."""
    timeout = httpx2.Timeout(timeout_s, read=max(timeout_s, 300.0))
    return httpx2.AsyncClient(
        transport=PinnedTransport(policy),
        headers=dict(headers),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


async def check_url(url: str, policy: HttpPolicy) -> None:
    """Raises ToolCallError when url's host resolves to an address the policy refuses."""
    parsed = httpx2.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    await resolve_checked(parsed.host, port, policy)
