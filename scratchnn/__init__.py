"""scratchnn: neural networks from scratch in NumPy, written to be read.

Reading order (the same as the README's): layers -> losses -> optim -> train (read
``train_step`` first) -> gradcheck; then the neurons before backpropagation
(mcculloch_pitts, adaline); then datasets, autoencoder, cluster and dec. The course as
homework (``python -m scratchnn.exercises``) is in :mod:`scratchnn.exercises`.

Every submodule is reachable from ``import scratchnn`` (``scratchnn.datasets.load_iris()``).
"""

from . import (adaline, augment, autoencoder, cluster, datasets, dec, exercises, gradcheck, layers,
               losses, mcculloch_pitts, optim, train)
from .augment import RandomRotation, RandomShift
from .checks import NotFittedError, NumericalError
from .gradcheck import check_layer, check_loss, check_model
from .layers import Dense, Dropout, Identity, Layer, ReLU, Sequential, Sigmoid, Tanh, mlp
from .losses import (L2Penalty, SoftTargetLoss, WeightedMSE, distill_logit_mse, mse, softmax,
                     softmax_cross_entropy)
from .optim import SGD, Adam, Optimizer
from .train import (History, StopTraining, accuracy, cosine_schedule, fit, predict_classes,
                    train_step)

__version__ = "0.4.0"

__all__ = [
    "Layer", "Dense", "ReLU", "Tanh", "Sigmoid", "Identity", "Dropout", "Sequential", "mlp",
    "softmax", "softmax_cross_entropy", "mse", "WeightedMSE", "L2Penalty", "distill_logit_mse",
    "SoftTargetLoss", "Optimizer", "SGD", "Adam", "train_step", "fit", "History", "StopTraining",
    "accuracy", "cosine_schedule", "predict_classes", "RandomShift", "RandomRotation",
    "check_layer", "check_loss", "check_model", "NotFittedError", "NumericalError",
    "adaline", "augment", "autoencoder", "cluster", "datasets", "dec", "exercises", "gradcheck",
    "layers",
    "losses", "mcculloch_pitts", "optim", "train",
]
