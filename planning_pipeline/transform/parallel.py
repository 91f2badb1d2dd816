"""Running the per-row phases of a large resource on both cores.

One worker process is forked once the configuration is loaded and the column mapping planned (so it
inherits every phase instead of unpickling them). The parent reads the resource in chunks, and runs
a chunk of heavy rows as pieces (the phases before the entity lookup keep no state that changes one
entry's output because of another: their memos and plans only save work), handing a piece to the
worker whenever fewer than WORKER_QUEUE pieces are waiting there (enough that it never runs dry while
the parent runs a piece) and otherwise running it itself. Once the resource is read, a parent with
nothing else to do takes back the last piece the worker has not started (Claim), so that neither
waits long for the other at the end. The pieces come back in their order and make up their chunk
again, with the issues their phases logged, so what follows (entity prune, priority, facts, the issue
log, which sorts a chunk's issues by line) sees exactly what a serial run would.

The worker's end of each pipe is closed in the parent and the parent's in the worker: a worker that
dies is an end of file (WorkerError), and a parent that dies ends the worker the same way. Messages
are pickled rows ((line, number, row) in, (line, number, row, organisation, priority) out) and sent by
a thread on each side so neither process ever waits for the other to read.

Before that, while the parent loads the configuration, another forked process converts the resource
(Forked), and the modules the phases need are imported while the parent would otherwise wait for it
(preload); the worker imports the others as it starts, while the parent reads its first pieces.
"""
import collections
import importlib
import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import traceback

from ..errors import UserError
from .normalise import Entry

PIECE_BYTES = 1 << 20  # a chunk runs in pieces of about this much text: finer shares of heavy rows
MAX_PIECES = 4        # (light rows, points say, run whole: a piece has a cost of its own)
WORKER_QUEUE = 3      # pieces sent to the worker and not yet back
LOCAL_AHEAD = 3       # pieces the parent runs itself while waiting for the worker's oldest one
END = b""             # the parent's last message: the worker exits
# A piece is a message of up to megabytes. Through a 64 KiB pipe a sender thread needs the GIL back from the
# busy main thread (every switch interval, 5 ms by default) for each 64 KiB: the other process waited
# for its work. Wider pipes and a shorter switch interval make that a few handovers of well under 1 ms.
PIPE_BYTES = 1 << 20
SWITCH_INTERVAL = 0.0005
_F_SETPIPE_SZ = 1031  # Linux fcntl
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt


class WorkerError(RuntimeError):
    """The worker process failed or died: the transform fails (its outputs are not written)."""


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def single_threaded():
    """Whether this process has one thread only. Forking a process with other threads can leave the
    child waiting forever for a lock one of them held (convertbng's rayon pool, once it has run, is
    one): then the phases run serially."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _die_with_parent():
    """Linux: the worker is killed when the parent dies, whatever it is doing."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def preload(modules, until=None):
    """Import modules, in order, until until() is true: a worker forked later inherits what is
    imported, and imports the rest itself (see Worker) while the parent reads its first chunks.
    (numpy keeps to one thread, see planning_pipeline.datatype: a process with threads is not forked.)"""
    for module in modules:
        if until is not None and until():
            break
        importlib.import_module(module)


