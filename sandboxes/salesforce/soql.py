"""A tokenizer and recursive-descent parser for the SOQL subset the sandbox serves.

Anything outside the subset is a `MALFORMED_QUERY`, never a partial parse: a sandbox that silently dropped a WHERE
clause would let a broken sync pass its tests. Names are resolved against the schema later (see `query.py`).
It is one grammar, so it stays one module, longer than most.
"""
import re
from dataclasses import dataclass, field

from .errors import ApiError

KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST",
    "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "COUNT", "GROUP", "HAVING",
    # Reserved by SOQL but outside the subset: recognising them gives a precise "unexpected token".
    "WITH", "FOR", "TYPEOF", "USING", "INCLUDES", "EXCLUDES", "ROLLUP", "CUBE", "UPDATE", "VIEW",
    "REFERENCE", "FIELDS", "FORMAT", "ALL", "ROWS",
}

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\d:T]))
  | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?![\w]))
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<ndate>[A-Za-z_]+:\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE | re.DOTALL)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
# In a LIKE pattern `\%` and `\_` are wildcards made literal, so the parsed string marks them; `plain()` and
# `like_pattern()` turn the mark into what equality or SQL LIKE need.
LITERAL_WILDCARD = "\ue000"
_LIKE_ESCAPES = {"%": LITERAL_WILDCARD + "%", "_": LITERAL_WILDCARD + "_"}


# Aggregate functions. COUNT is a keyword (it also makes `COUNT()`); the others are names followed by "(".
AGGREGATE_FUNCTIONS = {"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"}

# Relative date literals. Reference: SOQL and SOSL Reference, "Date Formats and Date Literals"
# (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm).
_UNITS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "FISCAL_QUARTER", "FISCAL_YEAR")
DATE_LITERALS = {"YESTERDAY", "TODAY", "TOMORROW", "LAST_90_DAYS", "NEXT_90_DAYS"} | {
    f"{when}_{unit}" for when in ("LAST", "THIS", "NEXT") for unit in _UNITS if unit != "DAY"}
N_DATE_LITERALS = {f"{pattern}" for unit in ("DAYS", "WEEKS", "MONTHS", "QUARTERS", "YEARS", "FISCAL_QUARTERS",
                                             "FISCAL_YEARS")
                   for pattern in (f"LAST_N_{unit}", f"NEXT_N_{unit}", f"N_{unit}_AGO")}


@dataclass
class Token:
    kind: str       # keyword, name, string, number, date, datetime, op, punct, eof
    value: object
    text: str
    pos: int


@dataclass
class FieldRef:
    path: list      # ["Account", "Name"]: relationships then the field
    pos: int
    alias: str | None = None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass
class AggregateCall:
    function: str               # COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX
    field: FieldRef | None      # None only for COUNT() in HAVING or ORDER BY
    pos: int
    alias: str | None = None

    @property
    def text(self) -> str:
        return f"{self.function}({self.field.dotted if self.field else ''})"


@dataclass
class Literal:
    kind: str       # string, number, date, datetime, dateliteral ((name, n)), null, boolean
    value: object
    pos: int
    text: str


@dataclass
class Comparison:
    field: FieldRef
    op: str         # = != < > <= >= LIKE IN NOT IN
    value: object   # Literal, or a list of Literal for IN / NOT IN


@dataclass
class BoolOp:
    op: str         # AND, OR
    items: list


@dataclass
class Not:
    item: object


@dataclass
class OrderItem:
    field: object   # FieldRef, or AggregateCall in an aggregate query
    descending: bool = False
    nulls_last: bool | None = None   # None: the SOQL default (NULLS FIRST ascending, NULLS LAST descending)


@dataclass
class Query:
    object_name: str
    object_pos: int
    fields: list = field(default_factory=list)        # FieldRef
    subqueries: list = field(default_factory=list)    # Query (object_name is a child relationship name)
    select_order: list = field(default_factory=list)  # FieldRef, AggregateCall or Query, as written
    aggregates: list = field(default_factory=list)    # AggregateCall in the SELECT list
    count: bool = False
    where: object = None
    group_by: list = field(default_factory=list)      # FieldRef
    having: object = None
    order_by: list = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""


def _unescape(body: str, pos: int, text: str) -> str:
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in _LIKE_ESCAPES:
            out.append(_LIKE_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6] or ""):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            raise ApiError("MALFORMED_QUERY", _located(text, pos + i + 1, "Invalid string literal '" + body + "'. "
                           "Illegal character sequence '\\" + nxt + "' in string literal."))
    return "".join(out)


