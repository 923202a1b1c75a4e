"""Which Redshift statements are sensitive (DDL, DCL), decided by sqlglot's parser, not by regexes.

``classify_sql`` tokenizes the SQL once with sqlglot's Redshift tokenizer (so comments and string
literals are what they are: ``SELECT 'GRANT ALL'`` holds a string, ``/* DROP */ select 1`` a
comment), splits it into statements on the semicolon tokens (so ``begin; drop table x; commit;``
is three statements, each classified), and parses each statement:

- parsed expressions are classified by type: ``Create``/``Alter``/``Drop``/``TruncateTable``/
  ``Comment`` and ``SELECT ... INTO`` (which creates a table) are DDL; ``Grant``/``Revoke`` DCL;
- statements sqlglot keeps as a ``Command`` (``CREATE USER``, ``ALTER SCHEMA ... RENAME``,
  ``GRANT ROLE``...) are classified by their keyword tokens: the command, then the object kind,
  with users, roles, groups and default privileges counting as DCL;
- a statement the parser rejects is classified by its first keyword token ("unparsed");
- SQL the tokenizer rejects (an unterminated string: Redshift cannot run it either) falls back
  to its first word ("untokenized").

Password literals (``PASSWORD '...'``) are masked in the SQL kept for the audit and Slack.

The parsing itself (redshift_audit.sql_parsing) is imported on the first SQL to classify: sqlglot
costs about 60 ms of a cold start, and an invocation that only carries the ignored users'
activity (``rdsdb``'s, by default) or a CloudWatch Logs control message never needs it.
"""

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    DDL = "DDL"
    DCL = "DCL"
    OTHER = "OTHER"


class ParseStatus(StrEnum):
    PARSED = "parsed"
    COMMAND = "command"
    """sqlglot kept the statement as a Command; classified by its keyword tokens."""
    UNPARSED = "unparsed"
    """The parser rejected it; classified by its first keyword token."""
    UNTOKENIZED = "untokenized"
    """The tokenizer rejected the SQL; classified by its first word."""


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    """Position in the SQL text (0-based; empty statements are not counted)."""
    sql: str
    """The statement's text, password literals masked."""
    category: Category
    statement_type: str
    """E.g. "DROP TABLE", "GRANT", "CREATE USER", "SELECT"."""
    object_name: str | None
    parse_status: ParseStatus

    @property
    def sensitive(self) -> bool:
        return self.category is not Category.OTHER


def classify_sql(sql: str) -> list[Statement]:
    """Every statement of ``sql``, in order, classified."""
    from redshift_audit.sql_parsing import classify  # noqa: PLC0415 - sqlglot, on first use

    return classify(sql)
