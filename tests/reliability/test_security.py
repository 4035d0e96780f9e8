"""Security: roles on every write endpoint, hashed tokens compared in constant time, no SQL from request text
(static scan of src/ and injection payloads through the API on every engine), debug never on a public bind,
locked database -> 503, and the dashboard never echoes a token."""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from apiflask import APIFlask
from sqlalchemy import Engine, select

from salesdash import tokens
from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.errors import ConfigError
from salesdash.ingest import ingest_file
from salesdash.store import engine as store_engine
from salesdash.store import make_engine
from salesdash.store.schema import api_tokens
from salesdash.tokens import create_token, role_of
from tests.conftest import ROOT, SMALL_CSV
from tests.reliability.support import metric_outputs

SRC = ROOT / "src" / "salesdash"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def app_over(engine: Engine, **overrides: Any) -> APIFlask:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "source_path": SMALL_CSV,
        "cors_origins": ["http://127.0.0.1:8501"],
        "cache_entries": 0,
    } | overrides
    return create_app(Settings(**values), engine=engine)


# Writes a viewer token may make: saving a view (the token owns it) and deleting one's own (the owner check is in
# tests/api/test_saved_views.py). Every other write needs an admin token.
VIEWER_WRITES = {("POST", "/api/saved-views"), ("DELETE", "/api/saved-views/1")}


def write_routes(app: APIFlask) -> list[tuple[str, str]]:
    """(method, url) of every write endpoint the app has (any blueprint, present or future)."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            values = {arg: "1" for arg in rule.arguments}
            routes.append((method, rule.build(values, append_unknown=False)[1]))
    return routes


# -- roles ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)  # the auth layer is engine-independent
def test_every_write_endpoint_needs_an_admin_token(small_engine: Engine):
    app = app_over(small_engine)
    routes = write_routes(app)
    assert ("POST", "/api/data-refresh") in routes
    viewer = create_token(small_engine, "viewer", "v")
    admin = create_token(small_engine, "admin", "a")
    client = app.test_client()
    cases = {
        "no header": ({}, 401),
        "empty bearer": ({"Authorization": "Bearer "}, 401),
        "other scheme": ({"Authorization": f"Token {admin}"}, 401),
        "basic auth": ({"Authorization": "Basic YWRtaW46YWRtaW4="}, 401),
        "unknown token": ({"Authorization": "Bearer sd_" + "x" * 43}, 401),
        "admin token with one char changed": (
            {"Authorization": f"Bearer {admin[:-1]}{'A' if admin[-1] != 'A' else 'B'}"},
            401,
        ),
        "viewer token": ({"Authorization": f"Bearer {viewer}"}, 403),
    }
    assert set(routes) >= VIEWER_WRITES
    for method, url in routes:
        before = metric_outputs(small_engine)
        for label, (headers, status) in cases.items():
            if (method, url) in VIEWER_WRITES and label == "viewer token":
                response = client.open(url, method=method, headers=headers)  # no body / unknown id
                assert response.status_code in (400, 404), (
                    f"{method} {url} with {label}: {response.status_code}"
                )
                continue
            response = client.open(url, method=method, headers=headers)
            assert response.status_code == status, f"{method} {url} with {label}: {response.status_code}"
            error = response.get_json()["error"]
            assert error["code"] == ("unauthorized" if status == 401 else "forbidden")
            if status == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert metric_outputs(small_engine) == before, f"{method} {url}: a refused request changed the data"
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {admin}"})
        assert response.status_code not in (401, 403), f"{method} {url}: admin refused"


@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)
def test_require_auth_covers_reads_but_never_lets_a_viewer_write(small_engine: Engine):
    app = app_over(small_engine, require_auth=True)
    viewer = create_token(small_engine, "viewer", "v")
    client = app.test_client()
    assert client.get("/api/kpis").status_code == 401
    assert client.get("/api/kpis", headers={"Authorization": f"Bearer {viewer}"}).status_code == 200
    for method, url in write_routes(app):
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {viewer}"})
        allowed = (400, 404) if (method, url) in VIEWER_WRITES else (403,)  # no body / unknown id
        assert response.status_code in allowed, f"{method} {url}: {response.status_code}"


# -- tokens at rest -------------------------------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(fresh_engine: Engine):
    tokens = [create_token(fresh_engine, role, f"t{role}") for role in ("viewer", "admin", "admin")]
    assert len(set(tokens)) == 3
    assert all(t.startswith("sd_") and len(t) >= 40 for t in tokens)  # >= 32 random bytes
    with fresh_engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(api_tokens)).mappings()]
    stored = " ".join(str(v) for row in rows for v in row.values())
    for token in tokens:
        assert token not in stored
        assert token[3:20] not in stored  # not even a fragment of the secret
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert set(rows[0]) == {"id", "name", "role", "token_hash", "created_at"}  # no column for the secret


def test_token_check_compares_hashes_in_constant_time(fresh_engine: Engine):
    source = inspect.getsource(tokens.identify)  # role_of and the API's check both go through identify
    assert "hmac.compare_digest" in source
    assert "token_hash ==" in source  # the database looks up the hash, never the secret
    admin = create_token(fresh_engine, "admin")
    assert role_of(fresh_engine, admin) == "admin"
    assert role_of(fresh_engine, admin.upper()) is None
    assert role_of(fresh_engine, admin + " ") is None
    assert role_of(fresh_engine, hashlib.sha256(admin.encode()).hexdigest()) is None  # the hash is no token
    assert role_of(fresh_engine, "") is None


# -- SQL is never built from request text ----------------------------------------------------------------------

# Non-literal SQL that is known to be safe, with the reason. The test fails if one of these disappears (keep the
# list true) or if any other site appears.
ALLOWED_DYNAMIC_SQL = {
    ("store/engine.py", "PRAGMA busy_timeout"): "an int() of a module constant, not request data",
    # Spark identifiers cannot be bound parameters: each is check_database_name()d (letters, digits, _) right
    # before use, from SALESDASH_SPARK_DATABASE (validated by the same rule in config) plus a version number
    ("store/spark.py", 'SHOW TABLES IN `{database}`")'): "a checked database name",
    (
        "store/spark.py",
        "SHOW TABLES IN `{database}` LIKE :name",
    ): "a checked database name; the table is bound",
    ("store/spark.py", "SELECT db_name FROM `{self.base}`"): "checked base name and a module constant",
    # execute_script joins statements SQLAlchemy compiled itself, each without a bound parameter (one with
    # parameters, or a % the driver would unescape, runs on its own): no request value is ever in the text
    ("store/bulk.py", 'conn.exec_driver_sql(";\\n".join(script)'): "SQLAlchemy-compiled, parameterless",
}
# sqlalchemy functions that take SQL text (literal() is not one: it makes a bound parameter)
SQL_CONSTRUCTORS = {"text", "literal_column"}
EXECUTE_METHODS = {"execute", "exec_driver_sql", "executescript", "executemany"}


def _is_dynamic_string(node: ast.AST) -> bool:
    """An f-string, a % / + / .format() built string: SQL text assembled at run time."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    )


