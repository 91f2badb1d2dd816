"""Running the per-row phases of a large resource on both cores.

One worker process is forked once the configuration is loaded and the column mapping planned (so it
inherits every phase instead of unpickling them). The parent reads the resource in chunks and hands
a chunk to the worker whenever fewer than WORKER_QUEUE chunks are waiting there; otherwise it runs
the chunk's phases itself. Either way the chunks come back in their order, each with the issues its
phases logged, so what follows (entity prune, priority, facts, the issue log) sees exactly what a
serial run would: the phases before the entity lookup keep no state that changes one chunk's output
because of another (their memos and plans only save work).

The worker's end of each pipe is closed in the parent and the parent's in the worker: a worker that
dies is an end of file (WorkerError), and a parent that dies ends the worker the same way. Messages
are pickled rows ((line, number, row) in, (line, number, row, organisation, priority) out) and sent by
a thread on each side so neither process ever waits for the other to read.
"""
import collections
import multiprocessing
import os
import pickle
import queue
import threading
import traceback

from ..errors import UserError
from .normalise import Entry

WORKER_QUEUE = 2      # chunks sent to the worker and not yet back
LOCAL_AHEAD = 2       # chunks the parent runs itself while waiting for the worker's oldest one
END = b""             # the parent's last message: the worker exits


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


def _worker(phases, issues, tasks, results, parent_ends, parent):
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    for end in parent_ends:
        end.close()
    outbox = queue.Queue()
    sender = threading.Thread(target=_sender, args=(results, outbox), daemon=True)
    sender.start()
    status = 0
    try:
        while True:
            try:
                message = tasks.recv_bytes()
            except EOFError:  # the parent has gone
                break
            if message == END:
                break
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

    def __init__(self, phases, issues):
        context = multiprocessing.get_context("fork")
        task_reader, self.tasks = context.Pipe(duplex=False)
        self.results, result_writer = context.Pipe(duplex=False)
        self.process = context.Process(target=_worker, name="transform-worker", daemon=True,
                                       args=(phases, issues, task_reader, result_writer, (self.tasks, self.results), os.getpid()))
        self.process.start()
        task_reader.close()
        result_writer.close()
        self.outbox = queue.Queue()
        self.sender = threading.Thread(target=_sender, args=(self.tasks, self.outbox), daemon=True)
        self.sender.start()
        self.sent = 0

    def send(self, chunk):
        self.outbox.put(pickle.dumps([(e.line, e.number, e.row) for e in chunk], pickle.HIGHEST_PROTOCOL))
        self.sent += 1

    def ready(self):
        return self.results.poll()

    def receive(self, number):
        """The next chunk back from the worker (chunk number `number`, for messages) and its issues."""
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


def looked_up_chunks(chunks, phases, issues):
    """The chunks through the phases, in order: the worker is kept WORKER_QUEUE chunks ahead, and the
    parent runs a chunk itself only while the worker's oldest one is not back yet. Each chunk's issues are put in issues.pending as it is yielded, as a serial
    run would have them; issues.pending must be empty (flushed) when the next chunk is asked for."""
    worker = Worker(phases, issues)
    ok = False
    try:
        slots = collections.deque()  # in chunk order: None for a chunk at the worker, else (chunk, issues)
        waiting = local = 0          # chunks at the worker, chunks run here and not yet yielded
        number = 0                   # chunks yielded
        exhausted = False
        while True:
            while not exhausted and waiting < WORKER_QUEUE:  # keep the worker busy first
                chunk = next(chunks, None)
                if chunk is None:
                    exhausted = True
                else:
                    worker.send(chunk)
                    slots.append(None)
                    waiting += 1
            if slots and slots[0] is None and (exhausted or local >= LOCAL_AHEAD or worker.ready()):
                slots.popleft()
                waiting -= 1
                chunk, logged = worker.receive(number)
            elif slots and slots[0] is not None:
                chunk, logged = slots.popleft()
                local -= 1
            elif exhausted:
                break
            else:
                chunk = next(chunks, None)  # the worker has enough to do: run this one here
                if chunk is None:
                    exhausted = True
                else:
                    slots.append(run_phases(chunk, phases, issues))
                    local += 1
                continue
            number += 1
            issues.pending.extend(logged)
            yield chunk
        ok = True
    finally:
        worker.close(ok)
