"""Every warning comes with a stable code (``warning_codes``, parallel to ``warnings``), over
real frames; batch imports warn about providers that get no models."""

from __future__ import annotations

from tests.conftest import MGMT_KEY
from tests.standin.plugin import UPSTREAM_KEY


def test_settings_warnings_have_codes(host, standin):
    reply = host.call(
        "settings.set",
        {
            "management_url": standin.url + "/v0/management/openai-compatibility?x=1",
            "management_key": MGMT_KEY,
        },
    )
    result = reply["result"]
    assert len(result["warning_codes"]) == len(result["warnings"]) == 2
    assert result["warning_codes"] == [
        {"code": "url_query_removed", "details": {}},
        {"code": "url_suffix_removed", "details": {"suffix": "openai-compatibility"}},
    ]


def test_a_404_model_list_is_coded_with_its_status(host, configured, upstream_factory):
    site = upstream_factory(api_key=UPSTREAM_KEY, paths=("/elsewhere/models",))
    reply = host.call(
        "import",
        {"site_name": "No list", "site_url": site.url, "api_key": UPSTREAM_KEY, "dry_run": True},
    )
    result = reply["result"]
    codes = [w["code"] for w in result["warning_codes"]]
    assert codes == ["model_list_failed", "provider_without_models"], result["warnings"]
    assert result["warning_codes"][0]["details"] == {"error": "upstream_error", "status": 404}
    assert result["warning_codes"][1]["details"] == {"provider": "No list"}
    assert UPSTREAM_KEY not in str(reply)


def test_batch_items_warn_about_providers_without_models(host, configured, upstream_factory):
    site = upstream_factory(api_key=UPSTREAM_KEY, paths=("/elsewhere/models",))
    items = [
        {"site_name": f"B{i}", "site_url": site.url + f"/b{i}", "api_key": UPSTREAM_KEY}
        for i in range(2)
    ]
    result = host.call("import.batch", {"items": items})["result"]
    assert result["summary"]["created"] == 2
    for item in result["items"]:
        assert "provider_without_models" in [w["code"] for w in item["result"]["warning_codes"]]
    assert all(not p.get("models") for p in configured.config()["openai-compatibility"])


def test_fan_out_results_carry_codes_too(host, standin_factory, upstream_factory):
    first, second = standin_factory(secret=MGMT_KEY), standin_factory(secret=MGMT_KEY)
    host.call("settings.set", {"management_url": first.url, "management_key": MGMT_KEY})
    host.call(
        "settings.set", {"target": "b", "management_url": second.url, "management_key": MGMT_KEY}
    )
    site = upstream_factory(api_key=UPSTREAM_KEY, paths=("/elsewhere/models",))
    result = host.call(
        "import",
        {
            "site_name": "F",
            "site_url": site.url,
            "api_key": UPSTREAM_KEY,
            "targets": "all",
            "dry_run": True,
        },
    )["result"]
    for entry in result["results"]:
        assert entry["ok"], entry
        assert [w["code"] for w in entry["result"]["warning_codes"]] == [
            "model_list_failed",
            "provider_without_models",
        ]
