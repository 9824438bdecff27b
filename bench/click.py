"""Click to result: the extension in headless Chromium with the real host, against the stand-in
CLIProxyAPI and a real CLIProxyAPI server side by side (issue 17, 3a).

For each server a Chromium (its own profile and HOME) loads the extension; the project's
installer registers the host for it. Each figure is timed inside the page: from the
synthetic click (``element.click()``) to the first DOM state that shows the result (the
model suggestions, the preview, the result toast), seen by a MutationObserver.

* opening the import dialog (the site's model list: ``models.list``);
* preview (a dry-run ``import``);
* import: a new provider, a key added to an existing provider, and unchanged;
* a batch of 50 keys from 50 sites (``import.batch``: new providers, model lists fetched).

The floor is the same HTTP requests, made by a minimal httpx script (one ``httpx.Client``
per operation): they are recorded once per operation by a small forwarding proxy between the
host and the server (and from the relay stand-in's log), then replayed. Before every run,
click or floor, the server's list is put back to the same starting list (20 providers), so
each run does the same work. Runs are paired (click, then floor, for the same server, the
servers' order alternating). Budget: p50 ≤ floor p50 + 25 ms, judged on the median of the
paired differences (click − floor of the same round), which a busy machine's drift does not
move as much as two separate medians. The host's own time per request (from its log) is kept
beside each figure, to show where the rest goes.

Without Chromium or Playwright the section is skipped with a note; without the real server
(the first release build of tests/real/versions.txt, built by ``python -m tests.real.build``)
its column is skipped with a note. Traffic goes to 127.0.0.1 only; every process is stopped.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import OPENAI, REPO, SECRET, Row, openai_provider, standin_process

BUDGET_MS = 25.0
#: Seconds of quiet before each click and each floor run. Every run starts by putting the
#: server's list back (a write), and a user's click does not follow a write within a quarter
#: of a second: after this pause the previous write's config reload is over, so the host's
#: pacing (core/pacing.py: a write within 250 ms of the last one waits for the reload) never
#: waits and the server never reloads in the middle of a measured run.
ISOLATED = 0.3
BASE_PROVIDERS = [openai_provider(i, keys=2, models=5) for i in range(20)]
SITE_NAME = "Bench Relay"
KEY = "sk-bench-click-0123456789abcdef"
OTHER_KEY = "sk-bench-other-0123456789abcdef"
BATCH = 50
NOTES: list[str] = []  # printed by run() and kept in the rows' extra
VERSIONS: dict[str, str] = {}  # merged into the report's machine line by run.py

# In the page: click `click`, resolve with the ms until `done` is in the DOM and visible.
CLICK_AND_WAIT = """async ([click, done, timeoutMs]) => {
  const ready = () => { const n = document.querySelector(done); return Boolean(n && n.checkVisibility()); };
  const target = document.querySelector(click);
  if (!target) throw new Error(`nothing matches ${click}`);
  if (ready()) throw new Error(`${done} is there before the click`);
  let observer;
  let timer;
  const finished = new Promise((resolve, reject) => {
    observer = new MutationObserver(() => { if (ready()) resolve(performance.now()); });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    timer = setTimeout(() => reject(new Error(`no ${done} within ${timeoutMs} ms`)), timeoutMs);
  });
  const t0 = performance.now();
  target.click();
  try {
    return (await finished) - t0;
  } finally {
    observer.disconnect();
    clearTimeout(timer);
  }
}"""
PING = """async () => {
  const t0 = performance.now();
  const reply = await (globalThis.browser ?? globalThis.chrome).runtime.sendMessage(
    { kind: 'cpa-bridge/call', type: 'ping', params: {}, timeoutMs: 10000 });
  if (!reply?.ok) throw new Error('ping failed');
  return performance.now() - t0;
}"""
CLEAR_TOASTS = "() => document.querySelectorAll('.toast').forEach((n) => n.remove())"
CLOSE_DIALOGS = "() => document.querySelectorAll('dialog[open]').forEach((d) => d.close())"


# ---------------------------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------------------------


def real_binary() -> tuple[str, Path] | None:
    """The first release build of tests/real/versions.txt, when tests/real/build.py has built it."""
    from tests.real.build import pinned

    for spec in pinned():
        if spec.build == "release" and spec.binary().is_file():
            return spec.version, spec.binary()
    return None


@contextmanager
def real_server(version: str, binary: Path) -> Iterator[str]:
    """A real CLIProxyAPI (tests/real/server.py) on a free 127.0.0.1 port; yields its own URL
    (``direct_url``: the test suite's request recorder stays out of the measured path)."""
    from tests.real.server import RealCLIProxyAPI

    folder = Path(tempfile.mkdtemp(prefix="cpa-bridge-bench-real-"))
    server = RealCLIProxyAPI(
        binary,
        folder / "config.yaml",
        initial_yaml=f"{OPENAI}: []\n",
        secret=SECRET,
        version=version,
        plaintext_secret=True,  # the server hashes it at its default cost, as a user's does
    )
    try:
        server.start()
        yield server.direct_url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Recorded:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class RecordingProxy:
    """Forwards every request to ``target`` and records it (for the floor's replay)."""

    def __init__(self, target: str) -> None:
        self.target = target.split("://", 1)[1]
        self.records: list[Recorded] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                keep = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type")
                }
                proxy.records.append(Recorded(self.command, self.path, keep, body))
                conn = http.client.HTTPConnection(proxy.target, timeout=60)
                conn.request(self.command, self.path, body=body or None, headers=keep)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in (
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "date",
                        "server",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="bench-recorder", daemon=True
        )
        self.thread.start()

    def take(self) -> list[Recorded]:
        out, self.records = self.records, []
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# one column: a server, its browser, its recorded requests
# ---------------------------------------------------------------------------------------------


