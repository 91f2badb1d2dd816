"""Organisations, entity lookup (resolution order, resource scope, old-entity, range), prune, priority."""
from planning_pipeline.transform.lookup import EntityOrganisations, Lookups
from planning_pipeline.transform.organisation import Organisations

from .conftest import ORGANISATIONS


def test_lookup_by_entry_number_then_organisation_and_reference_then_reference_alone():
    lookups = Lookups([
        {"prefix": "conservation-area", "reference": "A", "organisation": "", "entity": "1"},
        {"prefix": "conservation-area", "reference": "A", "organisation": "local-authority-eng:SWK", "entity": "2"},
        {"prefix": "conservation-area", "resource": "r1", "entry-number": "7", "entity": "3"},
    ])
    assert lookups.find("conservation-area", "A", "local-authority-eng:SWK", 7) == "3"
    assert lookups.find("conservation-area", "A", "local-authority-eng:SWK", 1) == "2"
    # local-authority and local-authority-eng are one organisation; keys ignore case and punctuation
    assert lookups.find("Conservation-Area", " a ", "local-authority:swk", 1) == "2"
    assert lookups.find("conservation-area", "A", "local-authority-eng:CMD", 1) == "1"
    assert lookups.find("conservation-area", "B", "local-authority-eng:SWK", 1) == ""


def test_resource_scoped_lookup_rows_win_over_general_ones_whatever_their_order():
    lookups = Lookups([
        {"prefix": "p", "resource": "r1", "reference": "A", "entity": "9"},
        {"prefix": "p", "reference": "A", "entity": "1"},
    ])
    assert lookups.find("p", "A") == "9"


def test_old_entities_redirect_301_and_retire_410_following_chains():
    lookups = Lookups([], [{"old-entity": "1", "status": "301", "entity": "2"},
                           {"old-entity": "2", "status": "301", "entity": "3"},
                           {"old-entity": "5", "status": "410", "entity": ""}])
    assert lookups.redirected("1") == "3"
    assert lookups.redirected("5") == ""
    assert lookups.redirected("7") == "7"


def test_entity_organisation_ranges_are_found_by_bisection_including_their_ends():
    ranges = EntityOrganisations([(100, 199, "a"), (300, 399, "b"), (150, 160, "c")])
    assert [ranges.organisation(e) for e in (99, 100, 155, 170, 199, 200, 300, 399, 400)] == [
        None, "a", "c", "a", "a", None, "b", "b", None]


def test_organisations_are_recognised_by_curie_uri_and_code():
    organisations = Organisations(ORGANISATIONS)
    for name in ("local-authority-eng:SWK", "local-authority:SWK", "LOCAL-AUTHORITY-ENG:swk",
                 "http://opendatacommunities.org/id/london-borough-council/southwark",
                 "https://opendatacommunities.org/id/london-borough-council/southwark/", "E09000028"):
        assert organisations.lookup(name) == "local-authority-eng:SWK", name
    assert organisations.lookup("Southwark") == ""


def test_rows_get_entities_from_lookup_and_unknown_ones_are_logged(transform_csv):
    config = {"lookup": "conservation-area,,,local-authority-eng:SWK,A1,44000001\n"
                        "conservation-area,,,,A2,44000002\n"
                        "conservation-area,,,local-authority-eng:CMD,A3,44000003"}
    result = transform_csv("reference,name\nA1,one\nA2,two\nA3,three\n,four\n", config=config)
    assert result.entities == ["44000001", "44000002"]
    unknown = result.issues_of("unknown entity")
    assert [(i["line-number"], i["value"], i["entity"]) for i in unknown] == [("4", "A3", "")]
    missing = result.issues_of("unknown entity - missing reference")
    assert [i["line-number"] for i in missing] == ["5"]
    assert result.dataset_resource[0]["entry-count"] == "2"
    assert result.dataset_resource[0]["entity-count"] == "2"


def test_old_entity_301_moves_facts_to_the_new_entity_and_410_drops_them(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001\nconservation-area,,,,A2,44000002",
              "old-entity": "44000001,301,44000011\n44000002,410,"}
    result = transform_csv("reference\nA1\nA2\n", config=config)
    assert result.entities == ["44000011"]


