"""A Redis database of its own for a test's Celery broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def own_redis_db(redis_url: str, number: int) -> Iterator[str]:
    """The URL of Redis database `number` on `redis_url`'s server, emptied before and
    after (tests that run real workers each use a number of their own)."""
    import redis

    url = redis_url.rsplit("/", 1)[0] + f"/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
