"""Leaflet pieces tracker writes itself, so that data never passes through unescaped templates.

folium's Popup and Tooltip paste text into JavaScript template literals; tracker instead ships
each layer as GeoJSON whose ``popup`` (title, rows, link) and ``tooltip`` properties are data,
turned into DOM nodes with ``textContent`` in the page (:data:`DOM_HELPERS`), never markup
(see :mod:`tracker.outputs.maps.safe`), embedded with :func:`script_json`.
"""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from jinja2 import Template

from tracker.outputs.maps.safe import script_json

__all__ = [
    "PANES",
    "DensityGrid",
    "Footer",
    "GeoJsonLayer",
    "Legend",
    "Panes",
    "Playback",
    "PositionsLayer",
    "ZoomToData",
]

#: Leaflet panes, bottom to top (z-index): land under the tiles (200), areas under lines, the
#: sanctioned tracks above every other track and gap, point events above every area and line.
PANES = {
    "trk-land": 150,
    "trk-grid": 380,
    "trk-areas": 390,
    "trk-routes": 405,
    "trk-tracks": 410,
    "trk-gaps": 420,
    "trk-sanctioned": 430,
    "trk-dots": 440,
    "trk-events": 450,
    "trk-playback": 590,
}


#: Page-side builders: popups and tooltips made with textContent, never innerHTML. Defined on
#: window once (each layer script re-declares the same functions, harmlessly).
DOM_HELPERS = """
window.trkText = window.trkText || function (text) {
    var span = document.createElement("span"); span.textContent = text == null ? "" : String(text); return span;
};
window.trkPopup = window.trkPopup || function (d) {
    var box = document.createElement("div"); box.className = "trk-popup";
    var b = document.createElement("b"); b.textContent = d.t || ""; box.appendChild(b);
    var table = document.createElement("table");
    (d.r || []).forEach(function (row) {
        var tr = document.createElement("tr");
        var th = document.createElement("th"); th.textContent = row[0];
        var td = document.createElement("td"); td.textContent = row[1];
        tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    });
    box.appendChild(table);
    if (d.u && /^https?:[/][/]/i.test(d.u)) {
        var a = document.createElement("a"); a.href = d.u; a.target = "_blank"; a.rel = "noopener noreferrer";
        a.textContent = "source link"; box.appendChild(a);
    }
    return box;
};
window.trkTimed = window.trkTimed || [];
var trkText = window.trkText, trkPopup = window.trkPopup;
"""


