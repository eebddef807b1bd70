"""Run the whole course, or some of its studies, and write a report.

    python -m demos                      # all five studies, course settings, into results/
    python -m demos --quick              # a fast version of everything (under a minute)
    python -m demos --preset tuned       # also the tuned presets of the two MNIST studies
    python -m demos madaline adaline     # only these studies
    python -m demos --data-dir DIR       # where the MNIST files are (or set SCRATCHNN_DATA)

Writes every figure as PNG, results.json (the measured numbers) and report.md.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from demos import adaline, autoencoder_clustering, distillation, madaline, mcculloch_pitts
from demos._common import mnist_options
from demos.report import write_report
from scratchnn.datasets import DataNotFoundError

STUDIES = {
    "mcculloch_pitts": mcculloch_pitts,
    "adaline": adaline,
    "madaline": madaline,
    "autoencoder": autoencoder_clustering,
    "distillation": distillation,
}
NEEDS_MNIST = {"autoencoder", "distillation"}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m demos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studies", nargs="*", metavar="NAME",
                        help=f"studies to run, in any order (default: all): {', '.join(STUDIES)}")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--quick", action="store_true", help="small data and few epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="course", choices=["course", "tuned"],
                        help="'tuned' runs the tuned MNIST presets beside the course's settings")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--data-dir", default=None,
                        help="folder with the IDX files (default: $SCRATCHNN_DATA, then the cache)")
    parser.add_argument("--no-download", action="store_true", help="never try to download")
    args = parser.parse_args(argv)
    aliases = {"mcculloch-pitts": "mcculloch_pitts", "autoencoder_clustering": "autoencoder",
               "autoencoder-clustering": "autoencoder", "mp": "mcculloch_pitts"}
    names = [aliases.get(n, n) for n in args.studies] or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        parser.error(f"unknown study {unknown[0]!r}; choose from {', '.join(STUDIES)}")
    args.studies = [n for n in STUDIES if n in names]     # always in the course's order
    return args


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, reports, missing_data = {}, {}, None
    total_start = time.perf_counter()
    for i, name in enumerate(args.studies, 1):
        print(f"\n[{i}/{len(args.studies)}] {name}", flush=True)
        module = STUDIES[name]
        presets = ["course"] + (["tuned"] if args.preset == "tuned" and name in NEEDS_MNIST else [])
        for preset in presets:
            kwargs = mnist_options(args, preset) if name in NEEDS_MNIST else {}
            start = time.perf_counter()
            try:
                result = module.run(str(out), args.quick, args.seed, **kwargs)
            except DataNotFoundError as err:
                missing_data = str(err)
                print(f"  skipped: {args.dataset} not available", flush=True)
                results[name] = {"skipped": f"{args.dataset} not found"}
                break
            seconds = time.perf_counter() - start
            result["numbers"]["seconds"] = seconds
            print(f"  {result['text']}\n  ({seconds:.1f} s)", flush=True)
            if preset == "course":
                results[name] = result["numbers"]
                reports[name] = {"course": result}
            else:
                results[name]["tuned"] = result["numbers"]
                reports[name]["tuned"] = result
    results["total_seconds"] = time.perf_counter() - total_start
    results["settings"] = {"quick": args.quick, "seed": args.seed, "dataset": args.dataset,
                           "preset": args.preset}
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    write_report(out / "report.md", reports, results, args)
    print(f"\nWrote {out / 'report.md'}, {out / 'results.json'} and the figures "
          f"({results['total_seconds']:.0f} s in all).")
    if missing_data:
        print(f"\nSome studies were skipped because the data is missing:\n{missing_data}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
