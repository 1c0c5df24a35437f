"""Point-in-time sanctions status: was this vessel listed on a date, by which lists, under
which name? Answered from the list editions held (every edition, not only the newest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from tracker.analysis.matching import NAME_ONLY_THRESHOLD, STRONG_METHODS, match_vessels

__all__ = ["ListStatus", "SanctionStatus", "annotate_sanctions", "sanction_status"]


@dataclass
class ListStatus:
    """One list's answer: listed or not on the date, the entry, since when, delisted when.

    ``listed`` comes from an identifier match (IMO, MMSI, call sign: ``method``) only. A
    name-only match in the edition in force sets ``possible`` instead, never ``listed``.
    """

    list: str
    listed: bool
    edition: date | None
    entry_id: str | None = None
    name: str | None = None
    programme: str | None = None
    listed_since: date | None = None
    delisted_on: date | None = None
    reason: str | None = None
    note: str | None = None
    method: str | None = None
    possible: bool = False
    score: float | None = None


@dataclass
class SanctionStatus:
    """The answer for one vessel at one date (UTC)."""

    at: date
    listed: bool
    lists: list[ListStatus] = field(default_factory=list)

    @property
    def listed_by(self) -> list[str]:
        return [s.list for s in self.lists if s.listed]

    @property
    def possible_by(self) -> list[str]:
        """Lists with a name-only match (and no identifier match) in the edition in force."""
        return [s.list for s in self.lists if s.possible and not s.listed]

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "listed": self.listed,
            "listed_by": self.listed_by,
            "possible_by": self.possible_by,
            "lists": [vars(s) for s in self.lists],
        }


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _answer(list_name: str, held: list[date], m: pd.DataFrame, day: date) -> ListStatus | None:
    """The list's answer from matches ``m`` (over every edition held), or None if none."""
    if m.empty:
        return None
    in_force = [e for e in held if e <= day]
    m_by_edition = {_as_date(e): g for e, g in m.groupby("edition")}
    first_seen = min(m_by_edition)
    best = m.sort_values(["score"], ascending=False).iloc[0]
    listed_on = next((d for d in m["listed_on"] if d is not None and not pd.isna(d)), None)
    since = min(filter(None, [_as_date(listed_on) if listed_on is not None else None, first_seen]))
    delisted = next((e for e in held if e > max(m_by_edition)), None)
    if in_force:
        edition = in_force[-1]
        hit = m_by_edition.get(edition)
        listed = hit is not None and (listed_on is None or _as_date(listed_on) <= day)
        if hit is not None:
            best = hit.sort_values("score", ascending=False).iloc[0]
        note = None
    else:
        edition = None
        listed = listed_on is not None and _as_date(listed_on) <= day
        note = (
            f"no edition held on or before {day}; answered from the listing date"
            if listed
            else f"no edition held on or before {day}"
        )
    return ListStatus(
        list_name,
        bool(listed),
        edition,
        entry_id=str(best["entry_id"]),
        name=best["entry_name"],
        programme=best["programme"],
        listed_since=since,
        delisted_on=delisted if delisted and delisted <= max(held) else None,
        reason=best["reason"],
        note=note,
        method=best["method"],
        score=float(best["score"]),
    )


