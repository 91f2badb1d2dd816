"""Harmonise, default and migrate: datatypes, category values, future dates, CURIEs, missing values,
Wikipedia prefixes, GeoX/GeoY points, defaults and transform.csv migrations, with their issues."""
import datetime

LOOKUP = "\n".join(f"conservation-area,,,local-authority-eng:SWK,A{i},4400000{i}" for i in range(1, 8))


def test_bad_values_are_blanked_with_the_datatype_issue(transform_csv):
    result = transform_csv("reference,start-date,documentation-url\nA1,31/02/2020,not a url\nA2,2020-02-03,\n",
                           config={"lookup": LOOKUP})
    assert "start-date" not in result.entity(44000001)
    assert result.entity(44000002)["start-date"] == "2020-02-03"
    by_field = {i["field"]: i for i in result.issues}
    assert by_field["start-date"]["issue-type"] == "invalid date"
    assert by_field["start-date"]["value"] == "31/02/2020"
    assert by_field["start-date"]["entity"] == "44000001"
    assert by_field["documentation-url"]["issue-type"] == "invalid URI"


def test_messy_dates_become_iso_dates(transform_csv):
    result = transform_csv('reference,start-date\nA1,"1 March 2001"\nA2,2001/03/04\nA3,04/03/2001\n',
                           config={"lookup": LOOKUP})
    assert [result.entity(e)["start-date"] for e in (44000001, 44000002, 44000003)] == [
        "2001-03-01", "2001-03-04", "2001-03-04"]


def test_a_future_entry_date_is_blanked_and_logged(transform_csv):
    future = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()
    result = transform_csv(f"reference,entry-date\nA1,{future}\nA2,2020-01-01\n", config={"lookup": LOOKUP},
                           entry_date="")
    [issue] = result.issues_of("future entry-date")
    assert (issue["field"], issue["value"], issue["entity"]) == ("entry-date", future, "44000001")
    assert "entry-date" not in result.entity(44000001)
    assert result.entity(44000002)["entry-date"] == "2020-01-01"


def test_an_organisation_without_a_prefix_gets_the_datasets_and_is_then_invalid(transform_csv):
    result = transform_csv("reference,organisation\nA1,SWK\nA2,local-authority-eng:SWK\n", config={"lookup": LOOKUP},
                           organisations=["local-authority-eng:SWK", "local-authority-eng:CMD"])
    [issue] = result.issues_of("invalid organisation")
    assert issue["value"] == "conservation-area:SWK"
    assert result.entity(44000002)["organisation"] == "local-authority-eng:SWK"


def test_missing_mandatory_values_and_missing_geometry_are_logged(transform_csv):
    result = transform_csv("reference,name,geometry\nA1,,\n", config={"lookup": LOOKUP})
    missing = {(i["field"], i["entity"]) for i in result.issues_of("missing value")}
    assert missing == {("name", "44000001"), ("geometry", "44000001")}


def test_a_missing_column_is_not_a_missing_value(transform_csv):
    result = transform_csv("reference\nA1\n", config={"lookup": LOOKUP})
    assert result.issues_of("missing value") == []


def test_wikipedia_urls_lose_their_prefix(transform_csv):
    lookup = "listed-building-outline,,,local-authority-eng:SWK,L1,42100001"
    result = transform_csv("reference,wikipedia\nL1,https://en.wikipedia.org/wiki/Big_Ben\n",
                           dataset="listed-building-outline", config={"lookup": lookup})
    assert result.entity(42100001)["wikipedia"] == "Big_Ben"
    [issue] = result.issues_of("removed URI prefix")
    assert issue["value"] == "https://en.wikipedia.org/wiki/Big_Ben"


def test_category_values_are_checked_against_the_cached_dataset(transform_csv, tmp_path):
    cache = tmp_path / "cache"
    (cache / "dataset").mkdir(parents=True)
    (cache / "dataset" / "tree-preservation-zone-type.csv").write_text("reference,name\narea,Area\nwoodland,Woodland\n")
    lookup = "\n".join(f"tree-preservation-zone,,,local-authority-eng:SWK,T{i},1910000{i}" for i in (1, 2))
    content = "reference,tree-preservation-zone-type\nT1,AREA\nT2,Group\n"
    result = transform_csv(content, dataset="tree-preservation-zone", config={"lookup": lookup}, cache_dir=str(cache))
    assert result.entity(19100001)["tree-preservation-zone-type"] == "area"
    assert result.entity(19100002)["tree-preservation-zone-type"] == "Group"
    [issue] = result.issues_of("invalid category value")
    assert (issue["field"], issue["value"]) == ("tree-preservation-zone-type", "Group")
    # no cached dataset: no check
    result = transform_csv(content, dataset="tree-preservation-zone", config={"lookup": lookup},
                           cache_dir=str(tmp_path / "empty"))
    assert result.issues_of("invalid category value") == []


def test_osgb_geometry_is_reprojected_with_an_osgb_issue(transform_csv):
    square = "POLYGON ((530000 180000, 530100 180000, 530100 180100, 530000 180100, 530000 180000))"
    result = transform_csv(f'reference,geometry\nA1,"{square}"\n', config={"lookup": LOOKUP})
    geometry = result.entity(44000001)["geometry"]
    assert geometry.startswith("MULTIPOLYGON (((-0.1")
    assert result.issue_types("geometry") == ["OSGB"]


def test_geox_geoy_become_a_point_and_old_fields_migrate(transform_csv):
    config = {
        "lookup": "brownfield-land,,,local-authority-eng:SWK,S1,1700001\nbrownfield-land,,,local-authority-eng:SWK,S2,1700002",
        "transform": "brownfield-land,SiteReference,reference\nbrownfield-land,SiteNameAddress,site-address",
    }
    content = "SiteReference,SiteNameAddress,GeoX,GeoY\nS1,1 High Street,530000,180000\nS2,2 High Street,-0.1,51.5\n"
    result = transform_csv(content, dataset="brownfield-land", config=config)
    one, two = result.entity(1700001), result.entity(1700002)
    assert one["site-address"] == "1 High Street"
    assert one["point"].startswith("POINT (-0.1") and "," not in one["point"]
    assert two["point"] == "POINT (-0.100000 51.500000)"
    assert "GeoX" not in one and "SiteReference" not in one
    assert [i["field"] for i in result.issues_of("OSGB")] == ["GeoX,GeoY"]


def test_defaults_fill_empty_fields_from_fields_then_values(transform_csv):
    config = {"lookup": LOOKUP,
              "default": "conservation-area,,,start-date,designation-date",
              "default-value": "conservation-area,,,notes,none given"}
    result = transform_csv("reference,designation-date,notes\nA1,2001-02-03,\nA2,,kept\n", config=config)
    one, two = result.entity(44000001), result.entity(44000002)
    assert one["start-date"] == "2001-02-03" and one["notes"] == "none given"
    assert two["notes"] == "kept" and "start-date" not in two
    assert {(i["issue-type"], i["field"], i["value"]) for i in result.issues} == {
        ("default-field", "start-date", "designation-date"), ("default-value", "notes", "none given")}
    # the resource's organisation and entry-date are defaults too, without issues
    assert one["organisation"] == "local-authority-eng:SWK" and one["entry-date"] == "2024-01-02"


def test_no_default_organisation_when_the_resource_has_several(transform_csv):
    result = transform_csv("reference\nA1\n", config={"lookup": LOOKUP},
                           organisations=["local-authority-eng:SWK", "local-authority-eng:CMD"])
    assert "organisation" not in result.entity(44000001)
