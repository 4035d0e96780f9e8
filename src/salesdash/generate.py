"""Synthetic data at any size: resample real orders from a source CSV into a file in the source schema.

``salesdash generate --rows N --out FILE`` writes N order lines that ``salesdash ingest`` accepts:

- whole orders are drawn (with replacement) from the source, so an order keeps its customer, status and its
  mix of product lines; only the last order is cut short when N falls inside it;
- every drawn order gets a new, unique ORDERNUMBER (increasing with the order date, like the source);
- dates are spread over the source's date range: the date of another randomly drawn source order plus a
  uniform jitter of up to +-``JITTER_DAYS`` days (reflected at the ends of the range): the seasonality of the
  source's dates stays, and every customer orders across the whole range;
- QUANTITYORDERED varies by up to +-2 units; SALES keeps the line's unit revenue (so the PRICEEACH cap quirk of
  the sample survives), DEALSIZE is derived from SALES (Small < 3,000 <= Medium < 7,000 <= Large) and
  QTR_ID/MONTH_ID/YEAR_ID from ORDERDATE (M/D/YYYY H:MM);
- the same seed gives the same file, byte for byte.

Realistic cardinality (``--customers``, ``--products``, ``--years``; ``--realistic`` picks all three from the
size, see :func:`realistic_shape`): each source customer stands for several customers of the same country
(its address, territory and contact; names ``<name> #2``, ``#3``, ...), as many as its share of the source's
order lines asks for, so the countries keep the sample's weights; each product code likewise stands for several
codes of the same product line, MSRP and price (``S10_1678-2``, ...); ``--years N`` spreads the dates over the
N years up to the source's last date, each date keeping the day of the year of a source date drawn from the
source's complete years (the seasonality stays). Without these knobs the file is exactly the plain resampling.

Everything is vectorised (numpy + pyarrow) and written in chunks, so 10M rows take seconds and little memory.
The file is written next to ``out`` and renamed into place at the end: an interrupted run leaves no half file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesdash.config import BUNDLED_SAMPLE
from salesdash.errors import InputFileError
from salesdash.ingest.schema import COLUMN_MAP, SOURCE_COLUMNS, TEXT_COLUMNS

Progress = Callable[[str, int, int], None]

CHUNK_ROWS = 1_000_000
JITTER_DAYS = 20
QUANTITY_JITTER = 2
FIRST_ORDER_NUMBER = 100_000
SMALL_BELOW_CENTS = 300_000
LARGE_FROM_CENTS = 700_000
FORMATS = (".csv", ".csv.gz", ".parquet")
# the bundled sample (2,823 order lines), shipped in the package: the default source wherever salesdash runs
MAX_YEARS = 100
# realistic_shape: one customer per LINES_PER_CUSTOMER lines, one product code per LINES_PER_PRODUCT lines
LINES_PER_CUSTOMER = 50
LINES_PER_PRODUCT = 500
REALISTIC_YEARS = 5


@dataclass(frozen=True)
class Shape:
    """Cardinality knobs: None keeps the source's customers, product codes or date range, unless
    ``realistic``, which gives every unset knob its realistic value for the size (:func:`realistic_shape`)."""

    customers: int | None = None
    products: int | None = None
    years: int | None = None
    realistic: bool = False


def realistic_shape(rows: int, source_customers: int, source_products: int) -> Shape:
    """Realistic cardinality for ``rows`` lines (never below the source's): 10M lines -> 200K customers,
    20K product codes, 5 years."""
    return Shape(
        customers=max(source_customers, rows // LINES_PER_CUSTOMER),
        products=max(source_products, rows // LINES_PER_PRODUCT),
        years=REALISTIC_YEARS,
    )


# source column -> order_lines column holding its text in the cleaned source (DEALSIZE is derived from SALES)
_TEXT_FROM_CLEAN = {name: COLUMN_MAP[name] for name in TEXT_COLUMNS if name != "DEALSIZE"}


def output_format(out: Path) -> str:
    name = out.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise InputFileError(
        f"Cannot write {out.name}: the output file must end in {', '.join(FORMATS)}.",
        details=[{"parameter": "out", "message": f"use one of {', '.join(FORMATS)}"}],
    )


class _Source:
    """The source's lines sorted by (order, line), with per-order offsets and the text columns as Arrow."""

    def __init__(self, frame: pd.DataFrame) -> None:
        frame = frame.sort_values(["order_number", "order_line_number"], kind="stable").reset_index(drop=True)
        orders = frame["order_number"].to_numpy()
        starts = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]])
        self.order_starts = starts.astype(np.int64)
        self.order_sizes = np.diff(np.r_[starts, len(frame)]).astype(np.int64)
        dates = pd.to_datetime(frame["order_date"]).to_numpy().astype("datetime64[D]")
        self.order_days = dates[starts].astype(np.int64)  # days since 1970-01-01
        self.first_day = int(self.order_days.min())
        self.last_day = int(self.order_days.max())
        self.line_number = frame["order_line_number"].to_numpy(np.int64)
        self.quantity = frame["quantity_ordered"].to_numpy(np.int64)
        self.sales_cents = frame["sales_cents"].to_numpy(np.int64)
        self.price_text = pa.array([_number_text(v) for v in frame["price_each"]], pa.string())
        self.msrp_text = pa.array([None if pd.isna(v) else str(int(v)) for v in frame["msrp"]], pa.string())
        customers, self.customer_names = pd.factorize(frame["customer_name"])
        self.line_customer = customers.astype(np.int64)
        self.order_customer = self.line_customer[starts]
        products, self.product_codes = pd.factorize(frame["product_code"])
        self.line_product = products.astype(np.int64)
        self.text = {
            src: pa.array([None if v is None or pd.isna(v) else str(v) for v in frame[dst]], pa.string())
            for src, dst in _TEXT_FROM_CLEAN.items()
        }
        # the same text, escaped as CSV fields (for the CSV writer)
        self.fields = {
            src: pa.array([_csv_field(v) for v in text.to_pylist()], pa.string())
            for src, text in self.text.items()
        }


