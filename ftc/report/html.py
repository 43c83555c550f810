"""report.html: one self-contained page (inline CSS, plots as data: URIs, no scripts, no
network), from the sections of sections.py."""

from __future__ import annotations

import base64
from html import escape

from ftc.report.plots import Plot
from ftc.report.runs import RunData
from ftc.report.sections import Section, build

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
td pre{white-space:pre-wrap;margin:0;font-size:.8rem;max-width:28rem}
figure{margin:.5rem 0}figure img{max-width:100%}figcaption{font-size:.8rem;color:#555}
nav a{margin-right:.8rem;font-size:.85rem}.worse{color:#b91c1c;font-weight:600}
p.note{font-size:.85rem;color:#444}
"""


def render_html(runs: list[RunData], plots: list[Plot]) -> str:
    sections = build(runs, plots)
    title = "ftc report: " + ", ".join(r.label for r in runs)
    nav = " ".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>'
                   for s in sections if s.anchor)
    body = "\n".join(_section(s) for s in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n"
            f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n"
            f"<nav>{nav}</nav>\n{body}\n</body>\n</html>\n")


def _section(s: Section) -> str:
    head = f'<section id="{escape(s.anchor)}">\n<h2>{escape(s.title)}</h2>\n'
    if s.kind == "plot" and s.plot is not None:
        data = base64.b64encode(s.plot.png).decode("ascii")
        return (f'{head}<figure><img class="plot" alt="{escape(s.title)}" '
                f'src="data:image/png;base64,{data}">\n<figcaption>{escape(s.text)}'
                f"</figcaption></figure>\n</section>")
    note = f'<p class="note">{escape(s.text)}</p>\n' if s.text else ""
    if not s.rows:
        return f"{head}{note}</section>"
    header = "".join(f"<th>{escape(h)}</th>" for h in s.headers)
    rows = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in s.rows)
    return f"{head}{note}<table>\n<tr>{header}</tr>\n{rows}\n</table>\n</section>"


def _cell(value: str) -> str:
    text = str(value)
    if "\n" in text or len(text) > 60:
        return f"<td><pre>{escape(text)}</pre></td>"
    cls = ' class="num"' if _numeric(text) else ""
    if text.endswith("(worse)"):
        cls = ' class="num worse"'
    return f"<td{cls}>{escape(text)}</td>"


def _numeric(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").replace("-", "") \
        .replace("+", "").replace("e", "").isdigit()
