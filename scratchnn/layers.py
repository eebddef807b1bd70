"""Layers with a hand-derived backward pass.

The contract every layer keeps (batch first, shapes ``(N, D)``):

* ``forward(x)`` returns the output and keeps only what ``backward`` needs.
* ``backward(dout)`` takes dL/d(output), returns dL/d(input) and assigns
  ``layer.grads[name] = dL/d(param)`` for every ``layer.params[name]``, an array
  of the parameter's shape. The training loop empties ``grads`` before each
  ``backward`` (:meth:`Sequential.clear_grads`) and reads it after, so a gradient
  that backward forgets is missing, an error, never a stale or zero array.
  Gradients are overwritten, never accumulated: a loss made of several terms
  (hard and soft labels in distillation) adds them *before* ``backward``.
* ``backward`` never modifies ``dout`` or anything cached by ``forward``, and
  ``forward`` never hands out an array it keeps for ``backward``.
* Parameters are updated in place by the optimizers (``p -= lr * g``), so a
  layer may keep its own alias (``self.W = self.params["W"]``).
* A layer with ``trainable = False`` still passes gradients to its input but
  computes no parameter gradients, and optimizers never see it.
* ``training`` is True while ``fit`` trains and False while ``predict`` runs;
  only :class:`Dropout` behaves differently in the two modes.

Write your own layer by subclassing :class:`Layer` (see the README, "Write your
own layer") and check its backward with :func:`scratchnn.gradcheck.check_layer`.
"""

import numpy as np

from .checks import NonFiniteError, check_array
from .files import atomic_path


