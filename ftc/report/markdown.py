"""report.md: the same sections as report.html, with the plots as PNG files beside it
(report_files/), since Markdown viewers rarely show data: images."""

from __future__ import annotations

from pathlib import Path

from ftc.report.plots import Plot
from ftc.report.runs import RunData
from ftc.report.sections import Section, build

FILES = "report_files"


def render_markdown(runs: list[RunData], plots: list[Plot], out_dir: Path) -> str:
    files = Path(out_dir) / FILES
    files.mkdir(parents=True, exist_ok=True)
    for plot in plots:
        (files / f"{plot.name}.png").write_bytes(plot.png)
    lines = ["# ftc report: " + ", ".join(r.label for r in runs), ""]
    for section in build(runs, plots):
        lines += _section(section)
    return "\n".join(lines) + "\n"


def _section(s: Section) -> list[str]:
    out = [f"## {s.title}", ""]
    if s.kind == "plot" and s.plot is not None:
        return out + [f"![{s.title}]({FILES}/{s.plot.name}.png)", "", f"*{s.text}*", ""]
    if s.text:
        out += [s.text, ""]
    if s.rows:
        out.append("| " + " | ".join(s.headers) + " |")
        out.append("|" + "---|" * len(s.headers))
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in s.rows]
        out.append("")
    return out


def _cell(value: str) -> str:
    return str(value).replace("|", "\\|").replace("\n", "<br>")
