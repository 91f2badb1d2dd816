"""Real resources with the real configuration: the conservation-area and central-activities-zone collections."""
import os

import pytest

from .conftest import ORGANISATIONS, ROOT, Result

CONSERVATION_AREA = {
    # resource: (organisation, endpoint)
    "b9503f86a1e0c5e02c1fa5b42b8d84c63b1cca421813dfc44c0f1bf7b59e5d74": ("SWK", "c8a5bd5df5a14bd9ffbb3667ced1a9e3c080422af1702bf4e5c93903c9962568"),  # GeoPackage
    "69148cb6b58a0ee3706302c1f586fb8e2a4fee9976354986c6d76ae0a63d9c97": ("GED", "a910b126bd355f5cdd90e37e657780087d2be5ecde52ba2e76bd0ed471ee7762"),  # GeoJSON
    "1ee42cdabb3d317f243dcd6cb14da53092083ed9a87c863eab49662b23591999": ("SEG", "1e54db15e6aacb60345575ec20d558851d722a4711bb20b324ccb7cbffd1afa9"),  # zipped shapefile
    "b85206c928baa3c519e8d7f6f8c0ea378bfad2f8eeacc65b2a1c0be8250f1e9f": ("CMD", "3e7bcbc7b099c29cf896423408043fdbd7e74e3a590fd41cec2bef02cbf65b71"),  # KML
    "56645ee4f6e3ee9252a322dfbc89624f0675ecbd123929c7807c4cd452447735": ("BRC", "f61dbbe82f62d287f0e116f1342d923d8e897336ffedc8e0133f7bbe292d9620"),  # zipped shapefile
    "9141bf76b0d89eab27d6e46014ec2fd282ad622924ec316d39dbf67551f8738c": ("NET", "ff3a568c9cc2f76a4358e0a60a71a7c92c10f07df7e257101422ed05ac906a3d"),  # KML
}
CENTRAL_ACTIVITIES_ZONE = {
    "49d00c9ea82a5a345caa61a873967764d38ac7d8b34514586e164c1426838c38": ("SWK", "8e4b3785e5b478804603d297d147b073589ddc532b179edfc9cd38f166f7b364"),
    "b7cd7941c1c8aee51465cbab3a72a81f42ba9393ee7c43ed142b5a278810c4e4": ("LBH", "7b4b9b400899e33b81a52c5893987827666437d1fcc8488d610d0ae77b605a31"),
    "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5": ("GLA", "7bc8a737cf2fc696b33985d1112421cbf09eb8236192f298d971ab01808f8378"),
}


def transform_collection(tmp_path, specification, collection, resources):
    from planning_pipeline.transform.run import transform

    results = {}
    for resource, (organisation, endpoint) in resources.items():
        var = tmp_path / collection
        dirs = {k: str(var / k) for k in ("issue", "column-field", "dataset-resource", "converted-resource")}
        out = str(var / "transformed" / f"{resource}.csv")
        summary = transform(os.path.join(ROOT, "collection", collection, "resource", resource), out,
                            dataset=collection, pipeline_dir=os.path.join(ROOT, "pipeline", collection),
                            organisation_path=ORGANISATIONS, specification=specification, endpoints=[endpoint],
                            organisations=[f"local-authority-eng:{organisation}"], entry_date="2022-01-01",
                            issue_dir=dirs["issue"], column_field_dir=dirs["column-field"],
                            dataset_resource_dir=dirs["dataset-resource"],
                            converted_resource_dir=dirs["converted-resource"], cache_dir=None)
        results[organisation] = Result(summary, out, *(os.path.join(dirs[k], resource + ".csv") for k in (
            "issue", "column-field", "dataset-resource", "converted-resource")))
    return results


@pytest.fixture(scope="module")
def conservation_areas(tmp_path_factory, specification):
    return transform_collection(tmp_path_factory.mktemp("real"), specification, "conservation-area", CONSERVATION_AREA)


