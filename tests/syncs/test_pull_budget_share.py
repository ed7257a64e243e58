"""A pull reads as many pages at once as its share of the NetSuite concurrency budget allows."""
from syncs.jobs.pulls import pull_pages_at_once


def test_it_reads_more_pages_at_once_as_the_concurrency_limit_grows(settings):
    settings.HUB_PULL_BUDGET_SHARE = 0.4
    shares = {}
    for limit in (1, 5, 15, 25, 45):
        settings.NETSUITE = {**settings.NETSUITE, "CONCURRENCY_LIMIT": limit}
        shares[limit] = pull_pages_at_once()
    assert shares == {1: 1, 5: 2, 15: 6, 25: 10, 45: 18}


def test_it_always_reads_one_page_whatever_the_share(settings):
    settings.NETSUITE = {**settings.NETSUITE, "CONCURRENCY_LIMIT": 5}
    settings.HUB_PULL_BUDGET_SHARE = 0.0
    assert pull_pages_at_once() == 1
    settings.HUB_PULL_BUDGET_SHARE = 1.0
    assert pull_pages_at_once() == 5