def keep_freed_memory():
    """Have glibc's malloc keep freed memory for reuse rather than give it back at once: each chunk
    allocates and frees the same arrays of megabytes, which were otherwise mapped afresh every time,
    a page fault per 4 KiB (a few percent of the run). Memory stays as flat; a no-op without glibc."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


def _terminated(signum, frame):
    raise SystemExit(1)


def _run_forked(function, args, results, parent_end, parent):
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    parent_end.close()
    signal.signal(signal.SIGTERM, _terminated)  # cancelled: unwind the function (its clean-up runs)
    status = 0
    try:
        message = pickle.dumps(("ok", function(*args)), pickle.HIGHEST_PROTOCOL)
    except BaseException:
        status = 1
        message = pickle.dumps(("error", traceback.format_exc()), pickle.HIGHEST_PROTOCOL)
    try:
        results.send_bytes(message)
    except OSError:
        status = 1
    os._exit(status)  # never unwind into the parent's frames


class Forked:
    """function(*args) run in a forked process while this one goes on; result() waits for its
    (picklable) return value. The process dies with this one and is terminated by cancel()."""

    def __init__(self, function, *args):
        context = multiprocessing.get_context("fork")
        self.results, result_writer = context.Pipe(duplex=False)
        self.process = context.Process(target=_run_forked, name="transform-forked", daemon=True,
                                       args=(function, args, result_writer, self.results, os.getpid()))
        self.process.start()
        result_writer.close()

    def done(self):
        """Whether the result is there (or the process has died)."""
        return self.results.poll()

    def result(self):
        """The function's return value; WorkerError if it raised or the process died."""
        try:
            message = self.results.recv_bytes()
        except (EOFError, OSError):
            self.process.join(5)
            raise WorkerError(f"the forked process died (exit code {self.process.exitcode})") from None
        finally:
            self.results.close()
        self.process.join()
        kind, value = pickle.loads(message)
        if kind == "error":
            raise WorkerError(f"the forked process failed:\n{value.rstrip()}")
        return value

    def cancel(self):
        """Stop the process (SIGTERM: its finally blocks clean up), then make sure it is gone."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
        self.process.join()
        self.results.close()


def _widen(*connections):
    """Give the pipes PIPE_BYTES of buffer where the system allows it (Linux; else as they are)."""
    try:
        import fcntl
    except ImportError:
        return
    for connection in connections:
        try:
            fcntl.fcntl(connection.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass


def run_phases(chunk, phases, issues):
    """(chunk after the phases, the issues they logged); issues.pending is left as it was."""
    saved, issues.pending = issues.pending, []
    try:
        for phase in phases:
            chunk = phase.process(chunk)
        return chunk, issues.pending
    finally:
        issues.pending = saved


def _sender(connection, messages):
    """Send each message (bytes) until None; stop quietly if the other end has gone."""
    while True:
        message = messages.get()
        if message is None:
            return
        try:
            connection.send_bytes(message)
        except OSError:
            return


class Claim:
    """Which pieces sent to the worker it may still run, in memory shared by both processes: the
    worker starts its k-th piece only if k < limit, and the parent takes pieces back by lowering the
    limit below the last one sent, never to or below the one the worker has started."""

    def __init__(self, context):
        self.shared = context.Array("q", [-1, 1 << 62])  # [started, limit]

    def start(self, k):
        """(worker) Whether piece k is still the worker's; it is then started."""
        with self.shared.get_lock():
            if k >= self.shared[1]:
                return False
            self.shared[0] = k
            return True

    def take_back(self, sent):
        """(parent) The number of the last of the `sent` pieces the worker has not started, now the
        parent's; or None (also if the lock is not free within seconds: a worker killed holding it
        is then found dead by the parent's next receive, rather than waited for)."""
        lock = self.shared.get_lock()
        if not lock.acquire(timeout=5):
            return None
        try:
            k = min(self.shared[1], sent) - 1
            if k <= self.shared[0]:
                return None
            self.shared[1] = k
            return k
        finally:
            lock.release()


def _worker(phases, issues, tasks, results, parent_ends, parent, claim, modules):
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    for end in parent_ends:
        end.close()
    sys.setswitchinterval(SWITCH_INTERVAL)
    outbox = queue.Queue()
    sender = threading.Thread(target=_sender, args=(results, outbox), daemon=True)
    sender.start()
    status = 0
    try:
        for module in modules:  # while the parent reads the first chunks
            importlib.import_module(module)
        for k in itertools.count():
            try:
                message = tasks.recv_bytes()
            except EOFError:  # the parent has gone
                break
            if message == END:
                break
            if not claim.start(k):
                continue  # taken back: the parent runs it
            chunk = [Entry(line, number, row) for line, number, row in pickle.loads(message)]
            chunk, logged = run_phases(chunk, phases, issues)
            rows = [(e.line, e.number, e.row, e.organisation, e.priority) for e in chunk]
            outbox.put(pickle.dumps(("chunk", rows, logged), pickle.HIGHEST_PROTOCOL))
    except BaseException as e:
        status = 1
        text = traceback.format_exc()
        try:
            error = pickle.dumps(e, pickle.HIGHEST_PROTOCOL)
            pickle.loads(error)
        except Exception:
            error = None
        outbox.put(pickle.dumps(("error", error, text), pickle.HIGHEST_PROTOCOL))
    outbox.put(None)
    sender.join()
    # never unwind into the parent's frames (open outputs, buffered writers): leave at once
    os._exit(status)


