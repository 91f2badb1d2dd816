"""Make the ArcGIS JSON, zipped shapefile and WFS GML resources of tests/data/article-4-direction from
the real Kingston GeoJSON (tests/data/resource-examples/utf-8-sig-json.resource): each a few of its
features, geometry and attributes unchanged (OSGB36 British National Grid), in the layout of the
format an ArcGIS FeatureServer (f=json), a shapefile export (zipped) and a WFS 2.0 server give."""
import hashlib, json, os, subprocess, sys, tempfile, zipfile

SOURCE = sys.argv[1]
OUT = sys.argv[2]
with open(SOURCE, encoding="utf-8-sig") as f:
    collection = json.load(f)
features = collection["features"]
def pick(ids):
    return [f for f in features if str(f["properties"]["MI_PRINX"]) in ids and f.get("geometry")]

def save(data):
    name = hashlib.sha256(data).hexdigest()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return name

# 1. ArcGIS FeatureServer query, f=json (esri JSON): rings in the layer's spatial reference
FIELDS = [("OBJECTID", "esriFieldTypeOID"), ("MI_PRINX", "esriFieldTypeInteger"), ("Name", "esriFieldTypeString"),
          ("Descriptio", "esriFieldTypeString"), ("documet_url", "esriFieldTypeString"),
          ("documentation_url", "esriFieldTypeString"), ("start_date", "esriFieldTypeString"),
          ("entry_date", "esriFieldTypeString"), ("end_date", "esriFieldTypeString"), ("note", "esriFieldTypeString")]
def rings(geometry):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]
esri = {"objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPolygon",
        "spatialReference": {"wkid": 27700, "latestWkid": 27700},
        "fields": [{"name": n, "type": t, "alias": n} for n, t in FIELDS], "exceededTransferLimit": False,
        "features": []}
for n, f in enumerate(pick({"1", "2", "3", "4", "5", "6"}), 1):
    p = f["properties"]
    attributes = {"OBJECTID": n, **{k: p.get(k) for k, _ in FIELDS[1:]}}
    esri["features"].append({"attributes": attributes, "geometry": {"rings": rings(f["geometry"])}})
print("esri", save(json.dumps(esri, separators=(",", ":")).encode()))

def subset(ids, path):
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
           "features": pick(ids)}
    with open(path, "w") as f:
        json.dump({**doc, "features": [{"type": "Feature", "properties": x["properties"], "geometry": x["geometry"]} for x in doc["features"]]}, f)

with tempfile.TemporaryDirectory() as tmp:
    # 2. a zipped shapefile (field names cut to 10 characters, as shapefiles do)
    src = os.path.join(tmp, "in.geojson")
    subset({"7", "8", "9", "10", "11", "12"}, src)
    shp = os.path.join(tmp, "Article_4_Directions")
    os.makedirs(shp)
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-a_srs", "EPSG:27700", "-nlt", "POLYGON",
                    os.path.join(shp, "Article_4_Directions.shp"), src], check=True)
    data = tempfile.SpooledTemporaryFile()
    with zipfile.ZipFile(os.path.join(tmp, "a4.zip"), "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(os.listdir(shp)):
            info = zipfile.ZipInfo("Article_4_Directions/" + name, date_time=(2024, 3, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(shp, name), "rb") as f:
                zf.writestr(info, f.read())
    with open(os.path.join(tmp, "a4.zip"), "rb") as f:
        print("zip", save(f.read()))
    # 3. a WFS 2.0 GetFeature response, GML 3.2 with each feature's boundedBy
    src = os.path.join(tmp, "in2.geojson")
    subset({"13", "14", "15", "16"}, src)
    gml = os.path.join(tmp, "a4.gml")
    subprocess.run(["ogr2ogr", "-f", "GML", "-dsco", "FORMAT=GML3.2", "-dsco", "WRITE_FEATURE_BOUNDED_BY=YES",
                    "-dsco", "XSISCHEMA=OFF", "-dsco", "PREFIX=kingston", "-dsco", "TARGET_NAMESPACE=https://www.kingston.gov.uk/",
                    "-nln", "article_4_direction_areas", "-lco", "SRSNAME_FORMAT=OGC_URN", gml, src], check=True)
    with open(gml, "rb") as f:
        print("gml", save(f.read()))