def test_entities_outside_the_datasets_range_are_used_but_logged_and_the_maximum_is_inside(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44999999\nconservation-area,,,,A2,45000000"}
    result = transform_csv("reference\nA1\nA2\n", config=config)
    assert result.entities == ["44999999", "45000000"]
    [issue] = result.issues_of("entity number out of range")
    assert (issue["value"], issue["entity"]) == ("45000000", "45000000")


def test_lookup_by_resource_and_entry_number(transform_csv):
    config = {"lookup": "conservation-area,rX,2,,,44000022\nconservation-area,rY,1,,,44000099"}
    result = transform_csv("name\nfirst\nsecond\n", config=config, resource="rX")
    assert result.entities == ["44000022"]
    assert result.entity(44000022)["name"] == "second"


def test_a_row_without_organisation_in_a_multi_organisation_resource_gets_each_organisations_entity(transform_csv):
    config = {"lookup": "conservation-area,,,local-authority-eng:SWK,A1,44000001\n"
                        "conservation-area,,,local-authority-eng:CMD,A1,44000002"}
    result = transform_csv("reference,name\nA1,shared\n", config=config,
                           organisations=["local-authority-eng:SWK", "local-authority-eng:CMD"])
    assert result.entities == ["44000001", "44000002"]
    assert result.entity(44000002)["name"] == "shared"


def test_priority_is_2_for_the_authoritative_organisation_else_1_with_its_organisation(transform_csv):
    config = {"lookup": "conservation-area,,,,A1,44000001\nconservation-area,,,,A2,44000500\n"
                        "conservation-area,,,,A3,44000900",
              "entity-organisation": "conservation-area,44000001,44000100,local-authority-eng:SWK\n"
                                     "conservation-area,44000400,44000600,local-authority-eng:CMD"}
    result = transform_csv("reference\nA1\nA2\nA3\n", config=config)
    priority = {f["entity"]: f["priority"] for f in result.facts}
    assert priority == {"44000001": "2", "44000500": "1", "44000900": "1"}
    assert result.entity(44000500)["organisation"] == "local-authority-eng:CMD"
    assert result.entity(44000900)["organisation"] == "local-authority-eng:SWK"


def test_no_entity_organisation_ranges_means_priority_1(transform_csv):
    result = transform_csv("reference\nA1\n", config={"lookup": "conservation-area,,,,A1,44000001"})
    assert {f["priority"] for f in result.facts} == {"1"}


def test_lookup_key_parts_keep_only_lower_case_letters_digits_and_hyphens():
    import random
    import re

    from planning_pipeline.transform.keys import key_part

    assert [key_part(v) for v in ("BF000001", "CA-12 a", "x_y.z", "", None, "İ2", "\u212aey")] == [
        "bf000001", "ca-12a", "xyz", "", "", "i2", "key"]
    rng = random.Random(1)
    chars = "aZ09-_ .:/İıßéK\u212a\u00b2\u2460"
    for _ in range(20000):  # the shortcut for values with nothing to remove changes nothing
        value = "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))
        assert key_part(value) == re.sub(r"[^a-z0-9-]", "", value.lower()), value


def test_a_row_that_gives_its_entity_keeps_it_and_only_the_others_are_looked_up(transform_csv):
    # II and II* are one lookup key (ii); the resource gives each its own entity, so both stay
    config = {"lookup": "conservation-area,,,local-authority-eng:SWK,II,44000009\n"
                        "conservation-area,,,local-authority-eng:SWK,III,44000003"}
    result = transform_csv("reference,name,entity\nII,two,44000001\nII*,two star,44000002\nIII,three,\n",
                           config=config)
    assert result.entities == ["44000001", "44000002", "44000003"]
    assert not result.issues_of("unknown entity")


def test_a_given_entity_is_used_as_given_and_range_checked(transform_csv):
    config = {"old-entity": "44000001,301,44000011"}
    result = transform_csv("reference,name,entity\nA,one,44000001\nB,two,12\n", config=config)
    assert result.entities == ["44000001", "12"]
    assert [i["value"] for i in result.issues_of("entity number out of range")] == ["12"]
