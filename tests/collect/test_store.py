"""Streamed byte filters give exactly what filtering the whole body at once gives, and temp files never stay."""
import os
import random

import pytest

from planning_pipeline.collect.store import ResourceWriter, StreamSub, TooLarge, resource_writer, timestamp_filters, wfs_filters

SAMPLES = [
    b'{"type":"FeatureCollection","timeStamp": "2020-01-01T00:00:00Z","features":[{"a":1,},\n  {"b":2,\n   }],"x":{"timeStamp":"t"}}',
    b'<wfs:FeatureCollection timeStamp="2020" numberMatched="3">'
    + b'<a gml:id="layer.1.geom" fid="layer.1"/>' * 50
    + b"</wfs:FeatureCollection>",
    b"no match at all " * 400,
]


def whole(filters, body):
    for f in filters:
        body = f.pattern.sub(f.replacement, body)
    return body


def streamed(filters, body, sizes):
    out, i = [], 0
    for size in sizes:
        data = body[i : i + size]
        i += size
        for f in filters:
            data = f.feed(data)
        out.append(data)
    for n, f in enumerate(filters):
        data = f.flush()
        for later in filters[n + 1 :]:
            data = later.feed(data)
        out.append(data)
    return b"".join(out)


@pytest.mark.parametrize("make", [timestamp_filters, wfs_filters])
@pytest.mark.parametrize("body", SAMPLES)
def test_streamed_filters_equal_filtering_the_whole_body(make, body):
    expected = whole(make(), body)
    rng = random.Random(7)
    for _ in range(20):
        sizes = [rng.randint(1, 40) for _ in range(len(body))]
        assert streamed(make(), body, sizes) == expected
    assert streamed(make(), body, [len(body)]) == expected


def test_match_straddling_chunks_is_replaced():
    f = StreamSub(rb"a(b+)c", lambda m: b"X" + m.group(1), window=16)
    assert f.feed(b"zzab") + f.feed(b"bbc") + f.flush() == b"zzXbbb"


def test_writer_discards_its_temp_file_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with resource_writer(str(tmp_path)) as writer:
            writer.write(b"partial")
            raise RuntimeError
    assert os.listdir(tmp_path) == []


def test_writer_stops_at_max_bytes(tmp_path):
    writer = ResourceWriter(str(tmp_path), max_bytes=10)
    writer.write(b"0123456789")
    with pytest.raises(TooLarge):
        writer.write(b"a")
    writer.discard()
    assert os.listdir(tmp_path) == []


def test_committed_resource_is_readable_by_everyone(tmp_path):
    with resource_writer(str(tmp_path)) as writer:
        writer.write(b"data")
        resource, new = writer.commit()
    assert new and os.stat(tmp_path / resource).st_mode & 0o777 == 0o644
