"""DynamoDB's key limits, and keys kept within them: the tracker's index, the job's history and
the TableConfig table all key items on names a user chose."""

import hashlib
from typing import Final

MAX_PARTITION_KEY_BYTES: Final = 2048
MAX_SORT_KEY_BYTES: Final = 1024
_DIGEST_CHARS: Final = 32


def bounded_key(value: str, max_bytes: int) -> str:
    """``value`` when it fits ``max_bytes`` of UTF-8; else its beginning (cut between
    characters), "~" and a hash of all of it, so two long values stay two keys. Deterministic:
    every writer and reader computes the same key."""
    encoded = value.encode()
    if len(encoded) <= max_bytes:
        return value
    digest = hashlib.sha256(encoded).hexdigest()[:_DIGEST_CHARS]
    head = encoded[: max_bytes - len(digest) - 1].decode(errors="ignore")
    return f"{head}~{digest}"