class GeoJsonLayer(MacroElement):
    """A GeoJSON FeatureCollection drawn into its parent FeatureGroup.

    Feature properties: ``style`` (Leaflet path options), ``marker`` (``circle`` or ``badge``
    with ``badge`` text and ``color``), ``popup`` (:func:`~tracker.outputs.maps.safe.popup_data`) and ``tooltip`` (plain text).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var data = {{ this.data }}, styles = {{ this.styles }};
            {{ this.helpers }}
            var target = {{ this.cluster and "L.markerClusterGroup({showCoverageOnHover: false, chunkedLoading: true})" or this._parent.get_name() }};
            var opts = {{ this.options }}, timed = [];
            var layer = L.geoJSON(data, {
                pane: opts.pane || "overlayPane",
                className: opts.className || "",
                style: function (f) { return f.properties.style || styles[f.properties.kind] || {}; },
                pointToLayer: function (f, latlng) {
                    var p = f.properties;
                    if (p.marker === "badge") {
                        var el = document.createElement("div");
                        el.className = "trk-badge";
                        el.style.background = p.color || "#333";
                        el.textContent = p.badge || "?";
                        return L.marker(latlng, {icon: L.divIcon({className: "trk-badge-wrap", html: el, iconSize: [22, 22]})});
                    }
                    var o = Object.assign({pane: opts.pane || "overlayPane", className: "trk-" + (p.kind || "point")},
                                          p.style || styles[p.kind] || {radius: 4});
                    return L.circleMarker(latlng, o);
                },
                onEachFeature: function (f, l) {
                    var p = f.properties;
                    if (p.popup) { l.bindPopup(function () { return trkPopup(p.popup); }, {maxWidth: 360}); }
                    if (p.tooltip) { l.bindTooltip(trkText(p.tooltip)); }
                    l.options.trkKind = p.kind || "";
                    // playback shows a feature only from its time on (ms since 1970, UTC)
                    if (p.t != null) { timed.push({l: l, t: p.t}); }
                }
            });
            layer.addTo(target);
            {% if this.cluster %}target.addTo({{ this._parent.get_name() }});{% endif %}
            // the group a timed feature leaves and rejoins during playback
            timed.forEach(function (it) { it.g = {{ this.cluster and "target" or "layer" }}; window.trkTimed.push(it); });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict],
        *,
        cluster: bool = False,
        styles: dict[str, dict] | None = None,
        pane: str | None = None,
        class_name: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "GeoJsonLayer"
        self.options = script_json({"pane": pane, "className": class_name})
        # styles shared by kind, so thousands of features need not repeat them
        self.styles = script_json(styles or {})
        self.helpers = DOM_HELPERS
        self.data = script_json({"type": "FeatureCollection", "features": features})
        self.cluster = cluster


class Playback(MacroElement):
    """Time playback: a slider and play button that move one marker per vessel along its track.

    ``tracks`` maps a label (plain text) to ``[[unix_ms, lat, lon], ...]`` sorted by time.
    Sightings and events drawn with a time (feature property ``t``) show only from that time on.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var tracks = {{ this.tracks }};
            {{ this.helpers }}
            var t0 = {{ this.t0 }}, t1 = {{ this.t1 }};
            var markers = {};
            function where(pts, t) {
                if (!pts.length || t < pts[0][0]) { return null; }
                var lo = 0, hi = pts.length - 1;
                while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (pts[mid][0] <= t) { lo = mid; } else { hi = mid - 1; } }
                return pts[lo];
            }
            var Ctl = L.Control.extend({
                options: {position: "bottomleft"},
                onAdd: function () {
                    var box = L.DomUtil.create("div", "trk-playback leaflet-bar");
                    var btn = L.DomUtil.create("button", "", box);
                    btn.type = "button"; btn.textContent = "\u25b6"; btn.title = "play";
                    var slider = L.DomUtil.create("input", "", box);
                    slider.type = "range"; slider.min = t0; slider.max = t1; slider.step = Math.max(1, Math.round((t1 - t0) / 500)); slider.value = t1;
                    var label = L.DomUtil.create("span", "trk-playback-time", box);
                    L.DomEvent.disableClickPropagation(box);
                    var hidden = [];
                    function filter(t) {
                        (window.trkTimed || []).forEach(function (it, i) {
                            var off = it.t > t;
                            if (off && !hidden[i]) { it.g.removeLayer(it.l); hidden[i] = true; }
                            else if (!off && hidden[i]) { it.g.addLayer(it.l); hidden[i] = false; }
                        });
                    }
                    function show(t) {
                        filter(Number(t));
                        label.textContent = new Date(Number(t)).toISOString().slice(0, 16).replace("T", " ") + " UTC";
                        Object.keys(tracks).forEach(function (name) {
                            var p = where(tracks[name], Number(t));
                            if (!p) { if (markers[name]) { map.removeLayer(markers[name]); delete markers[name]; } return; }
                            if (!markers[name]) {
                                markers[name] = L.circleMarker([p[1], p[2]], {pane: "trk-playback", className: "trk-playback-marker", radius: 6, color: "#000", weight: 2, fillColor: "#ffd400", fillOpacity: 1}).addTo(map);
                                markers[name].options.trkKind = "playback";
                                markers[name].bindTooltip(trkText(name));
                            } else { markers[name].setLatLng([p[1], p[2]]); }
                        });
                    }
                    var timer = null;
                    btn.onclick = function () {
                        if (timer) { clearInterval(timer); timer = null; btn.textContent = "\u25b6"; return; }
                        if (Number(slider.value) >= t1) { slider.value = t0; }
                        btn.textContent = "\u23f8";
                        timer = setInterval(function () {
                            var next = Number(slider.value) + Number(slider.step);
                            if (next > t1) { clearInterval(timer); timer = null; btn.textContent = "\u25b6"; next = t1; }
                            slider.value = next; show(next);
                        }, 60);
                    };
                    slider.oninput = function () { show(slider.value); };
                    window.trkPlayback = {show: function (t) { slider.value = t; show(t); }, t0: t0, t1: t1};
                    show(t1);
                    return box;
                }
            });
            new Ctl().addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, tracks: dict[str, list[list[float]]], *, other_times: list[int] = ()
    ) -> None:
        super().__init__()
        self._name = "Playback"
        times = [p[0] for pts in tracks.values() for p in pts] + list(other_times)
        self.t0 = int(min(times)) if times else 0
        self.t1 = int(max(times)) if times else 0
        self.tracks = script_json(dict(tracks.items()))  # names shown with textContent
        self.helpers = DOM_HELPERS


