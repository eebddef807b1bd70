"""Optimizers. ``step(params, grads)`` updates every array of ``params`` in place.

Updating in place (``p -= ...``) keeps every alias of a parameter valid: the
layers, the model's dicts and the optimizer all see the same array. State
(velocity, moments) is kept per parameter name, allocated on first use.
"""

import numpy as np


class SGD:
    """Stochastic gradient descent, optionally with momentum, Nesterov and weight decay.

    g = grad + weight_decay * p
    plain:     p <- p - lr g
    momentum:  v <- momentum v + g;  p <- p - lr v
    Nesterov:  v <- momentum v + g;  p <- p - lr (g + momentum v)
    (the formulation of Sutskever et al., 2013, as most libraries write it).
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.lr, self.momentum, self.nesterov = float(lr), float(momentum), bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity = {}
        self._scratch = {}

    def step(self, params, grads):
        # Every temporary lives in a scratch array kept per parameter: a model's worth of
        # fresh memory at every step would cost more than the arithmetic.
        for name, p in params.items():
            g = grads[name]
            if name not in self._scratch:
                self._scratch[name] = (np.empty_like(p), np.empty_like(p))
            a, b = self._scratch[name]
            d, v = g, None
            if self.weight_decay:
                np.multiply(p, self.weight_decay, out=a)
                a += g
                d = a                                   # g + weight_decay p
            if self.momentum:
                if name not in self.velocity:
                    self.velocity[name] = np.zeros_like(p)
                v = self.velocity[name]
                v *= self.momentum
                v += d                                  # v = momentum v + g
                if self.nesterov:
                    np.multiply(v, self.momentum, out=b)
                    b += d
                    d = b                               # g + momentum v
                else:
                    d = v
            if d is g or d is v:
                np.multiply(d, self.lr, out=a)
                d = a
            else:
                d *= self.lr
            p -= d


class Adam:
    """Adam (Kingma and Ba, 2015, Algorithm 1), with bias correction.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)
    p <- p - lr m_hat / (sqrt(v_hat) + eps)

    For speed the code keeps M = m / (1 - b1) and V = v / (1 - b2), which obey
    M <- b1 M + g and V <- b2 V + g^2 (two passes fewer per step), and folds the
    constants into one step size; the update is algebraically the one above:
        p <- p - c M / (sqrt(V) + eps'),  c = lr (1 - b1) / ((1 - b1^t) s),
        eps' = eps / s,  s = sqrt((1 - b2) / (1 - b2^t)).
    ``moments(name)`` returns the paper's m and v.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.t = 0
        self._m, self._v, self._tmp = {}, {}, {}

    def moments(self, name):
        """The paper's first and second moment estimates (m, v) of a parameter."""
        return self._m[name] * (1 - self.beta1), self._v[name] * (1 - self.beta2)

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        s = np.sqrt((1 - b2) / (1 - b2 ** self.t))
        c = self.lr * (1 - b1) / ((1 - b1 ** self.t) * s)
        eps = self.eps / s
        for name, p in params.items():
            g = grads[name]
            if name not in self._m:
                self._m[name] = np.zeros_like(p)
                self._v[name] = np.zeros_like(p)
                self._tmp[name] = np.empty_like(p)
            m, v, tmp = self._m[name], self._v[name], self._tmp[name]
            m *= b1
            m += g                      # M = b1 M + g
            np.multiply(g, g, out=tmp)
            v *= b2
            v += tmp                    # V = b2 V + g^2
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)  # M / (sqrt(V) + eps')
            tmp *= c
            p -= tmp