class Layer:
    """Base class: no parameters. Subclasses call ``super().__init__()`` first."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.trainable = True
        self.training = True

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, dout, input_grad=True):
        raise NotImplementedError(f"{type(self).__name__} must define backward(dout)")

    def __call__(self, x):
        return self.forward(x)

    def output_width(self, n_in):
        """Width of the output for an input of width ``n_in``."""
        return n_in

    def n_params(self):
        return sum(np.size(p) for p in self.params.values())

    def __repr__(self):
        return f"{type(self).__name__}()"


def _cached(layer, attribute):
    """What ``forward`` stored for ``backward``, or a clear error if forward has not run."""
    value = getattr(layer, attribute, None)
    if value is None:
        raise ValueError(f"{type(layer).__name__}.backward called before forward: run forward(x) "
                         "in training mode first (backward uses what forward keeps)")
    return value


def _check_float(layer, x):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{type(layer).__name__} expects a floating-point NumPy array, got "
                        f"{type(x).__name__} of dtype {getattr(x, 'dtype', None)}; convert with "
                        "np.asarray(x, dtype=np.float32)")


def _check_dout(layer, dout, shape):
    if np.shape(dout) != shape:
        raise ValueError(f"{type(layer).__name__}.backward: dout has shape {np.shape(dout)} but the "
                         f"last forward returned {shape}; pass dL/d(output), shaped like the output")


class Dense(Layer):
    """Affine layer ``out = x @ W + b``.

    ``W`` has shape ``(n_in, n_out)`` and is drawn from a normal distribution
    with standard deviation ``sqrt(gain / n_in)``: ``gain = 2`` (the default)
    is He initialisation, which keeps the variance of ReLU activations
    constant from layer to layer; ``gain = 1`` is LeCun initialisation, the
    right choice before tanh or a linear output. ``b`` starts at zero.

    ``rng`` is a seed or a ``numpy.random.Generator``; ``dtype`` is the dtype
    of the parameters (float32 for training, float64 for gradient checks).
    """

    def __init__(self, n_in, n_out, rng=None, gain=2.0, dtype=np.float32):
        super().__init__()
        if int(n_in) != n_in or int(n_out) != n_out or n_in < 1 or n_out < 1:
            raise ValueError(f"Dense needs positive whole widths, got n_in={n_in}, n_out={n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        rng = np.random.default_rng(rng)
        std = np.sqrt(gain / self.n_in)
        self.params["W"] = (rng.standard_normal((self.n_in, self.n_out)) * std).astype(dtype)
        self.params["b"] = np.zeros(self.n_out, dtype=dtype)
        self._x = None

    def forward(self, x):
        """x: (N, n_in) -> out: (N, n_out), in the dtype of the parameters."""
        W, b = self.params["W"], self.params["b"]
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) expects input of shape (N, {self.n_in}), "
                f"got {np.shape(x)}; reshape images to rows first, e.g. x.reshape(len(x), -1)")
        if x.dtype != W.dtype:
            raise TypeError(f"Dense({self.n_in}, {self.n_out}) holds {W.dtype} parameters but got "
                            f"{x.dtype} input; convert it with x.astype(np.{W.dtype}) (model.predict "
                            "and fit do this for you)")
        if not np.isfinite(x).all():     # costs 1/n_out of the matrix product below
            raise NonFiniteError(f"Dense({self.n_in}, {self.n_out}): the input contains NaN or "
                                 "infinity; clean the data (or, inside a model, the weights before "
                                 "this layer are broken)")
        self._x = x if self.training else None
        out = x @ W
        out += b          # in place: no second (N, n_out) array
        return out

    def backward(self, dout, input_grad=True):
        """dout: (N, n_out) -> dx: (N, n_in).

        out = x W + b, so  dW = x^T dout (n_in, n_out),  db = sum_n dout (n_out,),
        dx = dout W^T (N, n_in).  ``input_grad=False`` skips dx (first layer).
        """
        x = _cached(self, "_x")
        _check_dout(self, dout, (len(x), self.n_out))
        if self.trainable:
            self.grads["W"] = x.T @ dout
            self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T if input_grad else None

    def output_width(self, n_in):
        return self.n_out

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"


class Activation(Layer):
    """An elementwise function f. ``forward`` keeps the local derivative f'(x) for
    ``backward``, a separate array from the output it returns, so an in-place edit of
    the output downstream cannot change the gradient. Being elementwise, it maps a
    NaN to NaN; the Dense layer after it refuses one."""

    def forward(self, x):
        _check_float(self, x)
        out, local_grad = self.function_and_derivative(x)
        self._local_grad = local_grad if self.training else None
        return out

    def backward(self, dout, input_grad=True):
        """dx = dout * f'(x), elementwise; (N, D) -> (N, D)."""
        local_grad = _cached(self, "_local_grad")
        _check_dout(self, dout, local_grad.shape)
        return dout * local_grad

    def function_and_derivative(self, x):
        """x (N, D) -> (f(x), f'(x)), both shaped like x and in its dtype."""
        raise NotImplementedError


class ReLU(Activation):
    """``out = max(x, 0)``;  d out/dx = 1 where x > 0, else 0."""

    def function_and_derivative(self, x):
        """x (N, D) -> (max(x, 0), 1 where x > 0 else 0), both (N, D) in x's dtype."""
        return np.maximum(x, 0), (x > 0).astype(x.dtype)


class Tanh(Activation):
    """``out = tanh(x)``;  d tanh(x)/dx = 1 - tanh(x)^2."""

    def function_and_derivative(self, x):
        """x (N, D) -> (tanh(x), 1 - tanh(x)^2), both (N, D) in x's dtype."""
        out = np.tanh(x)
        return out, 1 - out * out


class Sigmoid(Activation):
    """``out = 1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2``;
    d sigma(x)/dx = sigma(x) (1 - sigma(x)).

    The tanh form is the same function and never overflows, whatever ``x``.
    """

    def function_and_derivative(self, x):
        """x (N, D) -> (sigma(x), sigma(x) (1 - sigma(x))), both (N, D) in x's dtype; no
        overflow for any finite x."""
        out = (1 + np.tanh(x * 0.5)) * 0.5
        return out, out * (1 - out)


