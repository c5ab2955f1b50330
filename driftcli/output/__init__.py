"""Render: results as a table, JSON, Markdown, JUnit, lines for stderr, and a progress bar.

Renderers return text or rich renderables; they never print and never decide
the exit code, and never call the library API.
"""
