"""A small Marionette client (stdlib only) for driving Firefox in the e2e tests.

Debian 12 has no geckodriver and ``marionette_driver`` pulls in 16 more packages
(mozrunner, mozdevice, psutil, ...), so this speaks the protocol directly. Firefox is
started with ``--marionette`` and the pref ``marionette.port`` = 0; it then writes the
port it bound to ``<profile>/MarionetteActivePort``.

Wire format: every message is ``<byte length>:<JSON>``. The server greets with
``{"applicationType": "gecko", "marionetteProtocol": 3}``; commands are
``[0, id, "WebDriver:Name", {params}]`` and replies ``[1, id, error | null, result | null]``.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from pathlib import Path
from typing import Any

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"


class MarionetteError(Exception):
    """An error reply from Firefox (``error`` is the WebDriver error code)."""

    def __init__(self, command: str, error: dict[str, Any]) -> None:
        self.error = str(error.get("error", "unknown error"))
        self.message = str(error.get("message", ""))
        super().__init__(f"{command}: {self.error}: {self.message}")


class Element:
    """A web element reference; every method is one Marionette command."""

    def __init__(self, client: Marionette, element_id: str) -> None:
        self.client = client
        self.id = element_id

    def click(self) -> None:
        self.client.send("WebDriver:ElementClick", {"id": self.id})

    def clear(self) -> None:
        self.client.send("WebDriver:ElementClear", {"id": self.id})

    def send_keys(self, text: str) -> None:
        self.client.send("WebDriver:ElementSendKeys", {"id": self.id, "text": text})

    def fill(self, text: str) -> None:
        self.clear()
        if text:
            self.send_keys(text)

    @property
    def text(self) -> str:
        return str(self.client.send("WebDriver:GetElementText", {"id": self.id})["value"])

    def attribute(self, name: str) -> str | None:
        return self.client.send("WebDriver:GetElementAttribute", {"id": self.id, "name": name})[
            "value"
        ]

    def property(self, name: str) -> Any:
        return self.client.send("WebDriver:GetElementProperty", {"id": self.id, "name": name})[
            "value"
        ]

    def is_displayed(self) -> bool:
        return bool(self.client.send("WebDriver:IsElementDisplayed", {"id": self.id})["value"])

    def to_json(self) -> dict[str, str]:
        return {ELEMENT_KEY: self.id}


class Marionette:
    """One connection, one WebDriver session."""

    def __init__(self, host: str = "127.0.0.1", port: int = 2828, *, timeout: float = 60.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._ids = itertools.count(1)
        self._buffer = b""
        self.hello = self._read()
        if self.hello.get("applicationType") != "gecko":
            raise RuntimeError(f"not a Marionette server: {self.hello!r}")

    @classmethod
    def connect_profile(
        cls, profile: Path, *, deadline_s: float = 30.0, alive: Any = None
    ) -> Marionette:
        """Wait for ``<profile>/MarionetteActivePort`` and connect to it."""
        port_file = profile / "MarionetteActivePort"
        deadline = time.monotonic() + deadline_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise RuntimeError("Firefox exited before Marionette was listening")
            try:
                port = int(port_file.read_text(encoding="ascii").strip())
                return cls(port=port)
            except (OSError, ValueError) as exc:  # not written yet / not listening yet
                last = exc
            time.sleep(0.1)
        raise TimeoutError(f"Marionette did not start within {deadline_s} s ({last})")

    # -- wire ---------------------------------------------------------------------------------

    def _read(self) -> Any:
        while b":" not in self._buffer:
            self._recv()
        head, _, rest = self._buffer.partition(b":")
        length = int(head)
        while len(rest) < length:
            self._buffer = head + b":" + rest
            self._recv()
            head, _, rest = self._buffer.partition(b":")
        body, self._buffer = rest[:length], rest[length:]
        return json.loads(body.decode("utf-8"))

    def _recv(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("Marionette closed the connection")
        self._buffer += chunk

    def send(self, command: str, params: dict[str, Any] | None = None) -> Any:
        msg_id = next(self._ids)
        body = json.dumps([0, msg_id, command, params or {}]).encode("utf-8")
        self.sock.sendall(str(len(body)).encode("ascii") + b":" + body)
        while True:
            reply = self._read()
            if isinstance(reply, list) and len(reply) == 4 and reply[0] == 1 and reply[1] == msg_id:
                break  # anything else is a late reply to an earlier, timed-out command
        _, _, error, result = reply
        if error:
            raise MarionetteError(command, error)
        return result

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- session ------------------------------------------------------------------------------

    def start_session(self, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
        caps = {"alwaysMatch": {"pageLoadStrategy": "normal", **(capabilities or {})}}
        return self.send("WebDriver:NewSession", {"capabilities": caps})

    def set_timeouts(
        self, *, script_ms: int = 30_000, page_load_ms: int = 30_000, implicit_ms: int = 0
    ) -> None:
        self.send(
            "WebDriver:SetTimeouts",
            {"script": script_ms, "pageLoad": page_load_ms, "implicit": implicit_ms},
        )

    def quit(self) -> None:
        """Ask Firefox to quit (the connection goes away with it)."""
        try:
            self.send("Marionette:Quit", {"flags": ["eForceQuit"]})
        except (OSError, ConnectionError, MarionetteError):
            pass
        self.close()

    def set_context(self, context: str) -> None:
        self.send("Marionette:SetContext", {"value": context})

    # -- navigation and DOM -------------------------------------------------------------------

    def navigate(self, url: str) -> None:
        self.send("WebDriver:Navigate", {"url": url})

    def refresh(self) -> None:
        self.send("WebDriver:Refresh")

    @property
    def url(self) -> str:
        return str(self.send("WebDriver:GetCurrentURL")["value"])

    def find(self, css: str) -> Element:
        found = self.send("WebDriver:FindElement", {"using": "css selector", "value": css})["value"]
        return Element(self, found[ELEMENT_KEY])

    def find_all(self, css: str) -> list[Element]:
        found = self.send("WebDriver:FindElements", {"using": "css selector", "value": css})
        return [Element(self, item[ELEMENT_KEY]) for item in found]

    def execute(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``); a returned promise is awaited."""
        wire_args = [a.to_json() if isinstance(a, Element) else a for a in args]
        return self.send("WebDriver:ExecuteScript", {"script": script, "args": wire_args})["value"]

    def screenshot(self, *, full: bool = True) -> bytes:
        """A PNG of the current document (the whole page when ``full``)."""
        import base64

        data = self.send("WebDriver:TakeScreenshot", {"full": full, "hash": False})["value"]
        return base64.b64decode(data)
