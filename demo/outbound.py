"""The demo org's outbound messages, as an admin would set them up in Setup (a record-triggered Flow per object with
a "Send Outbound Message" action): each sends the record's id and change time to the hub's hook, which reads the
record again from Salesforce. Used by `make run`, the end-to-end test and bench/outbound.py."""


def outbound_messages(hook_url: str) -> list[dict]:
    return [
        {"object": "Account", "name": "Account_to_hub", "url": hook_url, "fields": ["Name", "LastModifiedDate"]},
        {"object": "Contact", "name": "Contact_to_hub", "url": hook_url, "fields": ["AccountId", "LastModifiedDate"]},
        # Only funded applications go to NetSuite: the Flow's entry condition.
        {"object": "Opportunity", "name": "Funded_application_to_hub", "url": hook_url,
         "fields": ["StageName", "LastModifiedDate"], "criteria": {"StageName": "Funded"}},
        # A changed fee changes its order's lines (the hub reads the application; an unfunded one is left alone).
        {"object": "OpportunityLineItem", "name": "Fee_line_to_hub", "url": hook_url,
         "fields": ["OpportunityId", "LastModifiedDate"]},
    ]


def hook_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/hooks/salesforce/outbound/{token}/"
