"""Draw the extension's toolbar icons (extension/icons/icon-{16,32,48,128}.png).

Stdlib only (zlib + struct): a blue rounded square with a white bridge (arch and
deck), anti-aliased by supersampling. Run from the repository root:

    python3 tests/e2e/make_icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZES = (16, 32, 48, 128)
BLUE = (47, 91, 234)
WHITE = (255, 255, 255)
SUPERSAMPLE = 4
OUT = Path(__file__).resolve().parents[2] / "extension" / "icons"


def inside_rounded_square(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def inside_bridge(x: float, y: float) -> bool:
    deck_top, deck_bottom = 0.62, 0.71
    if 0.17 <= x <= 0.83 and deck_top <= y <= deck_bottom:
        return True
    # Arch: a ring (upper half) resting on the deck.
    dx, dy = x - 0.5, y - deck_top
    r = math.hypot(dx, dy)
    if dy <= 0 and 0.20 <= r <= 0.29:
        return True
    # Pillars under the deck.
    return any(abs(x - px) <= 0.045 and deck_bottom <= y <= 0.8 for px in (0.27, 0.73))


def pixel(size: int, px: int, py: int) -> tuple[int, int, int, int]:
    bg = fg = 0
    n = SUPERSAMPLE
    for sy in range(n):
        for sx in range(n):
            x = (px + (sx + 0.5) / n) / size
            y = (py + (sy + 0.5) / n) / size
            if inside_rounded_square(x, y, 0.22):
                bg += 1
                if inside_bridge(x, y):
                    fg += 1
    total = n * n
    if bg == 0:
        return (0, 0, 0, 0)
    t = fg / bg
    rgb = tuple(round(b + (w - b) * t) for b, w in zip(BLUE, WHITE, strict=False))
    return (*rgb, round(255 * bg / total))


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(size, x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (OUT / f"icon-{size}.png").write_bytes(png(size))
        print(OUT / f"icon-{size}.png")


if __name__ == "__main__":
    main()
