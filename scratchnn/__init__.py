"""scratchnn: neural networks from scratch in NumPy, written to be read.

Suggested reading order: layers -> losses -> optim -> train -> gradcheck,
then the classic neurons (mcculloch_pitts, adaline), datasets, cluster and
autoencoder.
"""

from .augment import RandomShift
from .checks import NotFittedError
from .gradcheck import check_layer, check_loss, check_model
from .layers import Dense, Dropout, Identity, Layer, ReLU, Sequential, Sigmoid, Tanh, mlp
from .losses import (L2Penalty, SoftTargetLoss, WeightedMSE, distill_logit_mse, l2_penalty, mse,
                     softmax, softmax_cross_entropy)
from .optim import SGD, Adam, Optimizer
from .train import History, accuracy, cosine_schedule, fit, predict_classes

__version__ = "0.2.0"

__all__ = [
    "Layer", "Dense", "ReLU", "Tanh", "Sigmoid", "Identity", "Dropout", "Sequential", "mlp",
    "softmax", "softmax_cross_entropy", "mse", "WeightedMSE", "l2_penalty", "L2Penalty",
    "distill_logit_mse", "SoftTargetLoss", "Optimizer", "SGD", "Adam", "fit", "History", "accuracy",
    "cosine_schedule", "predict_classes", "RandomShift", "check_layer", "check_loss", "check_model",
    "NotFittedError",
]
