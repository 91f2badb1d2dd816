"""The report's HTML: index.html (collections, organisations, datasets, held builds) and one page per
dataset (its map, issues by type and severity, expectations, organisations, changes).

Plain server-side HTML: the numbers are in the page text, readable without JavaScript. Only the map
needs JavaScript (static/report.js with the vendored MapLibre GL JS), and it reads its tiles from the
server's own /-/tiles/ route and a clicked entity's trace from /-/explain/DATASET/ENTITY.json (plugins/explain.py).
"""
import json
from html import escape

from .model import SEVERITIES

SEVERITY_HEADERS = "".join(f"<th>{s}</th>" for s in SEVERITIES)


def _e(value):
    return escape("" if value is None else str(value))


def _cell(field, value, numeric=False):
    cls = ' class="n"' if numeric else ""
    return f'<td data-field="{field}"{cls}>{_e(value)}</td>'


def _severity_cells(issues):
    return "".join(
        f'<td data-field="issue-{s}" class="n{" " + s if issues.get(s) else ""}">{issues.get(s, 0)}</td>' for s in SEVERITIES)


def _head(title, depth_static="static/"):
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{_e(title)}</title>\n"
        f'<link rel="stylesheet" href="{depth_static}report.css">\n'
    )


def _table(headers, rows, cls=""):
    head = "".join(f"<th>{_e(h)}</th>" if not h.startswith("<") else h for h in headers)
    body = "\n".join(rows) if rows else f'<tr><td colspan="{len(headers)}" class="none">none</td></tr>'
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>\n'


def _decision(d):
    decision = d["decision"] or ("held" if d["held"] else "")
    cls = "held" if d["held"] else ""
    return f'<td data-field="decision" class="{cls}">{_e(decision)}</td>'


