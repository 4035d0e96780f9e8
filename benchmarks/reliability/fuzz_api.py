"""Fuzz the real API server with schemathesis, from its own OpenAPI document, over HTTP on 127.0.0.1.

    .venv/bin/python -m benchmarks.reliability.fuzz_api [--examples 50] [--out PATH]

Every operation in /api/openapi.json gets ``--examples`` valid (positive) and ``--examples`` invalid (negative)
generated requests; write operations are fuzzed three times: without a token, with a viewer token and with an
admin token. Each response is checked: no 5xx, a documented status code, content type, headers and body schema,
and invalid input rejected. The server runs `salesdash serve` (waitress) on a SQLite copy of the bundled data;
refreshes reload tests/data/small.csv (fast). Writes a JSON summary to benchmarks/reliability/results/ and exits
non-zero on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from benchmarks.reliability.common import RESULTS, SAMPLE_CSV, SMALL_CSV, start_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def prepare_database(workdir: Path) -> tuple[str, dict[str, str]]:
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine
    from salesdash.tokens import create_token

    url = f"sqlite:///{workdir / 'fuzz.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    tokens = {role: create_token(engine, role, f"fuzz {role}") for role in ("viewer", "admin")}
    engine.dispose()
    return url, tokens


def fuzz(base_url: str, tokens: dict[str, str], examples: int) -> dict[str, Any]:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    session = requests.Session()
    statuses: Counter[int] = Counter()
    per_operation: dict[str, int] = {}
    failures: list[str] = []
    cases = 0

    def exercise(operation: Any, label: str, mode: Any, headers: dict[str, str] | None) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal cases
            cases += 1
            per_operation[label] = per_operation.get(label, 0) + 1
            try:
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as exc:  # collect every failure; report them together
                failures.append(f"{label} [{mode.value}]: {type(exc).__name__}: {exc}"[:3000])

        # Unsatisfiable: nothing can be invalid about an operation without parameters or body
        with contextlib.suppress(Unsatisfiable):
            run()

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        identities: list[tuple[str, dict[str, str] | None]] = [("anonymous", None)]
        if operation.method.upper() in WRITE_METHODS:
            identities += [
                (role, {"Authorization": f"Bearer {tokens[role]}"}) for role in ("viewer", "admin")
            ]
        for who, headers in identities:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                exercise(operation, f"{operation.label} as {who}", mode, headers)
    return {
        "operations": len(operations),
        "cases": cases,
        "per_operation": per_operation,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "failures": len(failures),
        "failure_samples": failures[:20],
    }


# Schema-valid is not always acceptable here: filter values must be values of the data (400 naming the
# parameter), an upload must be a CSV of order lines (422 listing every problem), a confirm names an upload that
# may have expired or been used (404/409), and a write needs an admin token (401/403). A schema cannot say which
# strings are in the data, so these answers count as correct rejections of schema-valid input; a 5xx never does.
STATEFUL_CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "400", "401", "403", "404", "409", "413", "422"]
"""
STATEFUL_PHASES = "examples,coverage,fuzzing,stateful"


def stateful_cli(
    base_url: str, workdir: Path, who: str, token: str | None, examples: int, seed: int
) -> dict[str, Any]:
    """The schemathesis CLI over the whole API: every check (`--checks all`), every phase including the
    stateful one (it follows the OpenAPI links, upload -> confirm with the real id). Every request and
    response is read back from the run's HAR file."""
    config = workdir / "schemathesis.toml"
    config.write_text(STATEFUL_CONFIG, encoding="utf-8")
    har = workdir / f"stateful-{who}.har"
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run"]
    command += [f"{base_url}/api/openapi.json", "--checks", "all", "--phases", STATEFUL_PHASES]
    command += ["--max-examples", str(examples), "--seed", str(seed), "--request-timeout", "60"]
    command += ["--report", "har", "--report-har-path", str(har), "--max-failures", "1000"]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"] if har.exists() else []
    statuses = Counter(int(e["response"]["status"]) for e in entries)
    confirms = Counter(
        int(e["response"]["status"])
        for e in entries
        if e["request"]["method"] == "POST" and e["request"]["url"].split("?")[0].endswith("/confirm")
    )
    failures = re.findall(r"^\s*❌ (\S+ [^:\n]+): (\d+)$", run.stdout, flags=re.MULTILINE)
    summary_line = next(
        (line for line in run.stdout.splitlines()[::-1] if " in " in line and "=" in line), ""
    )
    return {
        "identity": who,
        "requests": len(entries),
        "seconds": round(time.monotonic() - started, 1),
        "exit_code": run.returncode,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "confirm_statuses": {str(k): v for k, v in sorted(confirms.items())},
        "failures": {name: int(count) for name, count in failures},
        "summary": summary_line.strip("= "),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=50, help="generated cases per operation and mode")
    parser.add_argument("--out", type=Path, default=RESULTS / "fuzz.json")
    parser.add_argument(
        "--stateful-examples", type=int, default=8, help="schemathesis CLI --max-examples (stateful run)"
    )
    parser.add_argument("--stateful-out", type=Path, default=RESULTS / "fuzz_stateful.json")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="salesdash-fuzz-") as tmp:
        workdir = Path(tmp)
        url, tokens = prepare_database(workdir)
        server = start_server(workdir, url, source_path=str(SMALL_CSV), api_threads="4", max_upload_mb="1")
        started = time.monotonic()
        try:
            summary = fuzz(server.url, tokens, args.examples)
            summary["seconds"] = round(time.monotonic() - started, 1)
            runs = [
                stateful_cli(server.url, workdir, who, token, args.stateful_examples, seed=11)
                for who, token in (("anonymous", None), ("admin", tokens["admin"]))
            ]
        finally:
            code = server.stop()
            log = server.output()
        summary["server_exit_code"] = code
        summary["server_tracebacks"] = log.count("Traceback")
    summary["examples_per_operation_and_mode"] = args.examples
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    stateful = {
        "checks": "all",
        "phases": STATEFUL_PHASES,
        "max_examples": args.stateful_examples,
        "positive_data_acceptance_expected_statuses": STATEFUL_CONFIG.split("=", 1)[1].strip(),
        "requests": sum(r["requests"] for r in runs),
        "server_errors": sum(r["server_errors"] for r in runs),
        "runs": runs,
    }
    args.stateful_out.write_text(json.dumps(stateful, indent=2) + "\n", encoding="utf-8")
    print(
        f"schemathesis CLI (--checks all, stateful, anonymous + admin): {stateful['requests']:,} requests; "
        f"{stateful['server_errors']} responses >= 500; failures "
        + "; ".join(f"{r['identity']}: {r['failures'] or 'none'}" for r in runs)
    )
    print(
        f"schemathesis over HTTP: {summary['cases']:,} cases on {summary['operations']} operations in "
        f"{summary['seconds']} s; statuses {summary['statuses']}; {summary['server_errors']} responses >= 500; "
        f"{summary['failures']} check failures; {summary['server_tracebacks']} tracebacks in the server log"
    )
    for sample in summary["failure_samples"][:5]:
        print("  " + sample.replace("\n", "\n    "), file=sys.stderr)
    print(f"summary written to {args.out}")
    ok = not summary["failures"] and not summary["server_errors"] and not summary["server_tracebacks"]
    ok = ok and not stateful["server_errors"] and all(not r["failures"] for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
