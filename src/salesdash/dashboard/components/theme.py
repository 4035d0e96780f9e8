"""The light/dark switch in the sidebar, and the dashboard's colours from the one palette (:mod:`charts.theme`).

Streamlit (1.67) has no API to change its own theme while the app runs: its theme comes from
``.streamlit/config.toml`` (the light theme, checked against :data:`~salesdash.charts.theme.LIGHT` by a test),
and a reader can pick another one only in Streamlit's own menu, which this app hides (``toolbarMode =
"minimal"``). So the switch here does two honest things: it passes the picked theme to every chart function
(Plotly templates made from the palette) and, for dark, it draws CSS made from the same palette over
Streamlit's light styles (page, sidebar, text, inputs, menus, cards). The CSS holds colours of the palette
only, never a value from the data or the URL. Tables (``st.dataframe``) are drawn on a canvas with
Streamlit's own theme, which CSS cannot reach: in dark mode they are shown through an inverting filter.

The choice is the widget ``theme`` bound to the URL (``?theme=dark``), so it survives reruns, page switches and
a shared link; light is the default (and is left out of the URL).
"""

from __future__ import annotations

import streamlit as st

from salesdash.charts.theme import DARK, LIGHT, OKABE_ITO, THEMES, Theme, theme_named
from salesdash.dashboard.state import THEME_PARAM

KEY = THEME_PARAM  # the widget key and the URL parameter
LABELS = {"light": "Light", "dark": "Dark"}


def active() -> Theme:
    """The theme picked in the sidebar (light until the switch is drawn or when nothing valid is picked)."""
    return theme_named(st.session_state.get(KEY) or LIGHT.name)


def focus_css(theme: Theme) -> str:
    """A visible keyboard focus ring on the navigation links and every button, in the theme's primary."""
    ring = f"outline: 3px solid {theme.primary} !important; outline-offset: 2px !important;"
    return (
        '[data-testid="stSidebarNavLink"]:focus-visible, button:focus-visible, a:focus-visible, '
        f'[role="tab"]:focus-visible, summary:focus-visible {{{ring} border-radius: 0.4rem;}}\n'
    )


