"""Customer analytics charts (pure Plotly) on hand-made records."""

from __future__ import annotations

from salesdash.charts.customers import acquisition_chart, cohort_heatmap, penetration_chart


def _acquisition_rows(n: int) -> list[dict]:
    return [
        {
            "period": f"2004-{m:02d}",
            "period_start": f"2004-{m:02d}-01",
            "new_customers": m,
            "returning_customers": 2 * m,
        }
        for m in range(1, n + 1)
    ]


def test_acquisition_stacks_new_and_returning_on_a_date_axis():
    fig = acquisition_chart(_acquisition_rows(12))
    new, returning = fig.data
    assert (new.name, returning.name) == ("New customers", "Returning customers")
    assert list(new.y) == list(range(1, 13)) and list(returning.y) == [2 * m for m in range(1, 13)]
    assert fig.layout.xaxis.type == "date" and fig.layout.barmode == "stack"
    assert new.customdata[0] == "Jan 2004"  # the hover names the period as people read it


def _cells(width: int) -> tuple[list[dict], list[dict]]:
    cohorts = [{"cohort": "2003-01", "customers": 3, "small": True}]
    cells = [
        {"cohort": "2003-01", "periods_since_first": k, "retention": 1 / 3, "partial": k == width - 1}
        for k in range(width)
    ]
    return cells, cohorts


def test_cohort_heatmap_labels_cells_only_where_they_fit_and_marks_small_and_partial():
    cells, cohorts = _cells(6)
    narrow = cohort_heatmap(cells, cohorts).data[0]
    assert narrow.texttemplate == "%{text}"
    assert narrow.text[0][-1] == "33.3%*" and narrow.text[0][0] == "33.3%"  # * = partial period
    assert narrow.y[0] == "Jan 2003 (n=3) small"
    cells, cohorts = _cells(28)
    assert cohort_heatmap(cells, cohorts).data[0].texttemplate is None  # colour and hover only


def test_penetration_names_territories_as_people_read_them():
    rows = [
        {
            "territory": "NA",
            "revenue_per_customer": 10.0,
            "customer_count": 2,
            "product_lines_bought": 7,
            "product_line_share": 1.0,
        },
        {
            "territory": "EMEA",
            "revenue_per_customer": 20.0,
            "customer_count": 3,
            "product_lines_bought": 5,
            "product_line_share": 5 / 7,
        },
    ]
    bars = penetration_chart(rows, "territory").data[0]
    assert list(bars.y) == ["EMEA", "North America"]  # by revenue per customer


def test_penetration_labels_fit_and_say_singular_and_plural():
    rows = [
        {
            "country": "Spain",
            "revenue_per_customer": 233_100.0,
            "customer_count": 5,
            "product_lines_bought": 7,
        }
        | {"product_line_share": 1.0},
        {
            "country": "Belgium",
            "revenue_per_customer": 54_200.0,
            "customer_count": 1,
            "product_lines_bought": 1,
        }
        | {"product_line_share": 1 / 7},
    ]
    fig = penetration_chart(rows)
    assert list(fig.data[0].text) == ["\u2002$233.1K\u2002", "\u2002$54.2K\u2002"]  # short: fits at any width
    assert "5 customers · 7 lines" in fig.layout.yaxis.ticktext[0]
    assert "1 customer · 1 line" in fig.layout.yaxis.ticktext[1]  # never "1 lines"
    assert fig.layout.xaxis.range[1] <= 233_100 * 1.1  # no empty half of the chart
