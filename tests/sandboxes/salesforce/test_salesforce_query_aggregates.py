"""GROUP BY, aggregate functions and date literals over HTTP, through simple-salesforce."""
import datetime as dt
import zoneinfo

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.slow


def test_it_groups_and_counts_like_a_real_org(sf):
    result = sf.query("SELECT Type, COUNT(Id) accounts, COUNT_DISTINCT(Industry) FROM Account GROUP BY Type "
                      "ORDER BY COUNT(Id) DESC")
    assert result["done"] is True and result["totalSize"] == len(result["records"])
    first = result["records"][0]
    assert first["attributes"] == {"type": "AggregateResult"}
    assert set(first) == {"attributes", "Type", "accounts", "expr0"}
    counts = {r["Type"]: r["accounts"] for r in result["records"]}
    for account_type, count in counts.items():
        where = "Type = null" if account_type is None else f"Type = '{account_type}'"
        assert sf.query(f"SELECT COUNT() FROM Account WHERE {where}")["totalSize"] == count
    assert sum(counts.values()) == sf.query("SELECT COUNT() FROM Account")["totalSize"]
    assert [r["accounts"] for r in result["records"]] == sorted(counts.values(), reverse=True)


def test_it_sums_averages_and_filters_groups_with_having(sf):
    rows = sf.query_all("SELECT Id, StageName, Amount FROM Opportunity")["records"]
    by_stage = {}
    for row in rows:
        by_stage.setdefault(row["StageName"], []).append(row["Amount"])
    result = sf.query("SELECT StageName, SUM(Amount) total, AVG(Amount), MIN(Amount), MAX(Amount) FROM Opportunity "
                      "GROUP BY StageName HAVING COUNT(Id) > 1")
    assert {r["StageName"] for r in result["records"]} == {s for s, a in by_stage.items() if len(a) > 1}
    for record in result["records"]:
        amounts = [a for a in by_stage[record["StageName"]] if a is not None]
        assert record["total"] == pytest.approx(sum(amounts))
        assert record["expr0"] == pytest.approx(sum(amounts) / len(amounts))
        assert (record["expr1"], record["expr2"]) == (min(amounts), max(amounts))


def test_it_answers_an_aggregate_without_group_by_with_one_row(sf):
    result = sf.query("SELECT COUNT(Id), MAX(Name) FROM Account WHERE Name = 'No Such Account Anywhere'")
    assert result["totalSize"] == 1
    assert result["records"][0] == {"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": None}


def test_it_groups_by_a_parent_field_under_its_own_name(sf):
    result = sf.query("SELECT Account.Type, COUNT(Id) FROM Contact GROUP BY Account.Type")
    assert all(set(r) == {"attributes", "Type", "expr0"} for r in result["records"])
    assert sum(r["expr0"] for r in result["records"]) == sf.query("SELECT COUNT() FROM Contact")["totalSize"]


def test_it_counts_groups_with_count_and_group_by(sf):
    groups = sf.query("SELECT Type FROM Account GROUP BY Type")["totalSize"]
    assert sf.query("SELECT COUNT() FROM Account GROUP BY Type") == {"totalSize": groups, "done": True,
                                                                     "records": []}


def test_it_refuses_a_field_neither_grouped_nor_aggregated(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Name, COUNT(Id) FROM Account GROUP BY Type")
    error = caught.value.content[0]
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert error["message"].endswith("Field must be grouped or aggregated: Name")


def test_it_filters_by_date_literals_in_the_users_time_zone(sf):
    today = dt.datetime.now(zoneinfo.ZoneInfo("America/New_York")).date()
    account = sf.Account.create({"Name": "Date Literal Merchant"})["id"]
    close_dates = {"today": today, "yesterday": today - dt.timedelta(days=1), "old": today - dt.timedelta(days=120),
                   "soon": today + dt.timedelta(days=5)}
    for label, close_date in close_dates.items():
        sf.Opportunity.create({"Name": f"Date Literal {label}", "AccountId": account, "StageName": "Underwriting",
                               "CloseDate": close_date.isoformat()})

    def names(condition):
        records = sf.query(f"SELECT Name FROM Opportunity WHERE AccountId = '{account}' AND {condition}")["records"]
        return {r["Name"].removeprefix("Date Literal ") for r in records}

    assert names("CloseDate = TODAY") == {"today"}
    assert names("CloseDate = YESTERDAY") == {"yesterday"}
    assert names("CloseDate = LAST_N_DAYS:30") == {"today", "yesterday"}
    assert names("CloseDate = NEXT_N_DAYS:7") == {"soon"}
    assert names("CloseDate < LAST_90_DAYS") == {"old"}
    assert names("CloseDate > TODAY") == {"soon"}
    assert names("CreatedDate = TODAY") == set(close_dates)    # a dateTime field, against New York's day
    assert names("CreatedDate < YESTERDAY") == set()
