"""Regenerate tracker/data/demo/fictitious-voyage.nmea.gz: two FICTITIOUS ships, Baltic to West Africa.

Nothing here is a real vessel or a real track. MMSIs use the 999 prefix (not assigned to any
country); names say FICTITIOUS. The voyage only mirrors the *shape* of the public case (a
Baltic departure, a call at Conakry, a call at Bata, an AIS silence on the way) so that every
tracker feature has something to show. Run: ``python scripts/make_demo_ais.py``.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from tracker.sources.ais.synth import sail, stay, track_to_nmea

OUT = (
    Path(__file__).resolve().parent.parent
    / "tracker"
    / "data"
    / "demo"
    / "fictitious-voyage.nmea.gz"
)
EVERY = timedelta(minutes=20)

# Sea lanes from the Baltic through the Danish straits, the North Sea, the Channel, down the
# Atlantic coast of Europe and Africa (lon, lat).
BALTIC_TO_CONAKRY = [
    (19.75, 54.78),  # off Baltiysk
    (16.50, 55.00),
    (14.90, 54.90),  # south of Bornholm
    (13.20, 55.15),
    (12.85, 55.40),
    (12.72, 55.75),  # Oresund
    (12.62, 56.05),
    (12.10, 56.60),
    (11.40, 57.40),  # Kattegat
    (10.70, 57.95),  # Skagen
    (7.00, 57.90),
    (3.00, 56.00),
    (1.60, 51.05),  # Dover Strait
    (0.20, 50.55),
    (-2.50, 50.00),
    (-5.60, 48.70),  # off Ushant
    (-10.00, 44.00),
    (-10.00, 37.00),
    (-12.50, 31.00),
    (-13.35, 28.30),  # between Fuerteventura and the African coast
    (-15.20, 26.00),
    (-18.60, 21.50),  # well off Cap Blanc: the dark stretch begins > 50 nm from shore
    (-17.90, 14.70),  # off Dakar
    (-17.60, 12.50),
    (-16.60, 10.40),
    (-14.40, 9.30),
    (-13.80, 9.45),  # Conakry approach
    (-13.715, 9.515),  # Conakry quay
]
CONAKRY_TO_BATA = [
    (-13.715, 9.515),
    (-13.90, 9.20),
    (-13.50, 7.50),
    (-11.00, 5.60),
    (-7.70, 3.90),  # off Cape Palmas
    (-5.00, 3.80),
    (3.00, 2.20),
    (9.20, 1.85),
    (9.745, 1.835),  # Bata quay
]


#: every generated fix is checked against tracker's land layer: the demo never sails overland
def _voyage(start: datetime, legs: list) -> pd.DataFrame:
    parts, ts = [], start
    for leg in legs:
        part = leg(ts)
        parts.append(part)
        ts = part["ts"].iloc[-1] + EVERY
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    start = datetime(2025, 5, 7, 6, 0, tzinfo=UTC)
    ship_one = _voyage(
        start,
        [
            lambda t: sail(BALTIC_TO_CONAKRY, start=t, speed_kn=11.0, report_every=EVERY),
            lambda t: stay(
                -13.715, 9.515, start=t, duration=timedelta(hours=52), report_every=EVERY
            ),
            lambda t: sail(
                list(reversed(BALTIC_TO_CONAKRY[-4:])), start=t, speed_kn=10.0, report_every=EVERY
            ),
        ],
    )
    # ship one goes dark for 20 h off Western Sahara on the way south
    dark_from = start + timedelta(days=12)
    dark = (ship_one["ts"] > dark_from) & (ship_one["ts"] < dark_from + timedelta(hours=20))
    ship_one = ship_one[~dark]
    ship_two = _voyage(
        start - timedelta(hours=18),
        [
            lambda t: sail(
                BALTIC_TO_CONAKRY[:-2] + [(-14.2, 9.0)], start=t, speed_kn=10.5, report_every=EVERY
            ),
            lambda t: sail(
                [(-14.2, 9.0)] + CONAKRY_TO_BATA[2:], start=t, speed_kn=10.5, report_every=EVERY
            ),
            lambda t: stay(9.745, 1.835, start=t, duration=timedelta(hours=40), report_every=EVERY),
        ],
    )
    lines = track_to_nmea(
        ship_one,
        mmsi=999000001,
        name="FICTITIOUS CARGO 1",
        callsign="FICT1",
        imo=None,
        destination="CONAKRY",
        length_m=130,
        beam_m=20,
        station="demo-rx",
    )
    lines += track_to_nmea(
        ship_two,
        mmsi=999000002,
        name="FICTITIOUS CARGO 2",
        callsign="FICT2",
        destination="BATA",
        length_m=110,
        beam_m=17,
        station="demo-rx",
    )
    from tracker.analysis.shore import default_land

    land = default_land()
    for track in (ship_one, ship_two):
        # the 1:10m land puts quays on land: allow the 2 km margin the detectors allow
        shore = land.shore_distance_m(track["lon"].to_numpy(), track["lat"].to_numpy())
        inland = shore < -2_000
        assert not inland.any(), f"{int(inland.sum())} demo fixes inland: move the waypoints"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = "# FICTITIOUS demo data made by scripts/make_demo_ais.py with pyais: not real ships, not real tracks.\n"
    with gzip.open(OUT, "wt", encoding="ascii") as fh:
        fh.write(header)
        fh.writelines(f"{line}\n" for line in lines)
    print(f"{OUT}: {len(lines)} sentences, {len(ship_one)} + {len(ship_two)} positions")


if __name__ == "__main__":
    main()
