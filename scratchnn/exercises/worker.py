"""The grader's worker process: ``python -m scratchnn.exercises.worker DIR NAMES VERBOSE BYTES``.

It grades the exercises of a workspace one by one and says, one JSON line at a time on the
output it was given, which begins and how it ended. Everything else printed (a student's
print, a C library's message) goes to the null device, so it cannot garble those lines.
"""

import json
import os
import sys


def main(argv):
    folder, names, verbose, memory_bytes = argv
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())           # whatever writes to stdout, even from C

    def send(message):
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    from .grading import worker
    worker(folder, json.loads(names), verbose == "1", int(memory_bytes), send)


if __name__ == "__main__":
    main(sys.argv[1:])
