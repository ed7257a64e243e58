"""SuiteQL over REST: POST /services/rest/query/v1/suiteql with `Prefer: transient` and `{"q": "SELECT ..."}`.

References (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- the request, paging with limit (at most 1000) and offset, at most 100,000 results: section_157909186990.html
- collection paging and its links: "Collection Paging"

The query is parsed by sqlglot (Oracle dialect, as SuiteQL follows Oracle SQL), checked, and run by sqlite over the
tables of suiteql_tables: only SELECT, only those tables, only the functions listed in FUNCTIONS. Oracle's date
functions are given the account's zone: TO_DATE / TO_TIMESTAMP read a text with a format model, TO_CHAR writes one,
and a text compared with a date column is read in the account's date format, as Oracle's implicit conversion does.

What comes back is shaped as NetSuite's: every value is text, booleans are 'T'/'F', a null column is left out of
its row, each row has `links: []`, column names are lower case (an unnamed expression is exprN), and a date or
date-time column is answered as a date in the account's date format, without the time. That last one is a real
watermark hazard: use TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') to see the time.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp
from sqlglot.dialects.oracle import Oracle
from sqlglot.time import format_time

from .answers import COLLECTION, Answer
from .errors import bad_request
from .record_service import collection, paging
from .suiteql_tables import DATE_COLUMNS, TABLES

MAX_LIMIT = 1000
MAX_RESULTS = 100_000
FUNCTIONS = {exp.Count, exp.Max, exp.Min, exp.Sum, exp.Avg, exp.Upper, exp.Lower, exp.Coalesce, exp.Length,
             exp.Trim, exp.Round, exp.Abs, exp.Case, exp.If, exp.Substring, exp.Concat, exp.DPipe, exp.Nullif,
             exp.Cast, exp.StrToDate, exp.StrToTime, exp.ToChar, exp.CurrentDate, exp.CurrentTimestamp,
             exp.Floor, exp.Ceil, exp.Distinct, exp.TimeToStr}
ANONYMOUS = {"nvl2", "instr", "decode"}
# sqlglot models some operators as functions too (AND, OR, comparisons): those are always allowed.
OPERATORS = (exp.Binary, exp.Connector, exp.Predicate, exp.Not, exp.Paren, exp.Neg)
DATE_FORMATS = {"M/D/YYYY": "{m}/{d}/{Y}", "MM/DD/YYYY": "{m:02d}/{d:02d}/{Y}", "D/M/YYYY": "{d}/{m}/{Y}",
                "DD/MM/YYYY": "{d:02d}/{m:02d}/{Y}", "D.M.YYYY": "{d}.{m}.{Y}", "DD.MM.YYYY": "{d:02d}.{m:02d}.{Y}",
                "YYYY/MM/DD": "{Y}/{m:02d}/{d:02d}", "YYYY-MM-DD": "{Y}-{m:02d}-{d:02d}"}


class QueryError(ValueError):
    pass


def invalid_query(detail: str):
    # NetSuite's words for a query it cannot run; the detail says what.
    return bad_request("INVALID_PARAMETER", "Invalid search query. Detailed unprocessed description follows. "
                       f"Search error occurred: {detail}", error_path="q")


class SuiteQL:
    def __init__(self, store, zone: ZoneInfo, date_format: str = "M/D/YYYY"):
        if date_format not in DATE_FORMATS:
            raise ValueError(f"unsupported date format {date_format!r}; one of {', '.join(DATE_FORMATS)}")
        self.store = store
        self.zone = zone
        self.date_format = date_format
        self._columns: dict[str, set[str]] | None = None

    def columns(self) -> dict[str, set[str]]:
        """Each table's column names, read from its SQL once."""
        if self._columns is None:
            connection = self.store.connection()
            self._columns = {name: {column[0].lower() for column in
                                    connection.execute(f"SELECT * FROM ({sql}) LIMIT 0").description}
                             for name, sql in TABLES.items()}
        return self._columns

    # -- dates -------------------------------------------------------------------------------------
    def format_date(self, epoch_ms: int) -> str:
        day = dt.datetime.fromtimestamp(epoch_ms / 1000, self.zone)
        return DATE_FORMATS[self.date_format].format(Y=day.year, m=day.month, d=day.day)

    def parse_account_date(self, text: str) -> int:
        pattern = re.escape(self.date_format)
        for token, group in (("YYYY", r"(?P<Y>\d{4})"), ("MM", r"(?P<m>\d{1,2})"), ("DD", r"(?P<d>\d{1,2})"),
                             ("M", r"(?P<m>\d{1,2})"), ("D", r"(?P<d>\d{1,2})")):
            pattern = pattern.replace(token, group, 1) if f"(?P<{group[4]}>" not in pattern else pattern
        found = re.fullmatch(pattern, text.strip())
        if not found:
            raise QueryError(f"Invalid date value '{text}': the account's date format is {self.date_format}.")
        day = dt.datetime(int(found["Y"]), int(found["m"]), int(found["d"]), tzinfo=self.zone)
        return int(day.timestamp() * 1000)

    def _to_date(self, text, strftime_format):
        if text is None:
            return None
        fmt = re.sub(r"FF\d?", "%f", strftime_format or "%d-%b-%y")
        try:
            moment = dt.datetime.strptime(str(text), fmt)
        except ValueError:
            raise QueryError(f"The date '{text}' does not match its format.") from None
        return int(moment.replace(tzinfo=self.zone).timestamp() * 1000)

    def _to_char(self, value, strftime_format):
        if value is None:
            return None
        if not isinstance(value, int) or strftime_format is None:
            return str(value)
        moment = dt.datetime.fromtimestamp(value / 1000, self.zone)
        return moment.strftime(re.sub(r"FF\d?", "%f", strftime_format))

    def _today(self):
        now = dt.datetime.now(self.zone)
        return int(dt.datetime(now.year, now.month, now.day, tzinfo=self.zone).timestamp() * 1000)

    # -- the query ---------------------------------------------------------------------------------
    def translate(self, q: str) -> tuple[str, set[str], set[str]]:
        """sqlite SQL for a SuiteQL query, the aliases that hold dates, and the aliases that do not."""
        try:
            statements = sqlglot.parse(q, read="oracle")
        except sqlglot.errors.ParseError as error:
            raise QueryError(f"Syntax error: {str(error).splitlines()[0]}") from None
        statements = [s for s in statements if s is not None]
        if len(statements) != 1 or not isinstance(statements[0], exp.Select):
            raise QueryError("Only one SELECT statement can be run.")
        root = statements[0]
        if root.find(exp.With):
            raise QueryError("WITH is not supported by the sandbox.")
        used = set()
        for table in root.find_all(exp.Table):
            name = table.name.lower()
            if name not in TABLES or table.args.get("db") or table.args.get("catalog"):
                raise QueryError(f"Record '{table.sql(dialect='oracle')}' was not found.")
            used.add(name)
            alias = table.alias or name
            table.set("this", exp.to_identifier(f"ns_{name}"))
            table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        for node in list(root.walk()):
            if isinstance(node, exp.Func) and not isinstance(node, OPERATORS) and type(node) not in FUNCTIONS:
                name = node.name.lower() if isinstance(node, exp.Anonymous) else node.key
                if not (isinstance(node, exp.Anonymous) and name in ANONYMOUS):
                    raise QueryError(f"Unknown or unsupported function '{name.upper()}'.")
            if isinstance(node, exp.Dot):
                raise QueryError(f"Unsupported expression '{node.sql(dialect='oracle')}' (BUILTIN functions are not "
                                 "supported by the sandbox).")
        self._check_columns(root, used)
        self._dates_from_text(root)
        for node in list(root.find_all(exp.StrToDate, exp.StrToTime)):
            node.replace(exp.Anonymous(this="ns_to_date", expressions=[node.this, node.args.get("format")
                                                                        or exp.Literal.string("%d-%b-%y")]))
        for node in list(root.find_all(exp.ToChar)):
            fmt = node.args.get("format")
            strftime = exp.Literal.string(format_time(fmt.name, Oracle.TIME_MAPPING, Oracle.TIME_TRIE)) if fmt else None
            node.replace(exp.Anonymous(this="ns_to_char", expressions=[node.this] + ([strftime] if strftime else [])))
        # TO_CHAR of an expression sqlglot knows to be a date-time (SYSDATE) arrives with its format already in
        # strftime's terms.
        for node in list(root.find_all(exp.TimeToStr)):
            node.replace(exp.Anonymous(this="ns_to_char", expressions=[node.this, node.args["format"]]))
        for node in list(root.find_all(exp.CurrentTimestamp)):
            node.replace(exp.Anonymous(this="ns_now", expressions=[]))
        for node in list(root.find_all(exp.CurrentDate)):
            node.replace(exp.Anonymous(this="ns_today", expressions=[]))
        dates, others = set(), set()
        expressions, unnamed = [], 0
        for projection in root.expressions:
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column)
                                                    and isinstance(projection.this, exp.Star)):
                expressions.append(projection)
                continue
            if isinstance(projection, exp.Alias):
                name, inner = projection.alias.lower(), projection.this
            elif isinstance(projection, exp.Column):
                name, inner = projection.name.lower(), projection
            else:
                unnamed += 1
                name, inner = f"expr{unnamed}", projection
            (dates if _is_date(inner) else others).add(name)
            expressions.append(exp.alias_(inner, name, quoted=True))
        root.set("expressions", expressions)
        ctes = ", ".join(f"ns_{name} AS ({TABLES[name]})" for name in sorted(used))
        # Every identifier quoted: SuiteQL names such as transaction are keywords to sqlite.
        sql = root.sql(dialect="sqlite", identify=True)
        return (f"WITH {ctes} {sql}" if ctes else sql), dates, others

    def _check_columns(self, root, used: set[str]) -> None:
        # sqlite would read a quoted name it does not know as a text literal: every column must be known first.
        known = set().union(*(self.columns()[name] for name in used)) if used else set()
        known |= {node.alias.lower() for node in root.find_all(exp.Alias) if node.alias}
        for column in root.find_all(exp.Column):
            if isinstance(column.this, exp.Star):
                continue
            if column.name.lower() not in known:
                where = f" for record '{column.table}'" if column.table else ""
                raise QueryError(f"Field '{column.name}'{where} was not found.")

    def _dates_from_text(self, root) -> None:
        """'1/15/2024' beside a date column reads in the account's date format (Oracle's implicit conversion)."""
        comparisons = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
        for node in list(root.find_all(*comparisons, exp.Between, exp.In)):
            if isinstance(node, comparisons):
                pairs = [(node.this, node.expression), (node.expression, node.this)]
                for column, other in pairs:
                    if _is_date(column) and isinstance(other, exp.Literal) and other.is_string:
                        other.replace(exp.Literal.number(self.parse_account_date(other.name)))
            else:
                if not _is_date(node.this):
                    continue
                values = [node.args.get("low"), node.args.get("high")] if isinstance(node, exp.Between) \
                    else node.expressions
                for value in values:
                    if isinstance(value, exp.Literal) and value.is_string:
                        value.replace(exp.Literal.number(self.parse_account_date(value.name)))

    def run(self, q: str, query: dict, url: str) -> Answer:
        limit, offset = paging(query, MAX_LIMIT)
        try:
            sql, dates, others = self.translate(q)
        except QueryError as error:
            raise invalid_query(str(error)) from None
        connection = self.store.connection()
        self._functions(connection)
        with self.store.read():
            try:
                total = connection.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()[0]
                reachable = min(total, MAX_RESULTS)
                cursor = connection.execute(f"SELECT * FROM ({sql}) LIMIT ? OFFSET ?",
                                            (max(min(limit, reachable - offset), 0), offset))
                rows = cursor.fetchall()
                names = [column[0].lower() for column in cursor.description]
            except (sqlite3.Error, QueryError) as error:
                raise invalid_query(_sqlite_words(str(error))) from None
        items = []
        for row in rows:
            item: dict = {"links": []}
            for name, value in zip(names, row):
                if value is None or name in item:
                    continue
                is_date = name in dates or (name in DATE_COLUMNS and name not in others)
                item[name] = self.format_date(value) if is_date and isinstance(value, (int, float)) \
                    else _text(value)
            items.append(item)
        body = collection(url, items, limit, offset, min(total, MAX_RESULTS))
        body["totalResults"] = total
        return Answer(200, body, content_type=COLLECTION, records=len(items))

    def _functions(self, connection) -> None:
        connection.create_function("ns_to_date", 2, self._to_date, deterministic=True)
        connection.create_function("ns_to_char", 2, self._to_char, deterministic=True)
        connection.create_function("ns_to_char", 1, lambda value: self._to_char(value, None), deterministic=True)
        connection.create_function("ns_now", 0, lambda: int(time.time() * 1000))
        connection.create_function("ns_today", 0, self._today)


def _is_date(node) -> bool:
    if isinstance(node, exp.Column):
        return node.name.lower() in DATE_COLUMNS
    if isinstance(node, (exp.Max, exp.Min, exp.Coalesce)):
        return _is_date(node.this)
    if isinstance(node, exp.Anonymous):
        return node.name in ("ns_to_date", "ns_now", "ns_today")
    return isinstance(node, (exp.StrToDate, exp.StrToTime, exp.CurrentDate, exp.CurrentTimestamp))


def _text(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(round(value, 8))
    return str(value)


def _sqlite_words(message: str) -> str:
    message = message.replace("ns_", "")
    found = re.match(r"no such column: (.+)", message)
    if found:
        return f"Field '{found.group(1)}' was not found."
    return message[:1].upper() + message[1:] + "."
