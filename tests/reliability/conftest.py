"""The fault matrix's sandboxes (one pair for the module, put back to their fresh state before every case), the
scenario of each case, and the table of settle times printed at the end of the session and written to
var/reliability-report.txt."""
import shutil
import time

import pytest

from sandboxes.netsuite.process import run_netsuite_sandbox
from sandboxes.salesforce.process import run_salesforce_sandbox, seed
from sandboxes.salesforce.store import DB_NAME
from tests.conftest import PROJECT_ROOT
from tests.hub_workers import worker_environment

from .census import NetSuiteReader
from .harness import NETSUITE_BASELINE, REPORT, Scenario, backend

# Enough records for many batches of five: 40 accounts (6 brokers), 80 contacts, 80 applications of which about 30
# are funded with two to four fee lines each and about a third of those brokered (a commission purchase order each).
SEED = {"accounts": 40, "contacts_per_account": 2, "applications": 80, "broker_share": 0.15,
        "remittances_per_funded": 0, "random_seed": 7}
REPORT_FILE = PROJECT_ROOT / "var" / "reliability-report.txt"


class SalesforceOrg:
    """The Salesforce sandbox and a copy of its freshly seeded store, to go back to between cases (the sandbox
    keeps its data across restarts and has no reset to a seed of its own)."""

    def __init__(self, sandbox, pristine):
        self.sandbox, self.pristine = sandbox, pristine

    def restore(self) -> None:
        self.sandbox.stop()
        for suffix in ("", "-wal", "-shm"):
            (self.sandbox.data_dir / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
        for path in self.pristine.iterdir():
            shutil.copy2(path, self.sandbox.data_dir / path.name)
        self.sandbox.start()


@pytest.fixture(scope="module")
def salesforce_org(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("salesforce")
    seed(data_dir, SEED)
    pristine = tmp_path_factory.mktemp("salesforce-seeded")
    for path in data_dir.glob(f"{DB_NAME}*"):
        shutil.copy2(path, pristine / path.name)
    with run_salesforce_sandbox(data_dir) as sandbox:
        yield SalesforceOrg(sandbox, pristine)


@pytest.fixture(scope="module")
def netsuite_sandbox(tmp_path_factory):
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def netsuite_reader(netsuite_sandbox):
    return NetSuiteReader(netsuite_sandbox)


def netsuite_fresh(netsuite) -> None:
    """No fault, no record, no request from an earlier case still in the sandbox (a slow answer can outlive its
    case's workers)."""
    netsuite.control(clear_faults=True, **NETSUITE_BASELINE)
    deadline = time.monotonic() + 30
    while netsuite.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.1)
    netsuite.reset()


@pytest.fixture
def scenario(request, seeded_hub, hub_process_env, hub_processes, salesforce_org, netsuite_sandbox, netsuite_reader):
    salesforce_org.restore()
    netsuite_fresh(netsuite_sandbox)
    env = worker_environment(hub_process_env, salesforce_org.sandbox, netsuite_sandbox)
    case = Scenario(case=request.node.name, salesforce=salesforce_org.sandbox, netsuite=netsuite_sandbox,
                    reader=netsuite_reader, hub_processes=hub_processes, env=env)
    yield case
    report = getattr(request.node, "rep_call", None)
    outcome = "skipped" if report is None or report.skipped else ("passed" if report.passed else "FAILED")
    if outcome == "skipped":
        reason = report.longrepr[2] if report is not None and isinstance(report.longrepr, tuple) else ""
        REPORT.append({"case": case.case, "outcome": "skipped", "backend": backend(), "problems": reason})
        return
    row = case.row(outcome)
    REPORT.append(row)
    print(f"\n[reliability] {row['case']} ({row['backend']}): {outcome}, fault {_seconds(row['fault_seconds'])}, "
          f"settle {row['settle']} s, waiting for a person {row['waiting']}, {row['census']}; NetSuite faults: "
          f"{row['faults']}; {row['notes']}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.1f} s"


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    header = ("case", "backend", "result", "workers", "fault", "settle (s)", "waiting for a person", "in the sandboxes")
    rows = [(row["case"].removeprefix("test_it_"), row["backend"], row["outcome"], str(row.get("workers", "-")),
             _seconds(row.get("fault_seconds")), row.get("settle", "-"), row.get("waiting", "-"), row.get("census", "-"))
            for row in REPORT]
    widths = [min(64, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    lines = ["  ".join(cell[:64].ljust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *rows]]
    lines.append("")
    lines.append("settle: seconds from the fault clearing to nothing open and both systems agreeing (counted in the sandboxes)")
    data = next((row["counts"] for row in REPORT if row.get("counts") and row["outcome"] == "passed"), None)
    if data:
        lines.append(f"data set: Salesforce {data['salesforce']}, NetSuite after a case that passed {data['netsuite']}")
    for row in REPORT:
        details = [f"problems: {row['problems']}" if row.get("problems") else "",
                   f"waiting for a person: {row['waiting']}" if row.get("waiting", "0") != "0" else "",
                   f"NetSuite faults: {row['faults']}" if row.get("faults", "-") != "-" else "",
                   row.get("notes", "")]
        lines.append(f"- {row['case']} ({row['backend']}, {row['outcome']}): " + "; ".join(d for d in details if d))
    terminalreporter.write_sep("=", "reliability fault matrix")
    for line in lines:
        terminalreporter.write_line(line)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text("\n".join(lines) + "\n")
    terminalreporter.write_line(f"(also written to {REPORT_FILE.relative_to(PROJECT_ROOT)})")