def _located(text: str, pos: int, message: str) -> str:
    # The platform quotes the query, points at the column and then explains, on separate lines.
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:line_end if line_end != -1 else len(text)]
    row = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"


def tokenize(text: str) -> list:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match:
            raise ApiError("MALFORMED_QUERY", _located(text, pos, f"unexpected token: '{text[pos]}'"))
        kind = match.lastgroup
        raw = match.group()
        if kind == "ws":
            pass
        elif kind == "name" and raw.upper() in KEYWORDS:
            tokens.append(Token("keyword", raw.upper(), raw, pos))
        elif kind == "string":
            tokens.append(Token("string", _unescape(raw[1:-1], pos, text), raw, pos))
        elif kind == "ndate":
            name, _, number = raw.partition(":")
            if name.upper() not in N_DATE_LITERALS:
                raise ApiError("MALFORMED_QUERY", _located(text, pos, f"unexpected token: '{raw}'"))
            tokens.append(Token("dateliteral", (name.upper(), int(number)), raw, pos))
        elif kind == "name" and raw.upper() in DATE_LITERALS:
            tokens.append(Token("dateliteral", (raw.upper(), None), raw, pos))
        elif kind == "number":
            tokens.append(Token("number", float(raw) if any(c in raw for c in ".") else int(raw), raw, pos))
        else:
            tokens.append(Token(kind, raw, raw, pos))
        pos = match.end()
    tokens.append(Token("eof", None, "<EOF>", len(text)))
    return tokens


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.in_having = False

    # -- token helpers ----------------------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset=1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def fail(self, token: Token | None = None, message: str | None = None):
        token = token or self.tok
        shown = token.text if token.kind != "eof" else "<EOF>"
        raise ApiError("MALFORMED_QUERY", _located(self.text, token.pos, message or f"unexpected token: '{shown}'"))

    def at_keyword(self, *words) -> bool:
        return self.tok.kind == "keyword" and self.tok.value in words

    def expect_keyword(self, word) -> Token:
        if not self.at_keyword(word):
            self.fail()
        return self.advance()

    def expect_punct(self, char) -> Token:
        if not (self.tok.kind == "punct" and self.tok.value == char):
            self.fail()
        return self.advance()

    def at_punct(self, char) -> bool:
        return self.tok.kind == "punct" and self.tok.value == char

    def advance(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    # -- grammar ----------------------------------------------------------------------------------------------------
    def parse(self) -> Query:
        query = self.query(nested=False)
        if self.tok.kind != "eof":
            self.fail()
        return query

    def query(self, nested: bool) -> Query:
        self.expect_keyword("SELECT")
        query = Query(object_name="", object_pos=0, text=self.text)
        self.select_list(query, nested)
        self.expect_keyword("FROM")
        if self.tok.kind != "name" or "." in self.tok.value:
            self.fail()
        name_token = self.advance()
        query.object_name, query.object_pos = name_token.value, name_token.pos
        if self.at_keyword("WHERE"):
            self.advance()
            query.where = self.condition()
        if self.at_keyword("GROUP"):
            if nested:
                self.fail()
            self.advance()
            self.expect_keyword("BY")
            query.group_by = self.group_list()
        if self.at_keyword("HAVING"):
            if not query.group_by and not query.aggregates:
                self.fail()
            self.advance()
            self.in_having = True
            query.having = self.condition()
            self.in_having = False
        if self.at_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            query.order_by = self.order_list()
        if self.at_keyword("LIMIT"):
            self.advance()
            query.limit = self.non_negative_integer()
        if self.at_keyword("OFFSET"):
            if nested:
                self.fail()
            self.advance()
            query.offset = self.non_negative_integer()
        return query

    def non_negative_integer(self) -> int:
        token = self.tok
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            self.fail()
        return self.advance().value

    def at_aggregate(self) -> bool:
        """An aggregate function call starts here (`COUNT(`, `SUM(` ...)."""
        token = self.tok
        name = token.value if token.kind == "keyword" else token.value.upper() if token.kind == "name" else None
        return name in AGGREGATE_FUNCTIONS and self.peek().kind == "punct" and self.peek().value == "("

    def aggregate(self) -> AggregateCall:
        token = self.advance()
        function = token.value if token.kind == "keyword" else token.value.upper()
        self.expect_punct("(")
        if self.at_punct(")"):
            if function != "COUNT":
                self.fail()
            self.advance()
            return AggregateCall(function, None, token.pos)
        if self.tok.kind != "name":
            self.fail()
        field_token = self.advance()
        self.expect_punct(")")
        return AggregateCall(function, FieldRef(field_token.value.split("."), field_token.pos), token.pos)

    def alias(self) -> str | None:
        # An alias is a plain name right after the item; keywords (FROM, ...) end the item instead.
        if self.tok.kind == "name" and "." not in self.tok.value:
            return self.advance().value
        return None

    def select_list(self, query: Query, nested: bool):
        while True:
            if self.at_keyword("COUNT") and self.peek().kind == "punct" and self.peek().value == "(" \
                    and self.peek(2).kind == "punct" and self.peek(2).value == ")":
                if nested or query.select_order:
                    self.fail()
                self.advance()
                self.expect_punct("(")
                self.expect_punct(")")
                query.count = True
            elif self.at_aggregate():
                if nested or query.count:
                    self.fail()
                call = self.aggregate()
                call.alias = self.alias()
                query.aggregates.append(call)
                query.select_order.append(call)
            elif self.at_punct("("):
                if nested or query.count:
                    self.fail()
                self.advance()
                sub = self.query(nested=True)
                self.expect_punct(")")
                query.subqueries.append(sub)
                query.select_order.append(sub)
            elif self.tok.kind == "name":
                if query.count:
                    self.fail()
                token = self.advance()
                ref = FieldRef(token.value.split("."), token.pos)
                ref.alias = self.alias()
                query.fields.append(ref)
                query.select_order.append(ref)
            else:
                self.fail()
            if self.at_punct(","):
                self.advance()
                continue
            return

    def group_list(self) -> list:
        items = []
        while True:
            if self.tok.kind != "name":
                self.fail()     # GROUP BY ROLLUP / CUBE and date functions are outside the subset
            token = self.advance()
            items.append(FieldRef(token.value.split("."), token.pos))
            if not self.at_punct(","):
                return items
            self.advance()

    def condition(self):
        """A chain of one operator; mixing AND and OR without parentheses is an error, as in SOQL."""
        first = self.unary()
        if not self.at_keyword("AND", "OR"):
            return first
        op = self.tok.value
        items = [first]
        while self.at_keyword("AND", "OR"):
            if self.tok.value != op:
                self.fail()
            self.advance()
            items.append(self.unary())
        return BoolOp(op, items)

    def unary(self):
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.unary())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        if self.in_having and self.at_aggregate():
            ref = self.aggregate()
        elif self.tok.kind != "name":
            self.fail()
        else:
            token = self.advance()
            ref = FieldRef(token.value.split("."), token.pos)
        if self.tok.kind == "op":
            op = self.advance().value
            return Comparison(ref, "!=" if op == "<>" else op, self.literal())
        if self.at_keyword("LIKE"):
            self.advance()
            if self.tok.kind != "string":
                self.fail()
            return Comparison(ref, "LIKE", self.literal())
        negated = False
        if self.at_keyword("NOT"):
            self.advance()
            negated = True
            if not self.at_keyword("IN"):
                self.fail()
        if self.at_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            values = [self.literal()]
            while self.at_punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(ref, "NOT IN" if negated else "IN", values)
        self.fail()

    def literal(self) -> Literal:
        token = self.tok
        if token.kind in ("string", "number", "date", "datetime", "dateliteral"):
            self.advance()
            return Literal(token.kind, token.value, token.pos, token.text)
        if self.at_keyword("NULL"):
            self.advance()
            return Literal("null", None, token.pos, token.text)
        if self.at_keyword("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", token.value == "TRUE", token.pos, token.text)
        self.fail()

    def order_list(self) -> list:
        items = []
        while True:
            if self.at_aggregate():
                item = OrderItem(self.aggregate())
            elif self.tok.kind != "name":
                self.fail()
            else:
                token = self.advance()
                item = OrderItem(FieldRef(token.value.split("."), token.pos))
            if self.at_keyword("ASC", "DESC"):
                item.descending = self.advance().value == "DESC"
            if self.at_keyword("NULLS"):
                self.advance()
                if not self.at_keyword("FIRST", "LAST"):
                    self.fail()
                item.nulls_last = self.advance().value == "LAST"
            items.append(item)
            if not self.at_punct(","):
                return items
            self.advance()


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise ApiError("MALFORMED_QUERY", "A query string must be provided.")
    return Parser(text).parse()


def located(text: str, pos: int, message: str) -> str:
    return _located(text, pos, message)


def plain(value: str) -> str:
    return value.replace(LITERAL_WILDCARD, "")


def like_pattern(value: str) -> str:
    """The SOQL pattern as an SQL LIKE pattern with ESCAPE '\\'."""
    out = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == LITERAL_WILDCARD:
            out.append("\\" + value[i + 1])
            i += 2
            continue
        out.append("\\\\" if char == "\\" else char)
        i += 1
    return "".join(out)
