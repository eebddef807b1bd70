"""Deep autoencoder clustering of MNIST (after "DAC: Deep Autoencoder-based Clustering", Si Lu
and Ruisi Li): pixel-importance weights from a few labelled images, an autoencoder that rebuilds
each image from a 10-number code under a loss weighted by those pixels, then k-means on the raw
pixels against k-means on the codes. Beyond the course (the tuned preset), DEC fine-tuning follows.

    python -m demos.autoencoder_clustering [--out DIR] [--seed N] [--data-dir DIR]   # course
"""

import argparse
import copy

import numpy as np

from demos._common import TAB10, mnist_seed_split, plot_contingency, plt, save, timed
from scratchnn import (SGD, Adam, Dropout, L2Penalty, RandomRotation, Sequential, WeightedMSE,
                       cosine_schedule, fit, mse)
from scratchnn.autoencoder import (build_autoencoder, build_relu_autoencoder,
                                   pixel_importance_weights)
from scratchnn.cluster import (KMeans, adjusted_rand_score, cluster_means, clustering_accuracy,
                               normalized_mutual_info_score, pca)
from scratchnn.datasets import load_mnist
from scratchnn.dec import DEC


# %% The course's settings
COURSE = dict(
    model="course", autoencoder=(784, 512, 128, 32, 10),   # the course's: encoder widths
    loss="weighted",        # MSE with each pixel weighted by its importance
    n_labelled=100,         # labelled training images the pixel weights come from
    lr=0.008, lr_decay=False, epochs=40,      # Adam at a constant rate
    batch=lambda epoch: (epoch // 2 + 1) * 50,     # 50, then 50 more every 2 epochs: 1000 at 40
    beta=1e-9,              # L2 penalty: beta * (sum of all squared weights)
    input_dropout=0.0, gain=None,    # the tuned preset's denoising and initial weights' scale
    augment=None,           # or dict(degrees, shift): each image randomly turned and moved
    codes="raw",            # k-means on the codes as the encoder gives them
    n_init=10,              # k-means restarts; the one of least inertia is kept
    finetune=None,          # beyond the course (tuned preset): dict(methods, max_steps, ...)
)


# %% 1. The data
def load_data(data, seed, quick=False):
    """One seed's split: 5,000 training images held out for validation (choices are made on them;
    the test images are scored, never chosen on), and the streams of every draw, from the seed."""
    split, model_seq = mnist_seed_split(data, seed, quick)
    x = {"train": split["x_train"], "validation": split["x_val"], "test": split["x_test"]}
    y = {"train": split["y_train"], "validation": split["y_val"], "test": split["y_test"]}
    streams = dict(zip(("labelled", "model", "kmeans", "finetuning"), model_seq.spawn(4)))
    return x, y, streams


# %% 2. The model: pixel-importance weights and the autoencoder
def pixel_weights(settings, x, y, seq):
    """w_k = mean_{same-class pairs} exp(-(x_pk - x_qk)^2) * mean_{other pairs} (1 - exp(...)),
    high where a class agrees and classes differ, from n_labelled random training images: the
    only labels the course's autoencoder sees. None for plain MSE (no labels at all)."""
    if settings["loss"] == "mse":
        return None
    subset = np.random.default_rng(seq).choice(len(x), min(settings["n_labelled"], len(x)),
                                               replace=False)
    return pixel_importance_weights(x[subset], y[subset])


def build_model(settings, rng):
    if settings["model"] == "course":        # its own start (gain is for the relu model)
        return build_autoencoder(settings["autoencoder"], rng=rng)
    return build_relu_autoencoder(settings["autoencoder"], input_dropout=settings["input_dropout"],
                                  gain=settings["gain"], rng=rng)


# %% 3. Training: Adam, the batch growing, weighted MSE + L2
def train(model, loss, settings, x_train, rng, verbose=True):
    """The autoencoder learns to give back its input: x is both input and target."""
    schedule = cosine_schedule(settings["lr"], settings["epochs"]) if settings["lr_decay"] else None
    return fit(model, loss, Adam(lr=settings["lr"]), x_train, x_train, epochs=settings["epochs"],
               batch_size=settings["batch"], rng=rng, lr_schedule=schedule,
               penalty=L2Penalty(settings["beta"]) if settings["beta"] else None,
               augment=augmentation(settings["augment"]), print_epochs=verbose,
               name="autoencoder")


def augmentation(spec):
    """None (the images as they are), or from dict(degrees, shift): each time an image is seen
    it is turned by up to ``degrees`` either way and moved by up to ``shift`` pixels (DEC-DA's
    augmentation, Guo et al. 2018). In pretraining the autoencoder rebuilds the image as it was,
    so the turn and the move act as a denoising autoencoder's noise."""
    return None if spec is None else RandomRotation(spec["degrees"], spec["shift"])


# %% 4. Evaluation: k-means on pixels and on codes, scored against the true labels
def scores(y, pred):
    """ARI (adjusted Rand index): the share of image pairs put together or apart as the labels
    do, corrected for chance (1 = the labels' grouping, 0 = chance). NMI (normalised mutual
    information): how much the cluster tells of the class (1 = all, 0 = nothing). Matched
    accuracy: clusters matched one-to-one to classes, the share of images matched right."""
    return {"ari": adjusted_rand_score(y, pred), "nmi": normalized_mutual_info_score(y, pred),
            "accuracy": clustering_accuracy(y, pred)}


def evaluate(fitted, features, y):
    """Scores and clusters of each split, by k-means or DEC fitted on the training split."""
    pred = {s: fitted.labels_ if s == "train" else fitted.predict(f) for s, f in features.items()}
    return {s: scores(y[s], p) for s, p in pred.items()}, pred


def scale_codes(codes, how, train_codes):
    if how == "standard":       # each dimension to zero mean, unit variance (training statistics)
        mean, std = train_codes.mean(axis=0), train_codes.std(axis=0)
        return (codes - mean) / np.where(std > 0, std, 1)
    if how == "unit":           # each code to length 1: k-means compares directions
        return codes / np.linalg.norm(codes, axis=1, keepdims=True).clip(1e-12)
    if how != "raw":            # raw: the codes as the encoder gives them
        raise ValueError(f"unknown code scaling {how!r}")
    return codes


def cluster_codes(codes, y, settings, seq):
    """k-means (k = 10) on the codes scaled as settings["codes"] says ("best": raw or unit, the
    higher validation ARI). The scaling kept and, per scaling, (KMeans, scores, clusters)."""
    options = ("raw", "unit") if settings["codes"] == "best" else (settings["codes"],)
    fits = {}
    for how in options:
        scaled = {s: scale_codes(c, how, codes["train"]) for s, c in codes.items()}
        km = KMeans(10, n_init=settings["n_init"], rng=seq).fit(scaled["train"])
        fits[how] = (km, *evaluate(km, scaled, y))
    return max(options, key=lambda how: fits[how][1]["validation"]["ari"]), fits


# %% 5. Beyond the course: DEC and IDEC fine-tuning (the tuned preset)
def finetune(kind, model, centers, x_train, settings, reconstruction, seq, verbose=True,
             callback=None):
    """DEC (Xie et al. 2016: SGD with momentum 0.9, at the paper's rate 0.01 unless the settings
    give ``dec_lr``) or IDEC (Guo et al. 2017: Adam 0.001, the reconstruction loss kept, the
    clustering loss weighted 0.1) on a copy of the pretrained autoencoder from the given
    centres; batch 256, stopped when under 0.1% change cluster."""
    options = dict(settings["finetune"])    # max_steps and update_interval go to DEC as they are
    del options["methods"]                  # the study's: which of DEC and IDEC run
    dec_lr = options.pop("dec_lr", 0.01)    # DEC's SGD rate: the paper's unless set
    ae = copy.deepcopy(model)       # DEC and IDEC both start from the same pretrained one
    # Fine-tuning sees whole images, as in the DEC paper: the denoising noise was for pretraining.
    encoder = Sequential([layer for layer in ae.encoder().layers if not isinstance(layer, Dropout)])
    optimizer, decoder = ((SGD(lr=dec_lr, momentum=0.9), None) if kind == "dec" else
                          (Adam(lr=0.001), ae.decoder()))
    # DEC-DA: the target P from the images as they are, the loss on augmented ones.
    augment = augmentation(options.pop("augment", None))
    dec = DEC(encoder, optimizer, decoder=decoder, gamma=0.1, batch_size=256, verbose=verbose,
              reconstruction=reconstruction, initial_centers=centers, augment=augment,
              rng=np.random.default_rng(seq), **options)
    return dec.fit(x_train, callback)   # callback(dec) at each refresh of P: see study()


def check_finetune(spec):
    """A misspelt method would run IDEC, and a rate for DEC with no DEC be ignored: refused."""
    methods = spec["methods"] if spec else ("dec",)
    if (isinstance(methods, str) or not methods or not set(methods) <= {"dec", "idec"}
            or "dec_lr" in (spec or {}) and "dec" not in methods):
        raise ValueError(f"finetune['methods'] is a tuple of 'dec' and/or 'idec' (with 'dec' if "
                         f"'dec_lr' is set), not {methods!r}")


# %% 6. Figures
def plot_pixel_weights(weights, n_labelled, out, tag):
    fig, ax = plt.subplots(figsize=(4, 3.6))
    fig.colorbar(ax.imshow(weights.reshape(28, 28), cmap="magma"), ax=ax, fraction=0.046)
    ax.set_title(f"pixel-importance weights ({n_labelled} labelled images)")
    ax.axis("off")
    return save(fig, out, f"{tag}_pixel_weights.png")


def plot_loss(history, out, tag):
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(history.loss, lw=0.5)
    ax.set(yscale="log", xlabel="iteration", ylabel="loss", title="Autoencoder training loss")
    return save(fig, out, f"{tag}_loss.png")


def plot_reconstructions(model, x_test, out, tag):
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for row, images in zip(axes, (x_test[:10], model.predict(x_test[:10]))):
        for ax, image in zip(row, images):
            ax.imshow(image.reshape(28, 28), cmap="gray_r")
            ax.axis("off")
    axes[0, 0].set_title("test images", fontsize=8, loc="left")
    axes[1, 0].set_title(f"rebuilt from {model.code_width}-number codes", fontsize=8, loc="left")
    return save(fig, out, f"{tag}_reconstructions.png")


def plot_codes(y, codes, names, out, tag):
    """Codes ({when: codes}) on their first two principal components, coloured by class."""
    fig, axes = plt.subplots(1, len(codes), figsize=(5.5 * len(codes), 5))
    for ax, (when, c) in zip(np.atleast_1d(axes), codes.items()):
        proj, _, ratio = pca(c, 2)
        for k in range(10):
            ax.scatter(proj[y == k, 0], proj[y == k, 1], s=2, color=TAB10[k], label=names[k])
        ax.set_title(f"test codes {when}\n(first two principal components, "
                     f"{100 * ratio.sum():.0f}% of variance)")
    np.atleast_1d(axes)[0].legend(markerscale=5, frameon=False, fontsize=7, loc="best")
    return save(fig, out, f"{tag}_codes_pca.png")


def plot_finetuning(decs, out, tag):
    """At each refresh of the target P: the training images that changed cluster, validation ARI."""
    fig, (ax, ari_ax) = plt.subplots(1, 2, figsize=(11, 3.4))
    for name, dec in decs.items():
        steps = [h["step"] for h in dec.history]
        ax.plot(steps[1:], [100 * h["changed"] for h in dec.history[1:]], marker=".", label=name)
        ari_ax.plot(steps, [h["validation_ari"] for h in dec.history], marker=".", label=name)
    tol = 100 * next(iter(decs.values())).tol   # the same for DEC and IDEC: see finetune()
    ax.axhline(tol, color="grey", lw=0.8, ls="--", label=f"stopping tolerance ({tol:g}%)")
    ax.set_yscale("symlog", linthresh=0.1)      # 0% (nothing changed) stays visible
    ax.set(ylim=(0, None), xlabel="fine-tuning step", title=" and ".join(decs) + " fine-tuning",
           ylabel="training images that changed cluster (%)")
    ari_ax.set(xlabel="fine-tuning step", ylabel="validation ARI",
               title="the clustering as it moves")
    ax.legend(frameon=False, fontsize=7)
    ari_ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return save(fig, out, f"{tag}_finetuning.png")


# %% The whole study, one seed
def study(settings=COURSE, seed=0, out="results", data=None, data_dir=None, quick=False,
          tag="mnist_course", verbose=True):
    """Data -> pixel weights -> autoencoder -> k-means on pixels and on codes (-> DEC and/or IDEC,
    tuned preset) -> figures (none if out is None), one seed: returns numbers and figure files."""
    check_finetune(settings["finetune"])        # before the minutes of pretraining
    data = data or load_mnist("mnist", data_dir=data_dir)
    x, y, streams = load_data(data, seed, quick)
    n = {"seconds": {}}
    with timed(n["seconds"], "pixel_weights"):
        weights = pixel_weights(settings, x["train"], y["train"], streams["labelled"])
    rng = np.random.default_rng(streams["model"])
    model = build_model(settings, rng)
    # Weighted MSE: (1/N) sum_n (1/D) sum_k w_k (x_nk - x^_nk)^2; plain MSE has w_k = 1.
    loss = mse if weights is None else WeightedMSE(weights)
    history = train(model, loss, settings, x["train"], rng, verbose)
    with timed(n["seconds"], "kmeans_raw"):
        n["raw"], raw_pred = evaluate(KMeans(10, n_init=settings["n_init"], rng=streams["kmeans"])
                                      .fit(x["train"]), x, y)
    codes = {s: model.encode(images) for s, images in x.items()}
    n["codes_chosen"], fits = cluster_codes(codes, y, settings, streams["kmeans"])
    km, n["encoded"], code_pred = fits[n["codes_chosen"]]
    n["codes_validation_ari"] = {how: fit[1]["validation"]["ari"] for how, fit in fits.items()}
    n["seconds"]["training"], n["final_loss"] = history.seconds, history.epoch_loss[-1]
    decs = {}
    if settings["finetune"]:
        # Each starts from the clustering reported above: its centres if k-means saw the codes
        # as the encoder gives them (where DEC works), else the mean code of each cluster.
        centers = (km.cluster_centers_ if n["codes_chosen"] == "raw"
                   else cluster_means(codes["train"], km.labels_, 10))
        # The validation ARI at each refresh of P: watched, never used to stop or choose.
        def watch(dec):
            return {"validation_ari": adjusted_rand_score(y["validation"],
                                                          dec.predict(x["validation"]))}
        for kind in settings["finetune"]["methods"]:   # the same stream: the same batches
            with timed(n["seconds"], kind):
                decs[kind] = finetune(kind, model, centers, x["train"], settings, loss,
                                      streams["finetuning"], verbose, callback=watch)
            n[kind], _ = evaluate(decs[kind], x, y)
        n["finetuning"] = {kind: {"steps": dec.n_steps_, "empty_clusters": dec.empty_clusters_,
                                  "stopped": "converged" if dec.converged_ else "step limit",
                                  "tol": dec.tol, "lr": dec.optimizer.lr, "history": dec.history}
                           for kind, dec in decs.items()}
        n["chosen"] = max(decs, key=lambda kind: n[kind]["validation"]["ari"])
    if out is None:
        return n, {}
    names, figures = data["class_names"], {}
    if weights is not None:
        figures["pixel_weights"] = plot_pixel_weights(weights, settings["n_labelled"], out, tag)
    figures["loss"] = plot_loss(history, out, tag)
    figures["reconstructions"] = plot_reconstructions(model, x["test"], out, tag)
    clusters = {"k-means on raw pixels": raw_pred["test"], "k-means on codes": code_pred["test"]}
    test_codes = {"as the encoder gives them": codes["test"]}
    if decs:
        name, chosen = n["chosen"].upper(), decs[n["chosen"]]
        clusters[f"after {name}"] = chosen.predict(x["test"])
        test_codes[f"after {name}"] = chosen.encoder.predict(x["test"])
        figures["finetuning"] = plot_finetuning({k.upper(): d for k, d in decs.items()}, out, tag)
    figures["contingency"] = plot_contingency(y["test"], clusters, names, out, tag)
    figures["codes_pca"] = plot_codes(y["test"], test_codes, names, out, tag)
    return n, figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="folder for figures (default: results)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    args, _ = parser.parse_known_args()     # an editor running this cell passes its own too
    numbers, _ = study(COURSE, args.seed, args.out, data_dir=args.data_dir)
    for what in ("raw", "encoded"):     # k-means on raw pixels, on codes: test scores
        print(what, numbers[what]["test"])
