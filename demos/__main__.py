"""Run the whole course, or some of its studies, and write a report.

    python -m demos                      # all five studies, course settings, into results/
    python -m demos --quick              # a fast version of everything (small data, few epochs)
    python -m demos --preset tuned       # also the tuned presets of the two MNIST studies
    python -m demos autoencoder --preset ablation   # each tuned change measured on validation
    python -m demos madaline adaline     # only these studies
    python -m demos --seeds 3            # three seeds of each MNIST study (default one)
    python -m demos --data-dir DIR       # where the MNIST files are (or set SCRATCHNN_DATA)
    python -m demos distillation --with HW   # the study with a student's homework workspace
                                             #   (python -m scratchnn.exercises start HW)

Writes every figure as PNG, results.json (everything measured, with the text and figure
list of each study) and report.md (rendered from results.json alone).
"""

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from demos._common import PRESETS, mnist_options, small_seeds
from demos.report import NEEDS_MNIST, STUDIES, write_report
from scratchnn import exercises
from scratchnn.datasets import DataNotFoundError
from scratchnn.files import write_text_atomic


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m demos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studies", nargs="*", metavar="NAME",
                        help=f"studies to run, in any order (default: all): {', '.join(STUDIES)}")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--quick", action="store_true", help="small data and few epochs")
    parser.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds of each MNIST study (default 1: the report says 'one seed')")
    parser.add_argument("--small-seeds", type=int, default=None,
                        help="seeds of Adaline, Madaline and the MLP (default 10, --quick 3)")
    parser.add_argument("--preset", default="course", choices=PRESETS,
                        help="MNIST studies: 'tuned' runs the tuned preset beside the course's; "
                             "'ablation' runs, instead, the steps from one to the other, each "
                             "scored on validation data")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--data-dir", default=None,
                        help="folder with the IDX files (default: $SCRATCHNN_DATA, then the cache)")
    parser.add_argument("--no-download", action="store_true", help="never try to download")
    parser.add_argument("--with", dest="workspace", metavar="DIR", default=None,
                        help="run with the code of a homework workspace (python -m "
                             "scratchnn.exercises start DIR) in place of the library's, for "
                             "every exercise written there")
    args = parser.parse_args(argv)
    aliases = {"mcculloch-pitts": "mcculloch_pitts", "autoencoder_clustering": "autoencoder",
               "autoencoder-clustering": "autoencoder", "mp": "mcculloch_pitts"}
    names = [aliases.get(n, n) for n in args.studies] or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        parser.error(f"unknown study {unknown[0]!r}; choose from {', '.join(STUDIES)}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    args.studies = [n for n in STUDIES if n in names]     # always in the course's order
    return args


def presets_of(name, preset):
    if name not in NEEDS_MNIST:
        return ["course"]
    return {"course": ["course"], "tuned": ["course", "tuned"], "ablation": ["ablation"]}[preset]


def settings(args):
    """How the run was made: what a reader needs to repeat it, and where it ran."""
    return {"quick": args.quick, "seed": args.seed, "dataset": args.dataset,
            "preset": args.preset, "small_seeds": small_seeds(args.seed, args.small_seeds,
                                                              args.quick),
            "mnist_seeds": list(range(args.seed, args.seed + args.seeds)),
            "python": platform.python_version(), "numpy": np.__version__,
            "platform": f"{platform.system()} {platform.machine()}", "cpus": os.cpu_count()}


def student_code(folder):
    """The student's workspace in use for the run (none: the library's code alone)."""
    if folder is None:
        return contextlib.nullcontext([])
    return exercises.use(folder)


def main(argv=None):
    args = parse_args(argv)
    try:
        with student_code(args.workspace) as mine:
            if args.workspace is not None:
                print(f"Your code from {args.workspace} runs in place of the library's for "
                      f"{len(mine)} exercise{'s' * (len(mine) != 1)}"
                      + (f": {', '.join(mine)}." if mine else
                         " (none is written yet: the library's code runs everywhere)."),
                      flush=True)
            return run(args, mine)
    except (exercises.WorkspaceError, exercises.StudentImportError) as err:
        print(f"error: --with {args.workspace}: {err}", file=sys.stderr)
        return 2


def run(args, mine):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, missing_data = {"settings": settings(args)}, None
    if args.workspace is not None:
        results["settings"]["workspace"] = {"folder": str(args.workspace), "exercises": mine}
    total_start = time.perf_counter()
    for i, name in enumerate(args.studies, 1):
        print(f"\n[{i}/{len(args.studies)}] {name}", flush=True)
        module = STUDIES[name]
        for preset in presets_of(name, args.preset):
            kwargs = (mnist_options(args, preset) if name in NEEDS_MNIST
                      else {"seeds": args.small_seeds})
            start = time.perf_counter()
            try:
                result = module.run(str(out), args.quick, args.seed, **kwargs)
            except DataNotFoundError as err:
                missing_data = str(err)
                print(f"  skipped: {args.dataset} not available", flush=True)
                results[name] = {"skipped": f"{args.dataset} not found"}
                break
            result["seconds"] = time.perf_counter() - start
            print(f"  {result['text']}\n  ({result['seconds']:.1f} s)", flush=True)
            results.setdefault(name, {})[preset] = result
    results["total_seconds"] = time.perf_counter() - total_start
    write_text_atomic(out / "results.json", json.dumps(results, indent=1, ensure_ascii=False)
                      + "\n")
    write_report(out / "report.md", results)
    print(f"\nWrote {out / 'report.md'}, {out / 'results.json'} and the figures "
          f"({results['total_seconds']:.0f} s in all).")
    if missing_data:
        print(f"\nSome studies were skipped because the data is missing:\n{missing_data}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
