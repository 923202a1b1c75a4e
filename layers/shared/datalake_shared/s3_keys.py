"""S3 keys derived from other keys, bounded to S3's 1,024-byte limit.

S3 refuses a key over 1,024 bytes of UTF-8 (moto takes it), and a key derived from an upload's
key (a prefix, a folder, a suffix added) can pass the limit when the upload's key is near it.
``bounded_key`` keeps such keys exactly as they were while they fit. When one does not, the
varying part is shortened to its longest readable beginning that fits, followed by ``-`` and
a hash of the whole varying part:

    <head><readable beginning of the name>-<32 hex digits of its sha256><tail>

so the key stays under the limit, the same input always gives the same key, and two different
names give two different keys (the hash tells them apart; a collision would need a key
crafted to equal another's shortened form, which only someone who may upload can write, and
who could then write that key directly anyway). Head and tail (a configured prefix, an
extension) are kept whole; settings keep prefixes short enough (``check_prefix``).
"""

import hashlib
from typing import Final

MAX_KEY_BYTES: Final = 1024
"""S3's limit on an object key, in bytes of its UTF-8 form."""
MAX_PREFIX_BYTES: Final = 512
"""The longest configured prefix: half a key, so derived keys keep room for their own part."""
DIGEST_CHARS: Final = 32
SHORTENED_MARK: Final = "-"


class KeyTooLongError(ValueError):
    """The fixed parts of a key leave no room for a shortened name."""


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest beginning of ``text`` whose UTF-8 form has at most ``max_bytes`` bytes
    (never a character cut in two)."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", "ignore")


def name_digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_CHARS]


def bounded_key(head: str, name: str, tail: str = "", *, max_bytes: int = MAX_KEY_BYTES) -> str:
    """``head + name + tail`` when it has at most ``max_bytes`` bytes, else the same with
    ``name`` shortened (see the module docstring). Raises KeyTooLongError when ``head`` and
    ``tail`` alone leave no room for the hash."""
    key = f"{head}{name}{tail}"
    if utf8_length(key) <= max_bytes:
        return key
    mark = f"{SHORTENED_MARK}{name_digest(name)}"
    room = max_bytes - utf8_length(head) - utf8_length(tail) - len(mark)
    if room < 0:
        raise KeyTooLongError(
            f"a key with a {utf8_length(head)}-byte head and a {utf8_length(tail)}-byte tail "
            f"cannot stay within {max_bytes} bytes"
        )
    return f"{head}{utf8_prefix(name, room)}{mark}{tail}"


def check_prefix(value: str, *, max_bytes: int = MAX_PREFIX_BYTES) -> str:
    """For settings validators: ``value`` when it leaves derived keys room, else ValueError."""
    if utf8_length(value) > max_bytes:
        raise ValueError(
            f"is {utf8_length(value)} bytes of UTF-8; at most {max_bytes} leave room for the keys "
            f"under it (S3 keys are at most {MAX_KEY_BYTES} bytes)"
        )
    return value