def dark_css(theme: Theme = DARK) -> str:
    """CSS drawing Streamlit's light widgets in ``theme``'s colours (palette values only)."""
    t = theme
    return f"""
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"],
[data-testid="stBottomBlockContainer"] {{background-color: {t.background} !important; color: {t.text};}}
[data-testid="stHeader"] {{background-color: transparent !important;}}
[data-testid="stSidebar"], [data-testid="stSidebarContent"] {{background-color: {t.surface} !important;}}
[data-testid="stSidebar"], [data-testid="stSidebar"] > div, [data-testid="stSidebarNav"],
[data-testid="stSidebarNavSeparator"] {{border-color: {t.border} !important;}}
.stApp, .stApp p, .stApp li, .stApp label, .stApp h1, .stApp h2, .stApp h3, .stApp h4, .stApp h5, .stApp h6,
.stApp span, .stApp summary, .stApp th, .stApp td, [data-testid="stMarkdownContainer"],
[data-testid="stMetricValue"], [data-testid="stWidgetLabel"] {{color: {t.text};}}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *, .stApp small,
[data-testid="stMetricLabel"] p {{color: {t.muted_text} !important;}}
[data-testid="stSidebarNavLink"] span {{color: {t.text} !important;}}
[data-testid="stSidebarNavLink"][aria-current="page"], [data-testid="stSidebarNavLink"]:hover
  {{background-color: {t.grid} !important;}}
[data-testid="stMetric"], [data-testid="stVerticalBlockBorderWrapper"], [data-testid="stExpander"] details,
[data-testid="stExpander"] summary {{background-color: {t.background} !important; border-color: {t.border} !important;}}
div[data-testid="stVerticalBlock"][class*="border"], [data-testid="stLayoutWrapper"] > div
  {{border-color: {t.border} !important;}}
hr {{border-color: {t.border} !important; background-color: {t.border} !important;}}
[data-baseweb="select"] > div, [data-baseweb="input"], [data-baseweb="input"] > div, [data-baseweb="base-input"],
[data-baseweb="textarea"], .stApp input, .stApp textarea, [data-testid="stDateInputField"]
  {{background-color: {t.surface} !important; color: {t.text} !important; border-color: {t.border} !important;}}
.stApp input::placeholder, .stApp textarea::placeholder {{color: {t.muted_text} !important; opacity: 1;}}
[data-testid="stMultiSelect"] button, [data-testid="stSelectbox"] button, [data-testid="stDateInput"] button,
[data-testid="stNumberInput"] button {{color: {t.muted_text} !important; background-color: transparent !important;}}
[data-testid="stTooltipIcon"] button, [data-testid="stTooltipIcon"] svg
  {{color: {t.muted_text} !important; stroke: {t.muted_text} !important; opacity: 1 !important;
   background-color: transparent !important;}}
[data-baseweb="tag"] {{background-color: {t.grid} !important;}}
[data-baseweb="tag"] span {{color: {t.text} !important;}}
[data-baseweb="popover"] > div, [data-baseweb="popover"] ul, [data-baseweb="menu"], [role="listbox"],
[data-baseweb="calendar"], [data-baseweb="calendar"] div, [data-testid="stPopoverBody"], [role="dialog"],
[data-baseweb="tooltip"] > div, [data-testid="stTooltipContent"]
  {{background-color: {t.surface} !important; color: {t.text} !important; border-color: {t.border} !important;}}
[role="option"]:hover, [role="option"][aria-selected="true"] {{background-color: {t.grid} !important;}}
.stApp button[kind="secondary"], .stApp button[data-testid="stBaseButton-secondary"],
.stApp button[data-testid="stBaseButton-segmented_control"], .stApp [data-testid="stPopover"] button
  {{background-color: {t.surface} !important; color: {t.text} !important; border-color: {t.border} !important;}}
[data-testid="stButtonGroup"] button[role="radio"], [data-testid="stButtonGroup"] button[role="radio"] *
  {{background-color: {t.surface} !important; color: {t.text} !important; border-color: {t.border} !important;}}
[data-testid="stButtonGroup"] button[aria-checked="true"], [data-testid="stButtonGroup"] button[aria-checked="true"] *
  {{background-color: {t.grid} !important; border-color: {t.primary} !important;}}
[data-testid="stMetricDelta"] {{background-color: {t.grid} !important;}}
[data-testid="stMetricDelta"] p {{color: {t.text} !important;}}
[data-testid="stMetricDeltaIcon-Up"] {{color: {OKABE_ITO["green"]} !important;}}
[data-testid="stMetricDeltaIcon-Down"] {{color: {OKABE_ITO["vermillion"]} !important;}}
[data-testid="stMultiSelect"] [role="group"], [data-testid="stSelectbox"] [role="group"],
[data-testid="stDateInput"] [role="group"] {{background-color: {t.surface} !important; border-color: {t.border} !important;}}
[role="spinbutton"], [data-testid="stMultiSelect"] [role="group"] span, [data-testid="stDateInput"] [role="group"] span
  {{color: {t.muted_text} !important;}}
[data-testid="stTextInputRootElement"], [data-testid="stNumberInputContainer"], [data-testid="stFileUploaderDropzone"],
[data-testid="stElementToolbarButtonContainer"]
  {{background-color: {t.surface} !important; color: {t.text} !important; border-color: {t.border} !important;}}
[data-testid="stCheckbox"] label > div:not([data-testid]) {{background-color: {t.border} !important;}}
[data-testid="stCheckbox"] label > div:not([data-testid]) > div {{background-color: {t.text} !important;}}
[data-testid="stCheckbox"] label:has(input:checked) > div:not([data-testid]) {{background-color: {t.primary} !important;}}
.stApp button[kind="tertiary"], .stApp button[data-testid*="tertiary"] {{color: {t.text} !important;}}
.stApp button:disabled, .stApp button:disabled * {{color: {t.muted_text} !important; opacity: 0.7;}}
[data-testid="stCode"] pre, [data-testid="stCode"] code, .stApp code
  {{background-color: {t.surface} !important; color: {t.text} !important;}}
[data-testid="stAlertContainer"] {{background-color: {t.surface} !important; border: 1px solid {t.border};}}
[data-testid="stAlertContainer"] * {{color: {t.text} !important;}}
[data-testid="stTab"] p {{color: {t.text};}}
[data-testid="stDataFrame"] canvas, [data-testid="stDataFrameResizable"] canvas
  {{filter: invert(0.88) hue-rotate(180deg);}}
[data-testid="stDataFrame"], [data-testid="stTable"] table {{border-color: {t.border} !important;}}
[data-testid="stTable"] th, [data-testid="stTable"] td {{border-color: {t.border} !important;}}
"""


def css(theme: Theme) -> str:
    """The style sheet of ``theme``: its focus ring, plus the dark overrides for a dark theme."""
    return "<style>\n" + focus_css(theme) + (dark_css(theme) if theme.name != LIGHT.name else "") + "</style>"


def theme_switch() -> Theme:
    """Draw the Light/Dark switch in the sidebar, apply the picked theme's CSS and return the theme."""
    st.sidebar.segmented_control(
        "Theme",
        list(THEMES),
        default=LIGHT.name,
        format_func=LABELS.__getitem__,  # the URL says the label: ?theme=Dark
        key=KEY,
        bind="query-params",
        required=True,
        help="Light or dark colours for the pages and charts (exported files stay light)",
    )
    theme = active()
    st.html(css(theme))
    return theme
