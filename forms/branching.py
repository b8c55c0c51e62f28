"""REDCap branching logic: parsed into a small expression tree, never ``eval``-ed.

Syntax: ``[field] = '1'`` (or ``"1"``, or an unquoted number), the operators
``= <> != > < >= <=``, ``and``/``or`` in any case (``and`` binds tighter), parentheses,
checkbox choices as ``[field(code)]`` and empty comparisons ``[field] = ''``.

Semantics, as REDCap's: when both sides are numbers they compare as numbers, otherwise
as text; an ordering (``> < >= <=``) with an empty side is false; a checkbox choice reads
``'1'`` when ticked and ``'0'`` when not; a missing or hidden field reads as empty.
``static/branching.js`` is a line-by-line port of ``evaluate`` for the browser: change
both together (``tests/forms/test_branching.py`` runs the same cases through each).
"""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from cohort.errors import CohortError
from cohort.i18n import Message
from forms.i18n import N_

Answer = str | AbstractSet[str]

MAX_DEPTH = 32  # parentheses deep enough for any real form, shallow enough for the stack
NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
BLANK = " \t\n\r\f\v"  # trimmed from both sides before comparing (as JavaScript's port does)

# Tokens, tried in this order at each position.
TOKENS = (
    ("space", re.compile(r"\s+")),
    ("field", re.compile(r"\[([a-z][a-z0-9_]*)(?:\((-?[A-Za-z0-9_]+)\))?\]")),
    ("string", re.compile(r"'([^']*)'|\"([^\"]*)\"")),
    ("number", re.compile(r"-?(?:\d+(?:\.\d+)?)(?![\w.])")),
    ("op", re.compile(r"<>|!=|>=|<=|=|<|>")),
    ("word", re.compile(r"[A-Za-z_]\w*")),
    ("paren", re.compile(r"[()]")),
)
JOINERS = ("and", "or")
# Each operator as a test of the three-way order of its sides (-1, 0 or 1).
ORDERINGS = {
    ">": lambda order: order > 0,
    "<": lambda order: order < 0,
    ">=": lambda order: order >= 0,
    "<=": lambda order: order <= 0,
}
EQUALITIES = {
    "=": lambda order: order == 0,
    "<>": lambda order: order != 0,
    "!=": lambda order: order != 0,
}


AT_CHARACTER = N_("at character %(position)s: %(problem)s")


class BranchingError(CohortError):
    """Logic that does not parse; ``position`` is the 1-based character it stopped at and
    ``text`` the message, for showing in the reader's language."""

    def __init__(self, position: int, template: str, /, **params: object) -> None:
        self.text = Message(
            AT_CHARACTER, {"position": position, "problem": Message(template, params)}
        )
        super().__init__(str(self.text))
        self.position = position


@dataclass(frozen=True)
class FieldRef:
    name: str
    code: str | None = None  # a checkbox choice: [name(code)]

    def __str__(self) -> str:
        return f"[{self.name}({self.code})]" if self.code is not None else f"[{self.name}]"


@dataclass(frozen=True)
class Literal:
    value: str


