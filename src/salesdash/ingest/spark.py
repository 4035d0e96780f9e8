"""Ingest on the Spark cluster: the file is read, validated and cleaned by Spark, in parallel, never collected.

For a store on Spark, ``ingest_file`` hands a file to this module when it is at least
``SALESDASH_SPARK_INGEST_BYTES`` large and the cluster can read the path (``SALESDASH_SPARK_SHARED_FILES``:
the local cluster of ``salesdash spark start`` runs on this machine and reads its files). Smaller files, and
files the cluster cannot read, go through salesdash's own validation and are sent as Arrow batches.

- **read**: ``spark.read.csv(path)`` with every column as text (no type guessing), in the encoding salesdash
  detects (the file is hashed on this machine for its data version: a streamed read, bounded memory), or
  ``spark.read.parquet(path)`` with numbers and dates turned into the text a CSV would hold
  (``ingest/parquet.py``'s rule). The header is checked before, with the very messages of the other paths.
- **validate**: the rules are the pandera schema of ``ingest/schema.py`` (``build_schema()``), compiled once
  to Spark column expressions from each check's name and statistics (:func:`compile_rules`; an unknown check
  is refused, not skipped). A first pass counts failures; when there are any, a second one numbers the rows
  (partition id + the row's place in its partition, partitions in the file's order by their first byte: a row's
  number is its line - 2, as in the other paths) and lists the first ``MAX_DETAILS`` failing lines, formatted
  by ``validate._format_failures``: the same columns, values and wording, and the exact total count.
- **clean**: cents, dates and calendar columns as Spark expressions (``clean.clean``'s rules), written into
  the new version database with ``insertInto``; the rollups are built by Spark SQL
  (``store/aggregates.py``) and the view is switched (``store/spark_load.write_version``).

Files the cluster path cannot judge as the other paths would (a quote character inside a value: a quoted
line break, which Spark's line-splitting reader cannot follow; a Parquet column of another type) raise
:class:`Fallback`, and ``ingest_file`` uses the other path. A row with more fields than the header is refused
with the other paths' message and line number.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from sqlalchemy import Connection, Engine

from salesdash.errors import InputFileError
from salesdash.ingest.read import _parse_error, check_column_count, detect_encoding, header_line
from salesdash.ingest.report import CAPPED_PRICE, MISMATCH, Figures, assemble_report
from salesdash.ingest.schema import COLUMN_MAP, NUMERIC_COLUMNS, SOURCE_COLUMNS, build_schema
from salesdash.ingest.validate import MAX_DETAILS, _format_failures, check_header, raise_for_failures
from salesdash.store.schema import order_lines
from salesdash.vocabulary import CANCELLED

Progress = Callable[[str, int, int], None]

SPARK_DATE_FORMAT = "M/d/yyyy H:mm"  # schema.DATE_FORMAT (%m/%d/%Y %H:%M) in Spark's pattern letters
PARQUET_DATE_FORMAT = "MM/dd/yyyy HH:mm"  # parquet.py writes dates with DATE_FORMAT, zero-padded
# a number as pandas.to_numeric reads one (Spark's cast alone also takes "1d", "0x1p3", ...)
NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$|^(?i)[+-]?(inf|infinity|nan)$"
# str.strip()'s whitespace: Unicode White_Space plus the separators \x1c-\x1f
STRIP = r"(?U)^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"
ROW = "__row"
_CORRUPT = "__corrupt"


class Fallback(Exception):
    """The cluster path cannot judge this file as the other paths would: use them."""


class UnknownRule(Exception):
    """A check of the schema that :func:`compile_rules` does not know: add it there."""


# ------------------------------------------------------------------------------------------- the choice


def shared_files(setting: str, remote: str) -> bool:
    """Whether the cluster reads this machine's paths: ``yes``/``no``, or ``auto`` (the Connect server is on
    this machine: the local cluster)."""
    from salesdash.store.spark_load import on_this_machine

    return setting == "yes" if setting != "auto" else on_this_machine(remote)


def takes_cluster_path(engine: Engine, path: Path, rejects_path: object = None) -> bool:
    """Whether ``ingest_file`` should ingest ``path`` on the cluster (see the module's docstring)."""
    from salesdash.store.spark import ingest_options_of, remote_of

    if engine.dialect.name != "spark" or rejects_path is not None:
        return False  # a rejects file lists every bad line: the other paths write it
    threshold, shared = ingest_options_of(engine)
    if not shared_files(shared, remote_of(engine)):
        return False
    try:
        return path.is_file() and path.stat().st_size >= threshold
    except OSError:
        return False


# --------------------------------------------------------------------------------------- rule compiling


@dataclass(frozen=True)
class Rule:
    """One compiled check: a Spark expression that is true on a failing row, and how pandera names it."""

    context: str  # "Column" or "DataFrameSchema" (pandera's schema_context)
    column: str | None  # the column of a column rule
    check: str  # pandera's failure-case text: the check's error, else its name
    fail: Any  # pyspark Column
    flag: str = ""


def _text(check: pa.Check) -> str:
    return str(check.error or check.name)


def _column_check(check: pa.Check, value: Any) -> Any:
    """A column check of ``build_schema()`` as a Spark expression, true where it fails (nulls pass: pandera
    runs checks on the present values; not_nullable is its own rule)."""
    from pyspark.sql import functions as F

    name = str(check.name)
    stats = check.statistics or {}
    infinite = F.abs(value) == F.lit(float("inf"))
    if name == "whole_number":
        fail = ~infinite & (value != F.bround(value, 0))
    elif name == "finite":
        fail = infinite
    elif name == "greater_than_or_equal_to":
        fail = value < F.lit(stats["min_value"])
    elif name.startswith("less_than_or_equal_to") and "max_value" in stats:
        fail = value > F.lit(stats["max_value"])
        if stats.get("finite_only"):
            fail = fail & ~infinite
    elif name == "in_range":
        low, high = F.lit(stats["min_value"].to_pydatetime()), F.lit(stats["max_value"].to_pydatetime())
        fail = (value < low if stats.get("include_min", True) else value <= low) | (
            value > high if stats.get("include_max", True) else value >= high
        )
    elif name == "str_length":
        fail = F.lit(False)
        if stats.get("max_value") is not None:
            fail = fail | (F.length(value) > F.lit(stats["max_value"]))
        if stats.get("min_value") is not None:
            fail = fail | (F.length(value) < F.lit(stats["min_value"]))
    elif name == "isin":
        fail = ~value.isin(list(stats["allowed_values"]))
    else:
        raise UnknownRule(f"no Spark expression for the check {name!r}")
    return value.isNotNull() & fail


_PARTS = {"year": "year", "quarter": "quarter", "month": "month"}


def compile_rules(schema: pa.DataFrameSchema, typed: dict[str, Any], per_order: dict[str, Any]) -> list[Rule]:
    """Every rule of ``schema`` on the typed columns present (``typed``: source name -> Column) as Spark
    expressions; ``per_order`` holds, per column of a one-value-per-order rule, whether the row's order has
    more than one distinct value (built by :func:`typed_frame`). The uniqueness rule is added by the caller
    (it needs the rows' order)."""
    from pyspark.sql import functions as F

    rules: list[Rule] = []
    for name, column in schema.columns.items():
        if name not in typed:
            continue
        value = typed[name]
        if not column.nullable:
            rules.append(Rule("Column", name, "not_nullable", value.isNull()))
        for check in column.checks:
            rules.append(Rule("Column", name, _text(check), _column_check(check, value)))
    for check in schema.checks:
        stats = check.statistics or {}
        name = str(check.name)
        column = stats.get("column")
        if name.endswith("_matches_ORDERDATE") and stats.get("part") in _PARTS:
            if column not in typed or "ORDERDATE" not in typed:
                continue
            part = getattr(F, _PARTS[stats["part"]])(typed["ORDERDATE"])
            value = typed[column]
            fail = value.isNotNull() & typed["ORDERDATE"].isNotNull() & (value != part)
        elif name.startswith("one_") and name.endswith("_per_order") and column:
            if column not in per_order:
                continue
            fail = F.coalesce(per_order[column], F.lit(False))
        else:
            raise UnknownRule(f"no Spark expression for the frame check {name!r}")
        rules.append(Rule("DataFrameSchema", None, _text(check), fail))
    return rules


# ------------------------------------------------------------------------------------------------ reading


def _java_charset(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "latin-1": "ISO-8859-1", "iso8859-1": "ISO-8859-1"}.get(
        name, name
    )


@dataclass
class Source:
    """A file as the cluster reads it."""

    path: Path
    name: str
    names: list[str]  # the header, stripped
    parquet: bool
    encoding: str
    sha256: str
    size_bytes: int
    text_types: dict[str, str] = field(default_factory=dict)  # Parquet: column -> "text" | "number" | ...
    offsets: dict[int, int] | None = None  # partition id -> number of its first row (set when numbering)


def open_source(path: Path, name: str, encoding: str | None, progress: Progress | None) -> Source:
    """Check the header (the other paths' messages), detect the encoding and hash the file."""
    from salesdash.ingest.parquet import ENCODING, _digest, is_parquet, parquet_columns

    parquet = is_parquet(path)
    size = path.stat().st_size
    if parquet:
        import pyarrow as arrow
        import pyarrow.parquet as pq

        names = parquet_columns(path)
        if names is None:
            raise Fallback("unreadable Parquet footer")
        check_column_count(name, len(names))
        kinds: dict[str, str] = {}
        for item in pq.read_schema(path):
            kind = item.type
            if arrow.types.is_dictionary(kind):
                kind = kind.value_type
            if arrow.types.is_string(kind) or arrow.types.is_large_string(kind):
                kinds[item.name] = "text"
            elif (
                arrow.types.is_integer(kind) or arrow.types.is_floating(kind) or arrow.types.is_decimal(kind)
            ):
                kinds[item.name] = "number"
            elif arrow.types.is_timestamp(kind) or arrow.types.is_date(kind):
                kinds[item.name] = "date"
            elif arrow.types.is_null(kind):
                kinds[item.name] = "null"
            else:
                raise Fallback(f"column {item.name} of type {kind}")  # the other path names it
        stripped = [n.strip() for n in names]
        check_header(pd.DataFrame(columns=stripped), name)
        if progress:
            progress("read", 0, 1)
        digest = _digest(path)
        if progress:
            progress("read", 1, 1)
        return Source(path, name, stripped, True, ENCODING, digest, size, text_types=kinds)
    names = header_line(path)
    if names is None:
        raise Fallback("the header runs over more than one line")
    check_header(pd.DataFrame(columns=names), name)
    from salesdash.ingest.read import byte_progress

    detected, digest = detect_encoding(path, byte_progress(progress, size) if progress else None)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(f"Unknown encoding {encoding!r}.") from None
    return Source(path, name, names, False, encoding or detected, digest, size)


def raw_frame(session: Any, source: Source) -> Any:
    """The file as Spark text columns named as its header (missing cells ""), plus ``__pid``/``__mid``
    (the partition and the row's id in it, taken at the scan: the basis of row numbers) and, for a CSV, the
    text of a row with another number of fields than the header."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    uri = source.path.resolve().as_uri()
    if source.parquet:
        frame = session.read.parquet(uri)
        columns = []
        for position, original in enumerate(frame.columns):
            value = F.col(f"`{original}`")
            kind = source.text_types.get(original, "text")
            if kind == "number":
                value = value.cast("string")
            elif kind == "date":
                value = F.date_format(value, PARQUET_DATE_FORMAT)
            elif kind == "null":
                value = F.lit(None).cast("string")
            columns.append(F.coalesce(value, F.lit("")).alias(f"c{position}"))
        corrupt = F.lit(None).cast("string")
    else:
        # Spark 4 reads only Unicode and Latin-1 charsets unless told to accept every Java one (cp437, cp1252...)
        session.conf.set("spark.sql.legacy.javaCharsets", "true")
        positions = [StructField(f"c{i}", StringType()) for i in range(len(source.names))]
        schema = StructType([*positions, StructField(_CORRUPT, StringType())])
        frame = (
            session.read.option("header", True)
            .option("enforceSchema", True)
            .option("encoding", _java_charset(source.encoding))
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", _CORRUPT)
            .option("multiLine", False)
            .option("nullValue", None)
            .option("emptyValue", "")
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .schema(schema)
            .csv(uri)
        )
        columns = [F.coalesce(F.col(f"c{i}"), F.lit("")).alias(f"c{i}") for i in range(len(source.names))]
        corrupt = F.col(_CORRUPT)
    frame = frame.select(
        *columns,
        corrupt.alias(_CORRUPT),
        F.spark_partition_id().alias("__pid"),
        F.monotonically_increasing_id().alias("__mid"),
        F.input_file_block_start().alias("__block"),
    )
    renamed = [F.col(f"c{i}").alias(name) for i, name in enumerate(source.names)]
    return frame.select(*renamed, _CORRUPT, "__pid", "__mid", "__block")


def number_rows(session: Any, source: Source) -> dict[int, int]:
    """Partition id -> the row number of its first row: partitions in the file's order (by their first
    byte), each one's rows counted (one pass over the file)."""
    from pyspark.sql import functions as F

    frame = raw_frame(session, source)
    parts = frame.groupBy("__pid").agg(F.min("__block").alias("start"), F.count("*").alias("rows")).collect()
    offsets: dict[int, int] = {}
    done = 0
    for row in sorted(parts, key=lambda r: (int(r["start"]), int(r["__pid"]))):
        offsets[int(row["__pid"])] = done
        done += int(row["rows"])
    return offsets


