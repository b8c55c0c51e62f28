"""Branching logic, as REDCap writes and means it: parsed to a tree, never eval-ed, and
evaluated the same way on the server and (through branching.js) in the browser."""

import json

import pytest

from forms.branching import (
    AllOf,
    AnyOf,
    BranchingError,
    Comparison,
    FieldRef,
    Literal,
    evaluate,
    field_names,
    parse,
    to_json,
)
from tests.forms.conftest import as_json_values

OUTCOME_IS_1 = Comparison("=", FieldRef("outcome"), Literal("1"))

PARSES = [
    ("[outcome] = '1'", OUTCOME_IS_1),
    ('[outcome] = "1"', OUTCOME_IS_1),
    ("[outcome]=1", OUTCOME_IS_1),
    ("[age] >= -2.5", Comparison(">=", FieldRef("age"), Literal("-2.5"))),
    ("[cb(mother_health)] = '1'", Comparison("=", FieldRef("cb", "mother_health"), Literal("1"))),
    ("[cb(-1)] = '0'", Comparison("=", FieldRef("cb", "-1"), Literal("0"))),
    ("[a] <> ''", Comparison("<>", FieldRef("a"), Literal(""))),
    ("[a] != [b]", Comparison("!=", FieldRef("a"), FieldRef("b"))),
    ("'1' = [outcome]", Comparison("=", Literal("1"), FieldRef("outcome"))),
    ("([outcome] = '1')", OUTCOME_IS_1),
    (
        "[a] = 1 AND [b] = 2 or [c] = 3",
        AnyOf(
            (
                AllOf(
                    (
                        Comparison("=", FieldRef("a"), Literal("1")),
                        Comparison("=", FieldRef("b"), Literal("2")),
                    )
                ),
                Comparison("=", FieldRef("c"), Literal("3")),
            )
        ),
    ),
    (
        "[a] = 1 and ([b] = 2 OR [c] = 3)",
        AllOf(
            (
                Comparison("=", FieldRef("a"), Literal("1")),
                AnyOf(
                    (
                        Comparison("=", FieldRef("b"), Literal("2")),
                        Comparison("=", FieldRef("c"), Literal("3")),
                    )
                ),
            )
        ),
    ),
]


@pytest.mark.parametrize(("logic", "tree"), PARSES)
def test_logic_parses_to_its_tree(logic, tree):
    assert parse(logic) == tree


# logic, answers (text, or a set of ticked checkbox codes), whether it holds
EVALUATIONS = [
    ("[outcome] = '1'", {"outcome": "1"}, True),
    ("[outcome] = '1'", {"outcome": "0"}, False),
    ("[outcome] = '1'", {}, False),
    ("[outcome] = 1", {"outcome": "1"}, True),
    ("[a] = 'Yes'", {"a": "yes"}, False),
    ("[a] = 'x'", {"a": " x "}, True),
    ("[age] > 5", {"age": "10"}, True),
    ("[age] < 5", {"age": "10"}, False),
    ("[age] = 10", {"age": "10.0"}, True),
    ("[age] >= 10", {"age": "10.0"}, True),
    ("[age] <= -1", {"age": "-2"}, True),
    ("[age] < 9", {"age": ".5"}, True),
    ("[name] > 'b'", {"name": "c"}, True),
    ("[name] > 5", {"name": "abc"}, True),
    ("[age] > 5", {"age": ""}, False),
    ("[age] < 5", {"age": ""}, False),
    ("[age] <= ''", {"age": ""}, False),
    ("[age] = ''", {"age": ""}, True),
    ("[age] = ''", {}, True),
    ("[age] <> ''", {"age": ""}, False),
    ("[age] != ''", {"age": "3"}, True),
    ("[cb(a)] = '1'", {"cb": {"a", "b"}}, True),
    ("[cb(c)] = '1'", {"cb": {"a"}}, False),
    ("[cb(c)] = '0'", {"cb": {"a"}}, True),
    ("[cb(a)] = '0'", {}, True),
    ("[cb(a)] = '0'", {"cb": ""}, True),
    ("[cb] = ''", {"cb": {"a"}}, True),
    ("[a] = [b]", {"a": "x", "b": "x"}, True),
    ("'1' = [a]", {"a": "1"}, True),
    ("[a] = '1' and [b] = '1'", {"a": "1", "b": "0"}, False),
    ("[a] = '1' or [b] = '1'", {"a": "1", "b": "0"}, True),
    ("[a] = '1' AND [b] = '1' Or [c] = '1'", {"c": "1"}, True),
    ("[a] = '1' and ([b] = '1' or [c] = '1')", {"c": "1"}, False),
    ("[a] = '1' and ([b] = '1' or [c] = '1')", {"a": "1", "c": "1"}, True),
]


