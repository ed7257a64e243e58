"""`/limits`: the org's allocations as a real org lists them, each `{"Max": n, "Remaining": m}`.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
The maxima are an Enterprise Edition org's. What the sandbox really meters is counted: API requests (the governor),
data storage (records at 2 KB each, as Salesforce counts most records:
https://help.salesforce.com/s/articleView?id=sf.overview_storage.htm), Bulk API 2.0 query jobs and ingest batches
(from the jobs it keeps). The rest report their whole allocation as remaining, which is what an org that never
uses them shows.
"""
from . import schema

RECORD_KB = 2

# name -> Max, for the allocations the sandbox does not meter.
UNMETERED = {
    "ActiveScratchOrgs": 3,
    "AnalyticsExternalDataSizeMB": 40960,
    "ConcurrentAsyncGetReportInstances": 200,
    "ConcurrentEinsteinDataInsightsStoryCreation": 5,
    "ConcurrentEinsteinDiscoveryStoryCreation": 2,
    "ConcurrentSyncReportRuns": 20,
    "DailyAnalyticsDataflowJobExecutions": 60,
    "DailyAnalyticsUploadedFilesSizeMB": 51200,
    "DailyAsyncApexExecutions": 250000,
    "DailyAsyncApexTests": 500,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DailyDeliveredPlatformEvents": 50000,
    "DailyDurableGenericStreamingApiEvents": 1000000,
    "DailyDurableStreamingApiEvents": 1000000,
    "DailyEinsteinDataInsightsStoryCreation": 1000,
    "DailyEinsteinDiscoveryPredictAPICalls": 50000,
    "DailyEinsteinDiscoveryPredictionsByCDC": 500000,
    "DailyEinsteinDiscoveryStoryCreation": 100,
    "DailyFunctionsApiCallLimit": 235000,
    "DailyGenericStreamingApiEvents": 10000,
    "DailyScratchOrgs": 6,
    "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 1000000,
    "DailyWorkflowEmails": 2000,
    "DurableStreamingApiConcurrentClients": 2000,
    "FileStorageMB": 10240,
    "HourlyAsyncReportRuns": 1200,
    "HourlyDashboardRefreshes": 200,
    "HourlyDashboardResults": 5000,
    "HourlyDashboardStatuses": 999999999,
    "HourlyLongTermIdMapping": 100000,
    "HourlyManagedContentPublicRequests": 50000,
    "HourlyODataCallout": 10000,
    "HourlyPublishedPlatformEvents": 250000,
    "HourlyPublishedStandardVolumePlatformEvents": 100000,
    "HourlyShortTermIdMapping": 100000,
    "HourlySyncReportRuns": 500,
    "HourlyTimeBasedWorkflow": 1000,
    "MassEmail": 5000,
    "MonthlyEinsteinDiscoveryStoryCreation": 500,
    "MonthlyPlatformEventsUsageEntitlement": 1500000,
    "Package2VersionCreates": 6,
    "Package2VersionCreatesWithoutValidation": 500,
    "PermissionSets": 1500,
    "PrivateConnectOutboundCalloutHourlyLimitMB": 0,
    "PublishCallbackUsageInApex": 5242880,
    "SingleEmail": 5000,
    "StreamingApiConcurrentClients": 2000,
}
DATA_STORAGE_MB = 1024
DAILY_BULK_API_BATCHES = 15000
DAILY_BULK_V2_QUERY_JOBS = 10000


def _entry(maximum: int, used: int = 0) -> dict:
    return {"Max": maximum, "Remaining": max(maximum - used, 0)}


def org_limits(sandbox) -> dict:
    usage, limit = sandbox.governor.usage()
    records = sum(sandbox.store.count(obj) for obj in schema.OBJECTS)
    query_jobs, ingest_batches = sandbox.bulk.usage_today()
    metered = {
        "DailyApiRequests": _entry(limit, usage),
        "DataStorageMB": _entry(DATA_STORAGE_MB, records * RECORD_KB // 1024),
        "DailyBulkApiBatches": _entry(DAILY_BULK_API_BATCHES, ingest_batches),
        "DailyBulkV2QueryJobs": _entry(DAILY_BULK_V2_QUERY_JOBS, query_jobs),
    }
    answer = {name: _entry(maximum) for name, maximum in UNMETERED.items()}
    answer.update(metered)
    return dict(sorted(answer.items()))
