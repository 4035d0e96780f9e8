"""Streamlit building blocks shared by the pages (filters, KPI cards, sections, errors, refresh)."""
