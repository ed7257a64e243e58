"""The org's integration user (the User record every session runs as) and the org's Organization record.

Clients look it up after logging in (jsforce's `identity()`, the Salesforce CLI's `SELECT ... FROM User WHERE
Username = '...'`), so it must be a queryable record whose Id is the `userId` the logins report and whose
Username is the one the sandbox accepts.
"""
from . import schema
from .records import ORG_ID, USER_ID
from .store import Store, now_stamp

# The same zone and locale the SOAP login reports in userInfo; SOQL's date literals are read in this zone.
TIME_ZONE = "America/New_York"
LOCALE = "en_US"
PROFILE_ID = "00e5g000000AAAAAA0"
FULL_NAME = ("Integration", "User")
# Must agree with the SOAP login's userInfo (organizationName, and <sandbox>true</sandbox>).
ORG_NAME = "Integration Hub Sandbox"


def ensure_integration_user(store: Store, username: str):
    """Create the user on first start; follow a changed username (the credentials come from the environment)."""
    obj = schema.BY_NAME["User"]
    with store.transaction() as conn:
        row = store.get(obj, USER_ID, conn=conn, include_deleted=True)
        if row is not None:
            if row["Username"] != username:
                now = now_stamp()
                store.update(conn, obj, USER_ID, {"Username": username, "Email": username, "LastModifiedDate": now,
                                                  "SystemModstamp": now})
            return
        now = now_stamp()
        first, last = FULL_NAME
        store.insert(conn, obj, {
            "Id": USER_ID, "IsDeleted": False, "CreatedDate": now, "CreatedById": USER_ID, "LastModifiedDate": now,
            "LastModifiedById": USER_ID, "SystemModstamp": now, "Username": username, "Name": f"{first} {last}",
            "FirstName": first, "LastName": last, "Email": username, "Alias": "integ", "IsActive": True,
            "TimeZoneSidKey": TIME_ZONE, "LocaleSidKey": LOCALE, "LanguageLocaleKey": LOCALE,
            "EmailEncodingKey": "UTF-8", "UserType": "Standard", "ProfileId": PROFILE_ID,
        })


def ensure_organization(store: Store):
    """Create the org's one Organization record on first start (an older data dir gets it on its next start)."""
    obj = schema.BY_NAME["Organization"]
    with store.transaction() as conn:
        if store.get(obj, ORG_ID, conn=conn, include_deleted=True) is not None:
            return
        now = now_stamp()
        store.insert(conn, obj, {
            "Id": ORG_ID, "IsDeleted": False, "CreatedDate": now, "CreatedById": USER_ID, "LastModifiedDate": now,
            "LastModifiedById": USER_ID, "SystemModstamp": now, "Name": ORG_NAME, "InstanceName": "CS1",
            "IsSandbox": True, "TrialExpirationDate": None, "NamespacePrefix": None,
            "OrganizationType": "Enterprise Edition", "TimeZoneSidKey": TIME_ZONE, "LanguageLocaleKey": LOCALE,
            "DefaultLocaleSidKey": LOCALE, "Country": "US",
        })
