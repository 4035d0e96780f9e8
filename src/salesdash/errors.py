"""User-facing errors.

Every error a person can cause (bad CSV, bad parameter, bad setting) is a :class:`SalesdashError`.
It carries a one-paragraph human message and machine-readable details; the CLI prints the message
(no traceback) and the API turns it into the one JSON error envelope.
"""

from __future__ import annotations

from typing import Any


class SalesdashError(Exception):
    """Base class: a problem the user can fix, with a clear message."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = details or []

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ConfigError(SalesdashError):
    code = "invalid_setting"


class InputFileError(SalesdashError):
    """The input file cannot be read as a CSV of order lines (encoding, format, header)."""

    code = "invalid_file"
    http_status = 422


class ValidationFailed(InputFileError):
    """The file was read, but rows break the schema. ``details`` lists every failure."""

    code = "validation_failed"


class InvalidParameter(SalesdashError):
    code = "invalid_parameter"
    http_status = 400


class NotFound(SalesdashError):
    code = "not_found"
    http_status = 404


class Forbidden(SalesdashError):
    """The token is known but may not do this (e.g. delete another token's saved view)."""

    code = "forbidden"
    http_status = 403


class NotSupported(SalesdashError):
    """The store cannot do this (e.g. row-by-row writes on Spark, which writes whole tables)."""

    code = "not_supported"
    http_status = 501


class NoData(SalesdashError):
    """The database has no loaded data yet."""

    code = "no_data"
    http_status = 503


class RefreshInProgress(SalesdashError):
    code = "refresh_in_progress"
    http_status = 409


class StoreUnavailable(SalesdashError):
    code = "store_unavailable"
    http_status = 503


class InsufficientData(SalesdashError):
    """The data in view is too short for the analysis asked for (e.g. a forecast); says how much is needed."""

    code = "insufficient_data"
    http_status = 422


class StreamUnavailable(SalesdashError):
    """The NATS server of the live order feed does not answer."""

    code = "stream_unavailable"
    http_status = 503