def _row_number(offsets: dict[int, int]) -> Any:
    from pyspark.sql import functions as F

    mapping = F.create_map(*[F.lit(v) for pair in sorted(offsets.items()) for v in pair])
    return (
        F.element_at(mapping, F.col("__pid"))
        + (F.col("__mid") - F.shiftleft(F.col("__pid").cast("long"), 33))
    ).cast("long")


# ------------------------------------------------------------------------------------- typing and rules


def _any(values: list[Any]) -> Any:
    """True where any of ``values`` is (one call, not a chain of ORs: Spark Connect limits plan depth)."""
    from pyspark.sql import functions as F

    if not values:
        return F.lit(False)
    return values[0] if len(values) == 1 else F.greatest(*values)


def _stripped(value: Any) -> Any:
    from pyspark.sql import functions as F

    text = F.regexp_replace(value, STRIP, "")
    return F.when(text == "", F.lit(None)).otherwise(text)


def _typed(name: str, raw: Any) -> Any:
    """``validate.to_typed`` of one column: text stripped (empty -> null), numbers and ORDERDATE parsed
    (anything else -> null)."""
    from pyspark.sql import functions as F

    text = _stripped(raw)
    if name in NUMERIC_COLUMNS:
        number = F.when(text.rlike(NUMBER), text.try_cast("double"))
        return F.when(F.isnan(number), F.lit(None)).otherwise(number)
    if name == "ORDERDATE":
        return F.try_to_timestamp(text, F.lit(SPARK_DATE_FORMAT))
    return text