def sanction_status(
    vessel: dict | pd.Series | pd.DataFrame,
    *,
    at: datetime | date | str,
    entries: pd.DataFrame,
    name_threshold: float = NAME_ONLY_THRESHOLD,
    flag_bonus: float = 0.05,
    threshold: float | None = None,
) -> SanctionStatus:
    """Status of ``vessel`` on date ``at``.

    ``vessel``: one identity (keys among ``mmsi, imo, name, callsign``) or a frame of every
    identity a vessel broadcast (all are matched, as :func:`tracker.jobs.screening
    .screen_store` does). ``entries`` holds every edition held (column ``edition``). For each
    list the edition in force is the newest one dated on or before ``at``; the vessel is
    listed by that list when it matches an entry there **by IMO, MMSI or call sign** whose
    listing date (if the list gives one) is not after ``at``. A name-only match scoring >=
    ``name_threshold`` (0-1, after the flag bonus) makes the list's answer ``possible``, not
    listed. ``listed_since`` is the listing date, or the first edition held that carries the
    entry; ``delisted_on`` the first later edition that no longer carries it. Dates before the
    first edition held are answered only from listing dates, and say so in ``note``.
    ``threshold`` is accepted for compatibility and ignored (name matches below
    ``name_threshold`` never count).
    """
    day = _as_date(at)
    frame = vessel.copy() if isinstance(vessel, pd.DataFrame) else pd.DataFrame([dict(vessel)])
    matches = match_vessels(
        frame, entries, threshold=max(0.0, name_threshold - flag_bonus), flag_bonus=flag_bonus
    )
    strong = matches[matches["method"].isin(STRONG_METHODS)]
    names = matches[(matches["method"] == "name") & (matches["score"] >= name_threshold - 1e-9)]
    out: list[ListStatus] = []
    for list_name, editions in entries.groupby("list", sort=True):
        held = sorted({_as_date(e) for e in editions["edition"]})
        in_force = [e for e in held if e <= day]
        answer = _answer(list_name, held, strong[strong["list"] == list_name], day)
        if answer is None or not answer.listed:
            named = _answer(list_name, held, names[names["list"] == list_name], day)
            if named is not None and named.listed:
                named.listed, named.possible = False, True
                answer = named if answer is None else answer
                if answer is not named:  # delisted by identifier, still a name candidate
                    answer.possible = True
        if answer is None:
            answer = ListStatus(
                list_name,
                False,
                in_force[-1] if in_force else None,
                note=None
                if in_force
                else f"no edition held on or before {day}; first is {held[0]}",
            )
        out.append(answer)
    return SanctionStatus(day, any(s.listed for s in out), out)


def annotate_sanctions(
    events: pd.DataFrame,
    identities: pd.DataFrame,
    entries: pd.DataFrame,
    *,
    name_threshold: float = NAME_ONLY_THRESHOLD,
) -> pd.DataFrame:
    """Copy of ``events`` with a ``sanctions`` column: each vessel's status at the event start
    ("listed by ofac (NS LEADER, ofac:47371)", "not listed", or "not listed; possible name
    match on uk (SCF Baltica, uk:RUS2200, name 1.00)"), from every list edition held, as
    :func:`sanction_status` answers it over every identity the MMSI broadcast.

    ``identities``: what each MMSI broadcast (columns ``mmsi, imo, name, callsign``, e.g.
    :func:`tracker.store.ais.distinct_identities`).
    """
    out = events.copy()
    if out.empty:
        out["sanctions"] = pd.Series(dtype=object)
        return out
    found = match_vessels(identities, entries, threshold=max(0.0, name_threshold - 0.05))
    found = found[(found["method"] != "name") | (found["score"] >= name_threshold - 1e-9)]
    candidates = set(found["mmsi"].dropna().astype(int))
    by_mmsi = {int(m): g for m, g in identities.groupby("mmsi")}
    cache: dict[tuple[int, date], str] = {}

    def text(mmsi, when) -> str:
        if mmsi is None or pd.isna(mmsi):
            return ""
        mmsi = int(mmsi)
        if mmsi not in candidates:
            return f"{mmsi}: not listed"
        day = _as_date(when)
        key = (mmsi, day)
        if key not in cache:
            rows = by_mmsi.get(mmsi, pd.DataFrame([{"mmsi": mmsi}]))
            st = sanction_status(rows, at=day, entries=entries, name_threshold=name_threshold)
            listed = [f"{s.list} ({s.name}, {s.list}:{s.entry_id})" for s in st.lists if s.listed]
            possible = [
                f"{s.list} ({s.name}, {s.list}:{s.entry_id}, {s.reason})"
                for s in st.lists
                if s.possible and not s.listed
            ]
            line = f"{mmsi}: listed by " + "; ".join(listed) if listed else f"{mmsi}: not listed"
            if possible:
                line += "; possible name match on " + "; ".join(possible)
            cache[key] = line
        return cache[key]

    out["sanctions"] = [
        "; ".join(t for t in (text(m, s), text(o, s)) if t)
        for m, o, s in zip(out["mmsi"], out["other_mmsi"], out["start"], strict=True)
    ]
    return out