Operand = FieldRef | Literal


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class AllOf:
    parts: tuple["Expr", ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple["Expr", ...]


Expr = Comparison | AllOf | AnyOf


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int  # 1-based
    value: Operand | None = None


def quote(text: str, limit: int = 40) -> str:
    """How a message shows a piece of someone's text: quoted on one line, cut at ``limit``."""
    return json.dumps(text if len(text) <= limit else text[:limit] + "…", ensure_ascii=False)


def _operand(kind: str, match: re.Match) -> Operand | None:
    if kind == "field":
        return FieldRef(match[1], match[2])
    if kind == "string":
        return Literal(match[1] if match[1] is not None else match[2])
    if kind == "number":
        return Literal(match[0])
    return None


def _unreadable(text: str, at: int) -> BranchingError:
    char = text[at]
    if char == "[":
        return BranchingError(
            at + 1,
            N_(
                "malformed field reference: write [field_name] or [field_name(code)] "
                "with a lowercase field name"
            ),
        )
    if char in "'\"":
        return BranchingError(at + 1, N_("text starting here has no closing %(quote)s"), quote=char)
    if char.isdigit() or char == "-":
        return BranchingError(at + 1, N_("malformed number: write it like 3, -1 or 2.5"))
    return BranchingError(at + 1, N_("unexpected %(text)s"), text=quote(char))


def _match(text: str, at: int) -> tuple[str, re.Match]:
    for kind, pattern in TOKENS:
        match = pattern.match(text, at)
        if match:
            return kind, match
    raise _unreadable(text, at)


def _tokenize(text: str) -> list[_Token]:
    tokens, at = [], 0
    while at < len(text):
        kind, match = _match(text, at)
        word = match[0]
        if kind == "word" and word.lower() not in JOINERS:
            raise BranchingError(
                at + 1,
                N_("unknown word %(word)s: join conditions with 'and' or 'or'"),
                word=quote(word),
            )
        if kind != "space":
            value = _operand(kind, match)
            tokens.append(_Token(kind, word.lower() if kind == "word" else word, at + 1, value))
        at = match.end()
    return tokens


class _Parser:
    """Recursive descent over: or-list of and-lists of comparisons or (parenthesised)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.end = len(text) + 1

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def where(self) -> int:
        token = self.peek()
        return token.at if token else self.end

    def take(self, kind: str, text: str | None = None) -> _Token | None:
        token = self.peek()
        if token and token.kind == kind and (text is None or token.text == text):
            self.i += 1
            return token
        return None

    def joined(self, joiner: str, part: Callable[[], "Expr"], node: type[AllOf | AnyOf]) -> "Expr":
        parts = [part()]
        while self.take("word", joiner):
            parts.append(part())
        return parts[0] if len(parts) == 1 else node(tuple(parts))

    def any_of(self, depth: int) -> "Expr":
        return self.joined("or", lambda: self.all_of(depth), AnyOf)

    def all_of(self, depth: int) -> "Expr":
        return self.joined("and", lambda: self.term(depth), AllOf)

    def term(self, depth: int) -> "Expr":
        opening = self.take("paren", "(")
        if opening is None:
            return self.comparison()
        if depth >= MAX_DEPTH:
            raise BranchingError(
                opening.at, N_("more than %(depth)s levels of parentheses"), depth=MAX_DEPTH
            )
        inner = self.any_of(depth + 1)
        if not self.take("paren", ")"):
            raise BranchingError(
                self.where(),
                N_("missing ')' to close the '(' opened at character %(opened)s"),
                opened=opening.at,
            )
        return inner

    def operand(self, operator: str = "") -> Operand:
        """The next operand; ``operator`` is the one it follows, if any, for the message."""
        token = self.peek()
        if token is None or token.value is None:
            if operator:
                raise BranchingError(
                    self.where(),
                    N_("expected a [field], 'text' or number after %(operator)s"),
                    operator=operator,
                )
            raise BranchingError(self.where(), N_("expected a [field], 'text' or number"))
        self.i += 1
        return token.value

    def comparison(self) -> Comparison:
        left = self.operand()
        op = self.take("op")
        if op is None:
            raise BranchingError(
                self.where(),
                N_("expected an operator such as = or <> after %(operand)s"),
                operand=_shown(left),
            )
        return Comparison(op.text, left, self.operand(op.text))

    def parse(self) -> "Expr":
        if not self.tokens:
            raise BranchingError(1, N_("the logic is empty"))
        expr = self.any_of(0)
        extra = self.peek()
        if extra is not None:
            raise BranchingError(
                extra.at,
                N_("expected 'and', 'or' or the end, not %(text)s"),
                text=quote(extra.text),
            )
        return expr


def _shown(operand: Operand) -> str:
    return str(operand) if isinstance(operand, FieldRef) else quote(operand.value)


def parse(text: str) -> Expr:
    """The expression tree of ``text``, or a ``BranchingError`` naming where it went wrong."""
    return _Parser(text).parse()


def _read(operand: Operand, values: Mapping[str, Answer]) -> str:
    if isinstance(operand, Literal):
        return operand.value
    value = values.get(operand.name, "")
    if operand.code is not None:
        ticked = not isinstance(value, str) and operand.code in value
        return "1" if ticked else "0"
    return value if isinstance(value, str) else ""


def _order(a: str, b: str) -> int:
    if NUMBER.fullmatch(a) and NUMBER.fullmatch(b):
        x, y = float(a), float(b)
    else:
        x, y = a, b
    return (x > y) - (x < y)


def _compare(op: str, a: str, b: str) -> bool:
    a, b = a.strip(BLANK), b.strip(BLANK)
    if op in ORDERINGS:
        return a != "" and b != "" and ORDERINGS[op](_order(a, b))
    return EQUALITIES[op](_order(a, b))


def evaluate(expr: Expr, values: Mapping[str, Answer]) -> bool:
    """Whether ``expr`` holds for ``values`` (text, or the set of ticked checkbox codes)."""
    if isinstance(expr, AllOf):
        return all(evaluate(part, values) for part in expr.parts)
    if isinstance(expr, AnyOf):
        return any(evaluate(part, values) for part in expr.parts)
    return _compare(expr.op, _read(expr.left, values), _read(expr.right, values))


def comparisons(expr: Expr) -> Iterator[Comparison]:
    """Every comparison in ``expr``, left to right."""
    if isinstance(expr, Comparison):
        yield expr
    else:
        for part in expr.parts:
            yield from comparisons(part)


def field_names(expr: Expr) -> list[str]:
    """The fields ``expr`` reads, in order of first mention."""
    names = (
        operand.name
        for comparison in comparisons(expr)
        for operand in (comparison.left, comparison.right)
        if isinstance(operand, FieldRef)
    )
    return list(dict.fromkeys(names))


def _plain(node: Expr | Operand) -> dict:
    if isinstance(node, FieldRef):
        return (
            {"field": node.name} if node.code is None else {"field": node.name, "code": node.code}
        )
    if isinstance(node, Literal):
        return {"value": node.value}
    if isinstance(node, Comparison):
        return {"op": node.op, "left": _plain(node.left), "right": _plain(node.right)}
    key = "all" if isinstance(node, AllOf) else "any"
    return {key: [_plain(part) for part in node.parts]}


def to_json(expr: Expr) -> str:
    """The tree as compact JSON for a ``data-branching`` attribute (read by branching.js)."""
    return json.dumps(_plain(expr), separators=(",", ":"), ensure_ascii=False)
