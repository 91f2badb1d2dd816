// The dataset page's map: the dataset's features from this server's /-/tiles/ route (MapLibre GL JS),
// entities with an error or a warning drawn in their colour, a click showing the feature's fields and issues
// and, from the server's /-/explain/ route, where each of its values came from.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("report-map").textContent);
  var colours = { error: "#d4351c", warning: "#f47738", other: "#1d70b8" };
  var bySeverity = { error: [], warning: [] };
  Object.keys(config.entity_issues).forEach(function (entity) {
    var severity = config.entity_issues[entity].severity;
    if (bySeverity[severity]) bySeverity[severity].push(Number(entity));
  });
  var colour = ["case",
    ["in", ["to-number", ["get", "entity"]], ["literal", bySeverity.error]], colours.error,
    ["in", ["to-number", ["get", "entity"]], ["literal", bySeverity.warning]], colours.warning,
    colours.other];
  var tiles = location.origin + "/-/tiles/" + encodeURIComponent(config.dataset) + "/{z}/{x}/{y}.vector.pbf";
  var polygons = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
  var points = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];
  var source = { type: "vector", tiles: [tiles], minzoom: config.minzoom, maxzoom: config.maxzoom };
  if (config.bounds) source.bounds = config.bounds;
  var style = {
    version: 8,
    sources: { features: source },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef2f3" } },
      { id: "fill", type: "fill", source: "features", "source-layer": config.layer, filter: polygons,
        paint: { "fill-color": colour, "fill-opacity": 0.45 } },
      { id: "outline", type: "line", source: "features", "source-layer": config.layer,
        filter: ["!", points], paint: { "line-color": colour, "line-width": 1.5 } },
      { id: "points", type: "circle", source: "features", "source-layer": config.layer, filter: points,
        paint: { "circle-color": colour, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } }
    ]
  };
  var options = { container: "map", style: style, attributionControl: false, maxZoom: 18 };
  if (config.bounds) options.bounds = config.bounds; else { options.center = [-1.5, 52.5]; options.zoom = 5; }
  options.fitBoundsOptions = { padding: 20 };
  var map = new maplibregl.Map(options);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.reportMap = map;

  map.on("idle", function () {
    var rendered = map.queryRenderedFeatures({ layers: ["fill", "outline", "points"] });
    var entities = {};
    rendered.forEach(function (f) { entities[f.properties.entity] = true; });
    document.body.setAttribute("data-map-entities", String(Object.keys(entities).length));
    document.body.setAttribute("data-map-state", "idle");
  });
  map.on("error", function (e) {
    document.body.setAttribute("data-map-error", String((e.error && e.error.message) || e));
  });

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function row(table, key, value) {
    var tr = document.createElement("tr"); var th = document.createElement("th");
    th.textContent = key; tr.appendChild(th); tr.appendChild(cell(value)); table.appendChild(tr);
  }

  function show(feature) {
    var panel = document.getElementById("feature");
    panel.textContent = "";
    var p = feature.properties, entity = String(p.entity);
    var title = document.createElement("h3");
    title.id = "feature-entity";
    title.textContent = (p.name || p.reference || "entity") + " (" + entity + ")";
    panel.appendChild(title);
    var fields = document.createElement("table");
    fields.id = "feature-fields";
    Object.keys(p).sort().forEach(function (k) { row(fields, k, p[k]); });
    panel.appendChild(fields);
    var issues = config.entity_issues[entity];
    var heading = document.createElement("h4");
    heading.textContent = issues ? "Issues (" + issues.severity + " at worst)" : "No issues";
    panel.appendChild(heading);
    if (issues) {
      var list = document.createElement("table");
      list.id = "feature-issues";
      Object.keys(issues.issues).sort().forEach(function (t) { row(list, t, issues.issues[t]); });
      panel.appendChild(list);
    }
    var links = document.createElement("p");
    var link = document.createElement("a");
    link.href = "/" + encodeURIComponent(config.dataset) + "/entity/" + encodeURIComponent(entity);
    link.textContent = "the entity's row in datasette";
    var full = document.createElement("a");
    full.href = explainUrl(entity);
    full.textContent = "the full explanation";
    links.appendChild(link); links.appendChild(document.createTextNode(" · ")); links.appendChild(full);
    panel.appendChild(links);
    var trace = document.createElement("div");
    trace.id = "feature-trace";
    trace.textContent = "Explaining…";
    panel.appendChild(trace);
    document.body.setAttribute("data-clicked-entity", entity);
    document.body.setAttribute("data-explain-state", "loading");
    fetch(explainUrl(entity) + ".json").then(function (response) {
      if (!response.ok) return response.text().then(function (t) { throw new Error(t.trim() || response.status); });
      return response.json();
    }).then(function (explained) {
      if (document.body.getAttribute("data-clicked-entity") !== entity) return;
      showTrace(trace, explained);
      document.body.setAttribute("data-explain-state", "shown");
    }).catch(function (error) {
      trace.textContent = "No explanation: " + error.message;
      document.body.setAttribute("data-explain-state", "failed");
    });
  }

  function explainUrl(entity) {
    return "/-/explain/" + encodeURIComponent(config.dataset) + "/" + encodeURIComponent(entity);
  }

  function short(value) {
    value = value === null || value === undefined ? "" : String(value);
    return value.length > 60 ? value.slice(0, 57) + "…" : value;
  }

  function entryText(entry) {
    return "resource " + String(entry.resource).slice(0, 12) + " line " + entry["line-number"] +
      (entry["entry-date"] ? ", entry-date " + entry["entry-date"] : "");
  }

  // Per field: the winning value, the line of the resource it came from, the configuration rows that
  // changed it (file:line), the issues of that line, and the competing values (planning_pipeline.explain).
  function showTrace(trace, explained) {
    trace.textContent = "";
    var heading = document.createElement("h4");
    heading.textContent = "Where each value came from";
    trace.appendChild(heading);
    (explained.fields || []).forEach(function (f) {
      var block = document.createElement("div");
      block.className = "trace-field";
      block.setAttribute("data-field", f.field);
      var title = document.createElement("p");
      var name = document.createElement("b");
      name.textContent = f.field;
      title.appendChild(name);
      title.appendChild(document.createTextNode(" = " + short(f.value)));
      block.appendChild(title);
      var list = document.createElement("ul");
      function item(text, cls) {
        var li = document.createElement("li"); li.textContent = text; if (cls) li.className = cls; list.appendChild(li);
      }
      var entries = (f.winner && f.winner.entries) || [];
      entries.forEach(function (entry) {
        item("from " + entryText(entry) + (entry.column ? ", column " + entry.column : "") +
             (entry.original !== undefined && entry.original !== f.value ? ", was " + short(JSON.stringify(entry.original)) : ""), "winner");
        (entry.changes || []).forEach(function (c) {
          item(c.kind + ": " + c.file + ":" + c.line, "change");
        });
        (entry.issues || []).forEach(function (i) {
          item("issue: " + i["issue-type"] + (i.value ? " (" + short(i.value) + ")" : ""), "issue");
        });
      });
      (f.competitors || []).forEach(function (c) {
        var first = (c.entries || [])[0];
        item("lost: " + short(c.value) + (first ? " from " + entryText(first) : ""), "competitor");
      });
      block.appendChild(list);
      trace.appendChild(block);
    });
  }

  map.on("click", function (e) {
    var found = map.queryRenderedFeatures(e.point, { layers: ["points", "fill", "outline"] });
    if (found.length) show(found[0]);
  });
  ["fill", "points"].forEach(function (layer) {
    map.on("mouseenter", layer, function () { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, function () { map.getCanvas().style.cursor = ""; });
  });
})();
