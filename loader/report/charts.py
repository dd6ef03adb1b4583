"""The charts of a report: Vega-Lite specs built with Vega-Altair from the datasets of `loader.report.data`.

Each chart's spec names its data (`{"name": ...}`) and carries the rows in its own top-level `datasets`, so the
page embeds every number once, as the marts gave it, and a test can read them back from the page.
"""

from dataclasses import dataclass, field

import altair as alt

from loader.report.data import MIN_MATCHES_TOGETHER, ROLLING_MATCHES, TOP_MEDALS, ReportData

WIDTH = 540
HALF = 250
DIFFICULTY_ORDER = ["normal", "heroic", "legendary", "mythic", "unknown"]
DIFFICULTY_COLOURS = ["#8c8c8c", "#3b7dd8", "#9b4dca", "#e0a010", "#cccccc"]
TIER_COLOURS = {"Bronze": "#c9a27c", "Silver": "#c0c6cc", "Gold": "#e6c65c", "Platinum": "#9ad0d6",
                "Diamond": "#8fb4f0", "Onyx": "#5b5b66"}


@dataclass
class Chart:
    """One chart of the page: its place (`chart_id`), heading, the definitions it uses, its Vega-Lite spec."""

    chart_id: str
    title: str
    spec: dict
    definitions: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def datasets(self) -> dict[str, list[dict]]:
        return self.spec["datasets"]


def _spec(chart: alt.TopLevelMixin, datasets: dict[str, list[dict]]) -> dict:
    spec = chart.to_dict(validate=False)  # validated against the Vega-Lite schema by tests/test_report.py (3x faster)
    spec["datasets"] = datasets
    return spec


def _time(field_name: str, title: str) -> alt.X:
    return alt.X(f"{field_name}:T", title=title)


def _series_note(rows: list[dict], words: dict) -> str:
    """Say when the points are buckets of matches rather than single matches."""
    if rows and max(row["matches"] for row in rows) > 1:
        return words["bucketed"].format(k=rows[0]["matches"], total=rows[-1]["last_match"])
    return ""


def timeline_charts(experience: str, rows: list[dict], words: dict) -> list[Chart]:
    """K/D, KDA and win rate per match (or bucket), each with its rolling mean over 20 matches."""
    base = alt.Chart(alt.NamedData("timeline"))
    charts = []
    for key, value, rolling, axis, fmt in (
            ("kd", "kd_ratio", "rolling_kd_ratio", words["kd_axis"], ".2f"),
            ("kda", "kda", "rolling_kda", words["kda_axis"], ".2f"),
            ("win_rate", "win_rate", "rolling_win_rate", words["win_rate_axis"], ".0%")):
        anchors = [value, "rolling_mean", "report_points"]
        tooltip = [alt.Tooltip("start_time:T", title=words["start"]), alt.Tooltip("last_match:Q", title=words["match"]),
                   alt.Tooltip(f"{value}:Q", title=words["per_match"], format=fmt),
                   alt.Tooltip(f"{rolling}:Q", title=words["rolling"].format(n=ROLLING_MATCHES), format=fmt)]
        points = base.mark_circle(size=18, opacity=0.45, color="#7f8c8d").encode(
            x=_time("start_time", words["start"]), y=alt.Y(f"{value}:Q", title=axis, axis=alt.Axis(format=fmt)),
            tooltip=tooltip)
        line = base.mark_line(color="#d35400", strokeWidth=2).encode(
            x=_time("start_time", words["start"]), y=alt.Y(f"{rolling}:Q"), tooltip=tooltip)
        chart = alt.layer(points, line).properties(width=WIDTH, height=220)
        note = " · ".join(filter(None, [f"{words['per_match']} (●), {words['rolling'].format(n=ROLLING_MATCHES)} "
                                        "(—)", _series_note(rows, words)]))
        kept = ("experience", "first_match", "last_match", "matches", "start_time", value, rolling)
        own = [{name: row[name] for name in kept} for row in rows]  # each chart its own columns: a third the bytes
        charts.append(Chart(f"{key}-{experience}", words[key], _spec(chart, {"timeline": own}), anchors, note))
    return charts


