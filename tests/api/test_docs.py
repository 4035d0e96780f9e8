"""docs/api.md stays true: every example request is replayed against the API over the bundled sample (on every
engine) and the documented response must be what the API answers (lists and objects may be cut short in the
docs; data versions and timestamps differ on every load)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import json
from flask.testing import FlaskClient

from tests.conftest import ROOT

DOC = ROOT / "docs" / "api.md"
VOLATILE = {"data_version", "previous_data_version", "generated_at", "loaded_at", "url", "docs", "openapi"}
# The forecast's fitted numbers: the fit is deterministic by design (closed-form starting states, a fixed
# parameter grid, no optimiser), so they must agree on any CPU; they are compared to 4 significant digits.
FITTED = {"forecast", "mape", "wape", "abs_pct_error", "lower_80", "upper_80", "lower_95", "upper_95"}
EXAMPLE = re.compile(r"```http\nGET (?P<path>[^\n]+)\n```\n\n```(?P<lang>json|csv)\n(?P<body>.*?)\n```", re.S)


def examples() -> list[tuple[str, str, str]]:
    return [(m["path"], m["lang"], m["body"]) for m in EXAMPLE.finditer(DOC.read_text())]


def contained(doc: Any, real: Any, where: str = "") -> None:
    """``doc`` is ``real`` with lists possibly cut to their first items and objects to some of their keys
    (fitted numbers to 4 significant digits, see FITTED)."""
    if isinstance(doc, dict):
        assert isinstance(real, dict), where
        for key, value in doc.items():
            assert key in real, f"{where}.{key} is documented but not returned"
            if key not in VOLATILE:
                contained(value, real[key], f"{where}.{key}")
    elif isinstance(doc, list):
        assert isinstance(real, list), where
        assert len(doc) <= len(real), where
        for i, value in enumerate(doc):
            contained(value, real[i], f"{where}[{i}]")
    elif isinstance(doc, float) and where.rsplit(".", 1)[-1] in FITTED:
        assert isinstance(real, float), f"{where}: documented {doc!r}, returned {real!r}"
        assert f"{real:.4g}" == f"{doc:.4g}", f"{where}: documented {doc!r}, returned {real!r} (4 digits)"
    else:
        assert doc == real, f"{where}: documented {doc!r}, returned {real!r}"


def test_every_endpoint_is_documented(sample_client: FlaskClient):
    text = DOC.read_text()
    app = sample_client.application
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        assert f"`{rule.rule}`" in text or f"/{rule.rule.strip('/')} " in text, rule.rule
    spec = sample_client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                assert f"`{parameter['name']}`" in text, f"{path}: parameter {parameter['name']} undocumented"


def test_there_are_examples_for_every_get_endpoint(sample_client: FlaskClient):
    adapter = sample_client.application.url_map.bind("localhost")
    # the rule each example path matches (``/api/orders/10107`` documents ``/api/orders/<ordernumber>``)
    # (an example written with the rule itself, ``/api/saved-views/<int:view_id>``, documents that rule)
    documented = {
        path if "<" in path else adapter.match(path.split("?")[0], return_rule=True)[0].rule
        for path, _, _ in examples()
    }
    rules = {
        r.rule
        for r in sample_client.application.url_map.iter_rules()
        if "GET" in r.methods
        and r.rule.startswith("/api")
        and not r.rule.startswith(("/api/docs", "/api/openapi"))
    }
    assert rules <= documented, rules - documented


@pytest.mark.parametrize(("path", "lang", "body"), examples(), ids=[p for p, _, _ in examples()])
def test_documented_example_is_the_real_answer(sample_client: FlaskClient, path: str, lang: str, body: str):
    response = sample_client.get(path)
    if lang == "csv":
        assert response.mimetype == "text/csv"
        real_lines = response.get_data(as_text=True).splitlines()
        doc_lines = body.splitlines()
        assert real_lines[: len(doc_lines)] == doc_lines
        return
    contained(json.loads(body), response.get_json())
