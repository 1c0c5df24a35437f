"""Briefs on vessels for analysts and editors: identity history, sanctions status, port calls,
gaps, encounters and sightings, every claim naming its source. Pure over frames/dataclasses:
the caller reads the store (see ``tracker report``)."""

from tracker.outputs.report.brief import (
    Brief,
    Claim,
    Section,
    VesselBrief,
    VesselDossier,
    build_brief,
    render_html,
    render_markdown,
    write_brief,
)
from tracker.outputs.report.history import HISTORY_ATTRIBUTES, identity_history

__all__ = [
    "HISTORY_ATTRIBUTES",
    "Brief",
    "Claim",
    "Section",
    "VesselBrief",
    "VesselDossier",
    "build_brief",
    "identity_history",
    "render_html",
    "render_markdown",
    "write_brief",
]
