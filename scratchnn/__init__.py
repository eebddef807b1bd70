"""scratchnn: neural networks from scratch in NumPy, written to be read.

Suggested reading order: layers -> losses -> optim -> train -> gradcheck,
then the classic neurons (mcculloch_pitts, adaline), datasets, cluster and
autoencoder.
"""

from .layers import Dense, Identity, Layer, ReLU, Sequential, Sigmoid, Tanh, mlp
from .losses import (L2Penalty, SoftTargetLoss, WeightedMSE, distill_logit_mse, l2_penalty, mse,
                     softmax, softmax_cross_entropy)
from .optim import SGD, Adam
from .train import History, accuracy, cosine_schedule, fit, predict_classes

__version__ = "0.1.0"

__all__ = [
    "Layer", "Dense", "ReLU", "Tanh", "Sigmoid", "Identity", "Sequential", "mlp",
    "softmax", "softmax_cross_entropy", "mse", "WeightedMSE", "l2_penalty", "L2Penalty",
    "distill_logit_mse", "SoftTargetLoss", "SGD", "Adam", "fit", "History", "accuracy", "cosine_schedule",
    "predict_classes",
]
