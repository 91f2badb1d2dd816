"""Publishing into the directory datasette serves: by hard link on one filesystem, by copy elsewhere,
and never by writing a served file in place."""
import errno
import os

from loadkit import write_dataset

from planning_pipeline.load import datasette


def _dataset(path, entities):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return write_dataset(path, [{"dataset": "green-belt", "entity": n, "point": "POINT (0 51)"} for n in entities])


def test_publishing_on_one_filesystem_links_the_file_instead_of_copying_it(tmp_path):
    source = _dataset(str(tmp_path / "dataset" / "green-belt.sqlite3"), [1, 2])
    served = tmp_path / "served"
    datasette.publish(str(served), [source], log=lambda *a: None)
    assert os.path.samefile(source, served / "green-belt.sqlite3")
    assert (served / "green-belt.sqlite3.json").exists()
    before = os.stat(served / "green-belt.sqlite3").st_mtime_ns
    datasette.publish(str(served), [source], log=lambda *a: None)  # already published: nothing to do
    assert os.stat(served / "green-belt.sqlite3").st_mtime_ns == before
    assert sorted(os.listdir(served)) == ["green-belt.sqlite3", "green-belt.sqlite3.json", "inspect-data-all.json"]


def test_a_new_version_replaces_the_served_file_by_rename_and_leaves_the_old_inode_as_it_was(tmp_path):
    first = _dataset(str(tmp_path / "a" / "green-belt.sqlite3"), [1])
    served = tmp_path / "served"
    datasette.publish(str(served), [first], log=lambda *a: None)
    old = open(served / "green-belt.sqlite3", "rb")  # a reader of the old version, as datasette is
    old_bytes = open(first, "rb").read()
    second = _dataset(str(tmp_path / "b" / "green-belt.sqlite3"), [1, 2])
    datasette.publish(str(served), [second], log=lambda *a: None)
    assert os.path.samefile(second, served / "green-belt.sqlite3")
    assert old.read() == old_bytes and open(first, "rb").read() == old_bytes
    old.close()


def test_publishing_where_links_are_impossible_copies_the_file(tmp_path, monkeypatch):
    source = _dataset(str(tmp_path / "dataset" / "green-belt.sqlite3"), [1, 2])

    def cross_device(*args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(datasette.os, "link", cross_device)
    served = tmp_path / "served"
    datasette.publish(str(served), [source], log=lambda *a: None)
    assert not os.path.samefile(source, served / "green-belt.sqlite3")
    assert open(source, "rb").read() == open(served / "green-belt.sqlite3", "rb").read()
