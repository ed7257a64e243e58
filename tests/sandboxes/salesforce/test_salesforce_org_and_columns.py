"""The Organization record and the query resource's `columns=true` form, which the Salesforce CLI reads after its
login and before it prints a query's rows."""


def test_it_answers_the_organization_query_with_the_org_the_logins_report(sf):
    rows = sf.query("SELECT Id, Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, "
                    "OrganizationType FROM Organization")["records"]
    assert len(rows) == 1
    org = rows[0]
    assert org["Id"].startswith("00D")
    assert org["Name"] == "Integration Hub Sandbox"
    assert org["IsSandbox"] is True and org["TrialExpirationDate"] is None and org["NamespacePrefix"] is None
    assert org["OrganizationType"] == "Enterprise Edition"


def test_it_refuses_writes_to_the_organization(api):
    response = api.post(api.base + "/sobjects/Organization", json={"Name": "Another"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_it_answers_column_metadata_instead_of_rows(api):
    response = api.get(api.base + "/query", params={
        "q": "SELECT Id, Name, Owner__x FROM Account", "columns": "true"})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FIELD"
    response = api.get(api.base + "/query", params={
        "q": "SELECT Id, Name, Account.Name, (SELECT LastName FROM Contacts) FROM Contact LIMIT 1", "columns": "true"})
    assert response.status_code == 400   # Contacts is not a child relationship of Contact
    response = api.get(api.base + "/query", params={
        "q": "SELECT Id, Name, (SELECT LastName FROM Contacts) FROM Account", "columns": "true"})
    assert response.status_code == 200
    body = response.json()
    assert "records" not in body
    assert (body["entityName"], body["keyPrefix"], body["idSelected"], body["groupBy"]) == ("Account", "001", True,
                                                                                            False)
    columns = body["columnMetadata"]
    assert [c["columnName"] for c in columns] == ["Id", "Name", "Contacts"]
    assert columns[1]["textType"] is True and columns[1]["updatable"] is True and columns[1]["aggregate"] is False
    assert columns[2]["aggregate"] is True and [c["columnName"] for c in columns[2]["joinColumns"]] == ["LastName"]


def test_it_nests_parent_fields_and_names_aggregates_in_column_metadata(api):
    parent = api.get(api.base + "/query", params={"q": "SELECT LastName, Account.Name FROM Contact",
                                                  "columns": "true"}).json()["columnMetadata"]
    assert parent[1]["columnName"] == "Account" and parent[1]["foreignKeyName"] == "AccountId"
    assert [(c["columnName"], c["displayName"]) for c in parent[1]["joinColumns"]] == [("Name", "Account.Name")]
    grouped = api.get(api.base + "/query", params={"q": "SELECT Type, COUNT(Id) FROM Account GROUP BY Type",
                                                   "columns": "true"}).json()
    assert grouped["groupBy"] is True
    assert [(c["columnName"], c["displayName"], c["aggregate"]) for c in grouped["columnMetadata"]] == [
        ("Type", "Type", False), ("expr0", "COUNT(Id)", True)]
