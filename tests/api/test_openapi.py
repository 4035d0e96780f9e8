"""The OpenAPI document is complete and true: schemathesis generates requests from it (valid and invalid)
and every response must be a documented status, content type and shape, never a server error."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from apiflask import APIFlask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from benchmarks.reliability.fuzz_api import CHECKS
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.api.conftest import app_for, bearer
from tests.conftest import SAMPLE_CSV, SMALL_CSV

EXAMPLES_PER_MODE = 25


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIFlask]:
    """The bundled data on SQLite. Fuzzing exercises the HTTP layer (parsing, validation, serialisation),
    which is the same on every engine; the contract suite runs the endpoints on every engine."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    engine = make_engine(f"sqlite:///{path}")
    ingest_file(engine, SAMPLE_CSV)
    yield app_for(engine, source_path=SMALL_CSV)
    engine.dispose()


def test_spec_documents_every_route(fuzz_app: APIFlask):
    spec = fuzz_app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in fuzz_app.url_map.iter_rules():
        if rule.endpoint.startswith(("openapi.", "static")) or rule.endpoint.endswith(".static"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)  # Flask <name> -> OpenAPI {name}
            assert (path, method) in documented
    kpis = spec["paths"]["/api/kpis"]["get"]
    assert {p["name"] for p in kpis["parameters"]} == {
        "start",
        "end",
        "territory",
        "country",
        "productline",
        "productcode",
        "status",
        "dealsize",
        "customer",
        "definitions",
        "detail",
    }
    for status in ("400", "503"):
        ref = kpis["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        error_schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert error_schema["required"] == ["error"]
        assert error_schema["properties"]["error"]["required"] == ["status", "code", "message", "details"]
    assert "text/csv" in spec["paths"]["/api/orders"]["get"]["responses"]["200"]["content"]
    assert "text/csv" not in kpis["responses"]["200"]["content"]
    refresh = spec["paths"]["/api/data-refresh"]["post"]
    assert refresh["security"] == [{"BearerAuth": []}]
    assert "multipart/form-data" in refresh["requestBody"]["content"]
    assert {"401", "403", "409", "413", "422"} <= set(refresh["responses"])


def _fuzz(schema, operations, headers=None) -> tuple[int, list[str]]:
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operations is not None and operation.label not in operations:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                nonlocal cases
                cases += 1
                try:
                    case.call_and_validate(checks=CHECKS, headers=headers)
                except Exception as exc:  # collect every failure, report them together
                    failures.append(f"{operation.label} [{mode}]: {exc}"[:2000])

            try:
                run()
            except Unsatisfiable:
                # nothing can be invalid about an operation without parameters or body
                assert mode == GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters")
    return cases, failures


def test_schemathesis_read_endpoints(fuzz_app: APIFlask):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    labels = {r.ok().label for r in schema.get_all_operations()}
    reads = {label for label in labels if label.startswith("GET ")}
    started = time.monotonic()
    cases, failures = _fuzz(schema, reads)
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures[:5])
    assert cases >= len(reads) * EXAMPLES_PER_MODE
    print(f"schemathesis: {cases} cases over {len(reads)} read operations in {elapsed:.1f}s, 0 failures")


def test_schemathesis_refresh_with_and_without_admin(fuzz_app: APIFlask):
    engine = fuzz_app.extensions["salesdash"].engine
    admin = create_token(engine, "admin", "fuzz")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    for headers in (None, bearer(admin)):
        cases, failures = _fuzz(schema, {"POST /api/data-refresh"}, headers=headers)
        assert not failures, "\n\n".join(failures[:5])
        assert cases >= 2 * EXAMPLES_PER_MODE


def test_upload_links_to_its_confirm_and_the_link_works(small_app: APIFlask, tokens: dict[str, str]):
    """The 201 of POST /api/uploads links to its confirm (what a stateful fuzzer or a generated client follows):
    the link's operation is the confirm, its runtime expression finds the real id in the body, and following
    it with the documented example upload loads that file."""
    client = small_app.test_client()
    spec = client.get("/api/openapi.json").get_json()
    upload = spec["paths"]["/api/uploads"]["post"]
    link = upload["responses"]["201"]["links"]["ConfirmUpload"]
    pointer = link["operationRef"].removeprefix("#/paths/").replace("~1", "/").replace("~0", "~")
    path, method = pointer.rsplit("/", 1)
    assert (path, method) == ("/api/uploads/{upload_id}/confirm", "post")
    assert method in spec["paths"][path]
    expression = link["parameters"]["upload_id"]
    assert expression.startswith("$response.body#/")
    example = upload["requestBody"]["content"]["multipart/form-data"]["example"]["file"]
    created = client.post(
        "/api/uploads",
        data={"file": (io.BytesIO(example.encode()), "example.csv")},
        headers=bearer(tokens["admin"]),
        content_type="multipart/form-data",
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    value: object = created.get_json()
    for part in expression.removeprefix("$response.body#/").split("/"):
        assert isinstance(value, dict)
        value = value[part]
    confirmed = client.post(
        path.replace("{upload_id}", str(value)), json=link["requestBody"], headers=bearer(tokens["admin"])
    )
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    assert confirmed.get_json()["data"]["rows_loaded"] == 1