class Identity(Layer):
    """``out = x`` (a linear output, named so that a model reads as its diagram)."""

    def forward(self, x):
        return x

    def backward(self, dout, input_grad=True):
        """dx = dout; (N, D) -> (N, D)."""
        return dout


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014): while training, each input is kept
    with probability 1 - p and scaled by 1 / (1 - p), else set to 0; at evaluation it
    passes x unchanged. The scaling keeps the expected output equal to x, so nothing
    needs rescaling at test time.

        training:   out = x * mask,  mask_ij = [u_ij >= p] / (1 - p),  u ~ U(0, 1)
        evaluation: out = x

    ``fit`` switches a model to training mode and ``predict`` to evaluation, so a
    model is never evaluated with dropout on by accident. ``hold_mask = True``
    reuses the last mask: the gradient checks set it on their copy of a model, since
    they call forward many times; ``fit`` refuses a model with it on.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self.hold_mask = False
        self._mask = None

    def forward(self, x):
        _check_float(self, x)
        if not self.training:
            self._mask = None
            return x
        if not (self.hold_mask and self._mask is not None and self._mask.shape == x.shape):
            keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
            self._mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._mask

    def backward(self, dout, input_grad=True):
        """out = x * mask, so dx = dout * mask (the same mask); (N, D) -> (N, D)."""
        mask = _cached(self, "_mask")
        _check_dout(self, dout, mask.shape)
        return dout * mask

    def __repr__(self):
        return f"Dropout({self.p:g})"


