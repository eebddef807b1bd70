"""Optimizers. ``step(params, grads)`` updates every array of ``params`` in place.

``params`` and ``grads`` are dicts by parameter name (``model.params`` and
``model.grads``: ``"0.W"``, ``"0.b"``, ...). Updating in place (``p -= ...``)
keeps every alias of a parameter valid: the layers, the model's dicts and the
optimizer all see the same array. State (velocity, moments, Adam's step count)
belongs to each parameter by its name, allocated on its first step, so a
parameter that is frozen for a while and then trained again resumes its own state.
"""

import numpy as np

from .checks import check_positive


class Optimizer:
    """What every optimizer shares: a learning rate and a check of what it is given."""

    def __init__(self, lr):
        self.lr = check_positive(lr, "lr")

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (dicts by name)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov and weight decay.

        g <- grad + weight_decay p        (the gradient of (weight_decay / 2) ||p||^2 added)
        plain:     p <- p - lr g
        momentum:  v <- momentum v + g;  p <- p - lr v
        Nesterov:  v <- momentum v + g;  p <- p - lr (g + momentum v)

    (Nesterov in the form of Sutskever et al., 2013, as most libraries write it.)
    ``weight_decay = wd`` adds the same gradient as ``L2Penalty(beta = wd / 2)``.
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.velocity = {}

    def step(self, params, grads):
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                if name not in self.velocity:
                    self.velocity[name] = np.zeros_like(p)
                v = self.velocity[name]
                v *= self.momentum
                v += g                                   # v = momentum v + g
                g = g + self.momentum * v if self.nesterov else v
            p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), Algorithm 1, for each parameter p with its own step t:

        t <- t + 1
        m <- beta1 m + (1 - beta1) g          (first moment: a running mean of g)
        v <- beta2 v + (1 - beta2) g^2        (second moment: a running mean of g^2)
        m_hat = m / (1 - beta1^t)             (bias correction: m and v start at 0)
        v_hat = v / (1 - beta2^t)
        p <- p - lr m_hat / (sqrt(v_hat) + eps)

    ``moments(name)`` returns a parameter's m and v; ``t[name]`` its step count.
    ``in_place=True`` (the default) runs the same arithmetic without temporaries, a speed
    device: see :meth:`step_in_place` below.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, in_place=True):
        super().__init__(lr)
        self.in_place = bool(in_place)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = check_positive(eps, "eps")
        self.t, self.m, self.v = {}, {}, {}
        self._scratch = {}

    def moments(self, name):
        """The first and second moment estimates (m, v) of a parameter, by name."""
        if name not in self.m:
            raise KeyError(f"Adam has no moments for {name!r} (it has taken no step on it); "
                           f"known parameters: {sorted(self.m)}")
        return self.m[name], self.v[name]

    def _next_step(self, name, p):
        """t <- t + 1 for this parameter (m = v = 0 before its first step); returns t, m, v."""
        if name not in self.m:
            self.t[name] = 0
            self.m[name] = np.zeros_like(p)
            self.v[name] = np.zeros_like(p)
        self.t[name] += 1
        return self.t[name], self.m[name], self.v[name]

    def step(self, params, grads):
        if self.in_place:
            return self.step_in_place(params, grads)      # the same update, faster (see below)
        b1, b2 = self.beta1, self.beta2
        for name, p in params.items():
            g = grads[name]
            t, m, v = self._next_step(name, p)
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            m_hat = m / (1 - b1 ** t)
            v_hat = v / (1 - b2 ** t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    # --- speed device -------------------------------------------------------------------
    # The plain ``step`` above allocates seven temporaries the size of the parameter per step.
    # ``step_in_place`` does the same arithmetic through one scratch array per parameter;
    # ``step`` hands over to it unless ``Adam(in_place=False)``. tests/test_extending.py checks
    # that both give the same parameters after 100 steps.
    def step_in_place(self, params, grads):
        """:meth:`step` with every temporary written into one scratch array per parameter."""
        b1, b2 = self.beta1, self.beta2
        for name, p in params.items():
            g = grads[name]
            t, m, v = self._next_step(name, p)
            if name not in self._scratch:
                self._scratch[name] = np.empty_like(p)
            tmp = self._scratch[name]
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp                                    # m = b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp                                    # v = b2 v + (1 - b2) g^2
            np.divide(v, 1 - b2 ** t, out=tmp)          # v_hat
            np.sqrt(tmp, out=tmp)
            tmp += self.eps                             # sqrt(v_hat) + eps
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / (1 - b1 ** t)              # lr m_hat / (sqrt(v_hat) + eps)
            p -= tmp
