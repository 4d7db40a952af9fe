"""The application: one job per module (add, import, search, suggest, link, report)."""
