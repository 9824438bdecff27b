"""The small screenshots the README shows (docs/screenshots/), refreshed by every e2e run.

Taken by Chromium itself at half scale (``Page.captureScreenshot`` with a clip scale), so no
image library is needed; a file is rewritten only when its pixels changed.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save_readme_shot(page: Any, name: str, *, max_height: int = 900, scale: float = 0.5) -> Path:
    """The top of ``page`` (at most ``max_height`` CSS px, full width) as docs/screenshots/<name>.png."""
    width, height = page.evaluate(
        "() => [document.documentElement.clientWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, max_height), "scale": scale}
    cdp = page.context.new_cdp_session(page)
    try:
        shot = cdp.send(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
        )
    finally:
        cdp.detach()
    png = base64.b64decode(shot["data"])
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    if not path.exists() or path.read_bytes() != png:
        path.write_bytes(png)
    return path
