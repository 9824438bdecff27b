"""A key typed on the command line is refused without being printed back (argparse echoed it)."""

from __future__ import annotations

import pytest

SECRET = "sk-typed-on-argv-0123456789"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["import", "--api-key", SECRET], id="unknown-option-with-value"),
        pytest.param(["import", f"--api-key={SECRET}"], id="unknown-option-equals"),
        pytest.param(["settings", "set", SECRET], id="stray-positional"),
        pytest.param(["import", "--provider-type", SECRET], id="invalid-choice"),
    ],
)
def test_a_key_on_argv_is_not_echoed(cli, argv):
    result = cli(*argv)
    assert result.code == 2
    assert SECRET not in result.out + result.err
    assert "error" in result.err
