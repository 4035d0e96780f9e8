"""A stand-in for the original app (sejalsharma11/arys-salesdatadashboard-sejalsharma), for side-by-side runs.

It behaves like the original: Flask on Werkzeug's development server (threaded, debug off), a new sqlite3
connection per query, a plain GROUP BY over the order lines for every request (no cache, no rollups, no
validation), rows turned into dicts and ``jsonify``-ed. It serves the original's eight endpoints, reading the
same SQLite file salesdash loaded (salesdash's ``order_lines`` table, so both answer from the same data). None
of the original's code is used; the queries are written here against salesdash's schema.

``python -m benchmarks.original_like DB_PATH PORT`` serves it on 127.0.0.1:PORT until terminated.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from typing import Any

from flask import Flask, jsonify, request

NOT_CANCELLED = "status != 'Cancelled'"
PERIOD_KEYS = {
    "daily": "order_date",
    "monthly": "year, month",
    "quarterly": "year, quarter",
    "yearly": "year",
}


def create_app(db_path: str) -> Flask:
    app = Flask(__name__)

    def rows(sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        conn = sqlite3.connect(db_path)  # a connection per query, as the original opens one
        try:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            conn.close()

    @app.get("/")
    def home() -> Any:
        return jsonify({"message": "original-like baseline", "endpoints": sorted(ENDPOINTS)})

    @app.get("/api/sales-over-time")
    def sales_over_time() -> Any:
        period = request.args.get("period", "monthly")
        keys = PERIOD_KEYS.get(period, PERIOD_KEYS["monthly"])
        data = rows(
            f"SELECT {keys}, SUM(sales_cents) / 100.0 AS total_sales, COUNT(*) AS order_count "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY {keys} ORDER BY {keys}"
        )
        return jsonify({"data": data, "period": period})

    @app.get("/api/sales-by-category")
    def sales_by_category() -> Any:
        data = rows(
            "SELECT product_line AS category, SUM(sales_cents) / 100.0 AS total_sales, COUNT(*) AS order_count, "
            "AVG(sales_cents) / 100.0 AS avg_order_value, SUM(quantity_ordered) AS total_quantity "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY product_line ORDER BY total_sales DESC"
        )
        return jsonify({"data": data})

    @app.get("/api/sales-by-country")
    def sales_by_country() -> Any:
        data = rows(
            "SELECT country, SUM(sales_cents) / 100.0 AS total_sales, COUNT(*) AS order_count, "
            "AVG(sales_cents) / 100.0 AS avg_order_value, COUNT(DISTINCT order_number) AS unique_orders "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY country ORDER BY total_sales DESC"
        )
        return jsonify({"data": data})

    @app.get("/api/kpis")
    def kpis() -> Any:
        revenue = rows(f"SELECT SUM(sales_cents) / 100.0 AS v FROM order_lines WHERE {NOT_CANCELLED}")[0]["v"]
        orders = rows(f"SELECT COUNT(DISTINCT order_number) AS v FROM order_lines WHERE {NOT_CANCELLED}")[0][
            "v"
        ]
        countries = rows("SELECT COUNT(DISTINCT country) AS v FROM order_lines")[0]["v"]
        months = rows(
            "SELECT year, month, SUM(sales_cents) / 100.0 AS total FROM order_lines "
            f"WHERE {NOT_CANCELLED} GROUP BY year, month ORDER BY year DESC, month DESC LIMIT 2"
        )
        growth = (
            (months[0]["total"] - months[1]["total"]) / months[1]["total"] * 100
            if len(months) == 2 and months[1]["total"]
            else 0
        )
        statuses = rows(
            "SELECT status, COUNT(*) AS count, "
            "ROUND(COUNT(*) * 100.0 / (SELECT COUNT(*) FROM order_lines), 2) AS percentage "
            "FROM order_lines GROUP BY status ORDER BY count DESC"
        )
        return jsonify(
            {
                "data": {
                    "total_sales": revenue,
                    "total_orders": orders,
                    "avg_order_value": revenue / orders if orders else 0,
                    "total_customers": countries,
                    "monthly_growth_rate": round(growth, 2),
                    "status_distribution": statuses,
                }
            }
        )

    @app.get("/api/top-customers")
    def top_customers() -> Any:
        limit = request.args.get("limit", 10, type=int)
        data = rows(
            "SELECT customer_name AS customer, SUM(sales_cents) / 100.0 AS total_sales, "
            "COUNT(DISTINCT order_number) AS order_count, AVG(sales_cents) / 100.0 AS avg_order_value "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY customer_name ORDER BY total_sales DESC LIMIT ?",
            (limit,),
        )
        return jsonify({"data": data, "limit_requested": limit, "results_count": len(data)})

    @app.get("/api/monthly-trends")
    def monthly_trends() -> Any:
        data = rows(
            "SELECT year, month, SUM(sales_cents) / 100.0 AS total_sales, COUNT(DISTINCT order_number) AS orders, "
            "AVG(sales_cents) / 100.0 AS avg_sale, SUM(quantity_ordered) AS total_quantity "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY year, month ORDER BY year, month"
        )
        return jsonify({"data": data})

    @app.get("/api/quarterly-analysis")
    def quarterly_analysis() -> Any:
        data = rows(
            "SELECT year, quarter, SUM(sales_cents) / 100.0 AS total_sales, COUNT(DISTINCT order_number) AS orders, "
            "COUNT(DISTINCT customer_name) AS customers, AVG(sales_cents) / 100.0 AS avg_sale "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY year, quarter ORDER BY year, quarter"
        )
        return jsonify({"data": data})

    @app.get("/api/product-performance")
    def product_performance() -> Any:
        data = rows(
            "SELECT product_line, SUM(sales_cents) / 100.0 AS total_sales, SUM(quantity_ordered) AS units_sold, "
            "COUNT(DISTINCT product_code) AS products, AVG(price_each) AS avg_price "
            f"FROM order_lines WHERE {NOT_CANCELLED} GROUP BY product_line ORDER BY total_sales DESC"
        )
        return jsonify({"data": data})

    return app


# the original's endpoints -> the salesdash request answering the same question (side_by_side.py pairs them)
ENDPOINTS = {
    "/api/kpis": "/api/kpis",
    "/api/sales-over-time?period=monthly": "/api/sales-over-time?period=monthly",
    "/api/sales-by-category": "/api/sales-by-category",
    "/api/sales-by-country": "/api/sales-by-country",
    "/api/top-customers": "/api/top-customers",
    "/api/monthly-trends": "/api/monthly-trends",
    "/api/quarterly-analysis": "/api/quarterly-analysis",
    "/api/product-performance": "/api/product-performance",
}


def main(argv: list[str]) -> int:
    db_path, port = argv[0], int(argv[1])
    # no line per request on stderr (nobody reads it here; the dev server's logging would only cost it time)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app(db_path).run(host="127.0.0.1", port=port, debug=False, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