def csr_chart(experience: str, rows: list[dict], tiers: list[dict], words: dict) -> Chart | None:
    """CSR after each ranked match, one line per playlist, over the tier bands the values fall in."""
    if not rows:
        return None
    low = max(0, min(row["csr"] for row in rows) - 50)
    high = max(row["csr"] for row in rows) + 50
    bands = [{"tier": t["tier"], "from": max(t["from"], low), "to": min(t["to"] or high, high)}
             for t in tiers if t["from"] < high and (t["to"] is None or t["to"] > low)]
    scale = alt.Scale(domain=[low, high], nice=False, zero=False)
    colour = alt.Color("tier:N", scale=alt.Scale(domain=list(TIER_COLOURS), range=list(TIER_COLOURS.values())),
                       legend=alt.Legend(title=words["tier"]))
    band = alt.Chart(alt.NamedData("tiers")).mark_rect(opacity=0.35).encode(
        y=alt.Y("from:Q", scale=scale, title=words["csr_axis"]), y2="to:Q", color=colour)
    label = alt.Chart(alt.NamedData("tiers")).mark_text(align="left", dx=4, dy=3, baseline="top").encode(
        y=alt.Y("to:Q", scale=scale), x=alt.value(0), text="tier:N")
    line = alt.Chart(alt.NamedData("csr")).mark_line(point=True).encode(
        x=_time("start_time", words["start"]), y=alt.Y("csr:Q", scale=scale),
        detail="playlist:N", strokeDash=alt.StrokeDash("playlist:N", legend=alt.Legend(title=words["playlist"])),
        tooltip=[alt.Tooltip("start_time:T", title=words["start"]), alt.Tooltip("playlist:N", title=words["playlist"]),
                 alt.Tooltip("csr:Q", title=words["csr_axis"]), alt.Tooltip("tier:N", title=words["tier"])])
    chart = alt.layer(band, label, line).properties(width=WIDTH, height=260).resolve_scale(color="independent")
    total = sum(row["matches"] for row in rows)
    note = words["bucketed"].format(k=rows[0]["matches"], total=total) if total > len(rows) else ""
    return Chart(f"csr-{experience}", words["csr"], _spec(chart, {"csr": rows, "tiers": bands}),
                 ["csr_tier", "report_points"], note)


def _bars(name: str, category: str, category_title: str, words: dict) -> alt.HConcatChart:
    """Win rate and K/D per category, sorted by win rate, each bar labelled with its match count."""
    base = alt.Chart(alt.NamedData(name))
    sort = alt.EncodingSortField("win_rate", op="max", order="descending")
    y = alt.Y(f"{category}:N", sort=sort, title=category_title)
    tooltip = [alt.Tooltip(f"{category}:N", title=category_title), alt.Tooltip("matches:Q", title=words["matches"]),
               alt.Tooltip("wins:Q", title=words["wins"]),
               alt.Tooltip("win_rate:Q", title=words["win_rate_axis"], format=".0%"),
               alt.Tooltip("kd_ratio:Q", title=words["kd_axis"], format=".2f")]
    panels = []
    for value, title, fmt, colour in (("win_rate", words["win_rate_axis"], ".0%", "#2e86c1"),
                                      ("kd_ratio", words["kd_axis"], ".2f", "#17a589")):
        bars = base.mark_bar(color=colour).encode(x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
                                                  y=y, tooltip=tooltip)
        text = base.mark_text(align="left", dx=3, fontSize=10).encode(
            x=f"{value}:Q", y=y, text=alt.Text("matches:Q"))
        panels.append(alt.layer(bars, text).properties(width=HALF))
    return alt.hconcat(*panels)


