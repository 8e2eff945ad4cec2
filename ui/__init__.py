"""The Streamlit edge: cached resources, error display and shared widgets. Pages stay thin."""