def index(model):
    parts = [_head("Data quality report"), "</head>\n<body>\n",
             f'<h1>Data quality report</h1>\n<p class="run">Run of <span id="run-date">{_e(model["run_date"])}</span>. '
             "Figures from <code>dataset/performance.sqlite3</code>, <code>dataset/digital-land.sqlite3</code> and the "
             "published datasets; tiles from this server's <code>/-/tiles/</code>.</p>\n"]

    held = [d for d in model["datasets"] if d["held"]]
    parts.append('<section id="held"><h2>Held back by the regression gate</h2>\n')
    if held:
        parts.append("<ul>" + "".join(
            f'<li><a href="{_e(d["dataset"])}.html">{_e(d["dataset"])}</a>: {_e(d["gate"]["reasons"] or "see its report")}</li>'
            for d in held) + "</ul>\n")
    else:
        parts.append('<p class="none">No dataset is held back.</p>\n')
    parts.append("</section>\n")

    parts.append('<section id="collections"><h2>Collections</h2>\n')
    rows = []
    for c in model["collections"]:
        rows.append(
            f'<tr id="collection-{_e(c["collection"])}"><td><a href="#endpoints-{_e(c["collection"])}">{_e(c["collection"])}</a></td>'
            + _cell("datasets", len(c["datasets"]), True) + _cell("endpoints", c["endpoint_count"], True)
            + _cell("active-endpoints", c["active_endpoint_count"], True)
            + _cell("error-endpoints", c["error_endpoint_count"], True) + _cell("resources", c["resources"], True)
            + _cell("entities", c["entities"], True) + _severity_cells(c["issues"])
            + _cell("expectations-failed", c["expectations_failed"], True)
            + _cell("held", " ".join(c["held"])) + "</tr>")
    parts.append(_table(["collection", "datasets", "endpoints", "active", "active, latest not 200", "resources", "entities",
                         *SEVERITIES, "expectations failed", "held back"], rows))
    parts.append("</section>\n")

    parts.append('<section id="datasets"><h2>Datasets</h2>\n')
    rows = []
    for d in model["datasets"]:
        g = d["gate"]
        link = f'<a href="{_e(d["dataset"])}.html">{_e(d["dataset"])}</a>'
        rows.append(
            f'<tr id="dataset-{_e(d["dataset"])}"><td>{link}</td>' + _cell("collection", d["collection"])
            + _cell("entities", d["entities"], True) + _decision(d)
            + _cell("added", g["added_count"], True) + _cell("removed", g["removed_count"], True)
            + _cell("changed", g["changed_count"], True) + _severity_cells(d["issues"])
            + _cell("expectations", f'{d["expectations"]["count"] - d["expectations"]["failed"]} / {d["expectations"]["count"]}', True)
            + _cell("map", f'{d["map"]["features"]} features' if d["map"] else "") + "</tr>")
    parts.append(_table(["dataset", "collection", "entities", "today", "added", "removed", "changed", *SEVERITIES,
                         "expectations passed", "map"], rows))
    parts.append("</section>\n")

    parts.append('<section id="endpoints"><h2>Endpoints by collection</h2>\n')
    for c in model["collections"]:
        rows = []
        for e in c["endpoints"]:
            status = str(e["latest_status"] or "")
            bad = e["active"] and status != "200"
            rows.append(
                f'<tr data-endpoint="{_e(e["endpoint"])}">' + _cell("organisation", e["organisation_name"] or e["organisation"])
                + _cell("dataset", e["dataset"])
                + f'<td data-field="endpoint" title="{_e(e["endpoint"])}"><code>{_e(e["endpoint"][:10])}</code></td>'
                + _cell("url", e["endpoint_url"]) + _cell("active", "yes" if e["active"] else f'ended {e["endpoint_end_date"]}')
                + f'<td data-field="latest-status" class="{"error" if bad else ""}">{_e(status or "never fetched")}'
                + (f' {_e(e["latest_exception"])}' if e["latest_exception"] else "") + "</td>"
                + _cell("latest-log", (e["latest_log_entry_date"] or "")[:19]) + _cell("resources", e["resource_count"], True)
                + "</tr>")
        parts.append(f'<h3 id="endpoints-{_e(c["collection"])}">{_e(c["collection"])}</h3>\n')
        parts.append(_table(["organisation", "dataset", "endpoint", "URL", "active", "latest status", "last fetched",
                             "resources"], rows))
    parts.append("</section>\n")

    parts.append('<section id="organisations"><h2>Organisations</h2>\n')
    rows = []
    for o in model["organisations"]:
        for r in o["datasets"]:
            rows.append(_organisation_row(r, first=True))
    parts.append(_table(["organisation", "dataset", "endpoints", "active", "active, latest not 200", "resources",
                         "entities", *SEVERITIES, "expectations failed"], rows))
    parts.append("</section>\n</body>\n</html>\n")
    return "".join(parts)


def _organisation_row(r, first=True):
    issues = {s: r[f"issue_{s}_count"] for s in SEVERITIES}
    return (f'<tr data-organisation="{_e(r["organisation"])}" data-dataset="{_e(r["dataset"])}">'
            + _cell("organisation", r["organisation_name"] or r["organisation"] or "(no organisation)")
            + _cell("dataset", r["dataset"])
            + _cell("endpoints", r["endpoint_count"], True) + _cell("active-endpoints", r["active_endpoint_count"], True)
            + _cell("error-endpoints", r["error_endpoint_count"], True) + _cell("resources", r["resource_count"], True)
            + _cell("entities", r["entity_count"], True) + _severity_cells(issues)
            + _cell("expectations-failed", r["expectation_failure_count"], True) + "</tr>")


