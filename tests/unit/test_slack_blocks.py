"""datalake_shared.slack.blocks: the exact Block Kit structures the alerts are made of, and the
Slack limits each one is cut to (https://api.slack.com/reference/block-kit/blocks)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datalake_shared.slack import (
    code_block,
    context_block,
    escape_mrkdwn,
    fields_block,
    header_block,
    link_button_blocks,
    text_block,
    truncate,
)

MARK = "… (truncated)"  # 13 characters, what a cut text ends with
CONSOLE = "https://console.aws.amazon.com/states/home#/executions/details/arn"


# ------------------------------------------------------------------------------ truncate


def test_text_exactly_at_the_limit_is_kept_whole() -> None:
    # Given a text as long as the limit / When truncated / Then it is unchanged
    assert truncate("x" * 20, 20) == "x" * 20


def test_text_one_over_the_limit_is_cut_to_the_limit_and_marked() -> None:
    # Given a text one character over the limit / When truncated
    cut = truncate("abcdefghijklmnopqrstu", 20)
    # Then it keeps what fits before the mark and is exactly the limit long
    assert cut == "abcdefg" + MARK
    assert len(cut) == 20


def test_limit_with_room_for_the_mark_only_keeps_no_text() -> None:
    # Given a limit exactly the mark's length / When a longer text is truncated
    # Then only the mark remains
    assert truncate("abcdefghijklmnopqrstu", 13) == MARK


@pytest.mark.parametrize(("limit", "expected"), [(5, "abcde"), (12, "abcdefghijkl"), (0, "")])
def test_limit_shorter_than_the_mark_cuts_without_it(limit: int, expected: str) -> None:
    # Given a limit too short for the mark / When a longer text is truncated
    # Then the text is cut to the limit (never longer than asked)
    assert truncate("abcdefghijklmnopqrstu", limit) == expected


def test_escape_leaves_other_text_as_typed() -> None:
    # Given text with mrkdwn formatting but no control character / Then it is unchanged
    assert escape_mrkdwn("*bold* _it_ `code` é") == "*bold* _it_ `code` é"


# ------------------------------------------------------------------------------ code_block


def test_code_block_escapes_its_text() -> None:
    # Given SQL with comparison operators / When put in a code block
    # Then it is fenced and escaped
    assert code_block("a < b & c > d") == "```a &lt; b &amp; c &gt; d```"


def test_code_block_breaks_up_fences_inside_the_text() -> None:
    # Given text holding a fence / When put in a code block
    # Then the fence is broken by zero-width spaces so the block stays one block
    assert code_block("x```y") == "```x`\u200b`\u200b`y```"


def test_code_block_at_its_default_limit_is_kept_whole() -> None:
    # Given 2900 characters (the default limit) / When put in a code block / Then nothing is cut
    assert code_block("x" * 2900) == "```" + "x" * 2900 + "```"


def test_code_block_over_its_default_limit_is_cut_to_it() -> None:
    # Given 2901 characters / When put in a code block
    # Then the inside is cut to 2900 characters, marked
    assert code_block("x" * 2901) == "```" + "x" * 2887 + MARK + "```"


def test_code_block_cut_to_a_given_limit() -> None:
    # Given a limit of 20 / When a 30-character text is put in a code block
    # Then the inside is 20 characters, marked
    assert code_block("y" * 30, limit=20) == "```" + "y" * 7 + MARK + "```"


def test_code_block_cuts_before_escaping() -> None:
    # Given text whose escaping passes the limit (25 + 2 x "&amp;" = 35 > 30)
    # When put in a code block / Then the text is cut short enough, and no entity is split
    assert code_block("x" * 25 + "&&", limit=30) == "```" + "x" * 9 + MARK + "```"


def test_code_block_with_a_limit_shorter_than_the_mark_ends() -> None:
    # Given a limit too short for the truncation mark / When a longer text is put in a block
    # Then it comes back cut to the limit (it used to loop forever)
    assert code_block("z" * 20, limit=5) == "```zzzzz```"


# ------------------------------------------------------------------------------ header


def test_header_block_is_plain_text_with_emoji() -> None:
    # Given a title / When made a header / Then Slack's header structure holds it as typed
    assert header_block(":red_circle: <Job> failed") == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":red_circle: <Job> failed", "emoji": True},
    }


def test_header_of_150_characters_is_kept_whole() -> None:
    assert header_block("h" * 150)["text"]["text"] == "h" * 150


def test_header_over_150_characters_is_cut_to_150() -> None:
    # Given a 151-character title / Then the header holds 150 characters, marked
    assert header_block("h" * 151)["text"]["text"] == "h" * 137 + MARK


# ------------------------------------------------------------------------------ fields


def test_fields_block_holds_bold_labels_and_escaped_values() -> None:
    # Given two label/value pairs / When made a fields section
    block = fields_block([("Job", "orders <merge>"), ("Runs", "3 & counting")])
    # Then each is a mrkdwn field "*label*\nvalue" with the value escaped
    assert block == {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Job*\norders &lt;merge&gt;"},
            {"type": "mrkdwn", "text": "*Runs*\n3 &amp; counting"},
        ],
    }


def test_fields_block_keeps_the_first_ten_fields() -> None:
    # Given eleven fields / When made a section / Then Slack's ten are kept, in order
    block = fields_block([(f"L{n}", str(n)) for n in range(11)])
    assert [field["text"] for field in block["fields"]] == [f"*L{n}*\n{n}" for n in range(10)]


def test_field_of_2000_characters_is_kept_whole() -> None:
    # Given a field whose text ("*L*\n" + value) is 2000 characters / Then it is not cut
    [field] = fields_block([("L", "v" * 1996)])["fields"]
    assert field["text"] == "*L*\n" + "v" * 1996


def test_field_over_2000_characters_is_cut_to_2000() -> None:
    # Given a field of 2001 characters / Then it is cut to 2000, marked
    [field] = fields_block([("L", "v" * 1997)])["fields"]
    assert field["text"] == "*L*\n" + "v" * 1983 + MARK


# ------------------------------------------------------------------------------ text, context


def test_text_block_is_a_mrkdwn_section() -> None:
    assert text_block("*Error*\nboom") == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*Error*\nboom"},
    }


def test_section_text_of_3000_characters_is_kept_whole() -> None:
    assert text_block("t" * 3000)["text"]["text"] == "t" * 3000


def test_section_text_over_3000_characters_is_cut_to_3000() -> None:
    assert text_block("t" * 3001)["text"]["text"] == "t" * 2987 + MARK


def test_context_block_holds_one_mrkdwn_element() -> None:
    assert context_block("run `abc` at 10:00") == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "run `abc` at 10:00"}],
    }


def test_context_text_of_2000_characters_is_kept_whole() -> None:
    assert context_block("c" * 2000)["elements"][0]["text"] == "c" * 2000


def test_context_text_over_2000_characters_is_cut_to_2000() -> None:
    assert context_block("c" * 2001)["elements"][0]["text"] == "c" * 1987 + MARK


# ------------------------------------------------------------------------------ link button


def test_link_button_is_one_actions_block() -> None:
    # Given a label and an https URL / When made a link button
    # Then it is one actions block holding one button to that URL
    assert link_button_blocks("Open in the AWS console", CONSOLE) == [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in the AWS console"},
                    "url": CONSOLE,
                    "action_id": "open_console",
                }
            ],
        }
    ]


def test_link_button_takes_its_action_id() -> None:
    [block] = link_button_blocks("Open", CONSOLE, action_id="open_query")
    assert block["elements"][0]["action_id"] == "open_query"


def test_link_button_label_is_cut_to_75_characters() -> None:
    # Given labels of 75 and 76 characters / Then the first is kept, the second cut to 75
    [kept] = link_button_blocks("b" * 75, CONSOLE)
    [cut] = link_button_blocks("b" * 76, CONSOLE)
    assert kept["elements"][0]["text"]["text"] == "b" * 75
    assert cut["elements"][0]["text"]["text"] == "b" * 62 + MARK


def test_link_button_url_of_3000_characters_is_used() -> None:
    # Given an https URL of exactly 3000 characters / Then the button links to it
    url = CONSOLE + "x" * (3000 - len(CONSOLE))
    [block] = link_button_blocks("Open", url)
    assert block["elements"][0]["url"] == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        CONSOLE + "x" * (3001 - len(CONSOLE)),  # a cut URL would lead somewhere else
        "http://console.aws.amazon.com/states/home",
        "javascript:alert(1)",
    ],
)
def test_no_button_without_a_usable_url(url: str | None) -> None:
    # Given no URL, one over Slack's 3000 characters, or one that is not https
    # Then there is no button at all
    assert link_button_blocks("Open", url) == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab`<>&\n é"), max_size=200), st.integers(0, 60))
def test_code_block_never_passes_any_limit(text: str, limit: int) -> None:
    # Given any text and any limit, even shorter than the truncation mark
    # When put in a code block / Then it ends, fenced, within the limit
    block = code_block(text, limit=limit)
    assert block.startswith("```")
    assert block.endswith("```")
    assert len(block) - 6 <= limit
