"""Sanctioned-vessel lists: one reader per list, each to the normalised entry frame."""

from tracker.sources.sanctions.entries import ENTRY_COLUMNS, ListRead
from tracker.sources.sanctions.readers import LISTS, read_list

__all__ = ["ENTRY_COLUMNS", "LISTS", "ListRead", "read_list"]