def breakdown_charts(experience: str, data: ReportData, words: dict) -> list[Chart]:
    charts = []
    for key, category in (("maps", "map"), ("modes", "mode")):
        rows = data.rows(key, experience)
        if rows:
            chart = _bars(key, category, words[category], words)
            charts.append(Chart(f"{key}-{experience}", words[key], _spec(chart, {key: rows}),
                                ["win_rate", "kd_ratio"], words["bar_label"]))
    return charts


def sessions_chart(experience: str, rows: list[dict], words: dict) -> Chart | None:
    if not rows:
        return None
    base = alt.Chart(alt.NamedData("sessions"))
    x = _time("started_at", words["session"])
    tooltip = [alt.Tooltip("started_at:T", title=words["session"]), alt.Tooltip("matches:Q", title=words["matches"]),
               alt.Tooltip("win_rate:Q", title=words["win_rate_axis"], format=".0%"),
               alt.Tooltip("csr_change:Q", title=words["csr_change"])]
    panels = [base.mark_bar(color="#5d6d7e").encode(x=x, y=alt.Y("matches:Q", title=words["matches"]),
                                                    tooltip=tooltip).properties(width=WIDTH, height=110),
              base.mark_line(point=True, color="#2e86c1").encode(
                  x=x, y=alt.Y("win_rate:Q", title=words["win_rate_axis"], axis=alt.Axis(format=".0%")),
                  tooltip=tooltip).properties(width=WIDTH, height=110)]
    anchors = ["session", "win_rate", "report_points"]
    if any(row["csr_change"] is not None for row in rows):
        panels.append(base.transform_filter("datum.csr_change != null").mark_bar().encode(
            x=x, y=alt.Y("csr_change:Q", title=words["csr_change"]),
            color=alt.condition("datum.csr_change >= 0", alt.value("#27ae60"), alt.value("#c0392b")),
            tooltip=tooltip).properties(width=WIDTH, height=110))
        anchors.append("csr_tier")
    return Chart(f"sessions-{experience}", words["sessions"], _spec(alt.vconcat(*panels), {"sessions": rows}),
                 anchors)


