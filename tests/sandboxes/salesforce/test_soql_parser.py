"""The SOQL subset: parsed exactly, and anything outside it refused (no server needed)."""
import pytest

from sandboxes.salesforce import soql
from sandboxes.salesforce.errors import ApiError
from sandboxes.salesforce.query import compile_soql as compile_query, datetime_value


def error_code(text):
    with pytest.raises(ApiError) as caught:
        compile_query(text)
    return caught.value.code


def test_it_parses_fields_parents_and_a_child_subquery():
    query = soql.parse("SELECT Id, Account.Name, Broker__r.Name, (SELECT Id, ProductCode FROM OpportunityLineItems "
                       "WHERE Quantity > 0 ORDER BY ProductCode LIMIT 5) FROM Opportunity")
    assert [f.path for f in query.fields] == [["Id"], ["Account", "Name"], ["Broker__r", "Name"]]
    assert query.subqueries[0].object_name == "OpportunityLineItems"
    assert query.subqueries[0].limit == 5


def test_it_keeps_and_or_not_and_parentheses_as_written():
    query = soql.parse("SELECT Id FROM Account WHERE (Type = 'Broker' OR Type = null) AND NOT Name LIKE 'A%'")
    assert query.where.op == "AND"
    assert query.where.items[0].op == "OR"
    assert isinstance(query.where.items[1], soql.Not)


def test_it_refuses_and_mixed_with_or_without_parentheses():
    with pytest.raises(ApiError) as caught:
        soql.parse("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Phone = 'c'")
    assert caught.value.code == "MALFORMED_QUERY"
    assert "unexpected token: 'OR'" in caught.value.message


def test_it_reads_escapes_the_way_format_soql_writes_them():
    from simple_salesforce.format import format_soql
    text = format_soql("SELECT Id FROM Account WHERE Name = {} AND Description LIKE '{:like}%'",
                       "O'Brien \\ \"Sons\"\n", "100%_")
    query = soql.parse(text)
    assert soql.plain(query.where.items[0].value.value) == "O'Brien \\ \"Sons\"\n"
    assert soql.like_pattern(query.where.items[1].value.value) == "100\\%\\_%"


def test_it_parses_order_by_with_directions_and_nulls_limit_and_offset():
    query = soql.parse("SELECT Id FROM Contact ORDER BY LastName DESC NULLS FIRST, FirstName, Id ASC NULLS LAST "
                       "LIMIT 10 OFFSET 20")
    assert [(o.field.dotted, o.descending, o.nulls_last) for o in query.order_by] == [
        ("LastName", True, False), ("FirstName", False, None), ("Id", False, True)]
    assert (query.limit, query.offset) == (10, 20)


def test_it_parses_count():
    assert soql.parse("SELECT COUNT() FROM Account WHERE Type = 'Broker'").count


@pytest.mark.parametrize("text", [
    "SELECT Id FROM Account GROUP BY Name",
    "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
    "SELECT Type, COUNT(Id) FROM Account GROUP BY ROLLUP(Type)",
    "SELECT CALENDAR_YEAR(CreatedDate) FROM Account",
    "SELECT Id FROM Account WHERE CreatedDate = LAST_N_FORTNIGHTS:3",
    "SELECT Id FROM Account WHERE Name = 'unterminated",
    "SELECT Id, FROM Account",
    "SELECT Id FROM Account LIMIT -1",
    "SELECT Id FROM Account WHERE",
    "SELECT FIELDS(ALL) FROM Account",
    "SELECT Id FROM Account FOR UPDATE",
    "SELECT Id FROM Account WHERE Name = 'a' ; DELETE",
    "SELECT COUNT(Id), (SELECT Id FROM Contacts) FROM Account",
    "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    "",
])
def test_it_refuses_anything_outside_the_subset(text):
    assert error_code(text) == "MALFORMED_QUERY"


def test_it_names_unknown_fields_objects_and_relationships():
    assert error_code("SELECT Id, Nmae FROM Account") == "INVALID_FIELD"
    assert error_code("SELECT Id FROM Account WHERE Foo__c = 'x'") == "INVALID_FIELD"
    assert error_code("SELECT Id FROM Account ORDER BY Nope") == "INVALID_FIELD"
    assert error_code("SELECT Id, Acount.Name FROM Contact") == "INVALID_FIELD"
    assert error_code("SELECT Id, (SELECT Id FROM Nothings) FROM Account") == "INVALID_FIELD"
    assert error_code("SELECT Id FROM Acount") == "INVALID_TYPE"


def test_it_checks_literal_types_against_the_field():
    assert error_code("SELECT Id FROM Account WHERE Name = 5") == "MALFORMED_QUERY"
    assert error_code("SELECT Id FROM Opportunity WHERE Amount > '5'") == "MALFORMED_QUERY"
    assert error_code("SELECT Id FROM Opportunity WHERE CloseDate > 2024-01-01T00:00:00Z") == "MALFORMED_QUERY"
    assert error_code("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01") == "MALFORMED_QUERY"
    assert error_code("SELECT Id FROM Account WHERE Id = 'nope'") == "INVALID_QUERY_FILTER_OPERATOR"
    assert error_code("SELECT Id FROM Account WHERE Description = 'x'") == "INVALID_FIELD"


def test_it_compiles_values_to_parameters_never_into_the_sql():
    compiled = compile_query(r"SELECT Id FROM Account WHERE Name = 'x\' OR 1=1 --' AND Type IN ('Broker', null)")
    assert "1=1" not in compiled.where_sql
    assert compiled.params == ["x' OR 1=1 --", "Broker"]


def test_it_treats_inequality_as_including_nulls_like_soql():
    compiled = compile_query("SELECT Id FROM Account WHERE Type != 'Broker'")
    assert "IS NULL OR" in compiled.where_sql


def test_it_normalises_date_time_literals_to_utc_milliseconds():
    assert datetime_value("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00.000+0000"
    assert datetime_value("2024-01-01T02:30:00.123456+02:30") == "2024-01-01T00:00:00.123+0000"
    assert datetime_value("2024-01-01T00:00:00-0500") == "2024-01-01T05:00:00.000+0000"


def test_it_excludes_deleted_rows_unless_query_all():
    assert '"IsDeleted" = 0' in compile_query("SELECT Id FROM Account").where_sql
    assert '"IsDeleted"' not in compile_query("SELECT Id FROM Account", include_deleted=True).where_sql