@dataclass
class Checked:
    """A frame with the typed columns (``t_<column>``), one boolean per rule (``Rule.flag``) and ``__bad``."""

    frame: Any
    rules: list[Rule]
    present: list[str]


def checked_frame(session: Any, source: Source, numbered: bool) -> Checked:
    """The raw frame with its typed columns and every rule evaluated. ``numbered``: with row numbers, and
    the uniqueness rule exact (the first of repeated pairs passes); without, every repeat of a pair fails
    (enough to tell whether a file has failures at all)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    schema = build_schema()
    frame = raw_frame(session, source)
    present = [n for n in SOURCE_COLUMNS if n in source.names]
    frame = frame.select("*", *[_typed(n, F.col(f"`{n}`")).alias(f"t_{n}") for n in present])
    if numbered:
        assert source.offsets is not None
        frame = frame.withColumn(ROW, _row_number(source.offsets))
    typed = {n: F.col(f"t_{n}") for n in present}
    per_order: dict[str, Any] = {}
    order_columns = [
        str((c.statistics or {}).get("column"))
        for c in schema.checks
        if str(c.name).startswith("one_") and (c.statistics or {}).get("column") in typed
    ]
    if order_columns and "ORDERNUMBER" in typed:
        aggregates = []
        for column in order_columns:
            aggregates.append((F.min(f"t_{column}") != F.max(f"t_{column}")).alias(f"__differs_{column}"))
        differs = (
            frame.where(F.col("t_ORDERNUMBER").isNotNull())
            .groupBy(F.col("t_ORDERNUMBER").alias("__order"))
            .agg(*aggregates)
        )
        frame = frame.join(differs, frame["t_ORDERNUMBER"] == differs["__order"], "left")
        per_order = {c: F.col(f"__differs_{c}") for c in order_columns}
    rules = compile_rules(schema, typed, per_order)
    unique = schema.unique
    pair = [unique] if isinstance(unique, str) else list(unique or [])
    pair = [n for n in pair if n in typed]
    if pair:
        window = Window.partitionBy(*[F.col(f"t_{n}") for n in pair])
        if numbered:
            repeat = F.row_number().over(window.orderBy(F.col(ROW))) > 1
        else:
            repeat = F.count(F.lit(1)).over(window) > 1
        rules.append(Rule("DataFrameSchema", None, "multiple_fields_uniqueness", repeat))
    flagged = []
    for i, rule in enumerate(rules):
        rule_flag = f"__f{i}"
        flagged.append(Rule(rule.context, rule.column, rule.check, rule.fail, rule_flag))
    frame = frame.select("*", *[F.coalesce(r.fail, F.lit(False)).alias(r.flag) for r in flagged])
    frame = frame.withColumn("__bad", _any([F.col(r.flag) for r in flagged]))
    return Checked(frame=frame, rules=flagged, present=present)


@dataclass
class Verdict:
    rows_read: int
    problems: int
    lines_failed: int
    failures: list[dict[str, Any]]  # the first MAX_DETAILS failing lines' problems, formatted
    empty_cells: dict[str, int]
    figures: dict[str, float]


def _counts(checked: Checked, source: Source) -> dict[str, Any]:
    """One pass: rows, problems, failing lines, quotes and ragged rows, empty cells and the SALES figures
    of the valid rows."""
    from pyspark.sql import functions as F

    frame = checked.frame
    good = ~F.col("__bad")
    qty, price, sales = (F.col(f"t_{n}") for n in ("QUANTITYORDERED", "PRICEEACH", "SALES"))
    mismatch = good & (F.abs(sales - qty * price) > F.lit(MISMATCH))
    capped = mismatch & (price == F.lit(CAPPED_PRICE))
    quoted = _any([F.col(f"`{name}`").contains('"') for name in source.names])
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.col("__bad").cast("long")).alias("lines"),
        *[F.sum(F.col(r.flag).cast("long")).alias(f"problems_{r.flag}") for r in checked.rules],
        F.max(quoted.cast("int")).alias("quoted"),
        F.sum(F.col(_CORRUPT).isNotNull().cast("long")).alias("ragged"),
        F.sum(capped.cast("long")).alias("capped_rows"),
        F.sum(F.when(capped, sales - qty * price)).alias("capped_amount"),
        F.sum((mismatch & ~capped).cast("long")).alias("other_rows"),
    ]
    for name in SOURCE_COLUMNS:
        if name in source.names:
            empty = F.regexp_replace(F.col(f"`{name}`"), STRIP, "") == ""
            aggregates.append(F.sum(empty.cast("long")).alias(f"empty_{name}"))
    counts = frame.agg(*aggregates).collect()[0].asDict()
    counts["problems"] = sum(int(counts.pop(f"problems_{r.flag}") or 0) for r in checked.rules)
    return counts


def _ragged(session: Any, source: Source) -> None:
    """Rows Spark marks malformed: the row path's message for the first with more fields than the header;
    rows with fewer are padded with empty cells, as the row path does, and the rules name them."""
    import csv

    from pyspark.sql import functions as F

    source.offsets = source.offsets or number_rows(session, source)
    frame = raw_frame(session, source).where(F.col(_CORRUPT).isNotNull())
    frame = frame.withColumn(ROW, _row_number(source.offsets))
    expected = len(source.names)
    # every data column: Spark refuses a query of a CSV's corrupt-record column alone, and with only some
    # columns it parses only those fields (column pruning) and no longer sees that a row has too many
    columns = [f"`{name}`" for name in source.names]
    picked = frame.orderBy(ROW).select(ROW, _CORRUPT, *columns).limit(MAX_DETAILS)
    for row in picked.collect():
        fields = next(csv.reader([str(row[_CORRUPT])]), [])
        if len(fields) > expected:
            line = int(row[ROW]) + 2
            raise _parse_error(source.name, f"Expected {expected} fields in line {line}, saw {len(fields)}")


def judge(session: Any, source: Source) -> Verdict:
    """Validate ``source`` on the cluster: counts, and the first failing lines when there are failures."""
    checked = checked_frame(session, source, numbered=False)
    counts = _counts(checked, source)
    if counts["quoted"]:
        raise Fallback("a value holds a quote character")
    if counts["ragged"]:
        _ragged(session, source)
    if counts["rows"] == 0:
        raise InputFileError(f"{source.name} has a header but no order lines.")
    failures: list[dict[str, Any]] = []
    if counts["problems"]:
        source.offsets = source.offsets or number_rows(session, source)
        checked = checked_frame(session, source, numbered=True)
        counts = _counts(checked, source)
        failures = _first_failures(checked, source)
    empty = {
        n: int(counts.get(f"empty_{n}") or 0) if n in source.names else int(counts["rows"])
        for n in SOURCE_COLUMNS
    }
    return Verdict(
        rows_read=int(counts["rows"]),
        problems=int(counts["problems"] or 0),
        lines_failed=int(counts["lines"] or 0),
        failures=failures,
        empty_cells=empty,
        figures={
            "capped_rows": int(counts["capped_rows"] or 0),
            "capped_amount": float(counts["capped_amount"] or 0.0),
            "other_rows": int(counts["other_rows"] or 0),
        },
    )


def _first_failures(checked: Checked, source: Source) -> list[dict[str, Any]]:
    """The problems of the first MAX_DETAILS failing lines, as ``validate._format_failures`` words them."""
    from pyspark.sql import functions as F

    wanted = [ROW, *[f"`{n}`" for n in source.names if n in SOURCE_COLUMNS], *[r.flag for r in checked.rules]]
    rows = checked.frame.where(F.col("__bad")).orderBy(ROW).select(*wanted).limit(MAX_DETAILS).toPandas()
    index = pd.Index(rows[ROW].astype("int64"))
    raw = pd.DataFrame(
        {
            n: pd.Series(rows[n].to_numpy(), index=index, dtype="str")
            for n in source.names
            if n in SOURCE_COLUMNS
        },
        index=index,
    )
    cases = []
    for rule in checked.rules:
        for row in index[rows[rule.flag].to_numpy(dtype=bool)]:
            cases.append(
                {
                    "schema_context": rule.context,
                    "column": rule.column,
                    "check": rule.check,
                    "index": int(row),
                }
            )

    class _Cases:
        failure_cases = pd.DataFrame(cases, columns=["schema_context", "column", "check", "index"])

    return _format_failures(_Cases(), raw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- clean


def cleaned(checked: Checked) -> Any:
    """``clean.clean`` as Spark expressions, on the rows without failures: the order_lines table's columns
    in its order, typed as it is."""
    from pyspark.sql import functions as F

    frame = checked.frame.where(~F.col("__bad"))
    date = F.to_date(F.col("t_ORDERDATE"))
    out: dict[str, Any] = {}
    for src, dst in COLUMN_MAP.items():
        if dst in ("sales", "qtr_id", "month_id", "year_id"):
            continue
        value = F.col(f"t_{src}") if src in checked.present else F.lit(None)
        if dst == "order_date":
            value = date
        out[dst] = value
    out["sales_cents"] = F.bround(F.col("t_SALES") * F.lit(100), 0)
    out["year"] = F.year(date)
    out["quarter"] = F.quarter(date)
    out["month"] = F.month(date)
    out["day"] = F.dayofmonth(date)
    out["iso_year"] = F.extract(F.lit("YEAROFWEEK"), date)
    out["iso_week"] = F.weekofyear(date)
    kinds = {
        "BigInteger": "bigint",
        "Integer": "int",
        "SmallInteger": "smallint",
        "Double": "double",
        "Date": "date",
    }
    columns = []
    for column in order_lines.columns:
        kind = kinds.get(type(column.type).__name__, "string")
        columns.append(out[column.name].cast(kind).alias(column.name))
    return frame.select(*columns)


def _figures(conn: Connection, verdict: Verdict) -> Figures:
    """The report's figures from the stored lines of the new version (exact distinct counts)."""
    from sqlalchemy import distinct, func, select

    t = order_lines.c
    stmt = select(
        func.count(),
        func.min(t.order_date),
        func.max(t.order_date),
        func.count(distinct(t.order_number)),
        func.count(distinct(t.customer_name)),
        func.count(distinct(t.country)),
        func.count(distinct(t.product_line)),
        func.count(distinct(t.product_code)),
    )
    rows, start, end, orders, customers, countries, lines, codes = conn.execute(stmt).one()
    months: dict[int, list[int]] = {}
    for year, month in conn.execute(select(t.year, t.month).distinct()).all():
        months.setdefault(int(year), []).append(int(month))
    cancelled = conn.execute(
        select(func.count(distinct(t.order_number))).where(t.status == CANCELLED)
    ).scalar_one()
    statuses = conn.execute(select(t.status, func.count()).group_by(t.status).order_by(t.status)).all()
    names = conn.execute(select(t.country).distinct()).scalars().all()
    return Figures(
        rows_loaded=int(rows),
        capped_rows=int(verdict.figures["capped_rows"]),
        capped_amount=float(verdict.figures["capped_amount"]),
        other_mismatch_rows=int(verdict.figures["other_rows"]),
        months_by_year={y: sorted(m) for y, m in months.items()},
        cancelled_orders=int(cancelled),
        countries=sorted(str(c) for c in names),
        date_start=start,
        date_end=end,
        distinct={
            "orders": int(orders),
            "customers": int(customers),
            "countries": int(countries),
            "product_lines": int(lines),
            "product_codes": int(codes),
        },
        statuses={str(k): int(v) for k, v in statuses},
    )


