"""The sqlglot half of redshift_audit.sql: tokenize, split on semicolons, parse, classify.

Imported by ``classify_sql`` on its first call (see redshift_audit.sql). sqlglot's own warnings
quote the SQL, so its logger is limited to errors here.
"""

import itertools
import logging
from collections.abc import Callable
from typing import Final

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from redshift_audit.sql import Category, ParseStatus, Statement

# "'CREATE USER x PASSWORD ...' contains unsupported syntax" would put the SQL in the logs.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT: Final = Dialect.get_or_raise("redshift")
MASK: Final = "'***'"
DDL_KEYWORDS: Final = frozenset({"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "COMMENT"})
DCL_KEYWORDS: Final = frozenset({"GRANT", "REVOKE"})
# Objects whose creation or change is access control, whatever the verb.
DCL_OBJECT_KINDS: Final = frozenset({"USER", "ROLE", "GROUP", "DEFAULT", "IDENTITY"})
# Words between the verb and the object kind: CREATE OR REPLACE EXTERNAL TEMP ... TABLE.
MODIFIERS: Final = frozenset(
    {"OR", "REPLACE", "EXTERNAL", "TEMP", "TEMPORARY", "LOCAL", "MATERIALIZED", "IF", "NOT"}
)
PASSWORD: Final = "PASSWORD"  # noqa: S105  (the keyword whose literal is masked)


def _mask_untokenized(sql: str) -> str:
    """Everything after the word PASSWORD hidden (no tokens to find the literal with)."""
    at = sql.upper().find(PASSWORD)
    return sql if at < 0 else sql[: at + len(PASSWORD)] + " ***"


def _untokenized(sql: str) -> Statement:
    words = sql.split()
    verb = words[0].upper() if words else ""
    kind = words[1].upper() if len(words) > 1 else ""
    if verb in DCL_KEYWORDS:
        category = Category.DCL
    elif verb in DDL_KEYWORDS:
        category = Category.DCL if kind in DCL_OBJECT_KINDS else Category.DDL
    else:
        category = Category.OTHER
    statement_type = f"{verb} {kind}".strip() if category is not Category.OTHER else verb
    return Statement(
        0, _mask_untokenized(sql.strip()), category, statement_type, None, ParseStatus.UNTOKENIZED
    )


def untokenized(sql: str) -> list[Statement]:
    """SQL the tokenizer rejects, classified by its first words."""
    return [_untokenized(sql)] if sql.strip() else []


# ------------------------------------------------------------------------------ tokens


def _statements(tokens: list[Token]) -> list[list[Token]]:
    """Tokens split on semicolons; empty statements dropped."""
    chunks: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            chunks.append([])
        else:
            chunks[-1].append(token)
    return [chunk for chunk in chunks if chunk]


def _masked_text(sql: str, chunk: list[Token]) -> str:
    """The statement's text with every string literal that follows PASSWORD masked."""
    start, end = chunk[0].start, chunk[-1].end + 1
    pieces: list[str] = []
    cursor = start
    for previous, token in itertools.pairwise(chunk):
        if previous.text.upper() == PASSWORD and token.token_type == TokenType.STRING:
            pieces.append(sql[cursor : token.start])
            pieces.append(MASK)
            cursor = token.end + 1
    pieces.append(sql[cursor:end])
    return "".join(pieces)


def _texts(chunk: list[Token]) -> list[str]:
    """The statement's token texts. The tokenizer keeps the arguments of some commands (RENAME,
    VACUUM...) as one string token: those are tokenized on their own."""
    first, rest = chunk[0], chunk[1:]
    swallowed = (
        first.token_type in DIALECT.tokenizer_class.COMMANDS
        and len(rest) == 1
        and rest[0].token_type == TokenType.STRING
    )
    if not swallowed:
        return [token.text for token in chunk]
    try:
        return [first.text, *(token.text for token in DIALECT.tokenize(rest[0].text))]
    except TokenError:
        return [first.text, *rest[0].text.split()]


def _kind_after_verb(words: list[str]) -> tuple[str | None, int]:
    """The object kind after the verb (modifiers skipped) and its position."""
    for position, word in enumerate(words[1:], start=1):
        if word not in MODIFIERS:
            return word, position
    return None, len(words)


def _by_keywords(chunk: list[Token]) -> tuple[Category, str, str | None]:
    """Category, statement type and object name from the keyword tokens alone."""
    texts = _texts(chunk)
    words = [text.upper() for text in texts]
    verb = words[0]
    if verb in DCL_KEYWORDS:
        return Category.DCL, verb, None
    if verb not in DDL_KEYWORDS:
        return Category.OTHER, verb, None
    kind, position = _kind_after_verb(words)
    if kind is None:
        return Category.DDL, verb, None
    if kind == "DEFAULT" and position + 1 < len(words) and words[position + 1] == "PRIVILEGES":
        return Category.DCL, f"{verb} DEFAULT PRIVILEGES", None
    category = Category.DCL if kind in DCL_OBJECT_KINDS else Category.DDL
    name = texts[position + 1] if position + 1 < len(texts) else None
    return category, f"{verb} {kind}", name


# ------------------------------------------------------------------------------ expressions


Classified = tuple[Category, str, str | None]
"""Category, statement type, object name."""


def _sql(node: exp.Expr | None) -> str | None:
    if node is None:
        return None
    table = node if isinstance(node, exp.Table) else node.find(exp.Table)
    target = table if table is not None else node
    return target.sql(dialect=DIALECT) or None


def _names(nodes: list[exp.Expr] | None) -> str | None:
    names = [name for name in (_sql(node) for node in nodes or []) if name]
    return ", ".join(names) or None


def _kind(expression: exp.Expr) -> str:
    kind = expression.args.get("kind")
    return str(kind).upper() if kind else ""


def _create(expression: exp.Expr) -> Classified:
    materialized = expression.find(exp.MaterializedProperty) is not None
    kind = f"MATERIALIZED {_kind(expression)}" if materialized else _kind(expression)
    return Category.DDL, f"CREATE {kind}".strip(), _sql(expression.this)


def _alter(expression: exp.Expr) -> Classified:
    actions = expression.args.get("actions") or []
    renamed = any(isinstance(action, exp.AlterRename) for action in actions)
    kind = f"ALTER {_kind(expression)}".strip()
    return Category.DDL, f"{kind} RENAME" if renamed else kind, _sql(expression.this)


def _drop(expression: exp.Expr) -> Classified:
    materialized = "MATERIALIZED " if expression.args.get("materialized") else ""
    objects = _names(expression.args.get("tables")) or _sql(expression.this)
    return Category.DDL, f"DROP {materialized}{_kind(expression)}".strip(), objects


def _truncate(expression: exp.Expr) -> Classified:
    return Category.DDL, "TRUNCATE TABLE", _names(expression.expressions)


def _comment(expression: exp.Expr) -> Classified:
    return Category.DDL, f"COMMENT ON {_kind(expression)}".strip(), _sql(expression.this)


def _grant(expression: exp.Expr) -> Classified:
    verb = "GRANT" if isinstance(expression, exp.Grant) else "REVOKE"
    return Category.DCL, verb, _sql(expression.args.get("securable"))


def _select(expression: exp.Expr) -> Classified:
    into = expression.args.get("into")
    if into is not None:  # Redshift's SELECT ... INTO new_table creates a table
        return Category.DDL, "SELECT INTO", _sql(into)
    return Category.OTHER, "SELECT", None


_BY_TYPE: Final[tuple[tuple[type[exp.Expr], Callable[[exp.Expr], Classified]], ...]] = (
    (exp.Create, _create),
    (exp.Alter, _alter),
    (exp.Drop, _drop),
    (exp.TruncateTable, _truncate),
    (exp.Comment, _comment),
    (exp.Grant, _grant),
    (exp.Revoke, _grant),
    (exp.Select, _select),
)


def _typed(expression: exp.Expr) -> Classified | None:
    """How a parsed expression is classified; None for a Command (keywords decide)."""
    if isinstance(expression, exp.Command):
        return None
    for kind, classify in _BY_TYPE:
        if isinstance(expression, kind):
            return classify(expression)
    return Category.OTHER, expression.key.upper(), None


def _classify_chunk(sql: str, chunk: list[Token], index: int) -> Statement:
    text = _masked_text(sql, chunk)
    try:
        expressions = DIALECT.parser().parse(chunk, sql)
    except ParseError:
        category, kind, name = _by_keywords(chunk)
        return Statement(index, text, category, kind, name, ParseStatus.UNPARSED)
    expression = next((e for e in expressions if e is not None), None)
    typed = _typed(expression) if expression is not None else None
    if typed is None:
        category, kind, name = _by_keywords(chunk)
        return Statement(index, text, category, kind, name, ParseStatus.COMMAND)
    category, kind, name = typed
    return Statement(index, text, category, kind, name, ParseStatus.PARSED)


def classify(sql: str) -> list[Statement]:
    """Every statement of ``sql``, in order, classified."""
    try:
        tokens = DIALECT.tokenize(sql)
    except TokenError:
        return untokenized(sql)
    return [_classify_chunk(sql, chunk, index) for index, chunk in enumerate(_statements(tokens))]
