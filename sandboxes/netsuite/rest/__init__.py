"""SuiteTalk REST web services over the same account (store, governance) as the SOAP endpoint.

router: the /services/rest/ front (authentication, governance, faults); oauth: the OAuth 2.0 client credentials
token endpoint; fields: records between REST JSON and the stored (SOAP-shaped) bodies; record_service: the record
service; jobs: asynchronous requests and batches; suiteql and suiteql_tables: the query service; errors: NetSuite's
REST error format.
"""
