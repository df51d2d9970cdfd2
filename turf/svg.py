"""A self-contained SVG map of a district's turfs: no tiles, no scripts, no external requests.

The district outline, barrier layers (rail, highway: dark lines; water: blue areas), each turf
filled in its own colour (golden-angle hues, so neighbours in list order differ), and a label
per turf with its list number (or name, for drafts) and door count. All text is XML-escaped:
turf names are typed by users.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from turf.cutting import LocalProjection
from turf.models import District, MapLayer, Turf

WIDTH_PX = 1000.0
MARGIN_PX = 20.0


def turf_colour(i: int) -> str:
    """A distinct pastel for the i-th turf (hues spaced by the golden angle)."""
    hue = (i * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.72, 0.65)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def turf_label(turf: Turf) -> str:
    """The short label drawn on the map: the list number, or "D<id>" for a draft (a draft's
    generated name, e.g. "1st Fairhaven Ward 3-039", is too long to fit a turf; it goes in the
    tooltip)."""
    return turf.list_number or f"D{turf.pk}"


def turf_tooltip(turf: Turf) -> str:
    name = f" {turf.name}" if turf.name and turf.name != turf.list_number else ""
    return f"{turf_label(turf)}{name}: {turf.door_count} doors ({turf.status})"


class _Canvas:
    """Maps lon/lat to SVG pixels: local metres, scaled to WIDTH_PX, y pointing down."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        min_lon, min_lat, max_lon, max_lat = bounds
        self.projection = LocalProjection((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
        x0, y0 = self.projection.forward(min_lon, min_lat)
        x1, y1 = self.projection.forward(max_lon, max_lat)
        self.x0, self.y1 = float(x0), float(y1)
        span_x = max(float(x1 - x0), 1.0)
        span_y = max(float(y1 - y0), 1.0)
        self.scale = (WIDTH_PX - 2 * MARGIN_PX) / max(span_x, span_y)
        self.width = span_x * self.scale + 2 * MARGIN_PX
        self.height = span_y * self.scale + 2 * MARGIN_PX
        self.frame = shapely.box(min_lon, min_lat, max_lon, max_lat)

    def pt(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.projection.forward(lon, lat)
        return (
            round((float(x) - self.x0) * self.scale + MARGIN_PX, 1),
            round((self.y1 - float(y)) * self.scale + MARGIN_PX, 1),
        )

    def path(self, geom: BaseGeometry) -> str:
        """SVG path data of a (multi)polygon or (multi)line in lon/lat."""
        pixels = shapely.transform(geom, self._to_pixels)
        parts: list[str] = []
        for part in shapely.get_parts(pixels):
            if part.geom_type == "Polygon":
                for ring in (part.exterior, *part.interiors):
                    parts.append(self._ring(ring.coords, close=True))
            elif part.geom_type in ("LineString", "LinearRing"):
                parts.append(self._ring(part.coords, close=False))
        return " ".join(p for p in parts if p)

    def _to_pixels(self, coords: np.ndarray) -> np.ndarray:
        x, y = self.projection.forward(coords[:, 0], coords[:, 1])
        px = (x - self.x0) * self.scale + MARGIN_PX
        py = (self.y1 - y) * self.scale + MARGIN_PX
        return np.round(np.column_stack([px, py]), 1)

    @staticmethod
    def _ring(coords: Iterable[Sequence[float]], *, close: bool) -> str:
        pts = list(coords)
        if len(pts) < 2:
            return ""
        body = "L".join(f"{x:g} {y:g}" for x, y in pts)
        return f"M{body}" + ("Z" if close else "")


def _safe_shape(geojson: Any) -> BaseGeometry | None:
    if not geojson:
        return None
    try:
        geom = shape(geojson)
    except Exception:  # a malformed stored geometry is skipped, never a 500
        return None
    return None if geom.is_empty else geom


def district_turfs_svg(
    *, district: District, turfs: Sequence[Turf], layers: Sequence[MapLayer] = ()
) -> str:
    """The map as an SVG document (UTF-8 text)."""
    outline = _safe_shape(district.geometry)
    bounds = (district.min_lon, district.min_lat, district.max_lon, district.max_lat)
    if outline is not None:
        bounds = outline.bounds
    canvas = _Canvas(bounds)
    title = f"{district.name}: {len(turfs)} turfs"
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas.width:.0f}" '
        f'height="{canvas.height:.0f}" viewBox="0 0 {canvas.width:.1f} {canvas.height:.1f}" '
        'font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    if outline is not None:
        out.append(
            f'<path d="{canvas.path(outline)}" fill="#f4f4f4" stroke="#555555" stroke-width="2"/>'
        )
    # Barriers, clipped to the map frame (a rail layer covers the whole city).
    for layer in layers:
        water = layer.kind == "water"
        pieces: list[str] = []
        for feature in (layer.features or {}).get("features") or []:
            geom = _safe_shape(feature.get("geometry"))
            if geom is None or not geom.intersects(canvas.frame):
                continue
            d = canvas.path(geom.intersection(canvas.frame))
            if d:
                pieces.append(d)
        if not pieces:
            continue
        style = (
            'fill="#9cc3e6" stroke="#5b8db8" stroke-width="1" fill-opacity="0.8"'
            if water
            else 'fill="none" stroke="#333333" stroke-width="2.5" stroke-dasharray="6 3"'
        )
        out.append(
            f'<g class="barrier" data-kind={quoteattr(layer.kind)}>'
            f"<title>{escape(layer.name)}</title>"
            f'<path d="{" ".join(pieces)}" {style} fill-rule="evenodd"/></g>'
        )
    labels: list[str] = []
    for i, turf in enumerate(turfs):
        geom = _safe_shape(turf.polygon)
        if geom is None:
            continue
        label = turf_label(turf)
        out.append(
            f'<path class="turf" data-turf-id="{turf.pk}" d="{canvas.path(geom)}" '
            f'fill="{turf_colour(i)}" fill-opacity="0.75" stroke="#222222" stroke-width="1" '
            f'fill-rule="evenodd"><title>{escape(turf_tooltip(turf))}</title></path>'
        )
        anchor = geom.representative_point()
        x, y = canvas.pt(anchor.x, anchor.y)
        labels.append(
            f'<text x="{x}" y="{y}" text-anchor="middle" font-size="12" font-weight="bold" '
            f'fill="#111111" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f'{escape(label)}<tspan x="{x}" dy="14" font-size="11" font-weight="normal">'
            f"{turf.door_count} doors</tspan></text>"
        )
    out.extend(labels)  # labels last, so no turf fill covers another turf's label
    out.append("</svg>")
    return "\n".join(out) + "\n"
