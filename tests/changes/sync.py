"""Reading a whole feed the way a sync client does: page after page until it says there is no more."""

from __future__ import annotations

from dataclasses import dataclass

from changes import feed
from changes.feed import FeedItem
from regions.models import Level, Region
from tests.factories import Tree


@dataclass
class Drained:
    items: list[FeedItem]
    cursor: str

    def rows(self) -> dict[int, tuple[str, bool]]:
        """row id → (latest op, inside the scope), as a mirror would apply them in order."""
        seen: dict[int, tuple[str, bool]] = {}
        for item in self.items:
            seen[item.row_id] = (item.op, item.in_scope)
        return seen

    def ids(self) -> list[int]:
        return [item.row_id for item in self.items]


def drain(resource: str, prefix: str = "", cursor: str | None = None, limit: int = 1000) -> Drained:
    items: list[FeedItem] = []
    while True:
        page = feed.read(resource, prefix, cursor, limit)
        items.extend(page.items)
        cursor = page.next_cursor
        if not page.has_more:
            return Drained(items, cursor)


def other_county(tree: Tree) -> Region:
    """姚安县 with one village, beside 大姚县 in the same prefecture."""
    county = Region.objects.create(code="532325000000", name="姚安县", level=Level.COUNTY, parent=tree.prefecture)
    township = Region.objects.create(code="532325100000", name="栋川镇", level=Level.TOWNSHIP, parent=county)
    return Region.objects.create(code="532325100201", name="西城村", level=Level.VILLAGE, parent=township)
