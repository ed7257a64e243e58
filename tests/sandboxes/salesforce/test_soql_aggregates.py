"""Date literals and aggregate queries in the SOQL compiler (no server needed)."""
import datetime as dt

import pytest

from sandboxes.salesforce.date_literals import bounds, date_range
from sandboxes.salesforce.errors import ApiError
from sandboxes.salesforce.query import compile_soql

TUESDAY = dt.date(2026, 12, 1)


def failure(text):
    with pytest.raises(ApiError) as caught:
        compile_soql(text)
    return caught.value.code, caught.value.message.splitlines()[-1]


@pytest.mark.parametrize("literal, n, first, after", [
    ("TODAY", None, "2026-12-01", "2026-12-02"),
    ("YESTERDAY", None, "2026-11-30", "2026-12-01"),
    ("TOMORROW", None, "2026-12-02", "2026-12-03"),
    ("THIS_WEEK", None, "2026-11-29", "2026-12-06"),         # weeks start on Sunday (en_US)
    ("LAST_WEEK", None, "2026-11-22", "2026-11-29"),
    ("NEXT_WEEK", None, "2026-12-06", "2026-12-13"),
    ("THIS_MONTH", None, "2026-12-01", "2027-01-01"),
    ("LAST_MONTH", None, "2026-11-01", "2026-12-01"),
    ("NEXT_MONTH", None, "2027-01-01", "2027-02-01"),
    ("THIS_QUARTER", None, "2026-10-01", "2027-01-01"),
    ("NEXT_QUARTER", None, "2027-01-01", "2027-04-01"),
    ("THIS_YEAR", None, "2026-01-01", "2027-01-01"),
    ("LAST_YEAR", None, "2025-01-01", "2026-01-01"),
    ("THIS_FISCAL_YEAR", None, "2026-01-01", "2027-01-01"),  # the default fiscal year starts in January
    ("LAST_90_DAYS", None, "2026-09-02", "2026-12-02"),       # includes today
    ("NEXT_90_DAYS", None, "2026-12-02", "2027-03-02"),       # starts tomorrow
    ("LAST_N_DAYS", 7, "2026-11-24", "2026-12-02"),
    ("NEXT_N_DAYS", 3, "2026-12-02", "2026-12-05"),
    ("N_DAYS_AGO", 2, "2026-11-29", "2026-11-30"),
    ("LAST_N_MONTHS", 2, "2026-10-01", "2026-12-01"),
    ("N_YEARS_AGO", 1, "2025-01-01", "2026-01-01"),
])
def test_it_reads_date_literals_as_ranges_of_days(literal, n, first, after):
    assert tuple(d.isoformat() for d in date_range(literal, n, TUESDAY)) == (first, after)


def test_it_puts_date_time_bounds_at_the_users_midnight_in_utc():
    # 03:00 UTC on 1 December is still 30 November in New York.
    now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc)
    assert bounds("TODAY", None, datetime_field=True, zone="America/New_York", now=now) == (
        "2026-11-30T05:00:00.000+0000", "2026-12-01T05:00:00.000+0000")
    assert bounds("TODAY", None, datetime_field=False, zone="America/New_York", now=now) == (
        "2026-11-30", "2026-12-01")


def test_it_compiles_date_literal_comparisons_to_range_parameters():
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    inside = compile_soql("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:7", now=now)
    assert inside.params == ["2026-11-24", "2026-12-02"]
    before = compile_soql("SELECT Id FROM Opportunity WHERE CloseDate < THIS_MONTH", now=now)
    assert before.params == ["2026-12-01"] and '"CloseDate" < ?' in before.where_sql
    after = compile_soql("SELECT Id FROM Account WHERE CreatedDate > TODAY", now=now)
    assert after.params == ["2026-12-02T05:00:00.000+0000"] and '"CreatedDate" >= ?' in after.where_sql


def test_it_refuses_date_literals_where_soql_does():
    assert failure("SELECT Id FROM Account WHERE Name = TODAY")[0] == "MALFORMED_QUERY"
    assert failure("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS")[0] == "MALFORMED_QUERY"
    assert failure("SELECT Id FROM Account WHERE CreatedDate = LAST_N_WEEKDAYS:2") == (
        "MALFORMED_QUERY", "unexpected token: 'LAST_N_WEEKDAYS:2'")


def test_it_compiles_group_by_with_parameters_only():
    compiled = compile_soql("SELECT Type, COUNT(Id) n FROM Account WHERE Name LIKE 'A%' GROUP BY Type "
                            "HAVING COUNT(Id) > 2 ORDER BY COUNT(Id) DESC")
    assert [o.key for o in compiled.aggregate.outputs] == ["Type", "n"]
    assert compiled.params == ["A%", 2.0]
    assert "'A%'" not in compiled.aggregate.sql


def test_it_names_unaliased_aggregates_expr0_expr1_in_order():
    compiled = compile_soql("SELECT MIN(CloseDate), SUM(Amount) total, MAX(Amount) FROM Opportunity")
    assert [o.key for o in compiled.aggregate.outputs] == ["expr0", "total", "expr1"]


@pytest.mark.parametrize("text, code, message", [
    ("SELECT Name, COUNT(Id) FROM Account GROUP BY Type", "MALFORMED_QUERY",
     "Field must be grouped or aggregated: Name"),
    ("SELECT Name n FROM Account", "MALFORMED_QUERY", "Only aggregate expressions use field aliasing"),
    ("SELECT SUM(Name) FROM Account", "MALFORMED_QUERY", "field Name does not support aggregate operator SUM"),
    ("SELECT Amount, COUNT(Id) FROM Opportunity GROUP BY Amount", "INVALID_FIELD",
     "field 'Amount' can not be grouped in a query call"),
    ("SELECT Type, COUNT(Id) FROM Account GROUP BY Type HAVING Name = 'x'", "MALFORMED_QUERY",
     "Field must be grouped or aggregated: Name"),
    ("SELECT Type, COUNT(Id) FROM Account GROUP BY Type ORDER BY Name", "MALFORMED_QUERY",
     "Ordered field must be grouped or aggregated: Name"),
    ("SELECT Id FROM Account WHERE COUNT(Id) > 1", "MALFORMED_QUERY", "unexpected token: 'COUNT'"),
    ("SELECT Type, COUNT(Id) c, MAX(Name) c FROM Account GROUP BY Type", "MALFORMED_QUERY", "duplicate alias: c"),
])
def test_it_refuses_malformed_aggregate_queries_with_salesforce_messages(text, code, message):
    assert failure(text) == (code, message)


def test_it_compares_aggregated_dates_with_date_literals_in_having():
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    compiled = compile_soql("SELECT AccountId, MAX(CloseDate) FROM Opportunity GROUP BY AccountId "
                            "HAVING MAX(CloseDate) < THIS_MONTH", now=now)
    assert compiled.params == ["2026-12-01"] and 'MAX(t0."CloseDate") < ?' in compiled.aggregate.sql