@dataclass
class Op:
    name: str
    label: str
    message: str  # the host request the click sends (its time is read from the host log)
    runs: int
    start: list[dict[str, Any]]  # the server's list before each run
    prepare: Callable[[Column], None]  # untimed, in the page
    click: str
    done: str
    check: Callable[[Column], None] | None = None


@dataclass
class Column:
    label: str
    url: str
    e2e: Any
    browser: Any
    ext: Any
    page: Any
    relay: Any
    key_id: str = ""
    batch_ids: list[str] = field(default_factory=list)
    site_keys: dict[str, str] = field(default_factory=dict)  # relay path → key
    floors: dict[str, list[Recorded]] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {SECRET}"}

    def put_list(self, client: Any, providers: list[dict[str, Any]]) -> None:
        answer = client.put(
            f"{self.url}/v0/management/{OPENAI}", json=providers, headers=self.headers()
        )
        answer.raise_for_status()

    def get_list(self, client: Any) -> list[dict[str, Any]]:
        answer = client.get(f"{self.url}/v0/management/{OPENAI}", headers=self.headers())
        answer.raise_for_status()
        return answer.json().get(OPENAI) or []

    def point_host_at(self, url: str) -> None:
        reply = self.ext.call(
            self.page, "settings.set", {"management_url": url, "management_key": SECRET}
        )
        if not reply.get("ok"):
            raise RuntimeError(f"settings.set failed: {reply.get('error')}")


def relay_provider(relay_url: str, key: str) -> dict[str, Any]:
    return {"name": SITE_NAME, "base-url": f"{relay_url}/v1", "api-key-entries": [{"api-key": key}]}


def open_import(col: Column) -> None:
    col.page.evaluate(CLOSE_DIALOGS)
    col.page.evaluate(CLEAR_TOASTS)
    col.page.click(f'button.cpa-import[data-key-id="{col.key_id}"]')
    col.page.wait_for_selector("#model-suggestions .chip", state="visible")


def closed(col: Column) -> None:
    col.page.evaluate(CLOSE_DIALOGS)
    col.page.evaluate(CLEAR_TOASTS)


def open_batch(col: Column) -> None:
    col.page.evaluate(CLOSE_DIALOGS)
    col.page.reload()
    col.page.wait_for_selector(f'[data-key-id="{col.batch_ids[-1]}"] .key-select')
    col.page.evaluate(
        "(ids) => ids.forEach((id) => document.querySelector(`[data-key-id='${id}'] .key-select`).click())",
        col.batch_ids,
    )
    col.page.click("#batch-import")
    col.page.wait_for_selector("#batch-dialog[open]")
    col.page.evaluate(CLEAR_TOASTS)


