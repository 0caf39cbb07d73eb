"""Where a pager is in its listing, and the checkpoint that resumes there.

A `Checkpoint` is a frozen value: the cursor of the page holding the next
item, how many of that page's items were handed out, the id of the last one
handed out, and whether the listing was finished. It is the one way to
resume a listing (`list(..., resume=pager.checkpoint)`), written as one
opaque string.

The first page of a listing has no cursor, so items created since push the
rest of it down: resuming there finds the last item handed out (the anchor)
instead of trusting the offset, skipping the newer items before it. A page
reached by a cursor never shifts: its offset holds.

`Position` is the pager's own mutable place, from which it takes its
checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

import attrs

from .._models import Page

__all__ = ["Checkpoint", "Position"]

T = TypeVar("T")

_INVALID = "resume= must be a Pager.checkpoint of this listing"


@attrs.frozen
class Checkpoint:
    """A place in a listing, from which a pager continues with exactly the next item.

    Attributes:
        cursor: The page holding the next item (`None`: the first page).
        offset: Items of that page already handed out.
        after: The id of the last item handed out, to find it again on a
            first page that newer items pushed down.
        finished: The listing had handed out its last item: resuming gives
            nothing (items created since are newer than where it ended).
    """

    cursor: str | None = None
    offset: int = 0
    after: str | None = None
    finished: bool = False

    def encode(self) -> str:
        """The checkpoint as one URL-safe string (what `Pager.checkpoint` is)."""
        state: list[Any] = [self.cursor, self.offset, self.after]
        if self.finished:
            state.append(True)
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Checkpoint:
        """The checkpoint `text` encodes.

        Raises:
            ValueError: `text` is not a checkpoint.
        """
        try:
            cursor, offset, after, *end = json.loads(base64.urlsafe_b64decode(text.encode()))
        except (ValueError, TypeError, AttributeError, binascii.Error):
            raise ValueError(_INVALID) from None
        valid = (
            (end == [] or end == [True])
            and (cursor is None or (isinstance(cursor, str) and cursor))
            and isinstance(offset, int)
            and not isinstance(offset, bool)
            and offset >= 0
            and (after is None or isinstance(after, str))
        )
        if not valid:
            raise ValueError(_INVALID)
        return cls(cursor, offset, after, bool(end))


class Position(Generic[T]):
    """A pager's place: the page it hands out from, where in it, and a resumed start.

    Attributes:
        page: The page being handed out, if any.
        cursor: That page's cursor, or the next page's once it is done.
        offset: Items of `page` handed out.
        finished: Every item has been handed out.
    """

    __slots__ = (
        "_after",
        "_last_id",
        "_resumed_offset",
        "_seeking",
        "cursor",
        "finished",
        "offset",
        "page",
    )

    def __init__(self, start: Checkpoint) -> None:
        self.page: Page[T] | None = None
        self.cursor = start.cursor
        self.offset = start.offset
        self.finished = start.finished
        self._last_id = start.after  # the last item handed out
        self._after = start.after  # a resumed start, until its first page arrives
        self._seeking = start.after is not None and start.cursor is None
        self._resumed_offset = start.offset

    def next_item(self) -> T | None:
        """Hand out the next item of `page`, if it has one left (`None` otherwise)."""
        page = self.page
        if page is None or self.offset >= len(page.items):
            return None
        item = page.items[self.offset]
        self.offset += 1
        self._last_id = getattr(item, "id", None)
        if self.offset == len(page.items):
            self.finish_page(page)
        return item

    def finish_page(self, page: Page[T]) -> None:
        """`page` is done: the place moves to the next page's start."""
        self.page = None
        self.cursor = page.next_cursor
        self.offset = 0
        if page.next_cursor is None:
            self.finished = True

    def arrive(self, page: Page[T]) -> None:
        """A page arrived: hand out from it, after the checkpoint's last item when resuming.

        A resumed first page is searched for the checkpoint's last item: the
        items before it are newer, and a page of only newer items is
        finished at once (the next page is searched then).

        Raises:
            ValueError: The offset is past the end of the page.
        """
        if self._after is not None:
            if not self._seeking:  # the checkpoint's page does not shift
                self._after = None
            else:
                ids = [getattr(item, "id", None) for item in page.items]
                if self._after not in ids:
                    self.finish_page(page)  # everything here is newer than the checkpoint
                    return
                self.offset = ids.index(self._after) + 1
                self._after, self._seeking = None, False
        if self.offset > len(page.items):
            raise ValueError("offset is past the end of the page at cursor")
        self.page = page

    def start_in(self, page: Page[T]) -> int:
        """Where `arrive(page)` would start handing out `page`'s items, changing nothing."""
        if self._after is not None and self._seeking:
            ids = [getattr(item, "id", None) for item in page.items]
            return ids.index(self._after) + 1 if self._after in ids else len(ids)
        return min(self.offset, len(page.items))

    def take_rest(self) -> None:
        """Every item of the page being handed out is handed out at once."""
        page = self.page
        if page is None:
            return
        if self.offset < len(page.items):
            self._last_id = getattr(page.items[-1], "id", None)
        self.finish_page(page)

    def checkpoint(self) -> Checkpoint:
        """Where to resume: exactly the next item."""
        if self.finished:
            return Checkpoint(finished=True)
        if self._seeking:  # still looking for the last item: the same checkpoint
            return Checkpoint(None, self._resumed_offset, self._after)
        anchor = self._last_id if self.offset or self._after else None
        return Checkpoint(self.cursor, self.offset, anchor)
