"""Sensitive-statement classification with sqlglot: tricky SQL a keyword regex gets wrong."""

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redshift_audit.sql import Category, ParseStatus, Statement, classify_sql


def kinds(sql: str) -> list[tuple[str, str]]:
    """(category, statement type) of each statement."""
    return [(str(s.category), s.statement_type) for s in classify_sql(sql)]


def only(sql: str) -> Statement:
    [statement] = classify_sql(sql)
    return statement


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # The post's examples.
        ("alter table my_table alter column string type varchar(16);", ("DDL", "ALTER TABLE")),
        ("create schema sales;", ("DDL", "CREATE SCHEMA")),
        ("create table dev.public.t1 (id int, s varchar(10));", ("DDL", "CREATE TABLE")),
        ("drop table dev.public.demo_test_table_1;", ("DDL", "DROP TABLE")),
        # More DDL.
        ("TRUNCATE sales.orders", ("DDL", "TRUNCATE TABLE")),
        ("ALTER TABLE a RENAME TO b", ("DDL", "ALTER TABLE RENAME")),
        ("create materialized view mv as select 1", ("DDL", "CREATE MATERIALIZED VIEW")),
        ("DROP MATERIALIZED VIEW mv", ("DDL", "DROP MATERIALIZED VIEW")),
        ("comment on table sales.orders is 'PII'", ("DDL", "COMMENT ON TABLE")),
        ("select * into orders_copy from sales.orders", ("DDL", "SELECT INTO")),
        ("alter schema s rename to t", ("DDL", "ALTER SCHEMA")),
        ("rename table a to b", ("DDL", "RENAME TABLE")),
        # DCL, parsed and kept as commands.
        ("grant select on table sales.orders to bob", ("DCL", "GRANT")),
        ("REVOKE ALL ON SCHEMA s FROM GROUP analysts", ("DCL", "REVOKE")),
        ("grant role analyst to bob", ("DCL", "GRANT")),
        ("create user rs_user with password '***'", ("DCL", "CREATE USER")),
        ("ALTER USER bob CONNECTION LIMIT 5", ("DCL", "ALTER USER")),
        ("drop user bob", ("DCL", "DROP USER")),
        ("create group analysts", ("DCL", "CREATE GROUP")),
        ("create role auditor", ("DCL", "CREATE ROLE")),
        (
            "alter default privileges grant select on tables to bob",
            ("DCL", "ALTER DEFAULT PRIVILEGES"),
        ),
        # Not sensitive.
        ("select * from sales.orders", ("OTHER", "SELECT")),
        ("insert into t values (1)", ("OTHER", "INSERT")),
        ("vacuum sales.orders", ("OTHER", "VACUUM")),
        ("explain drop table x", ("OTHER", "EXPLAIN")),
    ],
)
def test_statement_is_classified_by_what_it_is(sql: str, expected: tuple[str, str]) -> None:
    # Given one statement / When classified / Then its category and type are the parser's
    assert kinds(sql) == [expected]


def test_keyword_inside_a_string_literal_is_not_dcl() -> None:
    # Given GRANT inside a string / Then it is a SELECT
    assert kinds("SELECT 'GRANT ALL ON sales TO PUBLIC' AS note") == [("OTHER", "SELECT")]


def test_keyword_inside_a_column_default_does_not_change_the_statement() -> None:
    # Given a CREATE TABLE whose default value says GRANT / Then it is one CREATE TABLE
    assert kinds("create table t (x varchar(10) default 'GRANT')") == [("DDL", "CREATE TABLE")]


@pytest.mark.parametrize(
    "sql",
    [
        "/* DROP */ select 1",
        "-- drop table sales.orders\nselect 1",
        "select 1 /* ; drop table x */",
    ],
)
def test_keyword_inside_a_comment_is_not_ddl(sql: str) -> None:
    assert kinds(sql) == [("OTHER", "SELECT")]


@pytest.mark.parametrize(
    "sql", ["DROP TABLE t", "drop table t", "DrOp TaBlE t", "  \n\tdrop\n table t"]
)
def test_case_and_whitespace_do_not_matter(sql: str) -> None:
    assert kinds(sql) == [("DDL", "DROP TABLE")]


def test_several_statements_on_one_line_are_each_classified() -> None:
    # Given three statements on one line / When classified / Then each in order
    assert kinds("select 1; DROP TABLE t; grant all on t to x") == [
        ("OTHER", "SELECT"),
        ("DDL", "DROP TABLE"),
        ("DCL", "GRANT"),
    ]