def operations(relay_url: str, quick: bool) -> list[Op]:
    n = 3 if quick else 20
    base = BASE_PROVIDERS
    existing = [*base, relay_provider(relay_url, OTHER_KEY)]
    same = [*base, relay_provider(relay_url, KEY)]
    success = ".toast.toast-success[data-action='{}']"
    return [
        Op(
            "dialog",
            "opening the import dialog (site's model list)",
            "models.list",
            n,
            base,
            closed,
            "button.cpa-import[data-key-id='{key}']",
            "#model-suggestions .chip",
        ),
        Op(
            "preview",
            "preview (dry run)",
            "import",
            n,
            base,
            open_import,
            "#imp-preview-btn",
            "#pv-action[data-action='created']",
        ),
        Op(
            "new",
            "import: new provider",
            "import",
            n,
            base,
            open_import,
            "#imp-apply",
            success.format("created"),
        ),
        Op(
            "added",
            "import: key added to an existing provider",
            "import",
            n,
            existing,
            open_import,
            "#imp-apply",
            success.format("updated"),
        ),
        Op(
            "unchanged",
            "import: unchanged",
            "import",
            n,
            same,
            open_import,
            "#imp-apply",
            success.format("unchanged"),
        ),
        Op(
            f"batch{BATCH}",
            f"batch of {BATCH} keys (50 sites, new providers)",
            "import.batch",
            2 if quick else 6,
            base,
            open_batch,
            "#batch-apply",
            ".toast",
        ),
    ]


def setup_column(
    stack: ExitStack, pw: Any, label: str, url: str, relay: Any, client: Any
) -> Column:
    from tests.e2e.harness import Ext, add_site_with_key, make_env, open_browser, register_host

    e2e = make_env(
        Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cpa-bridge-bench-click-")))
    )
    udd = e2e.home / "chromium-profile"
    register_host(e2e, udd)
    browser = open_browser(pw, e2e, udd)
    stack.callback(browser.context.close)
    ext = Ext(browser, f"bench-{label}")
    page = ext.open("keys.html")
    col = Column(label, url, e2e, browser, ext, page, relay)
    col.point_host_at(url)
    _, col.key_id = add_site_with_key(ext, page, SITE_NAME, relay.url, KEY, "main")
    col.site_keys["/v1/models"] = KEY
    for i in range(BATCH):
        key = f"sk-bench-batch-{i:03d}-0123456789abcdef"
        _, key_id = add_site_with_key(ext, page, f"Batch site {i:02d}", f"{relay.url}/s{i}", key)
        col.batch_ids.append(key_id)
        col.site_keys[f"/s{i}/v1/models"] = key
    page.reload()
    page.wait_for_selector(f'button.cpa-import[data-key-id="{col.key_id}"]')
    col.put_list(client, BASE_PROVIDERS)
    return col


def click(col: Column, op: Op) -> float:
    selector = op.click.format(key=col.key_id)
    return float(col.page.evaluate(CLICK_AND_WAIT, [selector, op.done, 120_000]))


def host_ms(col: Column, op: Op, since: int) -> float:
    """The host's own time for the op's request, from the log lines written after ``since``."""
    text = col.e2e.host_log()[since:]
    found = re.findall(rf"ok type={re.escape(op.message)} id=\S+ ms=([0-9.]+)", text)
    return float(found[-1]) if found else float("nan")


def record(col: Column, op: Op, client: Any) -> None:
    """One run through the recording proxy: the requests the floor replays."""
    proxy = RecordingProxy(col.url)
    try:
        col.point_host_at(proxy.url)
        col.put_list(client, op.start)
        op.prepare(col)
        col.relay.reset_requests()
        proxy.take()
        click(col, op)
        relay_calls = [
            Recorded(m, f"{col.relay.url}{p}", {"Authorization": f"Bearer {col.site_keys[p]}"}, b"")
            for m, p, _ in list(col.relay.requests)
            if p in col.site_keys
        ]
        cpa_calls = [
            Recorded(r.method, f"{col.url}{r.url}", r.headers, r.body) for r in proxy.take()
        ]
        col.floors[op.name] = relay_calls + cpa_calls
    finally:
        col.point_host_at(col.url)
        proxy.close()
    closed(col)


