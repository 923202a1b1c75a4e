"""Regex pieces that step over XML without parsing it, for the streaming cell counters.

A tag's attributes may quote ``>``, and comments, CDATA, processing instructions and
declarations may hold anything that looks like markup: these pieces match them whole, so the
``xlsx_cells`` and ``ods_cells`` patterns built from them never take text for a tag. Possessive
quantifiers keep the matching linear.
"""

import re
from typing import Final

QUOTED: Final = rb"""(?:"[^"]*+"|'[^']*+')"""
ATTRIBUTES: Final = rb"""((?:[^>"']|""" + QUOTED + rb""")*+)"""  # "/" of "/>" included
ANY_TAG: Final = rb"""<[^>"']*+(?:""" + QUOTED + rb"""[^>"']*+)*+>"""
NOT_MARKUP: Final = (  # comments, CDATA, processing instructions, declarations
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^\[>]*+(?:\[.*?\])?[^>]*+>"
)
WHITESPACE_OR_END: Final = rb"(?=[\t\n\r />])"


def next_tag(prefix: bytes, names: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """The next start or end tag ``<prefix:name`` of one of ``names`` (groups: "/" or "",
    name, attributes), stepping over everything else — comments, CDATA, other tags — whole."""
    alternatives = b"|".join(re.escape(name) for name in names)
    return re.compile(
        rb"(?:[^<]++|(?!</?"
        + prefix
        + rb":(?:"
        + alternatives
        + rb")"
        + WHITESPACE_OR_END
        + rb"|<[!?])"
        + ANY_TAG
        + rb"|"
        + NOT_MARKUP
        + rb")*+<(/?)"
        + prefix
        + rb":("
        + alternatives
        + rb")"
        + WHITESPACE_OR_END
        + ATTRIBUTES
        + rb">",
        re.DOTALL,
    )
