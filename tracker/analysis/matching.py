"""Match vessels to sanctions-list entries: IMO, then MMSI, then call sign, then fuzzy name.

Every match row says why (``imo 9220639``, ``mmsi 273297850``, ``name 0.93 + flag RU``), its
score on a 0-1 scale, the method and the list entry. Names are compared after
:func:`tracker.analysis.names.match_key` with rapidfuzz's token-sort ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.analysis.names import match_key
from tracker.core.identifiers import flag_from_mmsi, imo_is_valid, normalise_callsign

__all__ = [
    "MATCH_COLUMNS",
    "NAME_ONLY_THRESHOLD",
    "STRONG_METHODS",
    "match_vessels",
    "rank_matches",
]

#: Matches by these identifiers say "this hull is listed"; a name alone only says "possible".
STRONG_METHODS = ("imo", "mmsi", "callsign")

#: Default score (0-1, after the flag bonus) a name-only match needs to be shown. Measured on
#: the real lists held (OFAC 2021, UK 2025, case watchlist) against 15,219 real AIS
#: identities: of 716 name-only matches >= 0.70 only exact names (1.00) were ever plausibly
#: the same ship (1-2 of 21 at >= 0.95; 0 of 8 at 0.90-0.95, 0 of 25 at 0.85-0.90, 0 of 20
#: sampled at 0.80-0.85 and 0 of 20 at 0.70-0.80). See the README.
NAME_ONLY_THRESHOLD = 0.95

MATCH_COLUMNS = [
    "mmsi",
    "imo",
    "name",
    "callsign",
    "list",
    "edition",
    "entry_id",
    "entry_name",
    "programme",
    "listed_on",
    "method",
    "score",
    "reason",
]
_METHOD_RANK = {"imo": 0, "mmsi": 1, "callsign": 2, "name": 3}


_ROMAN = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}


def _numbers(key: str) -> frozenset[str]:
    """The number tokens of a match key (digits and Roman numerals up to XII)."""
    return frozenset(t for t in key.split() if t.isdigit() or t in _ROMAN)


def _prepare_vessels(vessels: pd.DataFrame) -> pd.DataFrame:
    v = pd.DataFrame(index=vessels.index)
    for col in ("mmsi", "imo"):
        v[col] = (
            pd.to_numeric(vessels[col], errors="coerce").astype("Int64")
            if col in vessels
            else pd.array([pd.NA] * len(vessels), dtype="Int64")
        )
    v["name"] = vessels["name"] if "name" in vessels else None
    v["callsign"] = (
        [normalise_callsign(c) for c in vessels["callsign"]] if "callsign" in vessels else None
    )
    if "flag" in vessels:
        v["flag"] = vessels["flag"]
    else:
        v["flag"] = [
            (f.iso2 if (f := flag_from_mmsi(int(m))) else None) if pd.notna(m) else None
            for m in v["mmsi"]
        ]
    v["_row"] = np.arange(len(v))
    return v.reset_index(drop=True)


def _exact(
    v: pd.DataFrame, e: pd.DataFrame, column: str, method: str, score: float
) -> pd.DataFrame:
    left = v[v[column].notna()]
    right = e[e[column].notna()]
    if left.empty or right.empty:
        return pd.DataFrame()
    if column in ("imo", "mmsi"):
        left = left.assign(_k=left[column].astype("int64"))
        right = right.assign(_k=right[column].astype("int64"))
    else:
        left = left.assign(_k=left[column].astype(str))
        right = right.assign(_k=right[column].astype(str))
    m = left.merge(right.drop(columns=[column]), on="_k", suffixes=("", "_entry"))
    if m.empty:
        return m
    m["method"] = method
    m["score"] = score
    m["matched_name"] = m["entry_name"]
    m["reason"] = [f"{method} {k}" for k in m["_k"]]
    return m.drop(columns="_k")


def _names(
    v: pd.DataFrame, e: pd.DataFrame, *, threshold: float, flag_bonus: float, min_name_length: int
) -> pd.DataFrame:
    from rapidfuzz import fuzz, process

    v = v.assign(_key=[match_key(n) for n in v["name"]])
    v = v[v["_key"].str.len() >= min_name_length]
    names = []
    for idx, (entry_name, aliases) in enumerate(zip(e["entry_name"], e["aliases"], strict=True)):
        for n in [entry_name, *(aliases or [])]:
            key = match_key(n)
            if len(key) >= min_name_length:
                names.append((idx, n, key))
    if v.empty or not names:
        return pd.DataFrame()
    choices = sorted({k for _, _, k in names})
    queries = sorted(set(v["_key"]))
    scores = process.cdist(
        queries,
        choices,
        scorer=fuzz.token_sort_ratio,
        score_cutoff=threshold * 100,
        dtype=np.uint8,
        workers=-1,
    )
    qi, ci = np.nonzero(scores)
    if len(qi) == 0:
        return pd.DataFrame()
    pairs = pd.DataFrame(
        {
            "_key": np.array(queries, dtype=object)[qi],
            "_ckey": np.array(choices, dtype=object)[ci],
            "_s": scores[qi, ci] / 100.0,
        }
    )
    # Numbered sister ships ("SAM JONG 1" / "SAM JONG 2", "SPARTA II" / "SPARTA IV") are
    # different hulls: names whose numbers differ never match on the name alone.
    same_numbers = [
        _numbers(a) == _numbers(b) for a, b in zip(pairs["_key"], pairs["_ckey"], strict=True)
    ]
    pairs = pairs[same_numbers]
    entry_names = pd.DataFrame(names, columns=["_eidx", "matched_name", "_ckey"])
    m = v.merge(pairs, on="_key").merge(entry_names, on="_ckey")
    m = m.merge(
        e.reset_index(drop=True).rename_axis("_eidx").reset_index(),
        on="_eidx",
        suffixes=("", "_entry"),
    )
    # Different valid IMO numbers on both sides: two hulls that share a name, not a match.
    conflict = (
        m["imo"].notna()
        & m["imo_entry"].notna()
        & (m["imo"].astype("Float64") != m["imo_entry"].astype("Float64")).fillna(False)
        & m["imo"].map(lambda x: pd.notna(x) and imo_is_valid(int(x)))
        & m["imo_entry"].map(lambda x: pd.notna(x) and imo_is_valid(int(x)))
    )
    m = m[~conflict.astype(bool)]
    if m.empty:
        return m
    reasons, scores_out = [], []
    for raw, flag, listed_flag, matched, entry_name in zip(
        m["_s"], m["flag"], m["flag_entry"], m["matched_name"], m["entry_name"], strict=True
    ):
        score = float(raw)
        reason = f"name {score:.2f}"
        if isinstance(flag, str) and isinstance(listed_flag, str):
            if flag == listed_flag:
                score = min(1.0, score + flag_bonus)
                reason += f" + flag {flag}"
            else:
                reason += f" (flag {flag} vs listed {listed_flag})"
        if matched != entry_name:
            reason += f" (alias {matched!r})"
        reasons.append(reason)
        scores_out.append(round(score, 3))
    m = m.assign(method="name", score=scores_out, reason=reasons)
    return m.drop(columns=["_key", "_ckey", "_s", "_eidx"])


def match_vessels(
    vessels: pd.DataFrame,
    entries: pd.DataFrame,
    *,
    threshold: float = 0.70,
    flag_bonus: float = 0.05,
    min_name_length: int = 3,
) -> pd.DataFrame:
    """Match each vessel row to list entries; one row per (vessel row, list entry) matched.

    ``vessels``: columns among ``mmsi, imo, name, callsign`` (and ``flag`` as ISO alpha-2; when
    absent it comes from the MMSI's MID). ``entries``: the normalised entry frame of
    :mod:`tracker.sources.sanctions`. IMO, MMSI and call sign match exactly (scores 1.0, 1.0,
    0.9); names match when the token-sort ratio of their match keys is >= ``threshold`` (0-1);
    an equal flag adds ``flag_bonus`` (capped at 1.0) and is named in the reason. Name matches
    where both sides carry different valid IMO numbers, or whose numbers differ ("SPARTA II"
    and "SPARTA IV" are sister ships), are dropped. When several methods hit
    the same entry the strongest is kept and the reasons are joined.
    """
    if vessels.empty or entries.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    v = _prepare_vessels(vessels)
    e = entries.rename(columns={"name": "entry_name"}).reset_index(drop=True)
    e = e[
        [
            "list",
            "edition",
            "entry_id",
            "entry_name",
            "aliases",
            "imo",
            "mmsi",
            "callsign",
            "flag",
            "programme",
            "listed_on",
        ]
    ]
    e = e.assign(imo_entry=e["imo"], flag_entry=e["flag"])
    parts = [
        _exact(v, e.drop(columns=["mmsi", "callsign", "flag"]), "imo", "imo", 1.0),
        _exact(v, e.drop(columns=["imo", "callsign", "flag"]), "mmsi", "mmsi", 1.0),
        _exact(v, e.drop(columns=["imo", "mmsi", "flag"]), "callsign", "callsign", 0.9),
        _names(
            v,
            e.drop(columns=["imo", "flag"]).rename(
                columns={"mmsi": "mmsi_entry", "callsign": "callsign_entry"}
            ),
            threshold=threshold,
            flag_bonus=flag_bonus,
            min_name_length=min_name_length,
        ),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    m = pd.concat(parts, ignore_index=True)
    m["_rank"] = m["method"].map(_METHOD_RANK)
    m = m.sort_values(
        ["_row", "list", "edition", "entry_id", "_rank", "score"],
        ascending=[True, True, True, True, True, False],
    )
    keys = ["_row", "list", "edition", "entry_id"]
    reasons = m.groupby(keys, sort=False)["reason"].agg(lambda r: " + ".join(dict.fromkeys(r)))
    best = m.drop_duplicates(keys, keep="first").set_index(keys)
    best["reason"] = reasons
    best["score"] = m.groupby(keys, sort=False)["score"].max()
    out = best.reset_index().sort_values(["_row", "_rank", "score"], ascending=[True, True, False])
    return out[MATCH_COLUMNS].reset_index(drop=True)


def rank_matches(matches: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``matches`` with a boolean ``strong`` column (IMO, MMSI or call sign), strong
    matches first (by method: IMO, MMSI, call sign; then MMSI, list, entry) and name-only
    matches below them by descending score."""
    out = matches.copy()
    if out.empty:
        out["strong"] = pd.Series(dtype=bool)
        return out
    out["strong"] = out["method"].isin(STRONG_METHODS)
    out["_rank"] = out["method"].map(_METHOD_RANK)
    out["_neg"] = -out["score"].astype(float)
    out = out.sort_values(
        ["_rank", "_neg", "mmsi", "list", "entry_id"], kind="stable", na_position="last"
    )
    strong = out[out["strong"]].sort_values(
        ["_rank", "mmsi", "list", "entry_id"], kind="stable", na_position="last"
    )
    weak = out[~out["strong"]]
    return pd.concat([strong, weak]).drop(columns=["_rank", "_neg"]).reset_index(drop=True)