class Legend(MacroElement):
    """A legend control: one row per symbol drawn (``(colour, label, symbol[, kind])``; symbol ``line``,
    ``thick``, ``dashed``, ``circle``, ``ring``, ``area``, ``grid`` or ``badge:X``) and notes
    saying what was thinned; every text is set with textContent."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var rows = {{ this.rows }}, notes = {{ this.notes }};
            var Ctl = L.Control.extend({
                options: {position: "bottomright"},
                onAdd: function () {
                    var box = L.DomUtil.create("div", "trk-legend");
                    var title = L.DomUtil.create("b", "", box); title.textContent = {{ this.title }};
                    rows.forEach(function (r) {
                        var line = L.DomUtil.create("div", "trk-legend-row", box);
                        var sw = L.DomUtil.create("span", "trk-swatch", line);
                        var kind = r[2] || "line";
                        line.setAttribute("data-symbol", kind.split(":")[0]);
                        if (r[3]) { line.setAttribute("data-kind", r[3]); }
                        if (kind === "dashed") { sw.style.borderTop = "3px dashed " + r[0]; sw.style.height = "0"; sw.style.marginBottom = "4px"; }
                        else if (kind === "line" || kind === "thick") { sw.style.background = r[0]; sw.style.height = kind === "thick" ? "5px" : "3px"; }
                        else if (kind === "circle" || kind === "ring") {
                            sw.className = "trk-swatch trk-swatch-dot"; sw.style.border = "2px solid " + r[0];
                            sw.style.background = kind === "ring" ? "#fff" : r[0];
                        }
                        else if (kind === "area" || kind === "grid") { sw.style.background = r[0]; sw.style.opacity = "0.45"; sw.style.border = "1px solid " + r[0]; }
                        else if (kind.indexOf("badge:") === 0) {
                            sw.className = "trk-swatch trk-badge trk-swatch-badge"; sw.style.background = r[0]; sw.textContent = kind.slice(6);
                        }
                        var tx = L.DomUtil.create("span", "", line); tx.textContent = r[1];
                    });
                    notes.forEach(function (n) {
                        var p = L.DomUtil.create("div", "trk-legend-note", box); p.textContent = n;
                    });
                    L.DomEvent.disableClickPropagation(box);
                    L.DomEvent.disableScrollPropagation(box);
                    return box;
                }
            });
            new Ctl().addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[tuple], *, notes: list[str] = (), title: str = "Legend") -> None:
        super().__init__()
        self._name = "Legend"
        # labels are set with textContent in the page, so they go in raw (JSON-escaped only);
        # an optional fourth item names the kind of layer the row describes (data-kind)
        self.rows = script_json([[*row[:3], row[3] if len(row) > 3 else None] for row in rows])
        self.notes = script_json([str(n) for n in notes])
        self.title = script_json(title)


class Footer(MacroElement):
    """A footer naming the data sources (set as text, never as HTML), plus the page CSS.

    It is a Leaflet control in the bottom-left corner, under the scale bar: controls in a
    corner stack, so the footer, the scale bar, the attribution and the legend never cover
    each other.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .leaflet-container { background: #cfdde8; }
          .leaflet-pane > svg { pointer-events: none; }
          .trk-popup table { border-collapse: collapse; font-size: 12px; }
          .trk-popup th { text-align: left; padding-right: 6px; color: #555; font-weight: normal; }
          .trk-legend, .trk-playback { background: rgba(255,255,255,0.92); padding: 6px 8px; font: 12px sans-serif; }
          .trk-legend { max-height: 45vh; max-width: 330px; overflow-y: auto; }
          .trk-legend div { margin-top: 2px; }
          .trk-legend-note { color: #444; font-size: 11px; border-top: 1px solid #ddd; padding-top: 2px; }
          .trk-swatch { display: inline-block; width: 18px; height: 10px; margin-right: 6px; vertical-align: middle; box-sizing: border-box; }
          .trk-swatch-dot { width: 12px; height: 12px; border-radius: 6px; margin: 0 9px 0 3px; }
          .trk-swatch-badge.trk-badge { width: 16px; height: 16px; line-height: 16px; font-size: 10px; margin: 0 5px 0 1px; }
          .trk-badge { width: 20px; height: 20px; border-radius: 10px; color: #fff; font: bold 11px/20px sans-serif;
                       text-align: center; border: 1px solid #fff; box-shadow: 0 0 2px #000; }
          .trk-badge-wrap { background: none; border: none; }
          .leaflet-control.trk-footer { font: 11px sans-serif; background: rgba(255,255,255,0.85); padding: 2px 6px;
                        margin: 0; max-width: 55vw; clear: both; line-height: 1.25; max-height: 2.5em; overflow: hidden;
                        cursor: help; }
          .leaflet-control.trk-footer:hover { max-height: 40vh; overflow: auto; }
          .trk-playback button { margin-right: 6px; }
          .trk-playback input { width: 220px; vertical-align: middle; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var Ctl = L.Control.extend({
                options: {position: "bottomleft"},
                onAdd: function () {
                    var div = L.DomUtil.create("div", "trk-footer");
                    div.textContent = {{ this.text }};
                    div.title = "data sources: point here to read them all";
                    return div;
                }
            });
            new Ctl().addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Footer"
        self.text = script_json(text)


class Panes(MacroElement):
    """Create tracker's panes (:data:`PANES`) so the z-order of layers is fixed, not the order
    in which they were added."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, panes = {{ this.panes }};
            Object.keys(panes).forEach(function (name) {
                var pane = map.getPane(name) || map.createPane(name);
                pane.style.zIndex = String(panes[name]);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Panes"
        self.panes = script_json(PANES)


class DensityGrid(MacroElement):
    """AIS traffic not drawn as tracks: one rectangle per grid cell, shaded by its positions.

    ``cells``: ``[row, col, positions, vessels]`` with cell ``(row, col)`` spanning latitude
    ``-90 + row * size`` and longitude ``-180 + col * size`` (degrees).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var cells = {{ this.cells }}, size = {{ this.size }}, color = {{ this.color }};
            {{ this.helpers }}
            var max = 1; cells.forEach(function (c) { if (c[2] > max) { max = c[2]; } });
            var group = {{ this._parent.get_name() }};
            cells.forEach(function (c) {
                var s = -90 + c[0] * size, w = -180 + c[1] * size;
                var a = 0.15 + 0.6 * Math.log(1 + c[2]) / Math.log(1 + max);
                var r = L.rectangle([[s, w], [s + size, w + size]], {pane: "trk-grid", className: "trk-grid-cell",
                    stroke: false, fillColor: color, fillOpacity: a});
                r.options.trkKind = "grid";
                r.bindTooltip(function () {
                    return trkText(c[2].toLocaleString("en") + " positions of " + c[3].toLocaleString("en") + " vessels not drawn as tracks");
                });
                group.addLayer(r);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, cells: list[list[int]], *, size_deg: float, color: str) -> None:
        super().__init__()
        self._name = "DensityGrid"
        self.helpers = DOM_HELPERS
        self.cells = script_json(cells)
        self.size = script_json(float(size_deg))
        self.color = script_json(color)


class ZoomToData(MacroElement):
    """Fit the view to a bounding box ``[[south, west], [north, east]]``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds }}, {padding: [20, 20]});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Any) -> None:
        super().__init__()
        self._name = "ZoomToData"
        self.bounds = script_json(bounds)


class PositionsLayer(MacroElement):
    """Thinned AIS positions as clustered dots, compact: ``[lat, lon, s_since_t0, stopped, vessel]``
    rows plus a list of vessel labels; popups are built in the page with ``textContent``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var rows = {{ this.rows }}, labels = {{ this.labels }}, colors = {{ this.colors }}, t0 = {{ this.t0 }};
            var cluster = L.markerClusterGroup({showCoverageOnHover: false, chunkedLoading: true, disableClusteringAtZoom: 12});
            var markers = rows.map(function (r) {
                var mk = L.circleMarker([r[0], r[1]], {pane: "trk-dots", radius: 3, color: colors[r[4]], weight: 1, fillOpacity: 0.7});
                mk.options.trkKind = "position";
                mk.bindPopup(function () {
                    var box = document.createElement("div"); box.className = "trk-popup";
                    var b = document.createElement("b"); b.textContent = labels[r[4]]; box.appendChild(b);
                    var t = document.createElement("div");
                    t.textContent = new Date(t0 + r[2] * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC, " + (r[3] ? "stopped" : "under way");
                    box.appendChild(t);
                    return box;
                });
                return mk;
            });
            cluster.addLayers(markers);
            cluster.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, rows: list[list], labels: list[str], colors: list[str], *, t0_ms: int = 0
    ) -> None:
        super().__init__()
        self._name = "PositionsLayer"
        self.t0 = int(t0_ms)
        self.rows = script_json(rows)
        self.labels = script_json(labels)  # set with textContent: raw text, JSON-escaped only
        self.colors = script_json(colors)
