"""What the dashboard tests share: a small demo county computed for two quarters, a client per demo
account, the dashboard's page and a drill-down page's stated count."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import DEMO_PASSWORD, demo_seed
from regions.models import Region

PERIOD = Quarter(2026, 3)
TOWNSHIP_A = "532326100000"  # 金碧镇, xiang's
TOWNSHIP_B = "532326101000"  # 石羊镇


def demo_county() -> Region:
    """160 generated households, the seeds' targets, 2026Q2 and 2026Q3 computed."""
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    for period in (PERIOD.previous(), PERIOD):
        compute_run_now(scope=county, period=period, reason="test")
    return county


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def page(client: Client, region: str, **extra: str) -> str:
    response = client.get(reverse("assessment_dashboard"), {"region": region, "period": str(PERIOD), **extra})
    assert response.status_code == 200
    return response.content.decode()


def shown_count(html: str) -> int:
    found = re.search(r'data-testid="record-count">[^<]*共 <strong>(\d+)</strong>', html)
    assert found, "the drill-down page states its count"
    return int(found.group(1))
