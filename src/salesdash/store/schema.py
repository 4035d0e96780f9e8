"""Table definitions (SQLAlchemy Core), portable across SQLite, DuckDB and PostgreSQL.

Money is stored as integer cents (``sales_cents``): sums are exact on every engine, so a pre-aggregated
answer and a raw-table answer are equal to the cent. Calendar columns are derived at load so that every
time grain is a plain GROUP BY on integer columns.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
INDEXED_DIALECTS = ("sqlite", "postgresql")

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_number", BigInteger, nullable=False),
    Column("order_line_number", Integer, nullable=False),
    Column("quantity_ordered", Integer, nullable=False),
    Column("price_each", Double, nullable=False),
    Column("sales_cents", BigInteger, nullable=False),
    Column("order_date", Date, nullable=False),
    Column("status", String(32), nullable=False),
    Column("product_line", String(64), nullable=False),
    Column("msrp", Integer),
    Column("product_code", String(64), nullable=False),
    Column("customer_name", String(255), nullable=False),
    Column("phone", String(64)),
    Column("address_line1", String(255)),
    Column("address_line2", String(255)),
    Column("city", String(128)),
    Column("state", String(128)),
    Column("postal_code", String(32)),
    Column("country", String(64), nullable=False),
    Column("territory", String(32)),
    Column("contact_last_name", String(128)),
    Column("contact_first_name", String(128)),
    Column("deal_size", String(16), nullable=False),
    # derived calendar columns (integers: any SQL engine groups on them the same way)
    Column("year", SmallInteger, nullable=False),
    Column("quarter", SmallInteger, nullable=False),
    Column("month", SmallInteger, nullable=False),
    Column("day", SmallInteger, nullable=False),
    Column("iso_year", SmallInteger, nullable=False),
    Column("iso_week", SmallInteger, nullable=False),
    # Row-store engines use these for selective filters and the order-line pages. DuckDB scans columns (and
    # its ART indexes would slow every bulk load down), so it gets none.
    *(
        Index(f"ix_order_lines_{name}", name).ddl_if(dialect=INDEXED_DIALECTS)  # type: ignore[arg-type]
        for name in ("order_date", "country", "product_line", "status", "deal_size", "customer_name")
    ),
    # an order's lines by its number: appends and stream batches check new lines against the stored ones
    Index("ix_order_lines_order_number", "order_number").ddl_if(dialect=INDEXED_DIALECTS),  # type: ignore[arg-type]
    # a stream batch reads the stored lines of its customers' months (store/incremental.py; CUSTOMER_MONTH)
    Index("ix_order_lines_customer_month", "customer_name", "year", "month").ddl_if(
        dialect=INDEXED_DIALECTS  # type: ignore[arg-type]
    ),
)

# DuckDB's chunked load writes the new lines here first, committing each chunk (store/load.py): its memory
# does not grow with the file, and a killed load leaves this table behind, dropped by the next load. Not in
# ``metadata``: it exists only during a load. The switch renames it to order_lines.
staged_lines = Table(
    "order_lines_staged",
    MetaData(),
    *(Column(c.name, c.type, nullable=c.nullable) for c in order_lines.columns),
)

# One row per successful load. The row with the highest id is the current data version; it is written in
# the same transaction as the data, so the version a reader sees always matches the rows it reads.
data_versions = Table(
    "data_versions",
    metadata,
    Column("id", Integer, Sequence("data_versions_id_seq"), primary_key=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=False), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("report", Text, nullable=False),  # JSON quality report
)

# The order lines of the last SALESDASH_KEEP_VERSIONS data versions, keyed by version (store/archive.py): a
# restore copies one version's lines back exactly. Written in each load's transaction; older versions pruned.
line_archive = Table(
    "order_line_archive",
    metadata,
    Column("data_version", String(64), nullable=False),
    *(Column(c.name, c.type, nullable=c.nullable) for c in order_lines.columns),
    Index("ix_order_line_archive_version", "data_version").ddl_if(dialect=INDEXED_DIALECTS),  # type: ignore[arg-type]
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, Sequence("api_tokens_id_seq"), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=False), nullable=False),
)

# A stream batch rebuilds the rollup rows of its customers' months (store/incremental.py): the order lines, the
# daily and monthly rollups have an index leading with these, so a batch reads those rows, not whole tables.
CUSTOMER_MONTH: tuple[str, ...] = ("customer_name", "year", "month")


def _customer_month_index(name: str) -> Index:
    return Index(f"ix_{name}_customer_month", *CUSTOMER_MONTH).ddl_if(dialect=INDEXED_DIALECTS)  # type: ignore[arg-type]


# -- Rollups: the order lines pre-aggregated at load, in the load's transaction (store/aggregates.py) --------
#
# One row per (day, status, customer, country, territory) -- the attributes every line of an order shares --
# plus, per table, the line attributes product_line and/or deal_size. Each row holds the sums of its lines
# and ``order_count``, the number of distinct orders with a line in the row. Sums add up over any rows;
# order_count adds up whenever every order falls in one row per answer (see metrics/rollups.py).
ORDER_KEYS: tuple[str, ...] = (
    "order_date",
    "year",
    "quarter",
    "month",
    "iso_year",
    "iso_week",
    "status",
    "customer_name",
    "country",
    "territory",
)
LINE_KEYS: tuple[str, ...] = ("product_line", "deal_size")
ROLLUP_MEASURES: tuple[str, ...] = ("order_count", "line_count", "units", "revenue_cents")


def _rollup(name: str, line_keys: tuple[str, ...]) -> Table:
    keys = [
        Column(k, order_lines.c[k].type, nullable=order_lines.c[k].nullable) for k in ORDER_KEYS + line_keys
    ]
    measures = [Column(m, BigInteger, nullable=False) for m in ROLLUP_MEASURES]
    return Table(name, metadata, *keys, *measures, _customer_month_index(name))


# line keys -> rollup table
ROLLUPS: dict[tuple[str, ...], Table] = {
    (): _rollup("agg_orders", ()),
    ("product_line",): _rollup("agg_orders_pl", ("product_line",)),
    ("deal_size",): _rollup("agg_orders_ds", ("deal_size",)),
    ("product_line", "deal_size"): _rollup("agg_orders_pl_ds", ("product_line", "deal_size")),
}

# Product codes: the line attributes down to the product code (for product rankings and product_code_count).
CODE_KEYS: tuple[str, ...] = (*LINE_KEYS, "product_code")
rollup_codes = Table(
    "agg_codes",
    metadata,
    *(Column(k, order_lines.c[k].type, nullable=order_lines.c[k].nullable) for k in ORDER_KEYS + CODE_KEYS),
    *(Column(m, BigInteger, nullable=False) for m in ROLLUP_MEASURES),
    Column("msrp_max", Integer),
    _customer_month_index("agg_codes"),
)

# The same rollups per calendar month (built from the daily ones): a date range answers its whole months from
# these (tens of times fewer rows) and only its partial months' days from the daily rollups. ``first_date`` and
# ``last_date`` keep the first and last order date of each row. agg_codes has none: keyed by customer and product
# code, it is about as big per month as per day at realistic cardinality (10M lines: 9,999,187 monthly rows for
# 9,999,971 daily ones), so a monthly copy cost 8.6 s of the load and answered no faster (zone maps on the
# date-ordered daily rows skip the months outside a range); agg_codes is read by day for every range.
MONTH_KEYS: tuple[str, ...] = ("year", "quarter", "month", "status", "customer_name", "country", "territory")


def _monthly(daily: Table) -> Table:
    keys = [c.name for c in daily.c if c.name not in ORDER_KEYS or c.name in MONTH_KEYS]
    columns = [Column(k, daily.c[k].type, nullable=daily.c[k].nullable) for k in keys]
    dates = [Column(name, Date, nullable=False) for name in ("first_date", "last_date")]
    return Table(f"{daily.name}_m", metadata, *columns, *dates, _customer_month_index(f"{daily.name}_m"))


MONTHLY: dict[Table, Table] = {daily: _monthly(daily) for daily in ROLLUPS.values()}

# Customer tables: one row per (customer, status, country, territory[, product line][, deal size]) with no date
# (built from the monthly rollups in the load's transaction, store/aggregates.py): the customer ranking, RFM and
# top customers without a date range read these instead of a row per customer and day or month.
# ``order_count`` is exact per row for the same reason as in the rollups they come from: the dropped keys (the
# month and day) are shared by all lines of an order, so the month rows gathered into one row hold disjoint
# orders.
CUSTOMER_KEYS: tuple[str, ...] = ("customer_name", "status", "country", "territory")


def _entity(name: str, keys: tuple[str, ...]) -> Table:
    columns = [Column(k, order_lines.c[k].type, nullable=order_lines.c[k].nullable) for k in keys]
    measures = [Column(m, BigInteger, nullable=False) for m in ROLLUP_MEASURES]
    dates = [Column(n, Date, nullable=False) for n in ("first_date", "last_date")]
    # a stream batch replaces the rows of its customers (store/incremental.py)
    index = Index(f"ix_{name}_customer", "customer_name").ddl_if(dialect=INDEXED_DIALECTS)  # type: ignore[arg-type]
    return Table(name, metadata, *columns, *measures, *dates, index)


# line keys -> customer table (the same line keys as ROLLUPS: one of them answers any product-line/deal-size
# question about customers, exactly as the rollup with those line keys does)
CUSTOMER_TABLES: dict[tuple[str, ...], Table] = {
    line_keys: _entity("agg_customers" + table.name[len("agg_orders") :], CUSTOMER_KEYS + line_keys)
    for line_keys, table in ROLLUPS.items()
}
# customer table -> the monthly rollup it is grouped from
ENTITY_SOURCES: dict[Table, Table] = {t: MONTHLY[ROLLUPS[k]] for k, t in CUSTOMER_TABLES.items()}

# Product codes without the customer and the date: one row per (product code, product line, deal size, status)
# (built from agg_codes in the load's transaction, store/aggregates.py): the product ranking without a date range
# or a customer/country filter ranks 10,000s of codes from these instead of a row per code, customer and month.
# ``order_count`` adds up when agg_codes' does (``codes_exact``): the dropped keys are shared by all lines of an
# order. No distinct customers here: the ranking counts them for the codes of its page only (metrics/queries.py).
PRODUCT_KEYS: tuple[str, ...] = ("product_code", "product_line", "deal_size", "status")
rollup_products = Table(
    "agg_products",
    metadata,
    *(Column(k, order_lines.c[k].type, nullable=order_lines.c[k].nullable) for k in PRODUCT_KEYS),
    *(Column(m, BigInteger, nullable=False) for m in ROLLUP_MEASURES),
    Column("msrp_max", Integer),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
)

# Distinct orders under filters on several product lines or deal sizes, where rollup rows cannot be added up
# (an order with lines of two chosen product lines is one order): each (product line, deal size) pair that
# occurs gets one bit (agg_pairs.bit_value = 2**i, at most MAX_PAIRS pairs), and agg_order_masks holds one row
# per order and ORDER_KEYS with the OR of its lines' pair bits. "Orders with a line of these pairs" is then
# (pair_mask & chosen bits) != 0 over about a ninth of the rows of order_lines, with no product-line index.
MAX_PAIRS = 62  # bits of a signed 64-bit integer, the sign bit left alone
pair_bits = Table(
    "agg_pairs",
    metadata,
    Column("bit_value", BigInteger, primary_key=True, autoincrement=False),
    Column("product_line", order_lines.c.product_line.type, nullable=order_lines.c.product_line.nullable),
    Column("deal_size", order_lines.c.deal_size.type, nullable=order_lines.c.deal_size.nullable),
)
order_masks = Table(
    "agg_order_masks",
    metadata,
    Column("order_number", BigInteger, nullable=False),
    *(Column(k, order_lines.c[k].type, nullable=order_lines.c[k].nullable) for k in ORDER_KEYS),
    Column("pair_mask", BigInteger, nullable=False),
    # a stream batch replaces the masks of its orders (store/incremental.py)
    Index("ix_agg_order_masks_order_number", "order_number").ddl_if(dialect=INDEXED_DIALECTS),  # type: ignore[arg-type]
)

# Which data version the rollups were built for (one row). A reader uses them only when this matches the
# current data version, so rollups and lines always agree.
rollup_state = Table(
    "agg_rollup_state",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("orders_exact", Boolean, nullable=False),  # every order lies in one row of agg_orders
    Column(
        "codes_exact", Boolean, nullable=False
    ),  # every (order, product code) lies in one row of agg_codes
    Column(
        "masks_built", Boolean, nullable=False
    ),  # agg_pairs/agg_order_masks hold every pair (<= MAX_PAIRS)
    Column("line_rows", BigInteger, nullable=False),
    Column("built_at", DateTime(timezone=False), nullable=False),
)
# derived tables of earlier versions, dropped by ensure_schema (the next load rebuilds the rollups)
OUTDATED_TABLES = ("agg_state", "rollup_state", "agg_codes_m")

# -- Live orders (salesdash.stream): the consumer's state and the lines it refused ---------------------------
#
# One row per JetStream stream consumed: written by the consumer (in each batch's transaction, and as a
# heartbeat while it waits), read by the API (GET /api/stream) and the dashboard's live indicator.
stream_status = Table(
    "stream_status",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("started_at", DateTime(timezone=False), nullable=False),
    Column("heartbeat_at", DateTime(timezone=False), nullable=False),
    Column("connected", Boolean, nullable=False),
    Column("last_batch_at", DateTime(timezone=False)),
    Column("last_order_at", DateTime(timezone=False)),  # when the last new order line was committed
    Column("lines_appended", BigInteger, nullable=False),
    Column("duplicates_skipped", BigInteger, nullable=False),
    Column("dead_letters", BigInteger, nullable=False),
    Column("batches", BigInteger, nullable=False),
    Column("last_error", Text),
)
# Every message the consumer refused, once per stream sequence (a re-delivery is not counted twice).
stream_dead_letters = Table(
    "stream_dead_letters",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("received_at", DateTime(timezone=False), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the message as received, cut at DEAD_LETTER_PAYLOAD chars
)
DEAD_LETTER_PAYLOAD = 2000

# Column names of order_lines in table order (used by loaders and exports).
ORDER_LINE_COLUMNS: tuple[str, ...] = tuple(c.name for c in order_lines.columns)

# -- Operations: the audit log, scheduled reports and alerts (salesdash/audit.py, salesdash/reports/) ---------
# Times are UTC without a time zone (as data_versions.loaded_at); JSON columns are Text (portable).

# One row per write: who (token id and role, never the token), what, with which parameters, and the outcome.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, Sequence("audit_log_id_seq"), primary_key=True),
    Column("recorded_at", DateTime(timezone=False), nullable=False),
    Column("actor", String(16), nullable=False),  # api | cli | scheduler
    Column("token_id", Integer),
    Column("role", String(16)),
    Column("action", String(64), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON, secrets removed, never file content
    Column("result", String(16), nullable=False),  # ok | refused | failed
    Column("status", Integer),  # HTTP status (API) or exit code (CLI)
    Column("message", Text),
    Column("data_version", String(64)),
    Index("ix_audit_log_recorded_at", "recorded_at").ddl_if(dialect=INDEXED_DIALECTS),  # type: ignore[arg-type]
    Index("ix_audit_log_action", "action").ddl_if(dialect=INDEXED_DIALECTS),  # type: ignore[arg-type]
)

report_schedules = Table(
    "report_schedules",
    metadata,
    Column("id", Integer, Sequence("report_schedules_id_seq"), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("view", String(64), nullable=False),  # an export view, or "report" for the full PDF report
    Column("filters", Text, nullable=False),  # JSON: API filter parameters
    Column("formats", String(32), nullable=False),  # comma-separated: pdf, xlsx
    Column("cron", String(128), nullable=False),  # five fields: minute hour day month day-of-week
    Column("timezone", String(64), nullable=False),
    Column("recipients", Text, nullable=False),  # comma-separated addresses
    Column("paused", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("next_run_at", DateTime(timezone=False), nullable=False),  # UTC
)

# One row per run of a schedule. (schedule_id, due_at) is unique: the process whose INSERT succeeds owns the
# run, so two schedulers never send the same run twice.
report_runs = Table(
    "report_runs",
    metadata,
    Column("id", Integer, Sequence("report_runs_id_seq"), primary_key=True),
    Column("schedule_id", Integer, nullable=False),
    Column("due_at", DateTime(timezone=False), nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule | manual
    Column("status", String(16), nullable=False),  # sending | sent | retrying | failed | missed
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", String(128), nullable=False),
    Column("next_attempt_at", DateTime(timezone=False)),
    Column("finished_at", DateTime(timezone=False)),
    Column("data_version", String(64)),
    Column("error", Text),
    UniqueConstraint("schedule_id", "due_at", name="uq_report_runs_schedule_due"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, Sequence("alert_rules_id_seq"), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # below | drop_vs_last_year | no_orders
    Column("metric", String(64), nullable=False),
    Column("period", String(32), nullable=False),  # last_complete_week | last_complete_month | last_24h | ...
    Column("threshold", Double, nullable=False),
    Column("filters", Text, nullable=False),  # JSON: API filter parameters
    Column("recipients", Text, nullable=False),
    Column("webhook_url", Text),
    Column("paused", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("firing", Boolean, nullable=False),  # the condition held at the last check
    Column("last_checked_at", DateTime(timezone=False)),
    Column("last_value", Double),
)

# One row per change of an alert's state: fired (the condition started to hold) or cleared.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, Sequence("alert_events_id_seq"), primary_key=True),
    Column("rule_id", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=False), nullable=False),
    Column("event", String(16), nullable=False),  # fired | cleared
    Column("value", Double),
    Column("message", Text, nullable=False),
    Column("data_version", String(64)),
    Column("trigger", String(16), nullable=False),  # load | schedule | manual
    Column("delivery", Text, nullable=False),  # JSON: per channel ok / error text
)

# Named dashboard states (salesdash/saved_views.py): a page and its filters as a query string. Not data: a load,
# an append or a restore never touches it (on Spark it lives in the base database, like api_tokens).
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, Sequence("saved_views_id_seq"), primary_key=True),
    Column("owner_token_id", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("page", String(32), nullable=False),
    Column("state", String(2000), nullable=False),  # the filters as the dashboard's query string
    Column("created_at", DateTime(timezone=False), nullable=False),
)
