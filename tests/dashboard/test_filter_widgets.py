"""The territory, product-code and customer filters of the sidebar (AppTest against the real API): the widgets,
their searches through the finder endpoints, and the URL round trip."""

from __future__ import annotations

from salesdash.charts.format import count, money, plain
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import cards, headline, run_app


def test_a_territory_shows_its_name_and_filters_by_its_code(dashboard_env: LiveApi) -> None:
    at = run_app()
    widget = at.multiselect(key="territory")
    assert "North America" in widget.options and "NA" not in widget.options  # people read the name
    widget.set_value(["NA"]).run()
    assert not at.exception
    na = dashboard_env.get("/api/kpis", detail="full", territory="NA")["data"]
    assert cards(at)["Revenue"] == money(headline(na))
    assert any(
        code.value.endswith("/api/kpis?territory=NA&detail=full") for code in at.code
    )  # the code the API takes


def test_customers_are_searched_through_the_api_and_several_can_be_chosen(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.text_input(key="customer_search").input("collect").run()
    offered = at.multiselect(key="customer").options
    found = [r["customer_name"] for r in dashboard_env.get("/api/customers", q="collect", limit=20)["data"]]
    assert offered == found and "Australian Collectors, Co." in offered
    at.multiselect(key="customer").set_value(["Australian Collectors, Co."]).run()
    # a new search keeps what is chosen among the choices
    at.text_input(key="customer_search").input("euro").run()
    widget = at.multiselect(key="customer")
    assert widget.options[0] == "Australian Collectors, Co." and "Euro Shopping Channel" in widget.options
    widget.set_value(["Australian Collectors, Co.", "Euro Shopping Channel"]).run()
    assert not at.exception
    both = dashboard_env.get(
        "/api/kpis", detail="full", customer=["Australian Collectors, Co.", "Euro Shopping Channel"]
    )
    assert cards(at)["Revenue"] == money(headline(both["data"]))
    assert cards(at)["Customers"] == count(headline(both["data"], "customer_count"))
    call = "/api/kpis?customer=Australian+Collectors%2C+Co.&customer=Euro+Shopping+Channel&detail=full"
    assert any(code.value.endswith(call) for code in at.code)  # repeated, never comma-joined


def test_product_codes_are_searched_and_chosen(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.text_input(key="productcode_search").input("S18_32").run()
    offered = at.multiselect(key="productcode").options
    assert offered == [r["product_code"] for r in dashboard_env.get("/api/product-codes", q="S18_32")["data"]]
    at.multiselect(key="productcode").set_value([offered[0]]).run()
    expected = dashboard_env.get("/api/kpis", detail="full", productcode=offered[0])["data"]
    assert cards(at)["Revenue"] == money(headline(expected))


def test_a_link_with_the_new_filters_reproduces_the_view(dashboard_env: LiveApi) -> None:
    query = {
        "territory": ["EMEA", "Japan"],
        "productcode": ["S10_1678", "S18_3232"],
        "customer": ["Toys of Finland, Co.", "Euro Shopping Channel"],
    }
    at = run_app(query)
    assert not at.exception and not at.warning
    assert at.multiselect(key="territory").value == ["EMEA", "Japan"]
    assert at.multiselect(key="productcode").value == ["S10_1678", "S18_3232"]
    assert at.multiselect(key="customer").value == ["Toys of Finland, Co.", "Euro Shopping Channel"]
    expected = dashboard_env.get("/api/kpis", detail="full", **query)["data"]
    assert cards(at)["Revenue"] == money(headline(expected))
    assert any("/api/kpis?territory=EMEA&territory=Japan&productcode=S10_1678" in c.value for c in at.code)


def test_a_link_with_an_unknown_customer_or_code_says_so(dashboard_env: LiveApi) -> None:
    at = run_app({"customer": ["Euro Shoping Channel"], "productcode": ["S10_9999"], "territory": "Mars"})
    assert not at.exception
    text = at.warning[0].value
    assert plain("customer=Euro Shoping Channel is not among the customers in the data") in text
    assert plain("productcode=S10_9999 is not among the product codes in the data") in text
    assert plain("territory=Mars is not among the territories in the data") in text


def test_a_territory_link_may_give_the_code_or_the_name(dashboard_env: LiveApi) -> None:
    na = dashboard_env.get("/api/kpis", detail="full", territory="NA")["data"]
    for value in ("NA", "North America"):
        at = run_app({"territory": value})
        assert not at.exception and not at.warning, value
        assert at.multiselect(key="territory").value == ["NA"]
        assert cards(at)["Revenue"] == money(headline(na))