@pytest.fixture(scope="module")
def central_activities_zones(tmp_path_factory, specification):
    return transform_collection(tmp_path_factory.mktemp("real"), specification, "central-activities-zone",
                                CENTRAL_ACTIVITIES_ZONE)


def test_every_conservation_area_resource_converts(conservation_areas):
    for organisation, result in conservation_areas.items():
        assert result.converted_resource[0]["status"] == "success", organisation


def test_southwark_geopackage_gets_its_entities_from_lookup_with_names(conservation_areas):
    result = conservation_areas["SWK"]
    assert len(result.entities) == 53
    assert all(44000000 <= int(e) <= 44999999 for e in result.entities)
    names = {f["value"] for f in result.facts if f["field"] == "name"}
    assert "Addington Square" in names
    first = result.entity(result.entities[0])
    assert first["organisation"] == "local-authority-eng:SWK" and first["reference"]
    assert first["geometry"].startswith("MULTIPOLYGON (((-0.")
    # Southwark publishes OSGB: every geometry is reprojected
    assert result.issue_types("geometry").count("OSGB") == 53
    assert result.issues_of("unknown entity") == []


def test_sedgemoor_shapefile_gets_its_entities_from_lookup(conservation_areas):
    result = conservation_areas["SEG"]
    assert len(result.entities) == 14
    entity = result.entity(result.entities[0])
    assert (entity["name"], entity["reference"]) == ("Axbridge", "1")
    assert result.issue_types("geometry").count("OSGB") == 14


def test_gedling_geojson_gets_its_entity_and_a_bad_designation_date(conservation_areas):
    result = conservation_areas["GED"]
    assert result.entities == ["44001676"]
    entity = result.entity(44001676)
    assert (entity["name"], entity["reference"]) == ("CALVERTON C.A.", "123514")
    # WGS84 source: no reprojection
    assert "OSGB" not in result.issue_types()
    [issue] = result.issues_of("invalid date")
    assert issue["value"] == "1974 & 1983"


def test_camden_newcastle_and_bracknell_have_no_entities_yet(conservation_areas):
    camden = conservation_areas["CMD"]
    assert camden.facts == []
    assert len(camden.issues_of("unknown entity")) == 210
    # the KML name patch applied before the lookup
    assert "Bloomsbury" in {i["message"].split("'")[1] for i in camden.issues_of("patch")}
    for organisation in ("NET", "BRC"):
        result = conservation_areas[organisation]
        assert result.facts == []
        assert result.issues_of("unknown entity - missing reference"), organisation
    assert conservation_areas["BRC"].issue_types("geometry").count("OSGB") == 6


def test_conservation_area_logs_are_complete(conservation_areas):
    for organisation, result in conservation_areas.items():
        [row] = result.dataset_resource
        assert int(row["line-count"]) >= 2 and row["mime-type"], organisation
        assert any(r["field"] == "geometry" for r in result.column_field), organisation


def test_central_activities_zone_entities_come_from_references_and_entry_numbers(central_activities_zones):
    gla = central_activities_zones["GLA"]
    assert gla.entities == [str(e) for e in range(2200001, 2200011)]
    assert gla.entity(2200001)["reference"] == "CAZ00000001"
    # the borough names are not organisations
    assert len(gla.issues_of("invalid organisation")) == 10
    assert gla.issues_of("invalid geometry - fixed")
    # resource-scoped lookups by entry-number
    assert central_activities_zones["LBH"].entities == ["2200001"]
    assert central_activities_zones["SWK"].entities == ["2200002"]


def test_central_activities_zone_organisations_refer_to_their_entities(central_activities_zones):
    for organisation, entity in (("SWK", "329"), ("LBH", "192")):
        [fact] = [f for f in central_activities_zones[organisation].facts if f["field"] == "organisation"]
        assert fact["value"] == f"local-authority-eng:{organisation}" and fact["reference-entity"] == entity
