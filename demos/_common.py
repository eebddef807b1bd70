"""What the demos share: command-line options, figure saving, printing of numbers."""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures go to PNG files, never to a window
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
                     "axes.titlesize": 11, "font.size": 9})

TAB10 = plt.get_cmap("tab10").colors


def base_parser(description, mnist=False):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    parser.add_argument("--quick", action="store_true", help="a small, fast version of the study")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    if mnist:
        parser.add_argument("--data-dir", default=None,
                            help="folder with the four IDX files (or a mnist/ or fashion-mnist/ "
                                 "sub-folder); default: $SCRATCHNN_DATA, then the download cache")
        parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
        parser.add_argument("--preset", default="course", choices=["course", "tuned"],
                            help="the course's settings, or the tuned ones (default: course)")
        parser.add_argument("--no-download", action="store_true", help="never try to download")
    return parser


def save(fig, out, name):
    """Write ``fig`` to ``out/name`` as PNG, close it, return the file name."""
    Path(out).mkdir(parents=True, exist_ok=True)
    fig.savefig(os.path.join(out, name), bbox_inches="tight")
    plt.close(fig)
    return name


def flatten(numbers, prefix=""):
    """{'a': {'b': 1}} -> {'a.b': 1}"""
    flat = {}
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def print_numbers(title, numbers):
    print(f"\n== {title} ==")
    for key, value in flatten(numbers).items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"  {key:<45} {shown}")


def pct(x):
    return f"{100 * x:.2f}%"


def mnist_options(args, preset=None):
    """Keyword arguments of an MNIST study's ``run`` from parsed options."""
    return dict(preset=preset or args.preset, dataset=args.dataset, data_dir=args.data_dir,
                download_ok=not args.no_download)


def command_line(run, doc, title, mnist=False, argv=None):
    """What ``python -m demos.<study>`` does: parse options, run, print the numbers."""
    args = base_parser(doc, mnist=mnist).parse_args(argv)
    result = run(args.out, args.quick, args.seed, **(mnist_options(args) if mnist else {}))
    print(result["text"])
    print_numbers(title, result["numbers"])
    return result
