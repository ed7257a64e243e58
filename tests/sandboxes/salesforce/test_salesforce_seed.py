"""The seeder: deterministic, any size, and full of the values that break integrations (no server needed)."""
import sqlite3

from sandboxes.salesforce.schema import OPPORTUNITY_STAGES
from sandboxes.salesforce.seed import SeedPlan, seed_org
from sandboxes.salesforce.store import Store


def snapshot(data_dir):
    connection = sqlite3.connect(data_dir / "org.sqlite3")
    try:
        return {
            "accounts": connection.execute('SELECT "Id", "Name", "Type" FROM "Account" ORDER BY rowid').fetchall(),
            "applications": connection.execute('SELECT "Id", "Name", "StageName", "Amount", "Broker__c" '
                                               'FROM "Opportunity" ORDER BY rowid').fetchall(),
            "contacts": connection.execute('SELECT "LastName", "Email" FROM "Contact" ORDER BY rowid').fetchall(),
        }
    finally:
        connection.close()


def test_it_seeds_the_same_org_from_the_same_seed(tmp_path):
    plan = SeedPlan(accounts=60, contacts_per_account=2, random_seed=3)
    seed_org(Store(tmp_path / "a"), plan)
    seed_org(Store(tmp_path / "b"), plan)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_it_seeds_the_values_that_break_integrations(tmp_path):
    counts = seed_org(Store(tmp_path), SeedPlan(accounts=40, contacts_per_account=3, random_seed=1))
    assert counts["Account"] == 40 and counts["Contact"] == 120
    data = snapshot(tmp_path)
    names = [name for _, name, _ in data["accounts"]]
    for awkward in ("O'Brien & Sons", "Café Zürich GmbH", "株式会社サンプル商事", "100% Organic_Foods LLC"):
        assert awkward in names
    assert names.count("Acme Corp") == 3
    assert max(len(name) for name in names) == 255
    assert any(email is None for _, email in data["contacts"])
    assert max(len(last) for last, _ in data["contacts"]) == 80
    assert {stage for _, _, stage, _, _ in data["applications"]} == set(OPPORTUNITY_STAGES)
    assert any(broker for *_, broker in data["applications"])
    assert "Broker" in {kind for _, _, kind in data["accounts"]}


def test_it_seeds_and_resets_from_the_command_line(tmp_path, capsys):
    from sandboxes.salesforce import cli, schema

    assert cli.main(["seed", "--data-dir", str(tmp_path), "--accounts", "12", "--random-seed", "5"]) == 0
    assert '"Account": 12' in capsys.readouterr().out
    assert Store(tmp_path).count(schema.BY_NAME["Account"]) == 12
    assert cli.main(["reset", "--data-dir", str(tmp_path)]) == 0
    assert Store(tmp_path).count(schema.BY_NAME["Account"]) == 0
