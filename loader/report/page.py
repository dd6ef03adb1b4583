"""`halo report`: one self-contained HTML page of charts per player (and a PNG of the summary charts).

The page needs nothing but itself: Vega, Vega-Lite and Vega-Embed are embedded as one script (the bundle that
vl-convert ships, for the Vega-Lite version Altair writes), every chart's data is embedded in its spec, and the
definitions the charts use are copied from docs/definitions.md into the page. It opens offline, from a file.
"""

import contextlib
import html
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from loader.core.errors import DatabaseBusyError, NotFoundError, UsageError
from loader.core.paths import player_dir
from loader.core.resources import refusals
from loader.report.charts import Chart, career_chart, experience_charts, summary_spec
from loader.report.data import ReportData
from loader.report.labels import LABELS, LANGUAGES

REPORT_NAME = "report.html"
SUMMARY_NAME = "report.png"
DEFINITIONS = Path(__file__).resolve().parents[2] / "docs" / "definitions.md"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1560px;
       padding: 1rem 1.5rem; color: #1c2833; background: #fdfefe; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 2px solid #d5d8dc; padding-top: 1rem; }
nav a { margin-right: 1rem; } .record { font-size: 1.1rem; } .muted, figcaption { color: #566573; font-size: .9rem; }
.charts { display: flex; flex-wrap: wrap; column-gap: 3rem; align-items: flex-start; }
figure.chart { margin: 1.2rem 0 2rem; max-width: 100%; overflow-x: auto; }
figure.chart h3 { margin: 0 0 .4rem; font-size: 1.05rem; }
.definition { margin-bottom: 1.2rem; } .definition h3 { font-family: monospace; margin-bottom: .2rem; }
.definition pre { background: #f4f6f6; padding: .5rem; overflow-x: auto; }
"""

RENDER = """
(async () => {
  const charts = JSON.parse(document.getElementById("halo-report-charts").textContent);
  const options = JSON.parse(document.getElementById("halo-report-options").textContent);
  let drawn = 0;
  for (const chart of charts) {
    try {
      await vegaEmbed("#vis-" + chart.id, chart.spec, options);
      drawn += 1;
    } catch (error) {
      console.error("chart " + chart.id + " did not draw: " + error);
    }
  }
  document.body.dataset.charts = String(charts.length);
  document.body.dataset.drawn = String(drawn);
})();
"""


@dataclass
class ReportFiles:
    """What `write_report` wrote for one player."""

    gamertag: str
    page: Path
    png: Path | None
    charts: int
    page_bytes: int


@cache
def locales(lang: str) -> dict:
    """Vega's number and time format locales for the language (days and months in French with --lang fr)."""
    if lang == "en":
        return {}
    import vl_convert

    code = {"fr": "fr-FR"}[lang]
    return {"formatLocale": vl_convert.get_format_locale(code),
            "timeFormatLocale": vl_convert.get_time_format_locale(code)}


BUNDLE_CACHE = "report-cache"  # under HALO_DATA_DIR/warehouse: the Vega bundle, built once per vl-convert version


@cache
def vega_bundle(cache_dir: Path | None = None) -> str:
    """Vega + Vega-Lite + Vega-Embed as one script (from vl-convert, no network), once per process.

    vl-convert bundles the modules it ships on each call (about 12 s on a slow machine), so the script is kept in
    `cache_dir` under its versions' name; a cache that cannot be written is skipped (the page is the same)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    vl_version = vl_version_for_vl_convert()
    name = f"vega-embed-bundle-vlc{vl_convert.__version__}-vl{vl_version}.js"
    cached = cache_dir / name if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    if cached is not None:
        with contextlib.suppress(OSError):  # a read-only data folder: built again next time
            _write_atomically(cached, bundle.encode("utf-8"))
    return bundle


def definition_sections(path: Path = DEFINITIONS) -> dict[str, str]:
    """The `## name` sections of docs/definitions.md: anchor -> its Markdown text."""
    if not path.is_file():
        return {}
    sections: dict[str, str] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(#([A-Za-z0-9_-]+)\)")


def _inline(text: str) -> str:
    text = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))
    return _LINK.sub(lambda m: f'<a href="#def-{m.group(2)}">{m.group(1)}</a>', text)


def _with_linked(anchors: set[str], known: dict[str, str]) -> set[str]:
    """The definitions named, and those their texts link to (so every link of the page has its target)."""
    found, todo = set(), [a for a in anchors if a in known]
    while todo:
        anchor = todo.pop()
        if anchor not in found:
            found.add(anchor)
            todo += [m.group(2) for m in _LINK.finditer(known[anchor]) if m.group(2) in known]
    return found


def _markdown(text: str) -> str:
    """Enough Markdown for the definitions: paragraphs, lists (as paragraphs), tables and code kept as text."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.lstrip().startswith("|"):
            blocks.append(f"<pre>{html.escape(block)}</pre>")
        else:
            blocks.append(f"<p>{_inline(' '.join(line.strip() for line in block.splitlines()))}</p>")
    return "\n".join(blocks)


def _json_script(value: object) -> str:
    """JSON safe inside <script>: no `</`, no HTML comment openers."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def _figure(chart: Chart, words: dict, known: dict[str, str]) -> str:
    links = ", ".join(f'<a href="#def-{a}">{a}</a>' if a in known else f"docs/definitions.md#{a}"
                      for a in chart.definitions)
    caption = " · ".join(filter(None, [html.escape(chart.note), f"{words['definition']}: {links}" if links else ""]))
    return (f'<figure class="chart" id="chart-{chart.chart_id}"><h3>{html.escape(chart.title)}</h3>'
            f'<div class="vis" id="vis-{chart.chart_id}"></div><figcaption>{caption}</figcaption></figure>')


def _record_line(row: dict, words: dict) -> str:
    rate = "-" if row["win_rate"] is None else f"{row['win_rate']:.0%}"
    kd = "-" if row["kd_ratio"] is None else f"{row['kd_ratio']:.2f}"
    kda = "-" if row["avg_kda"] is None else f"{row['avg_kda']:.2f}"
    return words["record"].format(matches=row["matches"], wins=row["wins"], win_rate=rate, kd=kd, kda=kda)


def build_page(data: ReportData, database: Path, lang: str = "en",
               cache_dir: Path | None = None) -> tuple[str, list[Chart], dict | None]:
    """The page's HTML, its charts and the summary spec (for the PNG)."""
    if lang not in LANGUAGES:
        raise UsageError(f"--lang {lang!r}: the report speaks {', '.join(LANGUAGES)}")
    words = LABELS[lang]
    known = definition_sections()
    body, charts = [], []
    experiences = data.experiences()
    nav = [f'<a href="#exp-{e}">{html.escape(words.get(e, e))}</a>' for e in experiences]
    records = {row["experience"]: row for row in data.datasets["record"]}
    for experience in experiences:
        these = experience_charts(experience, data, words, lang)
        charts += these
        body.append(f'<section id="exp-{experience}"><h2>{html.escape(words.get(experience, experience))}</h2>'
                    f'<p class="record">{html.escape(_record_line(records[experience], words))}</p>'
                    + '<div class="charts">' + "".join(_figure(c, words, known) for c in these) + "</div></section>")
    career = career_chart(data, words)
    if career is not None:
        charts.append(career)
        nav.append(f'<a href="#career">{html.escape(words["career"])}</a>')
        body.append(f'<section id="career"><h2>{html.escape(words["career"])}</h2>{_figure(career, words, known)}'
                    "</section>")
    if not charts:
        body.append(f'<p class="muted">{html.escape(words["none"])}</p>')
    used = sorted(_with_linked({a for chart in charts for a in chart.definitions} | {"experience"}, known))
    if used:
        nav.append(f'<a href="#definitions">{html.escape(words["definitions"])}</a>')
        body.append(f'<section id="definitions"><h2>{html.escape(words["definitions"])}</h2>' + "".join(
            f'<div class="definition" id="def-{a}"><h3>{a}</h3>{_markdown(known[a])}'
            f'<p class="muted">{html.escape(words["from_definitions"].format(anchor=a))}</p></div>' for a in used)
            + "</section>")
    title = words["title"].format(player=data.gamertag)
    generated = words["generated"].format(database=database, at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))
    specs = [{"id": chart.chart_id, "spec": chart.spec} for chart in charts]
    options = {"renderer": "svg", "actions": False, **locales(lang)}
    page = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n"
            f"<script>\n{vega_bundle(cache_dir)}\n</script>\n</head>\n<body>\n"
            f"<header><h1>{html.escape(title)}</h1><p class=\"muted\">{html.escape(generated)} "
            f"{html.escape(words['experiences_apart'])}</p><nav>{''.join(nav)}</nav></header>\n"
            + "\n".join(body)
            + f'\n<script type="application/json" id="halo-report-charts">{_json_script(specs)}</script>\n'
            f'<script type="application/json" id="halo-report-options">{_json_script(options)}</script>\n'
            f"<script>{RENDER}</script>\n</body>\n</html>\n")
    return page, charts, summary_spec(charts)


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def report_path(gamertag: str, out_dir: Path | None, root: Path | None = None) -> Path:
    """`players/<player-dir>/report.html`, or `<out>/<player-dir>.html` with --out."""
    folder = player_dir(gamertag, root)
    return folder / REPORT_NAME if out_dir is None else out_dir / f"{folder.name}.html"


