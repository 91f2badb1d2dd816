"""The shared shape of every bin/ script: parse arguments, call one function, exit clearly.

Kept import-light: a collection runs thousands of bin/ processes, so start-up time matters.
"""
import argparse
import os
import sys

from .errors import UserError


def parser(description, **kwargs):
    """An argparse parser whose description is the script's docstring."""
    return argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def exit_at_once(status=0):
    """Exit without tearing the interpreter down. For a script left holding many objects (lookups,
    memos), freeing them one by one takes longer than the system takes to reclaim the process (about
    40 ms of a 1.2 s transform). Only once every output file is closed and every child process joined."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run(main, argv=None):
    """Call main(argv); turn user errors into one-line messages and an exit status of 2."""
    prog = os.path.basename(sys.argv[0])
    try:
        status = main(sys.argv[1:] if argv is None else argv)
    except UserError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into head(1) and the like: not an error.
        sys.stderr.close()
        sys.exit(0)
    sys.exit(status or 0)
