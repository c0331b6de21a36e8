"""Charts of the statistics page: the geometry (bars, lines, ticks, tooltips) that the SVG
templates draw, computed here so the portal needs no JavaScript.
"""

from __future__ import annotations

import math
from decimal import Decimal

from trading.views.portal.formatting import is_chinese, money


def _display_amount(amount) -> float:
    # Chart geometry only: pixels need floats, the figures in the tables stay Decimal.
    amount = Decimal(amount or 0)
    return float(amount / 10000) if is_chinese() else float(amount)


def _axis_label(value: float) -> str:
    if is_chinese():
        return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:,.2g}"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= div:
            return f"{value / div:,.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}"


def _nice_axis(maximum: float, ticks: int = 4) -> tuple[float, float]:
    """(axis maximum, step): a round step (1, 2, 2.5, 5 × 10ⁿ) so that grid lines read well."""
    if maximum <= 0:
        return 1.0, 0.25
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    return math.ceil(maximum / step) * step, step


def hbar_chart(*, rows: list[dict], series: list[tuple[str, str, str]]) -> dict:
    """Horizontal grouped bars, one group per row; series are (field, label, css class)."""
    width, right_pad, top, bar_h, gap = 760, 100, 8, 14, 16
    label_w = 130 if is_chinese() else 210  # room for "State-owned property rights"; Chinese labels are short
    band = bar_h * len(series) + gap
    values = [[_display_amount(r[field]) for field, _l, _c in series] for r in rows]
    axis_max, step = _nice_axis(max([v for vs in values for v in vs] or [0]))
    plot_w = width - label_w - right_pad
    height = top + band * max(len(rows), 1) + 28
    groups = []
    for i, (row, vals) in enumerate(zip(rows, values, strict=True)):
        y0 = top + i * band
        bars = []
        for j, ((field, label, css), v) in enumerate(zip(series, vals, strict=True)):
            w = plot_w * v / axis_max
            y = y0 + j * bar_h
            text = money(row[field], unit=False)
            bars.append(
                {
                    "x": label_w,
                    "y": y,
                    "w": round(w, 1),
                    "h": bar_h - 2,
                    "css": css,
                    "tx": round(label_w + w + 4, 1),
                    "ty": y + bar_h - 4,
                    "text": text if v else "",  # a zero needs no label beside an empty bar
                    "title": f"{row['label']} · {label}: {money(row[field])}",
                }
            )
        groups.append({"label": row["label"], "ly": y0 + (bar_h * len(series)) / 2 + 4, "bars": bars})
    ticks = []
    n = round(axis_max / step)
    for k in range(n + 1):
        v = step * k
        ticks.append({"x": round(label_w + plot_w * v / axis_max, 1), "label": _axis_label(v)})
    return {
        "width": width,
        "height": height,
        "groups": groups,
        "ticks": ticks,
        "plot_top": top,
        "plot_bottom": height - 24,
        "label_x": label_w - 8,
        "tick_y": height - 8,
        "legend": [{"label": label, "css": css} for _f, label, css in series],
    }


def line_chart(*, rows: list[dict], series: list[tuple[str, str, str]]) -> dict:
    """A line per series over the rows (months), with a marker and a tooltip per point."""
    width, height, left, right, top, bottom = 720, 300, 72, 48, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [[_display_amount(r[field]) for field, _l, _c in series] for r in rows]
    axis_max, step = _nice_axis(max([v for vs in values for v in vs] or [0]))
    n = len(rows)

    def x_at(i: int) -> float:
        return round(left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)), 1)

    def y_at(v: float) -> float:
        return round(top + plot_h - plot_h * v / axis_max, 1)

    lines = []
    for j, (field, label, css) in enumerate(series):
        points = [
            {"x": x_at(i), "y": y_at(vals[j]), "title": f"{row['label']} · {label}: {money(row[field])}"}
            for i, (row, vals) in enumerate(zip(rows, values, strict=True))
        ]
        lines.append({"css": css, "points": points, "path": " ".join(f"{p['x']},{p['y']}" for p in points)})
    every = max(1, math.ceil(n / 12))  # at most about a dozen month labels fit under the axis
    xlabels = [{"x": x_at(i), "label": row["label"]} for i, row in enumerate(rows) if i % every == 0]
    yticks = [
        {"y": y_at(step * k), "label": _axis_label(step * k)} for k in range(round(axis_max / step) + 1)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "lines": lines,
        "xlabels": xlabels,
        "yticks": yticks,
        "xlabel_y": height - 14,
        "ylabel_x": left - 8,
        "legend": [{"label": label, "css": css} for _f, label, css in series],
    }