def _number_text(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _load_source(source: Path) -> _Source:
    from salesdash.ingest import prepare

    prepared = prepare(source, on_error="strict")
    return _Source(prepared.frame)


def _draw_orders(src: _Source, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the drawn source orders and how many of their lines are used (the last may be cut)."""
    mean = float(src.order_sizes.mean())
    drawn: list[np.ndarray] = []
    total = 0
    while total < rows:
        need = max(16, int((rows - total) / mean * 1.05) + 16)
        batch = rng.integers(0, len(src.order_sizes), size=need)
        drawn.append(batch)
        total += int(src.order_sizes[batch].sum())
    orders = np.concatenate(drawn)
    sizes = src.order_sizes[orders]
    ends = np.cumsum(sizes)
    last = int(np.searchsorted(ends, rows))  # the first order whose end reaches `rows`
    orders = orders[: last + 1]
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(ends[last]) - rows
    return orders, sizes


def _spread_days(src: _Source, orders: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A date per drawn order: the date of another randomly drawn source order, plus a jitter. Drawing the
    date apart from the order's contents keeps the seasonality of the source's dates without tying each
    customer to the few dates it ordered on in the sample (every customer orders across the whole range)."""
    when = rng.integers(0, len(src.order_days), size=len(orders))
    days = src.order_days[when] + rng.integers(-JITTER_DAYS, JITTER_DAYS + 1, size=len(orders))
    lo, hi = src.first_day, src.last_day
    days = np.where(days < lo, 2 * lo - days, days)
    days = np.where(days > hi, 2 * hi - days, days)
    return np.clip(days, lo, hi)


def _years_range(src: _Source, years: int) -> tuple[int, int]:
    """First and last day (days since 1970-01-01) of the ``years`` years that end on the source's last date."""
    last = date(1970, 1, 1) + timedelta(days=src.last_day)
    try:
        start = date(last.year - years, last.month, last.day)
    except ValueError:  # 29 February
        start = date(last.year - years, last.month, 28)
    return (start - date(1970, 1, 1)).days + 1, src.last_day


def _spread_years(src: _Source, count: int, years: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` dates over ``years`` years: the day of the year of a (jittered) source date, drawn from the
    source's complete years so that no month is over-represented, in a uniformly drawn year of the range."""
    lo, hi = _years_range(src, years)
    source_days = src.order_days.astype("datetime64[D]")
    source_years = source_days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = source_days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    complete = [y for y in np.unique(source_years) if {1, 12} <= set(months[source_years == y].tolist())]
    pool = np.flatnonzero(np.isin(source_years, complete)) if complete else np.arange(len(source_days))
    drawn = src.order_days[pool[rng.integers(0, len(pool), size=count)]]
    drawn = drawn + rng.integers(-JITTER_DAYS, JITTER_DAYS + 1, size=count)
    drawn_days = drawn.astype("datetime64[D]")
    day_of_year = (drawn_days - drawn_days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    first_year = (date(1970, 1, 1) + timedelta(days=lo)).year
    last_year = (date(1970, 1, 1) + timedelta(days=hi)).year
    days = np.full(count, lo - 1, dtype=np.int64)
    todo = np.arange(count)
    for _ in range(64):  # years outside a partial first/last year are drawn again (then clipped)
        year = rng.integers(first_year, last_year + 1, size=len(todo))
        jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        next_jan1 = (year - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        days[todo] = np.minimum(jan1 + day_of_year[todo], next_jan1 - 1)
        todo = todo[(days[todo] < lo) | (days[todo] > hi)]
        if not len(todo):
            break
    return np.clip(days, lo, hi)


def _split(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` split over the weights (largest remainder), at least one each."""
    extra = total - len(weights)
    share = weights / weights.sum() * extra
    counts = np.floor(share).astype(np.int64)
    rest = extra - int(counts.sum())
    counts[np.argsort(-(share - counts), kind="stable")[:rest]] += 1
    return counts + 1


def _split_names(names: list[str], counts: np.ndarray, sep: str) -> list[str]:
    """The first copy keeps the name; the others get ``<sep>2``, ``<sep>3``, ..."""
    out: list[str] = []
    for name, count in zip(names, counts.tolist(), strict=True):
        out.append(name)
        out.extend(f"{name}{sep}{k}" for k in range(2, count + 1))
    return out


def _pick_copies(template: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each item of a template, one of the template's copies: ids into ``_split_names``. The first items
    of a template (in their random draw order) take its copies one each, so every copy occurs once the
    template has enough items; the rest pick a copy uniformly."""
    offsets = np.cumsum(counts) - counts
    by_template = np.argsort(template, kind="stable")
    sorted_templates = template[by_template]
    starts = np.flatnonzero(np.r_[True, sorted_templates[1:] != sorted_templates[:-1]])
    rank = np.empty(len(template), dtype=np.int64)
    rank[by_template] = np.arange(len(template)) - np.repeat(starts, np.diff(np.r_[starts, len(template)]))
    copy = np.where(rank < counts[template], rank, rng.integers(0, counts[template]))
    return offsets[template] + copy


def _text_arrays(texts: list[str], escaped: bool) -> pa.Array:
    return pa.array([_csv_field(t) for t in texts] if escaped else texts, pa.string())


def _check_shape(src: _Source, shape: Shape) -> None:
    checks = (
        ("customers", shape.customers, len(src.customer_names), "the source's customers"),
        ("products", shape.products, len(src.product_codes), "the source's product codes"),
    )
    for name, value, least, what in checks:
        if value is not None and value < least:
            raise InputFileError(
                f"--{name} must be at least {least:,} ({what}: each stands for one or more), got {value:,}.",
                details=[{"parameter": name, "message": f">= {least}"}],
            )
    if shape.years is not None and not 1 <= shape.years <= MAX_YEARS:
        raise InputFileError(
            f"--years must be between 1 and {MAX_YEARS}, got {shape.years}.",
            details=[{"parameter": "years", "message": f"1..{MAX_YEARS}"}],
        )


def _date_texts(first_day: int, last_day: int) -> pa.Array:
    """'M/D/YYYY 0:00' for every day of the range (index = day - first_day)."""
    epoch = date(1970, 1, 1)
    texts = []
    for offset in range(first_day, last_day + 1):
        d = epoch + timedelta(days=offset)
        texts.append(f"{d.month}/{d.day}/{d.year} 0:00")
    return pa.array(texts, pa.string())


def _deal_sizes(cents: np.ndarray) -> pa.Array:
    codes = np.where(cents < SMALL_BELOW_CENTS, 0, np.where(cents < LARGE_FROM_CENTS, 1, 2))
    return pc.take(pa.array(["Small", "Medium", "Large"]), pa.array(codes.astype(np.int32)))


def _header_bytes() -> bytes:
    return (",".join(SOURCE_COLUMNS) + "\n").encode()


class _Writer:
    """Writes Arrow record batches as CSV (optionally gzip) or Parquet."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema) -> None:
        self.fmt = fmt
        self.sink: Any = None
        self.writer: Any = None
        if fmt == ".parquet":
            self.writer = pq.ParquetWriter(str(path), schema, compression="zstd")
            return
        self.sink = (
            pa.CompressedOutputStream(str(path), "gzip") if fmt == ".csv.gz" else pa.OSFile(str(path), "wb")
        )
        self.sink.write(_header_bytes())

    def write(self, table: pa.Table) -> None:
        if self.writer is not None:
            self.writer.write_table(table)
            return
        self.sink.write(_csv_lines(table))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.sink is not None:
            self.sink.close()


def _csv_field(value: str | None) -> str | None:
    """A text value as a CSV field: quoted only when it must be (like the source file)."""
    if value is None:
        return None
    if any(ch in value for ch in ',"\r\n') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_lines(table: pa.Table) -> pa.Buffer:
    """The table as CSV lines (values already escaped), joined by Arrow kernels and written as one buffer.

    pyarrow's own CSV writer quotes every string; joining keeps the source's minimal quoting.
    """
    columns = [col if pa.types.is_string(col.type) else pc.cast(col, pa.string()) for col in table.columns]
    joined = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(joined, pa.scalar(""), "\n").combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def _chunk_table(
    src: _Source,
    lines: np.ndarray,
    order_numbers: np.ndarray,
    days: np.ndarray,
    quantity: np.ndarray,
    date_texts: pa.Array,
    first_day: int,
    escaped: bool,
    replaced: dict[str, pa.Array],
) -> pa.Table:
    idx = pa.array(lines)
    texts = src.fields if escaped else src.text
    sales_cents = np.rint(src.sales_cents[lines] / src.quantity[lines] * quantity).astype(np.int64)
    dates = pd.DatetimeIndex(days.astype("datetime64[D]"))
    columns: dict[str, pa.Array] = {
        "ORDERNUMBER": pa.array(order_numbers),
        "QUANTITYORDERED": pa.array(quantity),
        "PRICEEACH": pc.take(src.price_text, idx),
        "ORDERLINENUMBER": pa.array(src.line_number[lines]),
        "SALES": pc.cast(pa.array(sales_cents / 100), pa.string()),
        "ORDERDATE": pc.take(date_texts, pa.array(days - first_day)),
        "STATUS": pc.take(texts["STATUS"], idx),
        "QTR_ID": pa.array(dates.quarter.to_numpy(np.int64)),
        "MONTH_ID": pa.array(dates.month.to_numpy(np.int64)),
        "YEAR_ID": pa.array(dates.year.to_numpy(np.int64)),
        "MSRP": pc.take(src.msrp_text, idx),
        "DEALSIZE": _deal_sizes(sales_cents),
        **replaced,
    }
    for name, text in texts.items():
        if name not in columns:
            columns[name] = pc.take(text, idx)
    return pa.table({name: columns[name] for name in SOURCE_COLUMNS})


def generate(
    *,
    rows: int,
    out: Path,
    seed: int = 42,
    source: Path | None = None,
    shape: Shape | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``rows`` synthetic order lines resampled from ``source`` (default: the bundled sample) to ``out``
    (.csv, .csv.gz, .parquet), with the cardinality of ``shape`` (default: the source's)."""
    shape = shape or Shape()
    if rows < 1:
        raise InputFileError("rows must be at least 1.", details=[{"parameter": "rows", "message": ">= 1"}])
    out = Path(out)
    fmt = output_format(out)
    if not out.parent.exists():
        raise InputFileError(f"Cannot write {out}: the folder {out.parent} does not exist.")
    src = _load_source(Path(source) if source is not None else BUNDLED_SAMPLE)
    if shape.realistic:
        real = realistic_shape(rows, len(src.customer_names), len(src.product_codes))
        shape = Shape(
            customers=real.customers if shape.customers is None else shape.customers,
            products=real.products if shape.products is None else shape.products,
            years=real.years if shape.years is None else shape.years,
        )
    _check_shape(src, shape)
    rng = np.random.default_rng(seed)
    orders, sizes = _draw_orders(src, rows, rng)
    if shape.years is None:
        days = _spread_days(src, orders, rng)
        first_day, last_day = src.first_day, src.last_day
    else:
        days = _spread_years(src, len(orders), shape.years, rng)
        first_day, last_day = _years_range(src, shape.years)
    # order numbers increase with the order date (ties in draw order), as in the source
    by_date = np.argsort(days, kind="stable")
    orders, sizes, days = orders[by_date], sizes[by_date], days[by_date]
    order_numbers = FIRST_ORDER_NUMBER + np.arange(len(orders), dtype=np.int64)
    # line level: which source line each output line copies
    out_starts = np.cumsum(sizes) - sizes
    within = np.arange(rows, dtype=np.int64) - np.repeat(out_starts, sizes)
    lines = np.repeat(src.order_starts[orders], sizes) + within
    line_orders = np.repeat(np.arange(len(orders), dtype=np.int64), sizes)
    quantity = np.maximum(
        src.quantity[lines] + rng.integers(-QUANTITY_JITTER, QUANTITY_JITTER + 1, size=rows), 1
    )
    date_texts = _date_texts(first_day, last_day)
    escaped = fmt != ".parquet"
    # realistic cardinality: the customer of each order and the product code of each line, as copies
    copies: dict[str, tuple[pa.Array, np.ndarray]] = {}
    if shape.customers is not None:
        counts = _split(np.bincount(src.line_customer).astype(np.float64), shape.customers)
        names = _text_arrays(_split_names(list(src.customer_names), counts, " #"), escaped)
        order_ids = _pick_copies(src.order_customer[orders], counts, rng)
        copies["CUSTOMERNAME"] = (names, order_ids[line_orders])
    if shape.products is not None:
        counts = _split(np.bincount(src.line_product).astype(np.float64), shape.products)
        codes = _text_arrays(_split_names(list(src.product_codes), counts, "-"), escaped)
        copies["PRODUCTCODE"] = (codes, _pick_copies(src.line_product[lines], counts, rng))

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer: _Writer | None = None
    try:
        for start in range(0, rows, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, rows)
            part = slice(start, stop)
            chunk_orders = line_orders[part]
            table = _chunk_table(
                src,
                lines[part],
                order_numbers[chunk_orders],
                days[chunk_orders],
                quantity[part],
                date_texts,
                first_day,
                escaped=escaped,
                replaced={name: pc.take(text, pa.array(ids[part])) for name, (text, ids) in copies.items()},
            )
            if writer is None:
                writer = _Writer(tmp, fmt, table.schema)
            writer.write(table)
            if progress:
                progress("generate", stop, rows)
        assert writer is not None
        writer.close()
        writer = None
        tmp.replace(out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return out


__all__ = ["FORMATS", "Shape", "generate", "output_format", "realistic_shape"]
