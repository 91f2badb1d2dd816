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
