"""Benchmark: match ~11,000 vessel identities against every real list held, in one run.

    python bench/sanctions.py [--shared PATH] [--vessels N]

Identities come from the real recordings in ``shared/data/ais`` (type 5 / CSV static reports);
when ``ais/aishub/aishub-ais-nmea-sample.log.gz`` is present its ~11,000 MMSIs are used. When
fewer than N real identities exist the rest are fictitious (MMSI 999..., names built from
real ones with a suffix), so the matcher sees N rows either way; the output says how many are
real. Lists: OFAC 2021 (406 vessels) and the 2025 fixture, UK ships, UN, the case watchlist.
Prints the time of each step and the floor: rapidfuzz ``cdist`` of the same names alone.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.analysis.matching import match_vessels
from tracker.analysis.names import match_key
from tracker.sources.ais.frames import read_ais
from tracker.sources.sanctions import read_list

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = [
    "ais/aishub/aishub-ais-nmea-sample.log.gz",
    "ais/kystverket/Ais1000Lines.nm4",
    "ais/aisdb/test_data_20211101.nm4",
    "ais/aisdb/test_data_20210701.csv.gz",
    "ais/dma/aisdk_header.csv",
    "ais/libais/test.aivdm",
]
LISTS = [
    ("sanctions/ofac/2021-07-07_watchman_bench/sdn.csv.gz", "ofac"),
    ("sanctions/ofac/2025-05-16_watchman_ofactest_fixture", "ofac"),
    ("sanctions/uk/uk_sanctions_list_2025-08-11_ships.csv", "uk"),
    ("sanctions/un/UN_consolidated_2026-02-27.xml.gz", "un"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("TRACKER_SHARED_DATA") or str(ROOT.parent / "shared" / "data")
    parser.add_argument("--shared", default=default)
    parser.add_argument("--vessels", type=int, default=11_000)
    args = parser.parse_args()
    shared = Path(args.shared)

    t = time.perf_counter()
    statics = [read_ais(shared / p).statics for p in RECORDINGS if (shared / p).exists()]
    used = [p for p in RECORDINGS if (shared / p).exists()]
    real = pd.concat(statics, ignore_index=True)[
        ["mmsi", "imo", "name", "callsign"]
    ].drop_duplicates("mmsi")
    t_read_ais = time.perf_counter() - t
    n_real = len(real)
    vessels = real
    if n_real < args.vessels:
        rng = np.random.default_rng(0)
        extra = args.vessels - n_real
        base = real["name"].dropna().to_numpy()
        names = [f"{base[i % len(base)]} {rng.integers(1, 99)}" for i in range(extra)]
        fict = pd.DataFrame(
            {"mmsi": 999_100_000 + np.arange(extra), "imo": pd.NA, "name": names, "callsign": None}
        )
        vessels = pd.concat([real, fict], ignore_index=True)

    t = time.perf_counter()
    entries = pd.concat(
        [read_list(shared / p, list=name).entries for p, name in LISTS], ignore_index=True
    )
    watch = read_list(ROOT / "data" / "watchlists" / "case-2025.csv", list="watchlist").entries
    entries = pd.concat([entries, watch], ignore_index=True)
    t_lists = time.perf_counter() - t

    t = time.perf_counter()
    matches = match_vessels(vessels, entries)
    t_match = time.perf_counter() - t

    from rapidfuzz import fuzz, process

    t = time.perf_counter()
    queries = sorted({match_key(n) for n in vessels["name"].dropna()})
    choices = sorted(
        {
            match_key(n)
            for n in [*entries["name"].dropna(), *(a for al in entries["aliases"] for a in al)]
        }
    )
    process.cdist(
        queries, choices, scorer=fuzz.token_sort_ratio, score_cutoff=70, dtype=np.uint8, workers=-1
    )
    t_floor = time.perf_counter() - t

    print(f"recordings used: {', '.join(used)}")
    print(
        f"vessels: {len(vessels):,} ({n_real:,} real identities, {len(vessels) - n_real:,} fictitious fillers)"
    )
    print(f"list entries: {len(entries):,} ({entries['aliases'].map(len).sum():,} aliases)")
    print(f"read recordings {t_read_ais:.2f} s, read lists {t_lists:.2f} s")
    print(
        f"match_vessels: {t_match:.2f} s -> {len(matches):,} matches, all with a reason: {bool(matches['reason'].str.len().gt(0).all())}"
    )
    print(
        f"floor (rapidfuzz cdist of {len(queries):,} x {len(choices):,} names): {t_floor:.2f} s; ratio {t_match / t_floor:.1f}"
    )
    print("matches by method:", matches["method"].value_counts().to_dict())


if __name__ == "__main__":
    main()