def _sqlalchemy_names(tree: ast.AST) -> set[str]:
    """Local names bound to sqlalchemy's SQL-text constructors (from sqlalchemy import text [as t])."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names |= {a.asname or a.name for a in node.names if a.name in SQL_CONSTRUCTORS}
    return names


def dynamic_sql_sites(root: Path = SRC) -> list[tuple[str, int, str]]:
    sites = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        constructors = _sqlalchemy_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            func = node.func
            if isinstance(func, ast.Name) and func.id in constructors:
                dynamic = not isinstance(first, ast.Constant)  # text(variable) is as bad as text(f"...")
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in SQL_CONSTRUCTORS
                and isinstance(func.value, ast.Name)
                and func.value.id in ("sa", "sqlalchemy")
            ):
                dynamic = not isinstance(first, ast.Constant)
            elif isinstance(func, ast.Attribute) and func.attr in EXECUTE_METHODS:
                dynamic = _is_dynamic_string(first)
            else:
                continue
            if dynamic:
                sites.append((rel, node.lineno, lines[node.lineno - 1].strip()))
    return sites


def test_no_sql_is_built_from_text_at_run_time():
    sites = dynamic_sql_sites()
    unexplained = [
        s for s in sites if not any(s[0] == f and snippet in s[2] for f, snippet in ALLOWED_DYNAMIC_SQL)
    ]
    assert unexplained == [], (
        "SQL text built at run time (use SQLAlchemy Core with bound parameters):\n"
        + "\n".join(f"{f}:{n}: {line}" for f, n, line in unexplained)
    )
    for file, snippet in ALLOWED_DYNAMIC_SQL:
        assert any(s[0] == file and snippet in s[2] for s in sites), (
            f"stale allow-list entry {file}: {snippet}"
        )
    queries = (SRC / "metrics" / "queries.py").read_text()
    assert "if sort not in (*BREAKDOWN_METRICS" in queries  # the guard the allow-list relies on


def test_scanner_catches_sql_built_from_text(tmp_path: Path):
    bad = ast.parse(
        'conn.execute(text(f"SELECT * FROM t WHERE c = \'{value}\'"))\nconn.exec_driver_sql("x" + v)'
    )
    calls = [n for n in ast.walk(bad) if isinstance(n, ast.Call) and n.args]
    assert sum(_is_dynamic_string(c.args[0]) for c in calls) == 2


INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE order_lines; --",
    '" OR 1=1 --',
    "Robert'); DROP TABLE order_lines;--",
    "%' OR customer_name LIKE '%",
    "USA' UNION SELECT token_hash, role FROM api_tokens --",
    "\\'; DELETE FROM data_versions; --",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_are_values_not_sql(payload: str, sample_engine: Engine):
    app = app_over(sample_engine)
    client = app.test_client()
    before = client.get("/api/kpis").get_json()["data"]
    for parameter, path in [
        ("country", "/api/kpis"),
        ("productline", "/api/sales-by-category"),
        ("status", "/api/status-distribution"),
        ("dealsize", "/api/deal-sizes"),
        ("customer", "/api/orders"),
        ("start", "/api/kpis"),
        ("sort", "/api/orders"),
        ("order", "/api/orders"),
        ("period", "/api/sales-over-time"),
        ("limit", "/api/top-customers"),
    ]:
        response = client.get(path, query_string={parameter: payload})
        assert response.status_code in (200, 400), f"{parameter}={payload!r}: {response.status_code}"
        body = response.get_json()
        if response.status_code == 400:
            assert body["error"]["code"] == "invalid_parameter"
        else:  # a free-text value is matched literally: nobody is called that
            assert body["data"] == [] or body["meta"].get("total") == 0
        assert re.search(r"\b[0-9a-f]{64}\b", response.get_data(as_text=True)) is None  # no hash leaked
    assert client.get("/api/kpis").get_json()["data"] == before  # nothing was dropped or deleted


# -- debug, busy database ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_debug_is_refused_on_a_public_bind(host: str):
    with pytest.raises(ConfigError, match="loopback"):
        from salesdash.config import load_settings

        load_settings(debug=True, api_host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_debug_is_allowed_on_loopback(host: str):
    assert Settings(debug=True, api_host=host).debug is True


def test_serve_with_debug_on_a_public_bind_exits_before_binding(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "salesdash", "serve", "--host", "0.0.0.0", "--port", "9"],
        capture_output=True,
        text=True,
        env={
            "SALESDASH_DEBUG": "true",
            "SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "PATH": "/usr/bin:/bin",
        },
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert "Traceback" not in result.stderr


def test_locked_database_is_a_503_envelope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    db = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{db}")
    ingest_file(engine, SMALL_CSV)
    client = app_over(engine).test_client()
    assert client.get("/api/kpis").status_code == 200
    engine.dispose()  # new connections from here on see the lock
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM api_tokens")
    try:
        for path in ("/api/kpis", "/api/orders", "/api/version"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.get_data(as_text=True))
            error = response.get_json()["error"]
            assert error["code"] == "store_unavailable"
            assert "Traceback" not in response.get_data(as_text=True)
            assert response.headers.get("Retry-After")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.get("/api/kpis").status_code == 200
    engine.dispose()


# -- the dashboard never shows a token -------------------------------------------------------------------------


def test_dashboard_token_inputs_are_masked_and_never_echoed():
    """Every text input about a token is a password field, and no Streamlit output call gets a token."""
    outputs = {
        "write",
        "markdown",
        "caption",
        "code",
        "json",
        "text",
        "info",
        "success",
        "warning",
        "error",
        "toast",
        "metric",
        "title",
        "header",
        "subheader",
        "dataframe",
        "table",
        "exception",
    }
    inputs = 0
    for path in sorted((SRC / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            label = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
            if node.func.attr == "text_input" and "token" in str(label).lower():
                inputs += 1
                kinds = {k.arg: k.value for k in node.keywords}
                assert isinstance(kinds.get("type"), ast.Constant) and kinds["type"].value == "password", path
            if node.func.attr in outputs:
                names = {
                    n.id
                    for arg in [*node.args, *(k.value for k in node.keywords)]
                    for n in ast.walk(arg)
                    if isinstance(n, ast.Name)
                }
                assert not any("token" in n.lower() for n in names), f"{path}:{node.lineno} shows a token"
    assert inputs >= 1
