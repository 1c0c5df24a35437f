"""Hull identity: group identity reports into vessels keyed by IMO (else MMSI) and date the
names, flags, MMSIs and call signs each hull used. Pure functions over frames.

Ships change name, flag and MMSI to dodge lists; the IMO number stays with the hull. Reports
without an IMO (class B, or a type 5 with IMO 0) take the IMO their MMSI reported nearest in
time, so one MMSI that later reports an IMO joins that hull.
"""

from __future__ import annotations

import pandas as pd

from tracker.core.identifiers import flag_from_mmsi, imo_is_valid, normalise_callsign

__all__ = [
    "IDENTITY_ATTRIBUTES",
    "assign_hulls",
    "hull_identities",
    "identity_changes",
    "identity_intervals",
]

#: Attributes whose changes are tracked (``flag`` is the ISO code of the MMSI's MID).
IDENTITY_ATTRIBUTES = ("name", "flag", "mmsi", "callsign", "destination")


def _clean_text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    text = " ".join(str(value).replace("@", " ").split()).upper()
    return text or None


def assign_hulls(statics: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``statics`` (columns ``mmsi``, ``ts``, ``imo``, ``name``, ``callsign``...) sorted by
    time with ``hull`` ("IMO9220639" or "MMSI273297850"), ``imo_valid`` and ``flag`` added."""
    s = statics.copy()
    if s.empty:
        return s.assign(
            hull=pd.Series(dtype=str), imo_valid=pd.Series(dtype=bool), flag=pd.Series(dtype=object)
        )
    s["ts"] = pd.to_datetime(s["ts"], utc=True)
    s = s.sort_values(["ts", "mmsi"], kind="stable").reset_index(drop=True)
    imo = (
        pd.to_numeric(s.get("imo"), errors="coerce")
        if "imo" in s
        else pd.Series(float("nan"), index=s.index)
    )
    imo = imo.where(imo > 0)
    # fill the IMO within each MMSI: forward, then backward (nearest earlier report first)
    s["imo"] = imo.groupby(s["mmsi"]).transform(lambda x: x.ffill().bfill()).astype("Int64")
    s["imo_valid"] = [bool(pd.notna(i) and imo_is_valid(int(i))) for i in s["imo"]]
    s["hull"] = [
        f"IMO{int(i)}" if pd.notna(i) else f"MMSI{int(m)}"
        for i, m in zip(s["imo"], s["mmsi"], strict=True)
    ]
    s["flag"] = [(f.iso2 if (f := flag_from_mmsi(int(m))) else None) for m in s["mmsi"]]
    for col in ("name", "destination"):
        if col in s:
            s[col] = [_clean_text(v) for v in s[col]]
    if "callsign" in s:
        s["callsign"] = [normalise_callsign(v) for v in s["callsign"]]
    return s


def identity_intervals(statics: pd.DataFrame, *, attributes=IDENTITY_ATTRIBUTES) -> pd.DataFrame:
    """Dated runs of each attribute per hull: ``hull, imo, attribute, value, start, end, reports``.

    A run is a maximal stretch of consecutive reports (in time) with one value; ``end`` is the
    last report with that value (UTC). Missing values do not break a run.
    """
    s = assign_hulls(statics)
    rows = []
    for hull, group in s.groupby("hull", sort=True):
        imo = group["imo"].iloc[0]
        for attr in attributes:
            if attr not in group:
                continue
            g = group[group[attr].notna()]
            if g.empty:
                continue
            values = g[attr].astype(str)
            run = (values != values.shift()).cumsum()
            for _, r in g.groupby(run, sort=True):
                rows.append(
                    {
                        "hull": hull,
                        "imo": imo,
                        "attribute": attr,
                        "value": r[attr].iloc[0],
                        "start": r["ts"].iloc[0],
                        "end": r["ts"].iloc[-1],
                        "reports": len(r),
                    }
                )
    return pd.DataFrame(
        rows, columns=["hull", "imo", "attribute", "value", "start", "end", "reports"]
    )


def identity_changes(statics: pd.DataFrame, *, attributes=IDENTITY_ATTRIBUTES) -> pd.DataFrame:
    """Identity-change events: ``hull, imo, attribute, old, new, start, end, mmsi``.

    ``start`` is the last report with the old value and ``end`` the first with the new one
    (the change happened in between, UTC); ``mmsi`` is the MMSI that reported the new value.
    """
    iv = identity_intervals(statics, attributes=attributes)
    s = assign_hulls(statics)
    rows = []
    for (hull, attr), g in iv.groupby(["hull", "attribute"], sort=True):
        g = g.sort_values("start")
        for prev, cur in zip(
            g.iloc[:-1].itertuples(index=False), g.iloc[1:].itertuples(index=False), strict=True
        ):
            at = s[(s["hull"] == hull) & (s["ts"] == cur.start)]
            rows.append(
                {
                    "hull": hull,
                    "imo": cur.imo,
                    "attribute": attr,
                    "old": prev.value,
                    "new": cur.value,
                    "start": prev.end,
                    "end": cur.start,
                    "mmsi": int(at["mmsi"].iloc[0]) if len(at) else None,
                }
            )
    out = pd.DataFrame(
        rows, columns=["hull", "imo", "attribute", "old", "new", "start", "end", "mmsi"]
    )
    return out.sort_values(["end", "hull", "attribute"]).reset_index(drop=True)


def hull_identities(statics: pd.DataFrame, entries: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per hull: ``hull, imo, imo_valid, mmsis, names, callsigns, flags, first_seen,
    last_seen, reports`` (lists in order of first use) and, when list ``entries`` are given,
    ``listed`` ("list:entry_id" of entries with the same IMO). List entries with an IMO never
    heard on AIS become hulls of their own (no reports)."""
    s = assign_hulls(statics)

    def ordered(col):
        return lambda x: list(
            dict.fromkeys(v for v in x if v is not None and not (isinstance(v, float) and v != v))
        )

    rows = []
    for hull, g in s.groupby("hull", sort=True):
        rows.append(
            {
                "hull": hull,
                "imo": g["imo"].iloc[0],
                "imo_valid": bool(g["imo_valid"].iloc[0]),
                "mmsis": ordered("mmsi")(int(m) for m in g["mmsi"]),
                "names": ordered("name")(g["name"]) if "name" in g else [],
                "callsigns": ordered("callsign")(g["callsign"]) if "callsign" in g else [],
                "flags": ordered("flag")(g["flag"]),
                "first_seen": g["ts"].iloc[0],
                "last_seen": g["ts"].iloc[-1],
                "reports": len(g),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "hull",
            "imo",
            "imo_valid",
            "mmsis",
            "names",
            "callsigns",
            "flags",
            "first_seen",
            "last_seen",
            "reports",
        ],
    )
    if entries is not None and len(entries):
        listed = entries[entries["imo"].notna()].groupby(entries["imo"].dropna().astype("int64"))
        by_imo = {
            int(k): [f"{r.list}:{r.entry_id}" for r in g.itertuples(index=False)] for k, g in listed
        }
        out["listed"] = [by_imo.get(int(i), []) if pd.notna(i) else [] for i in out["imo"]]
        heard = {int(i) for i in out["imo"].dropna()}
        extra = []
        for imo, ids in by_imo.items():
            if imo in heard:
                continue
            g = entries[entries["imo"].astype("Float64") == imo]
            names = list(
                dict.fromkeys(
                    [n for n in g["name"] if n] + [a for al in g["aliases"] for a in (al or [])]
                )
            )
            extra.append(
                {
                    "hull": f"IMO{imo}",
                    "imo": imo,
                    "imo_valid": imo_is_valid(imo),
                    "mmsis": [int(m) for m in g["mmsi"].dropna()],
                    "names": names,
                    "callsigns": [c for c in g["callsign"].dropna()],
                    "flags": [f for f in g["flag"].dropna()],
                    "first_seen": pd.NaT,
                    "last_seen": pd.NaT,
                    "reports": 0,
                    "listed": ids,
                }
            )
        if extra:
            out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    out["imo"] = out["imo"].astype("Int64")
    return out
