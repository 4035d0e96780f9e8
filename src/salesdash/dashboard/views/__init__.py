"""One script per dashboard page; ``app.py`` registers them with ``st.navigation`` (see ``pages()`` there).

The folder is not called ``pages``: Streamlit treats a ``pages/`` folder next to the entry point as a legacy
multipage app until ``st.navigation`` first runs, so a shared link opened first on a fresh server would run the
page without the app around it.
"""
