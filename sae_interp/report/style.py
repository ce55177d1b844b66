"""The report page's stylesheet (inline in the page; no web fonts or external files)."""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #22313f; color: #fff; padding: 12px 24px; }
header h1 { margin: 0; font-size: 1.4em; }
.meta { margin: 4px 0 0; opacity: 0.8; font-size: 0.85em; }
main { padding: 8px 24px 40px; }
h2 { border-bottom: 2px solid #22313f; padding-bottom: 2px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8em; margin: 6px 0 14px; background: #fff; }
th, td { border: 1px solid #d0d0d0; padding: 3px 6px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.ci { color: #666; font-size: 0.9em; }
.plot { display: inline-block; margin: 6px 12px 12px 0; background: #fff; border: 1px solid #ddd; padding: 4px; }
.plot img { max-width: 100%; display: block; }
.plot figcaption { font-size: 0.8em; color: #555; }
.card { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.card h3 { margin: 0 0 4px; font-size: 1em; }
.status { font-weight: normal; color: #777; font-size: 0.85em; }
.explanation { font-size: 1.05em; margin: 4px 0; }
.source, .note { color: #666; font-size: 0.8em; margin: 2px 0 6px; }
.window { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.8em; margin: 3px 0; padding: 3px; background: #f4f4f4; white-space: pre-wrap; word-break: break-all; }
.tok { border-radius: 2px; }
"""
