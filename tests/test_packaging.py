"""The built wheel carries every data file the package reads (vendored JS, land, demo data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_holds_every_non_python_file_of_the_package(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    assert "would be ignored" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("tracker-*.whl")
    held = set(zipfile.ZipFile(wheel).namelist())
    # the oracle: a walk of the source tree, independent of setup.cfg
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tracker").rglob("*")
        if p.is_file()
        and p.suffix not in {".py", ".pyc"}
        and "__pycache__" not in p.parts
        and p.name != ".gitkeep"
    }
    assert len(wanted) >= 15  # vendored Leaflet, land layers, demo data, gazetteer, MID table
    assert wanted <= held, sorted(wanted - held)
