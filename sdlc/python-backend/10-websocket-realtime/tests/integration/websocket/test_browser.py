"""The JavaScript client in a real browser: headless Chromium (Debian's `chromium`),
driven by Playwright for Python. The page's server is stopped and started again; the
client must reconnect, join its room again and deliver what was sent meanwhile."""

import os
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Error, Page, async_playwright
from sqlalchemy.engine import URL

from tests.integration.websocket.conftest import UserFactory
from tests.integration.websocket.support import AppServer, WsClient, free_port

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser

SILENT_SERVER = """async () => {
  const { RealtimeClient } = await import("/ws/static/realtime-client.js");
  class Silent {
    static OPEN = 1;
    constructor() {
      this.readyState = 1;
      this.closedWith = null;
      Silent.last = this;
      const welcome = { type: "welcome", heartbeat_ms: 200, user: { id: "u", name: "u" } };
      setTimeout(() => this.onmessage({ data: JSON.stringify(welcome) }), 0);
    }
    send() {}
    close(code) {
      this.closedWith = code;
      this.readyState = 3;
      setTimeout(() => this.onclose({ code, reason: "" }), 0);
    }
  }
  const options = { WebSocket: Silent, minDelay: 60000 };
  const client = new RealtimeClient("ws://unused.invalid/ws/v1", options);
  client.connect();
  const started = Date.now();
  while (Silent.last?.closedWith == null && Date.now() - started < 10000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  client.close();
  return { code: Silent.last?.closedWith ?? null, ms: Date.now() - started };
}"""


async def until(page: Page, expression: str) -> None:
    # A function, not a bare expression: the demo's CSP forbids eval, which Playwright
    # would use for an expression (and the CSP stays on: the page runs as in production).
    await page.wait_for_function(f"() => {expression}", timeout=TIMEOUT_MS)


async def send_from_page(page: Page, body: str) -> None:
    await page.fill("#body", body)
    await page.click("#composer button")


async def test_demo_page_reconnects_rejoins_and_resends(
    database_url: URL,
    server: AppServer,
    server_env: dict[str, str],
    make_user: UserFactory,
    room: str,
) -> None:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - one stat, before anything runs
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)")
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    # Bob stays on the session's server; the page talks to its own instance, restarted.
    bob = await WsClient.open(server.ws, bob_token)
    await bob.join(room)
    port = free_port()
    url = database_url.render_as_string(hide_password=False)
    page_server = await AppServer(url, server_env, port=port).start()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # While the server is down the browser reports each refused connection attempt;
        # that is the network, not the page. Anything else logged as an error fails.
        if message.type == "error" and "WebSocket connection to" not in message.text:
            problems.append(f"console: {message.text}")

    def page_error(error: Error) -> None:
        problems.append(f"uncaught: {error}")

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            page = await browser.new_page()
            page.on("console", console)
            page.on("pageerror", page_error)
            await page.goto(
                f"{page_server.http}/ws/demo#token={alice_token}&room={room}&minDelay=200&maxDelay=2000"
            )
            await until(
                page, "window.realtimeDemo.status === 'open' && window.realtimeDemo.joined === 1"
            )
            # The client notices a server that went silent (no FIN): a stand-in socket
            # that says welcome and then nothing is closed after 2.5 heartbeats.
            silent = await page.evaluate(SILENT_SERVER)
            assert silent["code"] == 4000, silent
            await until(page, "document.querySelector('#members').textContent.includes('bob')")

            await bob.send(
                {"type": "message", "id": "m-hello-0001", "room": room, "body": "hello 1"}
            )
            await until(page, "window.realtimeDemo.received.includes('hello 1')")
            assert "bob: hello 1" in await page.inner_text("#messages")
            await send_from_page(page, "from the page")
            assert (await bob.expect("message", body="from the page"))["sender"]["name"] == "alice"
            await until(page, "window.realtimeDemo.acked === 1")

            # Typing: bob sees alice typing; bob's indicator shows on the page, then expires.
            await page.type("#body", "abc")
            assert (await bob.expect("typing", active=True))["user"]["name"] == "alice"
            await page.fill("#body", "")
            await bob.send({"type": "typing", "room": room})
            await until(page, "document.querySelector('#typing').textContent.includes('bob')")
            await until(page, "document.querySelector('#typing').textContent === ''")  # TTL 2 s

            # Restart the page's server: the page sees 1001, keeps what it sends meanwhile.
            assert await page_server.stop() == 0
            await until(page, "window.realtimeDemo.closes.includes(1001)")
            await until(page, "window.realtimeDemo.status === 'reconnecting'")
            await send_from_page(page, "sent while offline")
            assert await page.evaluate("window.realtimeDemo.client.pending.size") == 1
            page_server = await AppServer(url, server_env, port=port).start()

            await until(
                page, "window.realtimeDemo.status === 'open' && window.realtimeDemo.joined === 2"
            )
            assert await page.evaluate("window.realtimeDemo.client.reconnects") >= 1
            assert (await bob.expect("message", body="sent while offline"))["sender"][
                "name"
            ] == "alice"
            await until(
                page,
                "window.realtimeDemo.acked === 2 && window.realtimeDemo.client.pending.size === 0",
            )
            await bob.send(
                {"type": "message", "id": "m-hello-0002", "room": room, "body": "hello 2"}
            )
            await until(page, "window.realtimeDemo.received.includes('hello 2')")
            # At-least-once, shown once: the same id again is dropped by the client.
            await bob.send(
                {"type": "message", "id": "m-hello-0002", "room": room, "body": "hello 2"}
            )
            await bob.expect("ack", id="m-hello-0002", duplicate=True)
            received = await page.evaluate("window.realtimeDemo.received")
            assert received == ["hello 1", "hello 2"], received
            await browser.close()
    finally:
        await page_server.stop()
        await bob.close()
    assert problems == [], problems
