"""GET /api/stream: the live order feed as the consumer last reported it (never cached).

The consumer (``salesdash stream``, or the API's own thread with SALESDASH_STREAM_ENABLED) writes its state into
the store; this endpoint reads it, so it answers the same whichever process consumes. ``active`` is true while
the consumer's heartbeat is recent; the dashboard polls the data version every ``poll_seconds`` while it is.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response
from sqlalchemy.exc import SQLAlchemyError

from salesdash.api import schemas as s
from salesdash.api.respond import simple_response
from salesdash.api.state import state
from salesdash.errors import StoreUnavailable
from salesdash.store import snapshot
from salesdash.store.stream import stream_status_in

bp = APIBlueprint(
    "stream", __name__, tag={"name": "Live orders", "description": "The NATS JetStream feed of order lines."}
)


@bp.get("/api/stream")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(
    s.envelope(s.StreamStatus, meta=s.SimpleMeta), description="The live feed's consumer, as last reported."
)
@bp.doc(summary="Live order feed status", responses=[400, 401, 403, 503])
def stream_status(query: dict[str, Any]) -> Response:
    """Whether a consumer is live, whether it reaches NATS, when the last order line arrived, counters and the
    most recent dead letters (refused messages with their reasons)."""
    st = state()
    settings = st.settings
    try:
        with snapshot(st.engine) as conn:
            found = stream_status_in(conn, settings.stream_name)
    except SQLAlchemyError:
        raise StoreUnavailable("The database does not answer.") from None
    return simple_response(
        {
            **found,
            "stream": settings.stream_name,
            "subject": settings.stream_subject,
            "url": settings.stream_url,
            "poll_seconds": settings.live_poll_seconds,
        }
    )