def write_report(data: ReportData, database: Path, page_path: Path, lang: str = "en", png: bool = False,
                 cache_dir: Path | None = None) -> ReportFiles:
    """Write the page (and with `png` the summary picture beside it, same name, `.png`)."""
    page, charts, summary = build_page(data, database, lang, cache_dir)
    png_path = None
    with refusals(f"report of {data.gamertag}"):
        encoded = page.encode("utf-8")
        _write_atomically(page_path, encoded)
        if png:
            if summary is None:
                raise NotFoundError(f"{data.gamertag!r} has no matches to draw: no summary picture")
            import vl_convert

            png_path = page_path.with_suffix(".png")
            locale = locales(lang)
            picture = vl_convert.vegalite_to_png(summary, scale=2, format_locale=locale.get("formatLocale"),
                                                 time_format_locale=locale.get("timeFormatLocale"))
            _write_atomically(png_path, picture)
    return ReportFiles(data.gamertag, page_path, png_path, len(charts), len(encoded))


def report_player(gamertag: str, out_dir: Path | None = None, lang: str = "en", png: bool = False,
                  root: Path | None = None) -> ReportFiles:
    """Read a built player's marts and write their report (`halo report --player`)."""
    import duckdb

    from loader.core.paths import metadata_db_path, player_db_path
    from loader.report.data import read_report_data

    database = player_db_path(gamertag, root)
    if not database.is_file():
        raise NotFoundError(f"no player {gamertag!r} under {database.parent.parent}: load their matches first")
    try:
        data = read_report_data(gamertag, database, metadata_db_path(root))
    except duckdb.CatalogException:
        raise NotFoundError(f"{gamertag!r} is not built yet: run halo build --player {gamertag!r}") from None
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise DatabaseBusyError(f"player database {database} is busy: a halo load or build is writing it; run "
                                "halo report again when it has finished") from None
    cache_dir = metadata_db_path(root).parent / BUNDLE_CACHE
    return write_report(data, database, report_path(gamertag, out_dir, root), lang, png, cache_dir)