def _json_script(element_id, value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>\n'


def dataset_page(d, run_date):
    name = d["dataset"]
    parts = [_head(f"{name}: data quality")]
    if d["map"]:
        parts.append('<link rel="stylesheet" href="static/maplibre-gl/maplibre-gl.css">\n'
                     '<script src="static/maplibre-gl/maplibre-gl.js"></script>\n')
    parts.append("</head>\n<body>\n")
    parts.append(f'<p><a href="index.html">Data quality report</a> / {_e(d["collection"])}</p>\n'
                 f'<h1 id="dataset">{_e(name)}</h1>\n<p class="run">Run of {_e(run_date)}.</p>\n')
    g = d["gate"]
    changes = f'{g["added_count"]} / {g["removed_count"]} / {g["changed_count"]}'
    parts.append('<table class="figures" id="figures"><tbody>'
                 f'<tr><th>entities</th>{_cell("entities", d["entities"], True)}</tr>'
                 f'<tr><th>today</th>{_decision(d)}</tr>'
                 f'<tr><th>added / removed / changed</th>{_cell("changes", changes, True)}</tr>'
                 + "".join(f'<tr><th>{s} issues</th>{_cell("issue-" + s, d["issues"][s], True)}</tr>' for s in SEVERITIES)
                 + f'<tr><th>expectations failed</th>{_cell("expectations-failed", d["expectations"]["failed"], True)}</tr>'
                 "</tbody></table>\n")
    if d["held"]:
        parts.append(f'<section id="held"><h2>Held back</h2><p>{_e(g["reasons"])}</p>'
                     f'<pre>{_e(d["held_report"])}</pre></section>\n')

    if d["map"]:
        m = d["map"]
        legend = ('<span class="key error"></span> entity with an error &nbsp; <span class="key warning"></span> with a warning'
                  ' &nbsp; <span class="key other"></span> with notices or info only, or no issue')
        parts.append(f'<section id="map-section"><h2>Map</h2>\n<p>{m["features"]} features in the tiles; click a feature for '
                     f"its fields, its issues and where each value came from (the server's /-/explain/ route). {legend}</p>\n"
                     '<div id="map-wrap"><div id="map"></div><div id="feature"><p class="none">Click a feature.</p></div></div>\n')
        parts.append(_json_script("report-map", {
            "dataset": name, "layer": m["layer"], "minzoom": m["minzoom"], "maxzoom": m["maxzoom"], "bounds": m["bounds"],
            "entity_issues": {str(k): v for k, v in d["entity_issues"].items()},
        }))
        parts.append('<script src="static/report.js"></script>\n</section>\n')

    parts.append('<section id="issues"><h2>Issues by type and severity</h2>\n')
    rows = [f'<tr data-issue-type="{_e(r["issue_type"])}">' + _cell("issue-type", r["issue_type"])
            + f'<td data-field="severity" class="{_e(r["severity"])}">{_e(r["severity"])}</td>'
            + _cell("count", r["count"], True) + "</tr>" for r in d["issue_types"]]
    parts.append(_table(["issue type", "severity", "count"], rows) + "</section>\n")

    parts.append('<section id="expectations"><h2>Expectations</h2>\n')
    rows = [f'<tr class="{"" if str(r["passed"]).lower() in ("true", "1", "yes") else "error"}">'
            + _cell("organisation", r["organisation"]) + _cell("name", r["name"]) + _cell("operation", r["operation"])
            + _cell("passed", r["passed"]) + _cell("severity", r["severity"]) + _cell("message", r["message"]) + "</tr>"
            for r in d["expectations"]["rows"]]
    parts.append(_table(["organisation", "expectation", "operation", "passed", "severity", "message"], rows) + "</section>\n")

    parts.append('<section id="organisations"><h2>Organisations</h2>\n')
    rows = [_organisation_row(r) for r in d["organisations"]]
    parts.append(_table(["organisation", "dataset", "endpoints", "active", "active, latest not 200", "resources",
                         "entities", *SEVERITIES, "expectations failed"], rows) + "</section>\n")

    c = d["changes"]
    parts.append(f'<section id="changes"><h2>Changes</h2>\n<p>{c["total"]} rows in <code>{_e(c["path"] or "no changelog")}</code>'
                 f'{", the first " + str(len(c["rows"])) + " shown" if c["total"] > len(c["rows"]) else ""}.</p>\n')
    rows = ["<tr>" + "".join(_cell(k, r.get(k, "")) for k in ("entity", "change", "field", "old-value", "new-value", "reason"))
            + "</tr>" for r in c["rows"]]
    parts.append(_table(["entity", "change", "field", "old value", "new value", "reason"], rows) + "</section>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)
