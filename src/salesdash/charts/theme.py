"""The one palette of salesdash: a light and a dark theme made from the Okabe-Ito colours.

Everything coloured is made from :data:`THEMES`: the Plotly template of every chart (:attr:`Theme.template`:
text, axes, grid, hover labels, map land, colour sequence), the colours chart functions pick by role
(``theme.primary``, ``theme.sequential`` ...), the dashboard's dark-mode CSS and the Streamlit ``[theme]`` of
``dashboard/.streamlit/config.toml`` (a test checks that file against :data:`LIGHT`). Chart functions take a
``theme`` argument (default :data:`LIGHT`, which the PNG and PDF exports use).

The categorical colours are Okabe & Ito (2008), "Color Universal Design": distinguishable with the common forms
of colour blindness, on white and on the dark background alike (each has a contrast of 3:1 or more against the
dark background). The sequential scales are single-hue blues, monotone in lightness (readable in greyscale): on
the light theme low values are pale, on the dark theme low values are dark, so that high values always stand
out from the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import plotly.graph_objects as go

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
# Categorical order: strongest contrasts first (black left out: it vanishes on the dark background).
PALETTE = [
    OKABE_ITO[name] for name in ("blue", "orange", "green", "vermillion", "sky_blue", "purple", "yellow")
]
FONT_FAMILY = "Source Sans Pro, Source Sans 3, sans-serif"
Scale = list[list[Any]]


@dataclass(frozen=True)
class Theme:
    """The colours of one theme, by role."""

    name: str  # "light" or "dark"
    background: str  # the page
    surface: str  # the sidebar, cards' backgrounds, hover labels, inputs
    text: str
    muted_text: str  # captions, secondary axis labels, notes on charts
    grid: str
    border: str
    land: str  # map: a country without data
    country_lines: str  # map: borders between countries
    muted: str  # a pale tint of the primary blue, for context series (order bars, partial years)
    grey: str  # a neutral for "other" series (backtest, Cancelled, Hibernating): 3:1 on the page, white text on it
    sequential: Scale  # heatmaps: low -> high
    sequential_map: Scale  # maps: the lowest value still stands out from ``land``
    primary: str = OKABE_ITO["blue"]
    palette: list[str] = field(default_factory=lambda: list(PALETTE))

    @cached_property
    def template(self) -> go.layout.Template:
        """The Plotly template of this theme: every chart's text, axis, grid, legend, hover and map colours."""
        axis = {
            "gridcolor": self.grid,
            "linecolor": self.border,
            "zerolinecolor": self.border,
            "tickcolor": self.border,
            "title": {"font": {"color": self.text}},
        }
        bar = {"outlinewidth": 0, "tickfont": {"color": self.text}}  # colour bars without a frame
        return go.layout.Template(
            data={"heatmap": [go.Heatmap(colorbar=bar)], "choropleth": [go.Choropleth(colorbar=bar)]},
            layout={
                "font": {"family": FONT_FAMILY, "size": 13, "color": self.text},
                "paper_bgcolor": "rgba(0,0,0,0)",
                "plot_bgcolor": "rgba(0,0,0,0)",
                "colorway": self.palette,
                "colorscale": {"sequential": self.sequential},
                "xaxis": axis,
                "yaxis": axis,
                "legend": {"font": {"color": self.text}},
                "hoverlabel": {
                    "bgcolor": self.surface,
                    "bordercolor": self.border,
                    "font": {"color": self.text, "size": 13},
                },
                "geo": {
                    "bgcolor": "rgba(0,0,0,0)",
                    "landcolor": self.land,
                    "countrycolor": self.country_lines,
                    "showland": True,
                    "showcountries": True,
                },
                "annotationdefaults": {"font": {"color": self.text}},
            },
        )


LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    surface="#F3F5F9",
    text="#1F2430",
    muted_text="#6B7080",
    grid="#E6E9EF",
    border="#DDE1E8",
    land="#F3F4F6",
    country_lines="#D5D9E0",
    muted="#9DB9D3",
    grey="#6B7080",
    sequential=[[0.0, "#EFF5FB"], [0.25, "#BCD7EC"], [0.5, "#6FA8D6"], [0.75, "#2B7BBA"], [1.0, "#084A84"]],
    sequential_map=[
        [0.0, "#B9D5EC"],
        [0.15, "#8DBBE0"],
        [0.4, "#4A90C8"],
        [0.7, "#1F6AA8"],
        [1.0, "#08427A"],
    ],
)
DARK = Theme(
    name="dark",
    background="#10141B",
    surface="#1B2029",
    text="#E6E9EF",
    muted_text="#A3AAB8",
    grid="#2C3340",
    border="#3A4250",
    land="#2A303B",
    country_lines="#4A5261",
    muted="#2A3F55",
    grey="#7A8291",
    sequential=[[0.0, "#16263A"], [0.25, "#1F4E79"], [0.5, "#2B7BBA"], [0.75, "#56B4E9"], [1.0, "#C6E6F8"]],
    sequential_map=[
        [0.0, "#2F6FA8"],
        [0.15, "#3F86C2"],
        [0.4, "#5FA5DA"],
        [0.7, "#93C8EC"],
        [1.0, "#D4ECFA"],
    ],
)
THEMES = {theme.name: theme for theme in (LIGHT, DARK)}


def theme_named(name: object) -> Theme:
    """The theme called ``name`` ("light", "dark"); anything else is the light theme."""
    return THEMES.get(str(name), LIGHT)
