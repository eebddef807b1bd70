"""What the demos share: command-line options, seeds, figure saving, printing of numbers."""

import argparse
import multiprocessing
import os
import time
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # headless: figures go to PNG files, never to a window
import matplotlib.pyplot as plt  # noqa: E402

from demos.schema import fmt_value, is_spread, spread  # noqa: E402
from scratchnn.cluster import adjusted_rand_score, contingency_matrix  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
                     "axes.titlesize": 11, "font.size": 9})

TAB10 = plt.get_cmap("tab10").colors
SMALL_SEEDS, SMALL_SEEDS_QUICK = 10, 3     # Adaline, Madaline, the MLP on moons
PRESETS = ("course", "tuned", "ablation")


def small_seeds(seed, n, quick):
    """The seeds of a small study: ``seed, seed + 1, ...``, 10 of them (3 with --quick)."""
    n = n if n is not None else (SMALL_SEEDS_QUICK if quick else SMALL_SEEDS)
    if n < 1:
        raise ValueError(f"--seeds must be at least 1, got {n}")
    return list(range(seed, seed + n))


def map_seeds(one_seed, arguments):
    """``one_seed(*args)`` for each tuple of ``arguments`` (one per seed), in worker processes,
    one per core: the seeds are independent, so the numbers are those of a plain loop, sooner."""
    workers = min(len(arguments), os.cpu_count() or 1)
    if workers == 1:
        return [one_seed(*args) for args in arguments]
    # A student's homework in use (python -m demos --with DIR) is in use in the workers too.
    from scratchnn.exercises import active, use_in_worker
    with multiprocessing.Pool(workers, initializer=use_in_worker, initargs=(active(),)) as pool:
        return pool.starmap(one_seed, arguments)


def count_seeds(n):
    """'1 seed' or 'n seeds'."""
    return f"{n} seed{'' if n == 1 else 's'}"


def seed_range(seeds):
    """'seed 0' or 'seeds 0-9 (10 seeds)' for the report."""
    if len(seeds) == 1:
        return f"seed {seeds[0]} (one seed)"
    return f"seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} seeds)"


def combine_seeds(per_seed):
    """One dict of results per seed -> one dict whose numbers are spreads over the seeds.

    Numbers become :func:`~demos.schema.spread`; booleans stay a bool only if all seeds
    agree (else a count of each); other values must agree across seeds or become counts.
    """
    first = per_seed[0]
    if isinstance(first, dict):
        keys = list(first)
        for other in per_seed[1:]:
            if list(other) != keys:
                raise KeyError(f"seeds disagree on keys: {keys} vs {list(other)}")
        return {k: combine_seeds([d[k] for d in per_seed]) for k in keys}
    if isinstance(first, bool):
        return first if all(v == first for v in per_seed) else \
            {"yes": sum(map(bool, per_seed)), "no": sum(not v for v in per_seed)}
    if isinstance(first, (int, float, np.integer, np.floating)):
        return spread(per_seed)
    if all(v == first for v in per_seed):
        return first
    counts = {}
    for v in per_seed:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return counts


def base_parser(description, mnist=False):
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    parser.add_argument("--quick", action="store_true", help="a small, fast version of the study")
    parser.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    if mnist:
        parser.add_argument("--seeds", type=int, default=1,
                            help="how many seeds to run (default 1; the report says 'one seed')")
        parser.add_argument("--data-dir", default=None,
                            help="folder with the four IDX files (or a mnist/ or fashion-mnist/ "
                                 "sub-folder); default: $SCRATCHNN_DATA, then the download cache")
        parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
        parser.add_argument("--preset", default="course", choices=PRESETS,
                            help="the course's settings, the tuned ones, or the ablation study "
                                 "that measures each tuned change on validation data")
        parser.add_argument("--no-download", action="store_true", help="never try to download")
    else:
        parser.add_argument("--seeds", type=int, default=None,
                            help=f"how many seeds (default {SMALL_SEEDS}, with --quick "
                                 f"{SMALL_SEEDS_QUICK})")
    return parser


def save(fig, out, name):
    """Write ``fig`` to ``out/name`` as PNG, close it, return the file name."""
    Path(out).mkdir(parents=True, exist_ok=True)
    fig.savefig(os.path.join(out, name), bbox_inches="tight")
    plt.close(fig)
    return name


def strip_plot(ax, groups, ylabel, fmt="pct"):
    """Per-seed values as dots, one column per group, with their mean as a bar and the
    course's figure (when it reported one) as a red diamond.

    groups: list of (label, values, course figure or None).
    """
    rng = np.random.default_rng(0)          # horizontal jitter only, so dots do not overlap
    scale = 100 if fmt == "pct" else 1
    shown_course = False
    for i, (label, values, course) in enumerate(groups):
        v = np.asarray(values, dtype=float) * scale
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(v)), v, s=14, color=TAB10[0], alpha=0.7,
                   label="one seed" if i == 0 else None, zorder=2)
        ax.hlines(v.mean(), i - 0.25, i + 0.25, color="k", lw=1.5,
                  label="mean" if i == 0 else None, zorder=3)
        if course is not None:
            ax.scatter([i], [course * scale], marker="D", s=40, color="#d62728", zorder=4,
                       label=None if shown_course else "the course (one run)")
            shown_course = True
    ax.set_xticks(range(len(groups)), [g[0] for g in groups])
    ax.set_ylabel(ylabel + (" (%)" if fmt == "pct" else ""))
    ax.legend(frameon=False, fontsize=7)


