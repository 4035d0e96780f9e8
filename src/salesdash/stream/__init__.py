"""Live orders: a NATS JetStream feed of order lines into the store, in validated micro-batches.

- ``messages``: the message format (one JSON object per order line, ``order_line.schema.json``) and its
  validation with the file ingest's rules;
- ``consumer``: ``StreamConsumer`` (``salesdash stream``, or a thread of the API with ``SALESDASH_STREAM_ENABLED``);
- ``publisher``: ``salesdash stream publish FILE [--rate N]``.

The store side (idempotent append, incremental rollups, dead letters, status) is ``salesdash.store.stream``.
"""
