"""Write tracker/data/mid.csv: ITU Maritime Identification Digits with ISO 3166 alpha-2 codes.

Source: the ITU MID table (MARS), as carried in libais ``mid.csv`` (``prefix,country``); run with
the path of that file. The ISO code is looked up with the same country normaliser tracker uses
at run time, so names the list and AIS give agree.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from tracker.core.countries import country_code

OUT = Path(__file__).resolve().parent.parent / "tracker" / "data" / "mid.csv"


def main(source: str) -> None:
    with open(source, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    missing = []
    with open(OUT, "w", newline="", encoding="utf-8") as out:
        out.write(
            "# ITU Maritime Identification Digits (MID) -> country; ITU MARS list via libais mid.csv\n"
        )
        writer = csv.writer(out)
        writer.writerow(["mid", "country", "iso2"])
        for row in rows:
            code = country_code(row["country"]) or ""
            if not code:
                missing.append(row["country"])
            writer.writerow([row["prefix"], row["country"], code])
    print(f"wrote {len(rows)} MIDs to {OUT}; without ISO code: {missing}")


if __name__ == "__main__":
    main(sys.argv[1])
