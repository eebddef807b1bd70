"""The course's studies, each a module with ``run(...)`` and a command line.

``python -m demos`` runs them all and writes a report; ``python -m demos NAME``
runs one (see ``python -m demos --help``).
"""
