"""Run reports: report.html (one self-contained file, plots inline) and report.md.

    from ftc.report import write_report
    paths = write_report([run_dir, ...], out_dir)   # {'html': Path, 'markdown': Path}

runs.py reads a run directory (summary, metrics, samples, data report, the lock with
its provenance, ranks), plots.py draws with matplotlib (several runs overlaid),
html.py and markdown.py lay the same sections out. A finished run writes its own
report; `ftc report RUN_DIR...` writes one for any runs, compared when several.
"""

from __future__ import annotations

from pathlib import Path

HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"


def write_report(run_dirs: list[Path], out_dir: Path) -> dict[str, Path]:
    """Write report.html and report.md for the runs into out_dir; their paths."""
    from ftc.report.html import render_html
    from ftc.report.markdown import render_markdown
    from ftc.report.plots import draw_all
    from ftc.report.runs import load_run

    runs = [load_run(Path(d)) for d in run_dirs]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = draw_all(runs)
    html_path, md_path = out_dir / HTML_NAME, out_dir / MARKDOWN_NAME
    _write(html_path, render_html(runs, plots))
    _write(md_path, render_markdown(runs, plots, out_dir))
    return {"html": html_path, "markdown": md_path}


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