def floor(col: Column, op: Op, tls: Any) -> float:
    """The minimal script: one httpx.Client for the operation (its TLS context made beforehand,
    as a script would at import), the recorded requests in order."""
    import httpx

    t0 = time.perf_counter()
    with httpx.Client(trust_env=False, verify=tls, timeout=60) as client:
        for r in col.floors[op.name]:
            answer = client.request(r.method, r.url, headers=r.headers, content=r.body or None)
            if answer.status_code >= 400:
                raise RuntimeError(
                    f"floor: {r.method} {r.url.split('?')[0]} answered {answer.status_code}"
                )
    return (time.perf_counter() - t0) * 1000


def check_result(col: Column, op: Op, client: Any) -> None:
    """After the first run: the server holds what the operation should have written."""
    providers = col.get_list(client)
    expected = {
        "dialog": 20,
        "preview": 20,
        "new": 21,
        "added": 21,
        "unchanged": 21,
        f"batch{BATCH}": 20 + BATCH,
    }
    if len(providers) != expected[op.name]:
        raise RuntimeError(
            f"{col.label} {op.name}: the server holds {len(providers)} providers, "
            f"expected {expected[op.name]}"
        )


def pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------


def chromium_version() -> str:
    from tests.e2e.harness import CHROMIUM

    try:
        out = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.strip().split(" built")[0]


def skipped(why: str) -> list[Row]:
    NOTES.append(why)
    print(f"click: SKIPPED: {why}", file=sys.stderr)
    return [Row("click", f"click to result: SKIPPED ({why})", 0, "", budget="–", ok=None)]


def run(quick: bool = False) -> list[Row]:
    import httpx

    from tests.e2e.harness import missing_browser

    NOTES.clear()
    reason = missing_browser()
    if reason:
        return skipped(reason)
    from playwright.sync_api import sync_playwright

    real = real_binary()
    VERSIONS.update(chromium=chromium_version(), cliproxyapi=real[0] if real else "none")
    if real is None:
        NOTES.append(
            "no real CLIProxyAPI server built (python -m tests.real.build, which scripts/test.sh "
            "runs): its column is skipped"
        )
        print(f"click: {NOTES[-1]}", file=sys.stderr)

    samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}  # (click, floor, host) ms
    with ExitStack() as stack:
        relay = stack.enter_context(_started(relay_standin()))
        servers = [("stand-in", stack.enter_context(standin_process({OPENAI: []})))]
        if real is not None:
            try:
                servers.append((f"CLIProxyAPI {real[0]}", stack.enter_context(real_server(*real))))
            except RuntimeError as exc:
                NOTES.append(
                    f"the real server {real[1]} did not start ({str(exc)[:200]}): its column is skipped"
                )
                print(f"click: {NOTES[-1]}", file=sys.stderr)
        client = stack.enter_context(
            httpx.Client(trust_env=False, timeout=60)
        )  # resets and checks only
        tls = ssl.create_default_context()
        pw = stack.enter_context(sync_playwright())
        columns = [setup_column(stack, pw, label, url, relay, client) for label, url in servers]
        ops = operations(relay.url, quick)
        pings = {
            col.label: [float(col.page.evaluate(PING)) for _ in range(5 if quick else 30)]
            for col in columns
        }
        for op in ops:
            print(f"  {op.label} …", file=sys.stderr, flush=True)
            for col in columns:
                record(col, op, client)
            for i in range(op.runs):
                order = columns if i % 2 == 0 else columns[::-1]
                for col in order:
                    col.put_list(client, op.start)
                    time.sleep(ISOLATED)  # one click alone: see ISOLATED
                    op.prepare(col)
                    since = len(col.e2e.host_log())
                    clicked = click(col, op)
                    hosted = host_ms(col, op, since)
                    if i == 0:
                        check_result(col, op, client)
                    col.put_list(client, op.start)
                    time.sleep(ISOLATED)
                    floored = floor(col, op, tls)
                    samples.setdefault((col.label, op.name), []).append((clicked, floored, hosted))
                for col in columns:
                    closed(col)
        requests = {(col.label, op.name): len(col.floors[op.name]) for col in columns for op in ops}
        labels = [col.label for col in columns]
    return rows(ops, labels, samples, requests, pings)


