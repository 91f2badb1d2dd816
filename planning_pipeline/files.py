"""Writing files so that a failed or interrupted step never leaves a half-written output."""
import contextlib
import hashlib
import os
import tempfile


@contextlib.contextmanager
def temporary_path(path):
    """A free temporary name beside path, renamed onto path only if the block succeeds.

    For tools that write by file name (sqlite, datasette inspect, copies); removed on failure.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)  # let the writer create it (sqlite applies its page size to a new file)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path, mode="w", **kwargs):
    """Open a temporary file beside path; rename it onto path only if the block succeeds."""
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    with temporary_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f


def write_if_changed(path, text):
    """Write text to path unless it already holds exactly that; returns True if written.

    Used for stamp files: Make sees a new mtime only when the content really changed.
    """
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    with atomic_write(path) as f:
        f.write(text)
    return True


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
