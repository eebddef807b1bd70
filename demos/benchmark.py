"""How fast is the core? One epoch of each of the course's networks, against its floor.

The floor is the time NumPy takes for the same matrix products alone (forward
x W, backward x^T dout and dout W^T) on the same batches: no activation, no
loss, no optimizer, no Python. A ratio near 1 means the rest costs little.
The update is the optimizer's step and the penalty alone, as many steps as an
epoch has, on random gradients: its share of the epoch is what a faster update
could save at most.

    python demos/benchmark.py            # 60,000 x 784 random float32 data, like MNIST
    python demos/benchmark.py --samples 10000
"""

import argparse
import time
import warnings

import numpy as np

from scratchnn import SGD, Adam, L2Penalty, WeightedMSE, fit, mlp, softmax_cross_entropy
from scratchnn.autoencoder import build_autoencoder


def matmul_floor(sizes, n_samples, batch_size, rng):
    """Seconds for one epoch of the forward and backward matrix products of an MLP."""
    ws = [rng.standard_normal((a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    start = time.perf_counter()
    for i in range(0, n_samples, batch_size):
        n = min(batch_size, n_samples - i)
        acts = [np.ones((n, sizes[0]), np.float32)]
        for w in ws:
            acts.append(acts[-1] @ w)
        dout = acts[-1]
        for j in range(len(ws) - 1, -1, -1):
            acts[j].T @ dout                 # dW
            if j > 0:
                dout = dout @ ws[j].T        # dx (not needed for the input layer)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each; best counts")
    args = parser.parse_args(argv)
    # random data: fit's warning that a run learned no more than a constant is expected
    warnings.filterwarnings("ignore", message=".*best constant", category=RuntimeWarning)
    rng = np.random.default_rng(args.seed)
    n = args.samples
    x = rng.random((n, 784), dtype=np.float32)
    labels = rng.integers(0, 10, n)

    runs = [
        ("teacher 784-1024-512-10, SGD, batch 32", [784, 1024, 512, 10], 32, 1.5),
        ("student 784-128-64-10, SGD, batch 32", [784, 128, 64, 10], 32, 3.0),
        ("autoencoder 784-512-...-784, Adam + L2, batch 50",
         [784, 512, 128, 32, 10, 32, 128, 512, 784], 50, 1.5),
    ]
    print(f"{n:,} samples x 784, float32, one epoch each; floor = the same matrix products in "
          f"NumPy; best of {args.repeats} alternating runs of each (a shared machine's speed drifts)")
    print(f"{'network':<50} {'seconds':>8} {'floor':>7} {'ratio':>6} {'target':>7} "
          f"{'update':>7} {'share':>6}")
    for name, sizes, batch, target in runs:
        seconds, floor, update = np.inf, np.inf, np.inf
        for _ in range(args.repeats):
            seconds = min(seconds, one_epoch(sizes, x, labels, batch, args.seed))
            floor = min(floor, matmul_floor(sizes, n, batch, rng))
            update = min(update, update_alone(sizes, x, labels, batch, args.seed))
        print(f"{name:<50} {seconds:8.2f} {floor:7.2f} {seconds / floor:5.2f}x {target:6.1f}x "
              f"{update:7.2f} {update / seconds:6.0%}", flush=True)


def network(sizes, x, labels, seed):
    """The model, loss, targets, optimizer and penalty of the network with these layer sizes."""
    if sizes[-1] == 10:
        return mlp(sizes, rng=seed), softmax_cross_entropy, labels, SGD(lr=0.01), None
    return (build_autoencoder(rng=seed), WeightedMSE(np.ones(784, np.float32)), x, Adam(lr=0.001),
            L2Penalty(1e-9))


def one_epoch(sizes, x, labels, batch, seed):
    """Seconds of one training epoch of the network with these layer sizes."""
    model, loss, target, optimizer, penalty = network(sizes, x, labels, seed)
    start = time.perf_counter()
    fit(model, loss, optimizer, x, target, epochs=1, batch_size=batch, rng=seed, penalty=penalty,
        progress=False)
    return time.perf_counter() - start


def update_alone(sizes, x, labels, batch, seed):
    """Seconds of the update alone (the penalty, then the optimizer's step, as train_step calls
    them) for as many steps as an epoch has, on small random gradients."""
    model, _, _, optimizer, penalty = network(sizes, x, labels, seed)
    params, rng = model.params, np.random.default_rng(seed)
    grads = {k: 1e-3 * rng.standard_normal(p.shape, dtype=p.dtype) for k, p in params.items()}
    start = time.perf_counter()
    for _ in range(-(-len(x) // batch)):
        if penalty is not None:
            penalty(params, grads)
        optimizer.step(params, grads)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