@pytest.mark.parametrize(("logic", "answers", "holds"), EVALUATIONS)
def test_logic_holds_as_redcap_means_it(logic, answers, holds):
    assert evaluate(parse(logic), answers) is holds


def test_the_browser_port_agrees_on_every_case(browser_port):
    cases = [
        {"call": "evaluate", "expr": json.loads(to_json(parse(logic))), "values": as_json_values(a)}
        for logic, a, _ in EVALUATIONS
    ]
    assert browser_port(cases) == [holds for _, _, holds in EVALUATIONS]


# logic, the 1-based character it stopped at, what the message says
MALFORMED = [
    ("", 1, "the logic is empty"),
    ("   ", 1, "the logic is empty"),
    ("[outcome]", 10, "expected an operator such as = or <> after [outcome]"),
    ("[outcome] =", 12, "expected a [field], 'text' or number after ="),
    ("[outcome] == '1'", 12, "expected a [field], 'text' or number after ="),
    ("[Outcome] = '1'", 1, "malformed field reference"),
    ("[outcome = '1'", 1, "malformed field reference"),
    ("[cb()] = '1'", 1, "malformed field reference"),
    ("[outcome] = '1", 13, "text starting here has no closing '"),
    ('[outcome] = "1', 13, 'text starting here has no closing "'),
    ("[age] = 1.2.3", 9, "malformed number"),
    ("[age] = 1abc", 9, "malformed number"),
    ("[outcome] = '1' xor [a] = '2'", 17, 'unknown word "xor"'),
    ("if([a] = 1, 1, 0)", 1, 'unknown word "if"'),
    ("[outcome] = '1' and", 20, "expected a [field], 'text' or number"),
    ("and [outcome] = '1'", 1, "expected a [field], 'text' or number"),
    ("([outcome] = '1'", 17, "missing ')' to close the '(' opened at character 1"),
    ("[outcome] = '1')", 16, "expected 'and', 'or' or the end, not \")\""),
    ("[outcome] = '1' [a] = '2'", 17, "expected 'and', 'or' or the end"),
    ("[event_1][outcome] = '1'", 10, "expected an operator"),
    ("[outcome] & '1'", 11, 'unexpected "&"'),
    ("()", 2, "expected a [field], 'text' or number"),
    ("(" * 33 + "[a] = 1" + ")" * 33, 33, "more than 32 levels of parentheses"),
]


@pytest.mark.parametrize(("logic", "position", "message"), MALFORMED)
def test_malformed_logic_is_refused_naming_where(logic, position, message):
    with pytest.raises(BranchingError) as refused:
        parse(logic)
    assert refused.value.position == position
    assert refused.value.message.startswith(f"at character {position}: ")
    assert message in refused.value.message


def test_field_names_lists_each_field_read_once_in_order():
    logic = parse("[b] = 1 and ([a(x)] = '1' or [b] > [c])")
    assert field_names(logic) == ["b", "a", "c"]


def test_the_browser_form_is_plain_json_of_the_tree():
    logic = parse("[a] = '1' and ([cb(x)] = '1' or [n] >= 2)")
    assert json.loads(to_json(logic)) == {
        "all": [
            {"op": "=", "left": {"field": "a"}, "right": {"value": "1"}},
            {
                "any": [
                    {"op": "=", "left": {"field": "cb", "code": "x"}, "right": {"value": "1"}},
                    {"op": ">=", "left": {"field": "n"}, "right": {"value": "2"}},
                ]
            },
        ]
    }