class Container:
    """What :class:`Sequential` and its kin share: a list of layers shown as one.

    A container keeps the layer contract (``forward``, ``backward``, ``params``, ``grads``,
    ``trainable``, ``training``) but holds no parameters of its own: ``params`` and ``grads``
    are dicts of its layers' own arrays (no copies) named ``"<index>.<name>"``, rebuilt at each
    access, so they always show what the layers hold now, and its modes are its layers'.
    Only layers with ``trainable = True`` appear in them: ``freeze()`` makes a model (a
    teacher, say) invisible to every optimizer. ``state_dict()`` returns copies of every
    parameter, trainable or not: a snapshot that training does not change.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (Layer, Container)):
                raise TypeError(f"layer {i} is {type(layer).__name__}, not a scratchnn Layer; "
                                "subclass scratchnn.Layer")
            if not isinstance(getattr(layer, "params", None), dict):
                raise TypeError(f"layer {i} ({type(layer).__name__}) has no params dict; call "
                                "super().__init__() at the start of its __init__")

    def __call__(self, x):
        return self.forward(x)

    @property
    def params(self):
        return {f"{i}.{name}": p for i, layer in enumerate(self.layers)
                for name, p in _trainable(layer, "params").items()}

    @property
    def grads(self):
        """Each trainable parameter's gradient by the same name (missing if never set)."""
        return {f"{i}.{name}": g for i, layer in enumerate(self.layers)
                for name, g in _trainable(layer, "grads").items()}

    @property
    def trainable(self):
        return any(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            layer.trainable = bool(value)

    @property
    def training(self):
        return all(layer.training for layer in self.layers)

    @training.setter
    def training(self, value):
        for layer in self.layers:
            layer.training = bool(value)

    def clear_grads(self):
        """Empty every layer's ``grads`` (each training step does it before ``backward``)."""
        for leaf in leaf_layers(self):
            leaf.grads.clear()

    def freeze(self):
        """Make every layer non-trainable; returns the model."""
        self.trainable = False
        return self

    def unfreeze(self):
        self.trainable = True
        return self

    def train(self):
        """Training mode (dropout on); ``fit`` calls it. Returns the model."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (dropout off); ``predict`` uses it. Returns the model."""
        self.training = False
        return self

    def n_params(self):
        return sum(layer.n_params() for layer in self.layers)

    def state_dict(self):
        """A copy of every parameter (trainable or not) by dotted name: a snapshot."""
        return {name: np.array(p, copy=True) for name, p in _all_params(self).items()}


class Sequential(Container):
    """Layers applied in order: ``Sequential([Dense(2, 16), ReLU(), Dense(16, 2)])``.

    ``forward`` feeds each layer's output to the next; ``backward`` runs the chain rule
    through them in reverse. Parameters are named ``"<index>.<name>"`` (``"0.W"``).
    """

    def __init__(self, layers):
        super().__init__(layers)
        self.epochs_trained = 0         # counted by fit, so that repeated calls continue

    @property
    def n_in(self):
        for layer in self.layers:
            width = getattr(layer, "n_in", None)
            if width is not None:
                return width
        raise ValueError(f"{self!r} has no layer with a known input width (a Dense layer); "
                         "start the model with Dense(n_in, n_out)")

    @property
    def dtype(self):
        for layer in self.layers:
            for p in _all_params(layer).values():
                return p.dtype
        raise ValueError(f"{self!r} has no parameters, so no dtype; add a Dense layer")

    def forward(self, x):
        """x: (N, n_in) -> output of the last layer."""
        # In training, each layer's input shape and dtype (and the output's) are kept, so that
        # backward can say which layer returned a gradient of the wrong shape or dtype.
        seen = [] if self.training else None
        for layer in self.layers:
            if seen is not None:
                seen.append(_shape_and_dtype(x))
            x = layer.forward(x)
        self._seen = None if seen is None else seen + [_shape_and_dtype(x)]
        return x

    def backward(self, dout, input_grad=True):
        """Chain rule through the layers in reverse: each layer maps dL/d(its output)
        to dL/d(its input) and sets its own parameters' gradients, each of its parameter's
        shape.  dout (N, output width) -> dx (N, n_in); ``input_grad=False`` lets the first
        layer skip dx (then None is returned)."""
        self._check_gradient(len(self.layers), dout, "backward was given dL/d(output)",
                             "the loss's gradient must be shaped like the output, in its dtype (a "
                             "loss that mixes in integer or float64 arrays upcasts it)")
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, input_grad=input_grad or i > 0)
            if input_grad or i > 0:
                self._check_gradient(i, dout, f"layer {i} ({self.layers[i]!r}): backward returned",
                                     "it must return dL/d(input), shaped like its input, in its "
                                     "dtype")
        return dout

    def _check_gradient(self, i, grad, what, rule):
        """A gradient arriving at position i (a layer's input, or at len(layers) the output) is
        shaped like what forward saw there, in its dtype: said here, the error names its maker."""
        seen = getattr(self, "_seen", None)
        if seen is None:
            return                      # no training-mode forward before: the layers say so
        shape, dtype = seen[i]
        if not isinstance(grad, np.ndarray) or grad.shape != shape or grad.dtype != dtype:
            got = ("None (did backward forget to return dx?)" if grad is None else
                   f"shape {np.shape(grad)}, dtype {getattr(grad, 'dtype', type(grad).__name__)}")
            raise ValueError(f"{what} {got}, where forward saw shape {shape}, dtype {dtype}; {rule}")

    def predict(self, x, batch_size=4096):
        """Forward pass in evaluation mode, in batches (bounded memory), after checking
        the input. float64 (or integer) input is converted to the model's dtype, so a
        float32 model computes and returns float32."""
        x = check_input(x, self.n_in, self.dtype, name="x")
        was_training = [layer.training for layer in self.layers]
        self.eval()
        try:
            outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        finally:
            for layer, mode in zip(self.layers, was_training):
                layer.training = mode
        if not outs:
            return np.zeros((0, self.output_width(self.n_in)), self.dtype)
        out = np.concatenate(outs)
        if not np.isfinite(out).all():     # the input was checked: the weights are broken
            bad = [k for k, p in self.state_dict().items() if not np.isfinite(p).all()]
            cause = f"parameter {bad[0]} holds NaN or infinity" if bad else "a layer overflowed"
            raise NonFiniteError(f"the model's output is not finite ({cause}); its weights "
                                 "cannot be used for predictions: retrain it")
        return out

    def output_width(self, n_in):
        for layer in self.layers:
            n_in = layer.output_width(n_in)
        return n_in

    def summary(self, print_fn=print):
        """Print each layer, its output width and parameter count; return the total."""
        width = self.n_in
        rows = [("layer", "output", "params")]
        for i, layer in enumerate(self.layers):
            width = layer.output_width(width)
            frozen = "" if layer.trainable or not layer.n_params() else " (frozen)"
            rows.append((f"{i}: {layer!r}{frozen}", f"(N, {width})", f"{layer.n_params():,}"))
        total = self.n_params()
        rows.append(("total", "", f"{total:,}"))
        w0, w1, w2 = (max(len(r[k]) for r in rows) for k in range(3))
        lines = [f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}" for a, b, c in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        print_fn("\n".join(lines))
        return total

    def load_state_dict(self, state, source="state"):
        """Copy the arrays of ``state`` (as from :meth:`state_dict`) into this model's
        parameters, in place, after checking names, shapes and values."""
        own = _all_params(self)
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or extra:
            raise ValueError(f"{source}: parameter names differ from this model "
                             f"(missing {missing}, unexpected {extra})")
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"{source}: {name} has shape {value.shape}, this model needs {p.shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"{source}: {name} contains NaN or infinity")
        for name, p in own.items():
            p[...] = state[name]
        return self

    def save(self, path):
        """Write every parameter to ``path`` (``.npz`` added if missing): names -> arrays,
        no pickle. Written to a temporary file and renamed, so an interrupted save never
        leaves a half-written model. Returns the path written."""
        path = _npz_path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **self.state_dict())
        return path

    def load(self, path):
        """Read parameters saved by :meth:`save` into this model, in place."""
        path = _npz_path(path)
        with np.load(path, allow_pickle=False) as data:
            return self.load_state_dict({name: data[name] for name in data.files}, source=str(path))

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