# ------------------------------------------------------------------------------------------------ ingest


def ingest_on_cluster(
    engine: Engine,
    path: Path,
    *,
    encoding: str | None = None,
    on_error: str = "strict",
    progress: Progress | None = None,
    source_name: str | None = None,
) -> Any:
    """Read, validate, clean and load ``path`` on the cluster, then switch readers to the new version.
    Hold the write lock. Raises Fallback before anything is written when the other path must judge."""
    from salesdash.ingest import IngestResult, make_version
    from salesdash.store.load import current_version
    from salesdash.store.spark_load import write_version
    from salesdash.telemetry import observe_load

    started = time.perf_counter()
    name = source_name or path.name
    source = open_source(path, name, encoding, progress)
    warnings = check_header(pd.DataFrame(columns=source.names), name)
    with engine.connect().execution_options(salesdash_version_db=True) as conn:
        session = conn.connection.driver_connection.session  # type: ignore[union-attr]
        if progress:
            progress("validate", 0, 1)
        verdict = judge(session, source)
    if verdict.problems and on_error == "strict":
        raise_for_failures(verdict.failures, name, verdict.problems, verdict.lines_failed)
    if verdict.lines_failed >= verdict.rows_read:
        raise InputFileError(
            f"{name}: every line failed validation; nothing to load.", details=verdict.failures[:MAX_DETAILS]
        )
    if progress:
        progress("validate", verdict.rows_read, verdict.rows_read)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    version = make_version(source.sha256, loaded_at)
    numbered = verdict.problems > 0

    def write(conn: Connection) -> int:
        raw = conn.connection.driver_connection
        rows = verdict.rows_read - verdict.lines_failed
        if progress:
            progress("load", 0, rows)
        lines = cleaned(checked_frame(raw.session, source, numbered=numbered))  # type: ignore[union-attr]
        lines.write.insertInto(f"`{raw.database}`.`{order_lines.name}`")  # type: ignore[union-attr]
        if progress:
            progress("load", rows, rows)
        return rows

    def report(conn: Connection) -> dict[str, Any]:
        return assemble_report(
            _figures(conn, verdict),
            name=name,
            encoding=source.encoding,
            sha256=source.sha256,
            size_bytes=source.size_bytes,
            rows_read=verdict.rows_read,
            empty_cells=verdict.empty_cells,
            warnings=warnings,
            failures=verdict.failures,
            rejected_lines=verdict.lines_failed,
        )

    write_version(
        engine,
        write,
        version=version,
        source=str(path),
        source_sha256=source.sha256,
        loaded_at=loaded_at,
        report=report,
        progress=progress,
    )
    current = current_version(engine)
    assert current is not None
    observe_load("ingest", time.perf_counter() - started, current.row_count)
    return IngestResult(version=current, report=current.report)


__all__ = [
    "Fallback",
    "UnknownRule",
    "compile_rules",
    "ingest_on_cluster",
    "shared_files",
    "takes_cluster_path",
]