def test_statements_inside_a_transaction_are_found() -> None:
    assert kinds("begin; drop table x; commit;") == [
        ("OTHER", "TRANSACTION"),
        ("DDL", "DROP TABLE"),
        ("OTHER", "COMMIT"),
    ]


def test_semicolon_inside_a_literal_does_not_split() -> None:
    assert kinds("select 'a; drop table x'") == [("OTHER", "SELECT")]


def test_procedure_body_is_part_of_the_create_procedure() -> None:
    # Given a procedure whose $$ body drops a table / Then it is one CREATE PROCEDURE (the body
    # does not run here)
    sql = "create or replace procedure p() as $$ begin drop table x; end; $$ language plpgsql"
    assert kinds(sql) == [("DDL", "CREATE PROCEDURE")]


def test_empty_statements_and_blank_sql_give_nothing() -> None:
    assert classify_sql("") == []
    assert classify_sql("  ;; ; ") == []


def test_object_names_are_the_parsed_ones() -> None:
    assert only("drop table if exists dev.public.t1, t2").object_name == "dev.public.t1, t2"
    assert only("grant select on table sales.orders to bob").object_name == "sales.orders"
    assert only("create user rs_user with password '***'").object_name == "rs_user"


def test_commands_are_marked_as_classified_by_keywords() -> None:
    # Given what sqlglot keeps as a Command / Then the record says how it was classified
    assert only("create user bob password 'x'").parse_status is ParseStatus.COMMAND
    assert only("drop table t").parse_status is ParseStatus.PARSED


def test_unparsable_statement_falls_back_to_its_first_keyword_token() -> None:
    # Given DROP TABLE with trailing words the parser rejects
    statement = only("DROP TABLE t PURGE NOW PLEASE")
    # Then it is still a DROP TABLE, marked unparsed
    assert (statement.category, statement.statement_type, statement.parse_status) == (
        Category.DDL,
        "DROP TABLE",
        ParseStatus.UNPARSED,
    )


def test_untokenizable_sql_falls_back_to_its_first_word() -> None:
    # Given an unterminated string (the tokenizer gives up; Redshift cannot run it either)
    statement = only("DROP TABLE x; SELECT 'oops")
    # Then its first word still classifies it, marked untokenized
    assert (statement.category, statement.parse_status) == (Category.DDL, ParseStatus.UNTOKENIZED)


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        ("CREATE USER bob PASSWORD 'md5abc' CREATEDB", "CREATE USER bob PASSWORD '***' CREATEDB"),
        (
            "alter user bob password 'sha256|x' valid until '2027-01-01'",
            "alter user bob password '***' valid until '2027-01-01'",
        ),
        ("alter user bob password 'unterminated", "alter user bob password ***"),
    ],
)
def test_password_literals_are_masked(sql: str, masked: str) -> None:
    assert only(sql).sql == masked


def test_sqlglot_warnings_do_not_log_the_sql(caplog: pytest.LogCaptureFixture) -> None:
    # Given a statement sqlglot warns about ("unsupported syntax, falling back to Command")
    with caplog.at_level(logging.DEBUG):
        classify_sql("create user bob password 'hunter2'")
    # Then nothing quoting it reached the logs
    assert "hunter2" not in caplog.text


SENSITIVE = [
    "drop table sales.orders",
    "grant select on sales.orders to bob",
    "create user bob password 'x'",
    "truncate sales.orders",
]


@settings(max_examples=40, deadline=None)
@given(
    statement=st.sampled_from(SENSITIVE),
    comment=st.text(alphabet=st.characters(blacklist_characters="*/"), max_size=30),
    flips=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_comments_and_case_never_change_the_classification(
    statement: str, comment: str, flips: list[bool]
) -> None:
    # Given a sensitive statement with a block comment before it and its letters re-cased
    cased = "".join(
        ch.upper() if flip else ch.lower() for ch, flip in zip(statement, flips, strict=False)
    )
    cased += statement[len(flips) :]
    # When classified / Then category and type are those of the plain statement
    plain = only(statement)
    variant = only(f"/* {comment} */ {cased}")
    assert (variant.category, variant.statement_type) == (plain.category, plain.statement_type)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_classified_without_raising(sql: str) -> None:
    # Given any text / When classified / Then every statement has a category and a type
    for statement in classify_sql(sql):
        assert statement.category in set(Category)
        assert isinstance(statement.statement_type, str)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="'\\"), max_size=60))
def test_any_string_literal_is_not_sensitive(text: str) -> None:
    # Given a SELECT of any literal (keywords included) / Then it is never sensitive
    assert not any(s.sensitive for s in classify_sql(f"SELECT 'GRANT DROP {text}'"))
