"""The names of CLIProxyAPI's key lists: the one Python place that spells them.

The extension mirrors :data:`PROVIDER_LISTS` once, as ``PROVIDER_TYPES`` in
``extension/lib/messages.js``; ``tests/test_consistency.py`` checks the two agree.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

OPENAI: Final = "openai-compatibility"
CLAUDE: Final = "claude-api-key"
GEMINI: Final = "gemini-api-key"
CODEX: Final = "codex-api-key"
XAI: Final = "xai-api-key"  # v7+ (v6 has no such list)
VERTEX: Final = "vertex-api-key"
#: Lists holding one entry per key (an entry is a key, its base URL and settings).
KEY_LISTS = (CLAUDE, GEMINI, CODEX, XAI, VERTEX)
#: Lists a provider can be imported into, managed and synced (the management path is the name).
ListName = Literal[
    "openai-compatibility",
    "claude-api-key",
    "gemini-api-key",
    "codex-api-key",
    "xai-api-key",
    "vertex-api-key",
]
PROVIDER_LISTS: tuple[str, ...] = get_args(ListName)
#: Lists that some supported servers lack (v6.10.9 has no xai-api-key): reading one there is
#: ``rejected`` with ``reason: "no_such_list"``, and a listing of every list leaves it out.
LATER_LISTS = (XAI,)
#: Lists ``connection.test`` counts besides those (the server knows them; cpa-bridge does not write them).
OTHER_KEY_LISTS = ("interactions-api-key",)
COUNTED_LISTS = PROVIDER_LISTS + OTHER_KEY_LISTS

assert (OPENAI, *KEY_LISTS) == PROVIDER_LISTS
