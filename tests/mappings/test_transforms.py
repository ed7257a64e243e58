"""Every transform, and map_record's handling of empty, required and default values. Pure functions: no server."""
from datetime import date, datetime

import pytest

from mappings.transforms import TRANSFORM_CHOICES, TRANSFORMS, MappingError, MappingRow, map_record

MAPS = {"fee_item": {"FEE-ORIG": "101"}, "subsidiary": {"Switzerland": "2"}}


def mapped(transform, value, argument="", record=None):
    row = MappingRow("Source", "target", transform, argument)
    return map_record([row], {"Source": value, **(record or {})}, value_maps=MAPS)["target"]


@pytest.mark.parametrize("transform, value, argument, expected", [
    ("none", {"a": 1}, "", {"a": 1}),
    ("strip", "  O'Brien & Sons \n", "", "O'Brien & Sons"),
    ("upper", "ach", "", "ACH"),
    ("lower", "ACH", "", "ach"),
    ("truncate", "abcdef", "3", "abc"),
    ("date", "2024-02-29T23:59:00.000+0000", "", "2024-02-29"),
    ("date", datetime(2024, 3, 1, 8, 30), "", "2024-03-01"),
    ("datetime", "2024-02-29", "", "2024-02-29T00:00:00"),
    ("datetime", "2024-02-29T10:00:00Z", "", "2024-02-29T10:00:00+00:00"),
    ("datetime", date(2024, 1, 2), "", "2024-01-02T00:00:00"),
    ("decimal", "10.005", "2", 10.01),
    ("decimal", 7, "0", 7.0),
    ("string", 1250.5, "", "1250.5"),
    ("string", 100.0, "", "100"),
    ("boolean", "Yes", "", True),
    ("boolean", "0", "", False),
    ("value_map", "FEE-ORIG", "fee_item", "101"),
    ("record_ref", "001000000000001AAA", "customer", {"externalId": "001000000000001AAA", "type": "customer"}),
    ("template", "A-17", "Application {value}", "Application A-17"),
    ("remove_suffix", "006A-COMMISSION", "-COMMISSION", "006A"),
    ("netsuite_ref", "Switzerland", "subsidiary", {"internalId": "2", "type": "subsidiary"}),
])
def test_it_transforms_a_value(transform, value, argument, expected):
    assert mapped(transform, value, argument) == expected


def test_it_takes_a_percentage_of_another_field_rounded_to_cents():
    assert mapped("percent_of", "2.5", "Amount", record={"Amount": 10001}) == 250.03


def test_every_transform_is_tested_here():
    tested = {"none", "strip", "upper", "lower", "truncate", "date", "datetime", "decimal", "string", "boolean",
              "value_map", "record_ref", "template", "remove_suffix", "percent_of", "netsuite_ref"}
    assert set(TRANSFORMS) == tested
    assert [name for name, _ in TRANSFORM_CHOICES] == list(TRANSFORMS)


@pytest.mark.parametrize("transform, value, argument, message", [
    ("value_map", "FEE-NEW", "fee_item", "No value mapping in 'fee_item' for Source = 'FEE-NEW'."),
    ("remove_suffix", "006A", "-COMMISSION", "does not end with '-COMMISSION'"),
    ("decimal", "ten", "2", "decimal failed on 'ten'"),
    ("date", "31/12/2024", "", "date failed on '31/12/2024'"),
    ("percent_of", "2.5", "Amount", "target needs Amount, which is empty."),
    ("spin", "x", "", "Unknown transform 'spin' on target."),
])
def test_it_fails_a_value_it_cannot_transform_naming_it(transform, value, argument, message):
    with pytest.raises(MappingError) as raised:
        mapped(transform, value, argument)
    assert message in raised.value.message


def test_it_refuses_an_empty_required_value_and_skips_an_empty_optional_one():
    rows = [MappingRow("Name", "companyName", "strip", required=True), MappingRow("Phone", "phone", "strip")]
    assert map_record(rows, {"Name": "Acme", "Phone": "  "}, value_maps={}) == {"companyName": "Acme"}
    with pytest.raises(MappingError, match="companyName is required, but Name is empty"):
        map_record(rows, {"Name": None}, value_maps={})


def test_it_uses_the_default_when_the_source_is_empty_and_transforms_it():
    row = MappingRow("", "item", "value_map", "fee_item", required=True, default="FEE-ORIG")
    assert map_record([row], {}, value_maps=MAPS) == {"item": "101"}


def test_it_reads_a_parent_field_by_its_path():
    row = MappingRow("Account.Name", "memo", "template", "For {value}")
    assert map_record([row], {"Account": {"Name": "Acme"}}, value_maps={}) == {"memo": "For Acme"}


def test_a_row_reads_its_argument_field_only_when_the_transform_says_so():
    assert MappingRow("Commission_Percent__c", "amount", "percent_of", "Amount").source_fields == ["Commission_Percent__c", "Amount"]
    assert MappingRow("Name", "memo", "template", "Amount").source_fields == ["Name"]
