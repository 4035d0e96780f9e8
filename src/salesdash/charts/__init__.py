"""Pure Plotly figures and number formatting, shared by the dashboard and the exports (PNG, PDF).

``figures`` (sales charts: time series, ranked bars, donuts, maps, heatmaps), ``analytics`` (forecast, RFM,
comparisons, data quality) and ``format`` (money, counts, percentages: one way everywhere). Records (lists of
dicts, the API's ``data``) in, ``go.Figure`` or text out: no Streamlit, no HTTP, no database here.
"""
