"""The Python API (salesdash.open): every view equals the REST API's answer, its methods match the view registry,
and docs/python.md's examples are replayed (doctest) on every engine."""

from __future__ import annotations

import doctest
import inspect
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

import salesdash
from salesdash.errors import InvalidParameter
from salesdash.session import Session
from salesdash.views import CATALOG, records_of
from tests.api.conftest import app_for
from tests.conftest import ROOT

DOC = ROOT / "docs" / "python.md"


@pytest.fixture
def session(sample_engine: Engine) -> Session:
    return Session(sample_engine)


@pytest.fixture
def sample_client(sample_engine: Engine) -> FlaskClient:
    return app_for(sample_engine).test_client()


def test_every_view_has_a_method_with_the_registry_parameters():
    for view in CATALOG:
        method = getattr(Session, view.name.replace("-", "_"))
        signature = inspect.signature(method)
        declared = {p.name: p.default for p in view.params}
        own = {
            name: p.default
            for name, p in signature.parameters.items()
            if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
        }
        assert own == declared, view.name
        assert method.__doc__, view.name


@pytest.mark.parametrize("view", [v for v in CATALOG if v.tabular], ids=lambda v: v.name)
def test_each_view_is_the_api_answer(session: Session, sample_client: FlaskClient, view):
    query = {"country": "France,Spain"} if view.name != "forecast" else {}
    frame = session.view(view.name, **{k: v.split(",") for k, v in query.items()})
    api = sample_client.get(f"/api/{view.name}", query_string=query).get_json()
    assert records_of(frame) == api["data"], view.name
    assert frame.attrs["meta"]["filters"] == api["meta"]["filters"]
    assert frame.attrs["meta"]["data_version"] == api["meta"]["data_version"]


def test_kpis_numbers_are_the_api_numbers(session: Session, sample_client: FlaskClient):
    kpis = session.kpis(productline="motorcycles", detail="full").set_index("metric")
    api = sample_client.get("/api/kpis?productline=Motorcycles&detail=full").get_json()["data"]
    summary = session.kpis(productline="motorcycles").set_index("metric")
    assert list(summary.columns) == ["label", "unit", "in_view_value"]
    for metric in ("revenue", "order_count", "average_order_value", "customer_count", "country_count"):
        assert kpis.loc[metric, "in_view_value"] == summary.loc[metric, "in_view_value"] == api[metric], (
            metric
        )
        assert kpis.loc[metric, "value"] == api["headline"]["metrics"][metric]["current"], metric


def test_bad_arguments_are_one_clear_error(session: Session):
    with pytest.raises(InvalidParameter, match="countryy: not a filter or a parameter of kpis"):
        session.kpis(countryy="France")
    with pytest.raises(InvalidParameter, match="horizon must be a whole number from 1"):
        session.forecast(horizon=99)
    with pytest.raises(InvalidParameter, match="Unknown view"):
        session.view("nope")


def test_open_reads_the_configured_store(sample_engine: Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SALESDASH_DATABASE_URL", sample_engine.url.render_as_string(hide_password=False))
    with salesdash.open() as sales:
        assert sales.kpis().set_index("metric").loc["revenue", "in_view_value"] == 9838141.37


def test_the_documented_examples_run(session: Session):
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        globs={"sales": session, "salesdash": salesdash},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted >= 15
    assert result.failed == 0, (
        f"{result.failed} example(s) in {Path(DOC).name} do not give their documented output"
    )
