"""The datasette route /-/explain/DATASET/ENTITY serves what bin/explain says, from the served workspace."""
import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from explainkit import EXAMPLE
from local_servers import free_port, stop, wait_for_http
from planning_pipeline.explain import explain

CALVERTON = "44001676"


@pytest.fixture(scope="module")
def served(built_example):
    """The workspace's own bin/serve-datasette (and so its own plugins/) over the directory make published."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PLANNING_ROOT"}
    process = subprocess.Popen([str(built_example / ".venv" / "bin" / "python"), str(built_example / "bin" / "serve-datasette"),
                                "--dir", str(built_example / "var" / "datasette"), "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json", process)
        yield base
    finally:
        stop(process)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read().decode("utf-8")


def test_the_json_route_is_the_library_explanation_of_the_served_workspace(served, built_example):
    status, content_type, body = get(f"{served}/-/explain/{EXAMPLE}/{CALVERTON}.json")
    assert status == 200 and content_type.startswith("application/json")
    assert json.loads(body) == explain(built_example, EXAMPLE, CALVERTON)
    status, _, body = get(f"{served}/-/explain/{EXAMPLE}/{CALVERTON}.json?field=name")
    assert [f["field"] for f in json.loads(body)["fields"]] == ["name"]


def test_the_page_shows_the_text_of_bin_explain(served, built_example):
    status, content_type, body = get(f"{served}/-/explain/{EXAMPLE}/{CALVERTON}?field=name")
    assert status == 200 and content_type.startswith("text/html")
    text = subprocess.run([str(built_example / "bin" / "explain"), "--root", str(built_example), EXAMPLE, CALVERTON, "name"],
                          capture_output=True, text=True, check=True).stdout
    assert "column mapping: pipeline/conservation-area/column.csv:" in text
    import html

    assert html.escape(text) in body
    assert f'href="/{EXAMPLE}/entity/{CALVERTON}"' in body and f'href="/-/explain/{EXAMPLE}/{CALVERTON}.json?field=name"' in body


def test_an_unknown_entity_or_dataset_is_a_404_saying_why(served):
    assert get(f"{served}/-/explain/{EXAMPLE}/44999999") == (404, "text/plain; charset=utf-8",
                                                             f"{EXAMPLE}: no entity 44999999\n")
    status, _, body = get(f"{served}/-/explain/no-such-dataset/1.json")
    assert status == 404 and body.startswith("unknown dataset 'no-such-dataset'")