class Worker:
    """The forked worker and the parent's ends of its pipes."""

    def __init__(self, phases, issues, modules=()):
        context = multiprocessing.get_context("fork")
        task_reader, self.tasks = context.Pipe(duplex=False)
        self.results, result_writer = context.Pipe(duplex=False)
        _widen(self.tasks, self.results)
        self.claim = Claim(context)
        self.process = context.Process(target=_worker, name="transform-worker", daemon=True,
                                       args=(phases, issues, task_reader, result_writer, (self.tasks, self.results),
                                             os.getpid(), self.claim, tuple(modules)))
        self.process.start()
        task_reader.close()
        result_writer.close()
        self.outbox = queue.Queue()
        self.sender = threading.Thread(target=_sender, args=(self.tasks, self.outbox), daemon=True)
        self.sender.start()
        self.sent = 0

    def send(self, chunk):
        """Hand a piece of a chunk to the worker; returns its number among the pieces sent."""
        self.outbox.put(pickle.dumps([(e.line, e.number, e.row) for e in chunk], pickle.HIGHEST_PROTOCOL))
        self.sent += 1
        return self.sent - 1

    def take_back(self):
        """The number of the last piece sent that the worker has not started, now the parent's; or None."""
        return self.claim.take_back(self.sent)

    def ready(self):
        return self.results.poll()

    def receive(self, number):
        """The next piece back from the worker (of chunk number `number`, for messages) and its issues."""
        try:
            message = self.results.recv_bytes()
        except (EOFError, OSError):
            self.process.join(5)
            raise WorkerError(f"the transform worker process died (exit code {self.process.exitcode}) "
                              f"before returning chunk {number}")
        kind, *rest = pickle.loads(message)
        if kind == "error":
            error, text = rest
            error = pickle.loads(error) if error is not None else None
            if isinstance(error, UserError):
                raise error
            raise WorkerError(f"the transform worker process failed on chunk {number}:\n{text.rstrip()}") from error
        rows, logged = rest
        chunk = []
        for line, entry_number, row, organisation, priority in rows:
            entry = Entry(line, entry_number, row)
            entry.organisation, entry.priority = organisation, priority
            chunk.append(entry)
        return chunk, logged

    def close(self, ok):
        """End the worker: let it finish after a run that went well, kill it otherwise."""
        if ok:
            self.outbox.put(END)
        elif self.process.is_alive():
            self.process.kill()
        self.outbox.put(None)
        self.sender.join(10)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.tasks.close()
        self.results.close()


def _pieces(chunks):
    """(entries, whether they end their chunk) for each chunk, cut into as many pieces as the first
    chunk has PIECE_BYTES of values (at most MAX_PIECES)."""
    pieces = None
    for chunk in chunks:
        if pieces is None:
            text = sum(len(value) for entry in chunk for value in entry.row.values())
            pieces = max(1, min(MAX_PIECES, round(text / PIECE_BYTES)))
        size = -(-len(chunk) // pieces)
        for start in range(0, len(chunk), size):
            yield chunk[start:start + size], start + size >= len(chunk)


def looked_up_chunks(chunks, phases, issues, modules=()):
    """The chunks through the phases, in order. Each chunk runs as one or more pieces (the phases are
    the same on any cut of the entries, see _pieces): the worker is kept WORKER_QUEUE pieces ahead, and the parent runs
    a piece itself only while the worker's oldest one is not back yet; once all are read, it takes back
    the worker's last unstarted piece rather than wait. Each chunk's issues are put in issues.pending
    as it is yielded, as a serial run would have them (they are sorted by line when flushed);
    issues.pending must be empty (flushed) when the next chunk is asked for. modules: what the
    phases will import, imported by the worker as it starts."""
    keep_freed_memory()
    worker = Worker(phases, issues, modules)
    ok = False
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    pieces = _pieces(chunks)
    try:
        # in order, [worker's number or None, (entries, issues) once run, whether it ends its chunk]
        slots = collections.deque()
        kept = {}                    # the pieces at the worker, by number: the parent may take them back
        local = 0                    # pieces run here and not yet taken from slots
        entries, logged = [], []     # the chunk being put together
        number = 0                   # chunks yielded
        exhausted = False
        while True:
            while not exhausted and len(kept) < WORKER_QUEUE:  # keep the worker busy first
                piece = next(pieces, None)
                if piece is None:
                    exhausted = True
                else:
                    k = worker.send(piece[0])
                    kept[k] = piece[0]
                    slots.append([k, None, piece[1]])
            head = slots[0] if slots else None
            if head is not None and head[1] is not None:
                done = slots.popleft()[1]
                local -= 1
            elif head is not None and (worker.ready() or (local >= LOCAL_AHEAD and not exhausted)):
                slots.popleft()
                done = worker.receive(number)
                del kept[head[0]]
            elif head is None and exhausted:
                break
            elif not exhausted:
                piece = next(pieces, None)  # the worker has enough to do: run this one here
                if piece is None:
                    exhausted = True
                else:
                    slots.append([None, run_phases(piece[0], phases, issues), piece[1]])
                    local += 1
                continue
            else:  # all read, the worker's oldest piece not back: take its last one back, or wait
                k = worker.take_back()
                if k is None:
                    slots.popleft()
                    done = worker.receive(number)
                    del kept[head[0]]
                else:
                    slot = next(slot for slot in slots if slot[0] == k)
                    slot[:2] = [None, run_phases(kept.pop(k), phases, issues)]
                    local += 1
                    continue
            entries.extend(done[0])
            logged.extend(done[1])
            if head[2]:
                number += 1
                issues.pending.extend(logged)
                yield entries
                entries, logged = [], []
        ok = True
    finally:
        sys.setswitchinterval(switch_interval)
        worker.close(ok)
