// The dataset page's map: the dataset's features from this server's /-/tiles/ route (MapLibre GL JS),
// entities with an error or a warning drawn in their colour, a click showing the feature's fields and issues.
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
    var link = document.createElement("a");
    link.href = "/" + encodeURIComponent(config.dataset) + "/entity/" + encodeURIComponent(entity);
    link.textContent = "the entity's row in datasette";
    panel.appendChild(link);
    document.body.setAttribute("data-clicked-entity", entity);
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
