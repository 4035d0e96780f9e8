"""The Streamlit dashboard. It reads everything through the REST API (``client.py``); entry point ``app.py``."""