def hours_chart(experience: str, hours: list[dict], weekdays: list[dict], words: dict) -> Chart | None:
    if not hours:
        return None
    tooltip = [alt.Tooltip("matches:Q", title=words["matches"]), alt.Tooltip("wins:Q", title=words["wins"]),
               alt.Tooltip("win_rate:Q", title=words["win_rate_axis"], format=".0%")]
    y = alt.Y("win_rate:Q", title=words["win_rate_axis"], axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    by_hour = alt.Chart(alt.NamedData("hours")).mark_bar(color="#2e86c1").encode(
        x=alt.X("hour:O", title=words["hour"], scale=alt.Scale(domain=list(range(24)))), y=y,
        tooltip=[alt.Tooltip("hour:O", title=words["hour"]), *tooltip]).properties(width=380, height=180)
    days = words["weekdays"]
    by_day = alt.Chart(alt.NamedData("weekdays")).mark_bar(color="#17a589").encode(
        x=alt.X("weekday:O", title=words["weekday"], scale=alt.Scale(domain=list(range(1, 8))),
                axis=alt.Axis(labelExpr=f"{days}[datum.value - 1]", labelAngle=0)), y=y,
        tooltip=[alt.Tooltip("weekday:O", title=words["weekday"]), *tooltip]).properties(width=200, height=180)
    return Chart(f"hours-{experience}", words["hours"],
                 _spec(alt.hconcat(by_hour, by_day), {"hours": hours, "weekdays": weekdays}), ["win_rate", "durations"])


def medal_charts(experience: str, data: ReportData, words: dict, lang: str) -> list[Chart]:
    medals = data.rows("medals", experience)
    if not medals:
        return []
    name = "name_fr" if lang == "fr" else "name_en"
    rows = [dict(row, name=row[name] or row["name_en"] or str(row["medal_id"])) for row in medals]
    colour = alt.Color("difficulty:N", scale=alt.Scale(domain=DIFFICULTY_ORDER, range=DIFFICULTY_COLOURS),
                       legend=alt.Legend(title=words["difficulty"]))
    top = alt.Chart(alt.NamedData("medals")).mark_bar().encode(
        x=alt.X("count:Q", title=words["count"]), y=alt.Y("name:N", sort="-x", title=words["medal"]), color=colour,
        tooltip=[alt.Tooltip("name:N", title=words["medal"]), alt.Tooltip("type:N", title=words["type"]),
                 alt.Tooltip("difficulty:N", title=words["difficulty"]), alt.Tooltip("count:Q", title=words["count"])]
    ).properties(width=WIDTH - 120, height=alt.Step(16))
    by_type = alt.Chart(alt.NamedData("medal_types")).transform_calculate(
        difficulty_rank=f"indexof({DIFFICULTY_ORDER}, datum.difficulty)").mark_bar().encode(
        x=alt.X("sum(count):Q", title=words["count"]), y=alt.Y("type:N", sort="-x", title=words["type"]),
        color=colour, order=alt.Order("difficulty_rank:Q"),
        tooltip=[alt.Tooltip("type:N", title=words["type"]), alt.Tooltip("difficulty:N", title=words["difficulty"]),
                 alt.Tooltip("count:Q", title=words["count"])]).properties(width=WIDTH - 120, height=alt.Step(18))
    return [Chart(f"medals-{experience}", words["medals"].format(n=TOP_MEDALS), _spec(top, {"medals": rows}), []),
            Chart(f"medal-types-{experience}", words["medal_types"],
                  _spec(by_type, {"medal_types": data.rows("medal_types", experience)}), [])]


def people_charts(experience: str, data: ReportData, words: dict) -> list[Chart]:
    charts = []
    nemeses, victims = data.rows("nemeses", experience), data.rows("victims", experience)
    if nemeses or victims:
        panels = []
        for name, value, title, colour in (("nemeses", "times_killed_by", words["killed_you"], "#c0392b"),
                                           ("victims", "times_killed", words["you_killed"], "#27ae60")):
            panels.append(alt.Chart(alt.NamedData(name), title=words[name]).mark_bar(color=colour).encode(
                x=alt.X(f"{value}:Q", title=title), y=alt.Y("player:N", sort="-x", title=words["player"]),
                tooltip=[alt.Tooltip("player:N", title=words["player"]),
                         alt.Tooltip("times_killed_by:Q", title=words["killed_you"]),
                         alt.Tooltip("times_killed:Q", title=words["you_killed"]),
                         alt.Tooltip("net_kills:Q", title=words["net_kills"])]).properties(width=HALF - 40))
        charts.append(Chart(f"antagonists-{experience}", words["antagonists"],
                            _spec(alt.hconcat(*panels), {"nemeses": nemeses, "victims": victims}),
                            ["kill_pairing", "net_kills"]))
    mates = data.rows("teammates", experience)
    if mates:
        base = alt.Chart(alt.NamedData("teammates"))
        y = alt.Y("player:N", sort=alt.EncodingSortField("win_rate_together", op="max", order="descending"),
                  title=words["player"])
        bars = base.mark_bar(color="#2e86c1").encode(
            x=alt.X("win_rate_together:Q", title=words["win_rate_together"], axis=alt.Axis(format=".0%"),
                    scale=alt.Scale(domain=[0, 1])), y=y,
            tooltip=[alt.Tooltip("player:N", title=words["player"]),
                     alt.Tooltip("matches_together:Q", title=words["matches_together"]),
                     alt.Tooltip("win_rate_together:Q", title=words["win_rate_together"], format=".0%")])
        text = base.mark_text(align="left", dx=3, fontSize=10).encode(
            x="win_rate_together:Q", y=y, text="matches_together:Q")
        charts.append(Chart(f"teammates-{experience}", words["teammates"].format(n=MIN_MATCHES_TOGETHER),
                            _spec(alt.layer(bars, text).properties(width=WIDTH - 160), {"teammates": mates}),
                            ["win_rate_together"], words["bar_label_together"]))
    return charts


def career_chart(data: ReportData, words: dict) -> Chart | None:
    rows = data.datasets["career"]
    if not rows:
        return None
    latest = rows[-1]
    rank = alt.Chart(alt.NamedData("career")).mark_line(point=True, interpolate="step-after").encode(
        x=_time("observed_at", words["observed"]), y=alt.Y("rank:Q", title=words["rank"], scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("observed_at:T", title=words["observed"]), alt.Tooltip("rank:Q", title=words["rank"]),
                 "title:N", "tier:N", "grade:Q", alt.Tooltip("cumulative_xp:Q", title=words["cumulative_xp"],
                                                             format=",")]).properties(width=WIDTH, height=200)
    datasets = {"career": rows}
    note = ""
    if data.hero_xp and latest["cumulative_xp"] is not None:
        done = min(latest["cumulative_xp"], data.hero_xp)
        progress = [{"part": words["xp_done"], "xp": done}, {"part": words["xp_to_hero"], "xp": data.hero_xp - done}]
        datasets["hero"] = progress
        bar = alt.Chart(alt.NamedData("hero")).mark_bar().encode(
            x=alt.X("xp:Q", title=words["cumulative_xp"], stack="zero", scale=alt.Scale(domain=[0, data.hero_xp])),
            color=alt.Color("part:N", scale=alt.Scale(domain=[words["xp_done"], words["xp_to_hero"]],
                                                      range=["#d35400", "#e5e8e8"]), legend=alt.Legend(title=None)),
            order=alt.Order("part:N", sort="descending"), tooltip=["part:N", alt.Tooltip("xp:Q", format=",")]
        ).properties(width=WIDTH, height=24)
        chart = alt.vconcat(rank, bar)
        note = words["hero_reached"] if latest["is_max_rank"] else words["hero_progress"].format(
            xp=f"{latest['cumulative_xp']:,}", hero=f"{data.hero_xp:,}", share=f"{done / data.hero_xp:.0%}")
    else:
        chart = rank
    return Chart("career", words["career"], _spec(chart, datasets), ["snapshots"], note)


def experience_charts(experience: str, data: ReportData, words: dict, lang: str) -> list[Chart]:
    """Every chart of one experience, in page order (a chart without rows is left out)."""
    charts = timeline_charts(experience, data.rows("timeline", experience), words)
    charts.append(csr_chart(experience, data.rows("csr", experience), data.datasets["csr_tiers"], words))
    charts += breakdown_charts(experience, data, words)
    charts.append(sessions_chart(experience, data.rows("sessions", experience), words))
    charts.append(hours_chart(experience, data.rows("hours", experience), data.rows("weekdays", experience), words))
    charts += medal_charts(experience, data, words, lang)
    charts += people_charts(experience, data, words)
    return [chart for chart in charts if chart is not None]


def summary_spec(charts: list[Chart]) -> dict | None:
    """The summary picture (`--png`): the first experience's K/D, win rate, CSR and maps, one above the other."""
    wanted = [c for c in charts if c.chart_id.split("-")[0] in ("kd", "win_rate", "csr", "maps")]
    if not wanted:
        return None
    first = wanted[0].chart_id.split("-", 1)[1]
    parts = [c for c in wanted if c.chart_id.endswith(first)]
    datasets: dict[str, list[dict]] = {}
    specs = []
    for chart in parts:
        spec = {k: v for k, v in chart.spec.items() if k not in ("$schema", "config", "datasets")}
        spec["title"] = chart.title
        datasets.update(chart.datasets)  # the same names hold the same rows within one experience
        specs.append(spec)
    return {"$schema": parts[0].spec["$schema"], "vconcat": specs, "datasets": datasets,
            "config": parts[0].spec.get("config", {})}