def flatten(numbers, prefix=""):
    """{'a': {'b': 1}} -> {'a.b': 1}; spreads stay whole."""
    flat = {}
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not is_spread(value):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def print_numbers(title, numbers):
    print(f"\n== {title} ==")
    for key, value in flatten(numbers).items():
        if is_spread(value):
            shown = fmt_value(value, "f3")
        elif isinstance(value, float):
            shown = f"{value:.4f}"
        else:
            shown = str(value)
        print(f"  {key:<45} {shown}")


def pct(x):
    return f"{100 * x:.2f}%"


def pct_spread(s):
    """A spread of accuracies in a sentence: '86.13% ± 1.52', '100.00% (every seed)' or
    '97.80% (one seed)'."""
    if s["n"] == 1:
        return f"{pct(s['mean'])} (one seed)"
    if s["min"] == s["max"]:
        return f"{pct(s['mean'])} (every seed)"
    return f"{pct(s['mean'])} ± {100 * s['sd']:.2f}"


def mnist_options(args, preset=None):
    """Keyword arguments of an MNIST study's ``run`` from parsed options."""
    return dict(preset=preset or args.preset, dataset=args.dataset, data_dir=args.data_dir,
                download_ok=not args.no_download, seeds=args.seeds)


def command_line(module, mnist=False, argv=None):
    """What ``python -m demos.<study>`` does: parse options, run, print the text and numbers."""
    args = base_parser(module.__doc__, mnist=mnist).parse_args(argv)
    kwargs = mnist_options(args) if mnist else {"seeds": args.seeds}
    result = module.run(args.out, args.quick, args.seed, **kwargs)
    print(result["text"])
    print_numbers(module.TITLE, result["numbers"])
    return result


# --------------------------------------------------------------------------- MNIST studies

N_VALIDATION = 5000                            # training images held out for choices
QUICK_SIZES = dict(n_train=3000, n_test=1000, n_validation=500)


def mnist_seed_split(data, seed, quick):
    """The train / validation / test arrays of one seed (the same for both MNIST studies).

    Seed s draws the validation split (and, with --quick, the subsets). Returned with the
    split: a second SeedSequence of the same seed for the models, so that splits and
    weights never share draws.
    """
    from scratchnn.datasets import mnist_splits

    split_stream, model_stream = np.random.SeedSequence(seed).spawn(2)
    sizes = QUICK_SIZES if quick else dict(n_train=None, n_test=None, n_validation=N_VALIDATION)
    n_pool = min(sizes["n_train"] or len(data["train_images"]), len(data["train_images"]))
    n_val = min(sizes["n_validation"], n_pool // 6)      # tiny test folders hold few images
    split = mnist_splits(data, n_val, rng=np.random.default_rng(split_stream),
                         n_train=sizes["n_train"], n_test=sizes["n_test"])
    return split, model_stream


def cumulative_steps(start, changes):
    """(key, label, settings) for each (key, label, change) applied on top of all before it,
    from the settings ``start``: an ablation, one change at a time."""
    cfg, steps = dict(start), []
    for key, label, change in changes:
        cfg = {**cfg, **change}
        steps.append((key, label, cfg))
    return steps


DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def item_word(dataset):
    """What one image shows: 'digit' on MNIST, 'image' elsewhere (Fashion-MNIST)."""
    return "digit" if dataset == "mnist" else "image"


def against_course(figures, seeds):
    """A sentence placing the course's single figures in this run's spread over seeds.

    figures: list of (what, spread, the course's figure, formatter).
    """
    if len(seeds) == 1:
        return ("With one seed, this run cannot say whether its difference from the course's "
                "figures is larger than a change of seed would make; `--seeds K` measures that "
                "spread.")
    where = {}
    for what, s, course, show in figures:
        place = ("within" if s["min"] <= course <= s["max"] else
                 "above" if course > s["max"] else "below")
        where.setdefault(place, []).append(f"{what} (course {show(course)}, this run "
                                           f"{show(s['min'])} to {show(s['max'])})")
    parts = [f"{place} the range of this run's {len(seeds)} seeds: {'; '.join(items)}"
             for place, items in where.items()]
    return "The course's figures lie " + ", and ".join(parts) + "."


@contextmanager
def timed(seconds, name):
    """``with timed(seconds, "name"):`` stores the block's wall-clock seconds in seconds["name"]."""
    start = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - start


def plot_contingency(y, clusterings, names, out, tag):
    """True class against cluster, one panel per clustering ({title: clusters})."""
    fig, axes = plt.subplots(1, len(clusterings), figsize=(5 * len(clusterings), 4.6))
    for ax, (title, pred) in zip(np.atleast_1d(axes), clusterings.items()):
        table = contingency_matrix(y, pred)
        majority = table.argmax(axis=0)     # each cluster's class: a good clustering is diagonal
        order = np.argsort(majority + table.max(axis=0) / (table.sum() + 1))
        table = table[:, order]
        ax.imshow(table, cmap="viridis", aspect="auto")
        for i, j in zip(*np.nonzero(table >= 0.02 * table.max())):
            ax.text(j, i, table[i, j], ha="center", va="center", fontsize=6,
                    color="black" if table[i, j] > 0.6 * table.max() else "white")
        ax.set(xlabel="cluster, labelled by its majority class", ylabel="true class",
               title=f"{title}: test ARI {adjusted_rand_score(y, pred):.3f}")
        ax.set_yticks(range(table.shape[0]), [names[k] for k in np.unique(y)])
        ax.set_xticks(range(table.shape[1]), [names[m] for m in majority[order]],
                      rotation=90 if len(names[0]) > 1 else 0)
    fig.tight_layout()
    return save(fig, out, f"{tag}_contingency.png")
