"""Deep autoencoder clustering of MNIST (after "DAC: Deep Autoencoder-based Clustering",
Si Lu and Ruisi Li): pixel-importance weights, a weighted reconstruction loss, then
k-means on raw pixels vs. on the 10-d codes, scored by ARI, NMI and matched accuracy.

    python -m demos.autoencoder_clustering [--out DIR] [--quick] [--seeds K]
                                           [--preset course|tuned|ablation]
                                           [--data-dir DIR] [--dataset mnist|fashion-mnist]

5,000 training images are held out for validation: the autoencoder and k-means never
see them, and ``--preset ablation`` (from the course's recipe to the tuned one, one
change at a time) scores every step on them, never on the test images.
"""

import sys
import time

import numpy as np

from demos._common import (DATASET_NAMES, TAB10, against_course, command_line, combine_seeds,
                           cumulative_steps,
                           mnist_seed_split, over_seeds, plt, save, seed_range, split_sizes)
from demos.schema import Outside, Row, Source
from scratchnn import Adam, L2Penalty, WeightedMSE, cosine_schedule, fit
from scratchnn.autoencoder import build_autoencoder, pixel_importance_weights
from scratchnn.cluster import (KMeans, adjusted_rand_score, clustering_accuracy,
                               contingency_matrix, normalized_mutual_info_score, pca)
from scratchnn.datasets import load_mnist

TITLE = "3. Deep autoencoder clustering"
COURSE_DATASET = "mnist"


