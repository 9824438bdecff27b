"""Who we are: the native host name and the extension ids allowed to call the host.

The Chromium id follows from the ``key`` in ``extension/manifest.json``; a test checks
that these constants match that manifest and the installer.
"""

from __future__ import annotations

import os

HOST_NAME = "io.cpabridge.host"
CHROMIUM_EXTENSION_ID = "jfnngfphkbinbcdgkkoakjbddhegofmn"
GECKO_ID = "cpa-bridge@cpabridge.io"


def allowed_origins() -> set[str]:
    """Chromium origins and Firefox add-on ids allowed to use the host.

    ``CPA_BRIDGE_EXTRA_ORIGINS`` (comma-separated) adds ids for differently signed builds;
    the installer's ``--extension-id`` writes it into the launcher.
    """
    allowed = {f"chrome-extension://{CHROMIUM_EXTENSION_ID}/", GECKO_ID}
    for extra in os.environ.get("CPA_BRIDGE_EXTRA_ORIGINS", "").split(","):
        extra = extra.strip()
        if not extra:
            continue
        if len(extra) == 32 and extra.isalpha():
            extra = f"chrome-extension://{extra}/"
        allowed.add(extra)
    return allowed
