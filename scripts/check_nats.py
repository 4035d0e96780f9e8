"""Fail (exit 1, one clear line) unless NATS with JetStream answers at 127.0.0.1:4222: `make test` needs it."""

from __future__ import annotations

import asyncio
import sys

import nats

URL = "nats://127.0.0.1:4222"


async def check() -> str | None:
    try:
        nc = await nats.connect(
            servers=[URL], connect_timeout=3, max_reconnect_attempts=0, allow_reconnect=False
        )
    except Exception as exc:
        return f"NATS does not answer at {URL} ({type(exc).__name__}: {exc})"
    try:
        await nc.jetstream().account_info()
    except Exception as exc:
        return f"NATS at {URL} answers but JetStream is off ({type(exc).__name__}); start it with -js"
    finally:
        await nc.close()
    return None


def main() -> int:
    problem = asyncio.run(check())
    if problem:
        print(f"make test: {problem}. The live-orders tests need it: /usr/sbin/nats-server -a 127.0.0.1 -p 4222 -js",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