def grow_every_2(epoch):
    """The course's batch: 50 at first, 50 more every 2 epochs (1000 at epoch 40)."""
    return (epoch // 2 + 1) * 50


def grow_every_4(epoch):
    """The same growth spread over 80 epochs: 50 more every 4 epochs."""
    return (epoch // 4 + 1) * 50


PRESETS = {
    # The course: 100 labelled images for the weights, Adam at 0.008 for 40 epochs with the
    # batch growing from 50 to 1000, beta = 1e-9; k-means with 10 restarts on the raw codes.
    "course": dict(n_labelled=100, lr=0.008, epochs=40, beta=1e-9, batch=grow_every_2,
                   codes="raw", n_init=10, lr_decay=False),
    # Tuned: see ABLATION, which reaches it one change at a time.
    "tuned": dict(n_labelled=1000, lr=0.003, epochs=80, beta=1e-9, batch=grow_every_4,
                  codes="unit", n_init=10, lr_decay=True),
}
ABLATION = [
    ("course", "the course's recipe", {}),
    ("cosine", "rate 0.003, cosine-decayed (not a constant 0.008)", dict(lr=0.003, lr_decay=True)),
    ("labelled", "+ pixel weights from 1000 labelled images (not 100)", dict(n_labelled=1000)),
    ("epochs", "+ 80 epochs, batch growing every 4 (not 40, every 2)",
     dict(epochs=80, batch=grow_every_4)),
    ("standard", "+ codes standardised per dimension before k-means", dict(codes="standard")),
    ("unit", "codes scaled to unit length instead (= tuned)", dict(codes="unit")),
]
TRAINING_KEYS = ("n_labelled", "lr", "epochs", "beta", "batch", "lr_decay")

COURSE_ARI = {("raw", "train"): 0.361, ("raw", "test"): 0.366, ("encoded", "train"): 0.462,
              ("encoded", "test"): 0.468}
RERUN = Source("PyTorch re-run", "a PyTorch re-run of the course notebook on a 2-core machine, "
               "k-means by scikit-learn with 10 restarts (not this run)")
GUO = Source("Guo, DEC-keras", "X. Guo, DEC-keras, results/exp1 (github.com/XifengGuo/DEC-keras): "
             "k-means on the codes of a 784-500-500-2000-10 autoencoder pretrained 300 epochs, "
             "on all 70,000 images (training and test together), mean of 10 trials")
NOTES = {}

ROWS = [
    Row("ari.raw.train", "ARI, k-means on raw pixels, training images", "f3",
        course=COURSE_ARI["raw", "train"]),
    Row("ari.raw.test", "ARI, k-means on raw pixels, test images", "f3",
        course=COURSE_ARI["raw", "test"]),
    Row("ari.encoded.train", "ARI, k-means on codes, training images", "f3",
        course=COURSE_ARI["encoded", "train"],
        outside=(Outside("0.434", RERUN),)),
    Row("ari.encoded.validation", "ARI, k-means on codes, validation images", "f3"),
    Row("ari.encoded.test", "ARI, k-means on codes, test images", "f3",
        course=COURSE_ARI["encoded", "test"],
        outside=(Outside("0.443", RERUN), Outside("0.783", GUO),
                 Outside("0.474", GUO, dataset="fashion-mnist"))),
    Row("nmi.encoded.test", "NMI, k-means on codes, test images", "f3",
        outside=(Outside("0.807", GUO), Outside("0.637", GUO, dataset="fashion-mnist"))),
    Row("accuracy.encoded.test", "matched accuracy, k-means on codes, test images", "pct",
        outside=(Outside("87.9%", GUO), Outside("60.6%", GUO, dataset="fashion-mnist"))),
    Row("seconds.training", "seconds of autoencoder training", "f1",
        outside=(Outside("123", RERUN),)),
    Row("seconds.kmeans_raw", "seconds of k-means on raw pixels (10 restarts)", "f1",
        outside=(Outside("27", RERUN),)),
]
ABLATION_ROWS = [Row(f"steps.{key}.ari.{split}", f"{label}: ARI on codes, {split}", "f3")
                 for key, label, _ in ABLATION for split in ("train", "validation")]


def ablation_configs():
    """(key, label, settings) of each ablation step; the last is the tuned preset."""
    return cumulative_steps(PRESETS["course"], ABLATION)


def scores(y, pred):
    return {"ari": adjusted_rand_score(y, pred), "nmi": normalized_mutual_info_score(y, pred),
            "accuracy": clustering_accuracy(y, pred)}


def scale_codes(codes, how, train_codes):
    """raw; standard (each dimension to zero mean, unit variance, training statistics); or
    unit (each code to length 1, so k-means compares directions)."""
    if how == "raw":
        return codes
    if how == "standard":
        mean, std = train_codes.mean(axis=0), train_codes.std(axis=0)
        return (codes - mean) / np.where(std > 0, std, 1)
    if how == "unit":
        return codes / np.linalg.norm(codes, axis=1, keepdims=True).clip(1e-12)
    raise ValueError(f"unknown code scaling {how!r}")


def train_autoencoder(cfg, split, model_seq, verbose):
    rng = np.random.default_rng(model_seq)
    x, y = split["x_train"], split["y_train"]
    start = time.perf_counter()
    subset = rng.choice(len(x), min(cfg["n_labelled"], len(x)), replace=False)
    weights = pixel_importance_weights(x[subset], y[subset])
    weight_seconds = time.perf_counter() - start
    model = build_autoencoder(rng=rng)
    schedule = cosine_schedule(cfg["lr"], cfg["epochs"]) if cfg["lr_decay"] else None
    history = fit(model, WeightedMSE(weights), Adam(lr=cfg["lr"]), x, x, epochs=cfg["epochs"],
                  batch_size=cfg["batch"], rng=rng, penalty=L2Penalty(cfg["beta"]),
                  lr_schedule=schedule, print_epochs=verbose, name="autoencoder")
    return model, history, weights, {"pixel_weights": weight_seconds, "training": history.seconds,
                                     "labelled": len(subset)}


def cluster(features, split, n_init, seed, splits):
    """k-means fitted on the training features, scored on each of ``splits``; returns the
    scores, the training predictions and the seconds the fit took."""
    start = time.perf_counter()
    km = KMeans(10, n_init=n_init, rng=seed).fit(features["train"])
    seconds = time.perf_counter() - start
    y = {"train": split["y_train"], "validation": split["y_val"], "test": split.get("y_test")}
    result = {s: scores(y[s], km.labels_ if s == "train" else km.predict(features[s]))
              for s in splits}
    return result, km.labels_, seconds


def measure(cfg, split, model_seq, seed, verbose, trained=None):
    """One seed: train (unless ``trained`` is given), then k-means on pixels and codes."""
    model, history, weights, info = trained or train_autoencoder(cfg, split, model_seq, verbose)
    splits = ("train", "validation", "test")
    codes = {s: model.encode(split[f"x_{k}"]) for s, k in zip(splits, ("train", "val", "test"))}
    codes = {s: scale_codes(c, cfg["codes"], codes["train"]) for s, c in codes.items()}
    pixels = {s: split[f"x_{k}"] for s, k in zip(splits, ("train", "val", "test"))}
    raw, raw_pred, raw_seconds = cluster(pixels, split, cfg["n_init"], seed, splits)
    enc, enc_pred, enc_seconds = cluster(codes, split, cfg["n_init"], seed, splits)
    numbers = {m: {"raw": {s: raw[s][m] for s in splits}, "encoded": {s: enc[s][m] for s in splits}}
               for m in ("ari", "nmi", "accuracy")}
    numbers["seconds"] = {"pixel_weights": info["pixel_weights"], "training": info["training"],
                          "kmeans_raw": raw_seconds, "kmeans_encoded": enc_seconds}
    numbers["final_loss"] = history.epoch_loss[-1]
    numbers["labelled_images_for_weights"] = info["labelled"]
    return numbers, {"model": model, "history": history, "weights": weights,
                     "predictions": {"raw": raw_pred, "encoded": enc_pred}, "codes": codes}


def quick_config(cfg, quick):
    """Quick runs: a twentieth of the epochs (at least 1) and 2 k-means restarts."""
    return {**cfg, "epochs": max(1, cfg["epochs"] // 20), "n_init": 2} if quick else dict(cfg)


def run(out="results", quick=False, seed=0, preset="course", dataset="mnist", data_dir=None,
        download_ok=True, seeds=1, verbose=True):
    data = load_mnist(dataset, data_dir=data_dir, download_ok=download_ok)
    seed_list = list(range(seed, seed + seeds))
    if preset == "ablation":
        return run_ablation(data, seed_list, quick, dataset, verbose)
    cfg = quick_config(PRESETS[preset], quick)
    per_seed, first = over_seeds(data, seed_list, quick,
                                 lambda split, seq, s: measure(cfg, split, seq, s, verbose))
    numbers = combine_seeds(per_seed)
    numbers.update(seeds=seed_list, preset=preset, dataset=dataset, sizes=split_sizes(first[0]),
                   epochs=cfg["epochs"], n_init=cfg["n_init"], codes=cfg["codes"],
                   lr=cfg["lr"], lr_decay=cfg["lr_decay"])
    figures = make_figures(first[0], first[1], numbers, data["class_names"], out,
                           f"{dataset.replace('-', '_')}_{preset}", seed_list[0])
    return {"numbers": numbers, "figures": figures, "text": describe(numbers)}


def run_ablation(data, seed_list, quick, dataset, verbose):
    """Each step of ABLATION, scored on validation data; the test images are out of reach."""
    per_seed = []
    for s in seed_list:
        split, model_seq = mnist_seed_split(data, s, quick)
        split = {k: v for k, v in split.items() if not k.endswith("test")}
        results, trained, trained_on = {}, None, None
        for key, label, cfg in ablation_configs():
            cfg = quick_config(cfg, quick)
            if verbose:
                print(f"ablation step {key}: {label}", flush=True)
            training = tuple(cfg[k] for k in TRAINING_KEYS)
            if training != trained_on:           # a change of code scaling needs no retraining
                trained, trained_on = train_autoencoder(cfg, split, model_seq, verbose), training
            model = trained[0]
            codes = {"train": model.encode(split["x_train"]), "validation": model.encode(split["x_val"])}
            codes = {k: scale_codes(c, cfg["codes"], codes["train"]) for k, c in codes.items()}
            result, _, _ = cluster(codes, split, cfg["n_init"], s, ("train", "validation"))
            results[key] = {"ari": {k: result[k]["ari"] for k in result}}
        per_seed.append(results)
    steps = combine_seeds(per_seed)
    numbers = {"steps": steps, "seeds": seed_list, "preset": "ablation", "dataset": dataset,
               "sizes": {"train": len(split["y_train"]), "validation": len(split["y_val"])},
               "labels": {key: label for key, label, _ in ABLATION},
               "epochs": {key: quick_config(cfg, quick)["epochs"]
                          for key, _, cfg in ablation_configs()}}
    return {"numbers": numbers, "figures": [], "text": describe_ablation(numbers)}


def contingency_plot(ax, y, pred, names, title):
    table = contingency_matrix(y, pred)
    # Order clusters by the class they hold most of, so a good clustering looks diagonal.
    majority = table.argmax(axis=0)
    order = np.argsort(majority + table.max(axis=0) / (table.sum() + 1))
    table = table[:, order]
    ax.imshow(table, cmap="viridis", aspect="auto")
    for i, j in zip(*np.nonzero(table >= 0.02 * table.max())):
        ax.text(j, i, table[i, j], ha="center", va="center", fontsize=6,
                color="black" if table[i, j] > 0.6 * table.max() else "white")
    long = len(names[0]) > 1
    ax.set_xlabel("cluster, labelled by its majority class")
    ax.set_ylabel("true class")
    ax.set_yticks(range(table.shape[0]), [names[k] for k in np.unique(y)])
    ax.set_xticks(range(table.shape[1]), [names[m] for m in majority[order]],
                  rotation=90 if long else 0)
    ax.set_title(title)


def make_figures(split, art, numbers, names, out, tag, seed):
    figures, weights, history, model = [], art["weights"], art["history"], art["model"]
    x_test, y_test, y_train = split["x_test"], split["y_test"], split["y_train"]
    fig, ax = plt.subplots(figsize=(4, 3.6))
    im = ax.imshow(weights.reshape(28, 28), cmap="magma")
    fig.colorbar(im, ax=ax, fraction=0.046)
    labelled = numbers["labelled_images_for_weights"]["mean"]
    ax.set_title(f"pixel-importance weights (T = {labelled:.0f})")
    ax.axis("off")
    figures.append((save(fig, out, f"{tag}_pixel_weights.png"),
                    "Pixel-importance weights: bright pixels agree within a class and differ between "
                    "classes; a pixel that never varies gets weight 0."))

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(history.loss, lw=0.5)
    ax.set_yscale("log")
    ax.set_xlabel("iteration (the batch grows, so later epochs have fewer)")
    ax.set_ylabel("weighted MSE + L2")
    ax.set_title(f"Autoencoder training loss (seed {seed})")
    figures.append((save(fig, out, f"{tag}_loss.png"), "Autoencoder loss per iteration."))

    recon = model.predict(x_test[:10])
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for i in range(min(10, len(x_test))):
        axes[0, i].imshow(x_test[i].reshape(28, 28), cmap="gray_r")
        axes[1, i].imshow(recon[i].reshape(28, 28), cmap="gray_r")
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].set_title("original", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction from 10 numbers", fontsize=8, loc="left")
    figures.append((save(fig, out, f"{tag}_reconstructions.png"),
                    "Test images (top) and their reconstructions from the 10-d code (bottom)."))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, name in zip(axes, ("raw", "encoded")):
        ari = adjusted_rand_score(y_train, art["predictions"][name])
        contingency_plot(ax, y_train, art["predictions"][name], names,
                         f"k-means on {'raw pixels' if name == 'raw' else 'codes'}: ARI {ari:.3f}")
    fig.tight_layout()
    figures.append((save(fig, out, f"{tag}_contingency.png"),
                    f"True class against k-means cluster on the training images (seed {seed}), "
                    "raw pixels vs. codes."))

    proj, _, ratio = pca(art["codes"]["test"], 2)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k in range(10):
        sel = y_test == k
        ax.scatter(proj[sel, 0], proj[sel, 1], s=2, color=TAB10[k], label=names[k])
    ax.legend(markerscale=5, frameon=False, fontsize=7, loc="best")
    ax.set_title(f"test codes, first two principal components ({100 * ratio.sum():.0f}% of variance)")
    figures.append((save(fig, out, f"{tag}_codes_pca.png"),
                    "The 10-d codes of the test images (as k-means saw them) projected on their "
                    "first two principal components."))
    return figures


def describe(n):
    """The study's prose, computed from its numbers."""
    a, sizes, sec = n["ari"], n["sizes"], n["seconds"]
    what = "digits" if n["dataset"] == "mnist" else "classes"

    def two(kind):
        return f"{a[kind]['train']['mean']:.3f} / {a[kind]['test']['mean']:.3f}"

    many = len(n["seeds"]) > 1
    codes = {"raw": "as the encoder gives them", "standard": "standardised per dimension",
             "unit": "scaled to unit length"}[n["codes"]]
    return (
        "An autoencoder squeezes each image through a 10-number code and rebuilds it; its loss "
        "weights each pixel by how well that pixel separates the classes of a few labelled "
        f"images, so the code keeps what distinguishes the {what} rather than what is merely "
        "bright. k-means then groups the codes, and the Adjusted Rand Index compares the groups "
        "with the true labels (1 = identical, 0 = chance). "
        f"{DATASET_NAMES[n['dataset']]}, preset '{n['preset']}', {seed_range(n['seeds'])}. "
        f"{sizes['train']:,} training images (the autoencoder and k-means see only these), "
        f"{sizes['validation']:,} held out for validation, {sizes['test']:,} test images. Pixel "
        f"weights from {n['labelled_images_for_weights']['mean']:.0f} labelled training images; "
        f"autoencoder trained {n['epochs']} epochs (Adam, rate {n['lr']:g}"
        f"{', cosine-decayed' if n['lr_decay'] else ''}) in {sec['training']['mean']:.0f} s; "
        f"k-means (k = 10, {n['n_init']} restarts) on codes {codes}. ARI, train / test"
        f"{' (means over seeds)' if many else ''}: raw pixels {two('raw')} "
        f"(k-means {sec['kmeans_raw']['mean']:.1f} s), codes {two('encoded')}."
        + (" " + against_course([(f"ARI on {'codes' if kind == 'encoded' else 'raw pixels'}, "
                                  f"{part}", a[kind][part], COURSE_ARI[kind, part], "{:.3f}".format)
                                 for kind in ("raw", "encoded") for part in ("train", "test")],
                                n["seeds"])
           if n["preset"] == "course" and n["dataset"] == COURSE_DATASET else ""))


def describe_ablation(n):
    steps, labels = n["steps"], n["labels"]
    best = max(labels, key=lambda key: steps[key]["ari"]["validation"]["mean"])
    last = list(labels)[-1]
    epochs = ", ".join(f"{k} {e}" for k, e in n["epochs"].items())
    return (
        f"Ablation on {DATASET_NAMES[n['dataset']]}, {seed_range(n['seeds'])}: from the course's "
        "recipe to the tuned one, one change at a time, each on top of the last (the last two differ only "
        "in how the codes are scaled before k-means, on the same trained autoencoder). Every "
        f"step is scored on the {n['sizes']['validation']:,} validation images held out of the "
        "training set; the test images are not used. Epochs per step: "
        f"{epochs}. Highest validation ARI: '{labels[best]}'"
        + (" (the tuned preset)." if best == last else
           f"; the tuned preset ('{labels[last]}') is not the best on validation here."))


def main(argv=None):
    return command_line(sys.modules[__name__], mnist=True, argv=argv)


if __name__ == "__main__":
    main()