def _shape_and_dtype(x):
    return np.shape(x), getattr(x, "dtype", None)


def leaf_layers(layer):
    """The layers that hold parameters and compute, with nested containers opened."""
    if isinstance(layer, Container):
        return [leaf for sub in layer.layers for leaf in leaf_layers(sub)]
    return [layer]


def _trainable(layer, what):
    """A layer's params (or grads) that optimizers may update."""
    if isinstance(layer, Container):
        return getattr(layer, what)
    return getattr(layer, what) if layer.trainable else {}


def _all_params(layer):
    if isinstance(layer, Container):
        return {f"{i}.{k}": v for i, sub in enumerate(layer.layers) for k, v in _all_params(sub).items()}
    return layer.params


def _npz_path(path):
    path = str(path)
    return path if path.endswith(".npz") else path + ".npz"


def mlp(sizes, activation=ReLU, output=Identity, dropout=0.0, rng=None, dtype=np.float32):
    """A multi-layer perceptron, e.g. ``mlp([784, 128, 64, 10])``.

    Hidden layers use He initialisation for ReLU and LeCun otherwise;
    ``dropout > 0`` adds a :class:`Dropout` after each hidden activation.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
    rng = np.random.default_rng(rng)
    # The masks draw from their own stream, so adding dropout leaves the initial weights as
    # they were without it (a fair comparison).
    mask_rng = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]) if dropout else None
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        act = output if last else activation
        gain = 2.0 if act is ReLU else 1.0
        layers += [Dense(n_in, n_out, rng=rng, gain=gain, dtype=dtype), act()]
        if dropout and not last:
            layers.append(Dropout(dropout, rng=mask_rng))
    return Sequential(layers)


def check_input(x, n_in, dtype, name="x"):
    """Validate a batch for a model: 2-D, ``n_in`` columns, finite values.

    Images (N, H, W) with H * W == n_in are flattened to rows. Converts to
    ``dtype`` (the model's) when needed: float64 data fed to a float32 model is
    cast once here, never silently upcast per batch.
    """
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[1] * x.shape[2] == n_in:
        x = x.reshape(len(x), -1)
    if x.ndim == 2 and x.shape[1] != n_in:
        raise ValueError(f"{name} has {x.shape[1]} columns but the model expects {n_in}")
    return check_array(x, name, ndim=2, dtype=dtype, allow_empty=True)