def rows(ops: list[Op], labels: list[str], samples: dict, requests: dict, pings: dict) -> list[Row]:
    out = []
    for label in labels[:1]:  # the same path for every column: page → worker → host → page
        out.append(
            Row(
                "click",
                f"(info) `ping` from the page through the worker and host, p50 of {len(pings[label])}",
                statistics.median(pings[label]),
                "ms",
                "no HTTP",
                None,
                None,
                "info",
                None,
                {"p95_ms": pct(pings[label], 95)},
            )
        )
    for op in ops:
        for label in labels:
            runs = samples[(label, op.name)]
            clicks = [c for c, _, _ in runs]
            floors = [f for _, f, _ in runs]
            hosts = [h for _, _, h in runs if h == h]
            p50, p95, f50 = statistics.median(clicks), pct(clicks, 95), statistics.median(floors)
            over = statistics.median([c - f for c, f, _ in runs])
            host = statistics.median(hosts) if hosts else None
            n = requests[(label, op.name)]
            extra = {
                "runs": len(runs),
                "requests": n,
                "p95_ms": p95,
                "floor_p95_ms": pct(floors, 95),
                "median_paired_overhead_ms": over,
                "host_ms_p50": host,
                "clicks_ms": clicks,
                "floors_ms": floors,
                "host_ms": hosts,
            }
            out.append(
                Row(
                    "click",
                    f"{op.label} [{label}], p50 of {len(runs)}",
                    p50,
                    "ms",
                    f"httpx floor, same {n} requests",
                    f50,
                    p50 / f50 if f50 else None,
                    f"≤ floor + {BUDGET_MS:.0f} ms (paired: +{over:.0f})",
                    over <= BUDGET_MS,
                    extra,
                )
            )
            out.append(
                Row(
                    "click",
                    f"{op.label} [{label}], p95 of {len(runs)}",
                    p95,
                    "ms",
                    "httpx floor p95",
                    pct(floors, 95),
                    p95 / pct(floors, 95) if floors else None,
                    "info" if host is None else f"info (host {host:.0f} ms)",
                    None,
                    {"median_paired_overhead_ms": over, "host_ms_p50": host},
                )
            )
    for note in NOTES:
        out.append(Row("click", f"note: {note}", 0, "", budget="–", ok=None))
    print(side_by_side(ops, labels, samples), file=sys.stderr)
    return out


def side_by_side(ops: list[Op], labels: list[str], samples: dict) -> str:
    """The servers next to each other: p50 / p95 / floor p50 / paired overhead / host (ms)."""
    head = ["operation"] + [f"{label}: p50 p95 floor +paired host" for label in labels]
    lines = [" | ".join(head)]
    for op in ops:
        cells = [op.label]
        for label in labels:
            runs = samples[(label, op.name)]
            clicks, floors = [c for c, _, _ in runs], [f for _, f, _ in runs]
            hosts = [h for _, _, h in runs if h == h]
            over = statistics.median([c - f for c, f, _ in runs])
            host = f"{statistics.median(hosts):.0f}" if hosts else "?"
            cells.append(
                f"{statistics.median(clicks):.0f} {pct(clicks, 95):.0f} {statistics.median(floors):.0f} "
                f"{over:+.0f} {host}"
            )
        lines.append(" | ".join(cells))
    return "click to result (ms), side by side:\n" + "\n".join(lines)


def relay_standin() -> Any:
    """The relay stand-in serving the model list at /v1/models and /s<i>/v1/models, for every
    bench key (each batch site has its own key; the stand-in knows one)."""
    from tests.standin.upstream import StandinUpstream

    class Relay(StandinUpstream):
        def answer(self, method: str, path: str, authorization: str) -> tuple[int, bytes, str]:
            if authorization.startswith("Bearer sk-bench-"):
                authorization = f"Bearer {self.api_key}"
            return super().answer(method, path, authorization)

    return Relay(
        models=["gpt-4o-mini", "gpt-4.1", "deepseek-chat"],
        api_key=KEY,
        paths=["/v1/models"] + [f"/s{i}/v1/models" for i in range(BATCH)],
    )


@contextmanager
def _started(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    result = run(quick="--quick" in sys.argv)
    for row in result:
        print(
            json.dumps({k: v for k, v in row.as_dict().items() if k != "extra"}, ensure_ascii=False)
        )
