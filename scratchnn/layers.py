"""Layers with a hand-derived backward pass.

The contract every layer keeps (batch first, shapes ``(N, D)``):

* ``forward(x)`` returns the output and keeps only what ``backward`` needs.
* ``backward(dout)`` takes dL/d(output), returns dL/d(input) and *overwrites*
  ``layer.grads[name]`` with dL/d(param) for every ``layer.params[name]``.
  Gradients are overwritten, never accumulated: a loss made of several terms
  (hard and soft labels in distillation) must add them *before* calling
  ``backward``, which is what the losses in :mod:`scratchnn.losses` do.
* ``backward`` never modifies ``dout`` or anything cached by ``forward``.
* A layer with ``trainable = False`` still passes gradients to its input but
  computes no parameter gradients, and optimizers never touch it.
"""

import numpy as np


class Layer:
    """Base class: a layer without parameters that passes values through."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.trainable = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout, input_grad=True):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def output_width(self, n_in):
        """Width of the output for an input of width ``n_in``."""
        return n_in

    def n_params(self):
        return sum(p.size for p in self.params.values())

    def __repr__(self):
        return f"{type(self).__name__}()"


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
        if int(n_in) < 1 or int(n_out) < 1:
            raise ValueError(f"Dense needs positive widths, got n_in={n_in}, n_out={n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        rng = np.random.default_rng(rng)
        std = np.sqrt(gain / self.n_in)
        self.params["W"] = (rng.standard_normal((self.n_in, self.n_out)) * std).astype(dtype)
        self.params["b"] = np.zeros(self.n_out, dtype=dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._x = None

    def forward(self, x):
        """x: (N, n_in) -> out: (N, n_out)."""
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) expects input of shape (N, {self.n_in}), "
                f"got {x.shape}; reshape images to rows first, e.g. x.reshape(len(x), -1)"
            )
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, dout, input_grad=True):
        """dout: (N, n_out) -> dx: (N, n_in).

        out = x W + b, so  dW = x^T dout (n_in, n_out),  db = sum_n dout (n_out,),
        dx = dout W^T (N, n_in).  ``input_grad=False`` skips dx (first layer).
        """
        if self.trainable:
            np.matmul(self._x.T, dout, out=self.grads["W"])
            np.sum(dout, axis=0, out=self.grads["b"])
        if input_grad:
            return dout @ self.params["W"].T
        return None

    def output_width(self, n_in):
        return self.n_out

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"


class ReLU(Layer):
    """``out = max(x, 0)``."""

    def forward(self, x):
        out = np.maximum(x, 0)
        self._out = out
        return out

    def backward(self, dout, input_grad=True):
        """d out/dx = 1 where x > 0 else 0, so dx = dout * [out > 0]; (N, D) -> (N, D)."""
        return np.where(self._out > 0, dout, 0)


class Tanh(Layer):
    """``out = tanh(x)``."""

    def forward(self, x):
        self._out = np.tanh(x)
        return self._out

    def backward(self, dout, input_grad=True):
        """d tanh(x)/dx = 1 - tanh(x)^2, so dx = dout * (1 - out^2); (N, D) -> (N, D)."""
        return dout * (1 - self._out * self._out)


class Sigmoid(Layer):
    """``out = 1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2``.

    The tanh form is the same function and never overflows, whatever ``x``.
    """

    def forward(self, x):
        out = np.tanh(x * 0.5)
        out += 1
        out *= 0.5
        self._out = out
        return out

    def backward(self, dout, input_grad=True):
        """d sigma(x)/dx = sigma(x)(1 - sigma(x)), so dx = dout * out * (1 - out); (N, D) -> (N, D)."""
        return dout * (self._out * (1 - self._out))


class Identity(Layer):
    """``out = x`` (a linear output, named so that a model reads as its diagram)."""

    def forward(self, x):
        return x

    def backward(self, dout, input_grad=True):
        """dx = dout; (N, D) -> (N, D)."""
        return dout


class Sequential(Layer):
    """Layers applied in order; parameters are named ``"<index>.<name>"``.

    ``model.params`` and ``model.grads`` are dicts of the *same arrays* the
    layers hold, so an optimizer that updates them in place updates the layers.
    Only layers with ``trainable = True`` appear in them; ``model.freeze()``
    makes a model (a teacher, say) read-only for every optimizer.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is {type(layer).__name__}, not a scratchnn Layer")
        self._flat = self._share_one_buffer()

    def _share_one_buffer(self):
        """Re-home every parameter (and gradient) as a view of one contiguous buffer.

        The layers keep working on their own arrays, which are now slices of
        the buffer; an optimizer or a penalty can then update the whole model
        with a handful of NumPy calls instead of a handful per array, which is
        what makes small-batch training fast. Returns (params, grads) buffers,
        or None when the layers cannot share one (nested models, mixed dtypes).
        """
        leaves = [layer for layer in self.layers if layer.params]
        if any(isinstance(layer, Sequential) for layer in self.layers) or not leaves:
            return None
        if any(p.base is not None for layer in leaves for p in layer.params.values()):
            return None   # already views of another model's buffer: keep that model's aliasing
        dtypes = {p.dtype for layer in leaves for p in layer.params.values()}
        if len(dtypes) != 1:
            return None
        size = sum(layer.n_params() for layer in leaves)
        dtype = dtypes.pop()
        flat_p, flat_g = np.empty(size, dtype), np.zeros(size, dtype)
        offset = 0
        for layer in leaves:
            for name, p in layer.params.items():
                view = flat_p[offset:offset + p.size].reshape(p.shape)
                view[...] = p
                layer.params[name] = view
                layer.grads[name] = flat_g[offset:offset + p.size].reshape(p.shape)
                offset += p.size
        return flat_p, flat_g

    def training_arrays(self):
        """``(params, grads)`` as the training loop hands them to an optimizer.

        When every layer is trainable and the parameters share one buffer,
        these are that buffer and its gradient under the single name ``"*"``
        (same numbers, fewer arrays); otherwise the dotted-name dicts.
        """
        if self._flat is not None and all(layer.trainable for layer in self.layers):
            return {"*": self._flat[0]}, {"*": self._flat[1]}
        return self.params, self.grads

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) if layer.trainable
                for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) if layer.trainable
                for k, v in layer.grads.items()}

    @property
    def trainable(self):
        return any(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            layer.trainable = bool(value)

    def freeze(self):
        """Make every layer non-trainable; returns the model."""
        self.trainable = False
        return self

    def unfreeze(self):
        self.trainable = True
        return self

    @property
    def n_in(self):
        return next(layer.n_in for layer in self.layers if hasattr(layer, "n_in"))

    @property
    def dtype(self):
        return next(iter(self.state_dict().values())).dtype

    def forward(self, x):
        """x: (N, n_in) -> output of the last layer."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, input_grad=True):
        """Chain rule through the layers in reverse: each layer maps dL/d(its output)
        to dL/d(its input).  ``input_grad=False`` lets the first layer skip dx."""
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, input_grad=input_grad or i > 0)
        return dout

    def predict(self, x, batch_size=4096):
        """Forward pass in batches (bounded memory), after checking the input.

        float64 (or integer) input is converted to the model's dtype, so a
        float32 model computes and returns float32.
        """
        x = check_input(x, self.n_in, self.dtype, name="x")
        outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0, self.output_width(self.n_in)), self.dtype)

    def output_width(self, n_in):
        for layer in self.layers:
            n_in = layer.output_width(n_in)
        return n_in

    def n_params(self):
        return sum(layer.n_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print each layer, its output width and parameter count; return the total."""
        width = self.n_in
        rows = [("layer", "output", "params")]
        for i, layer in enumerate(self.layers):
            width = layer.output_width(width)
            frozen = "" if layer.trainable or not layer.params else " (frozen)"
            rows.append((f"{i}: {layer!r}{frozen}", f"(N, {width})", f"{layer.n_params():,}"))
        total = self.n_params()
        rows.append(("total", "", f"{total:,}"))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        w2 = max(len(r[2]) for r in rows)
        lines = [f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}" for a, b, c in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        print_fn("\n".join(lines))
        return total

    def state_dict(self):
        """All parameters (trainable or not) by dotted name."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def save(self, path):
        """Write every parameter to an ``.npz`` file (names -> arrays, no pickle)."""
        np.savez(path, **self.state_dict())

    def load(self, path):
        """Read parameters saved by :meth:`save` into this model, in place."""
        own = self.state_dict()
        with np.load(path, allow_pickle=False) as data:
            missing = sorted(set(own) - set(data.files))
            extra = sorted(set(data.files) - set(own))
            if missing or extra:
                raise ValueError(f"{path}: parameter names differ from this model "
                                 f"(missing {missing}, unexpected {extra})")
            for name, arr in own.items():
                if data[name].shape != arr.shape:
                    raise ValueError(f"{path}: {name} has shape {data[name].shape}, "
                                     f"this model needs {arr.shape}")
                arr[...] = data[name]
        return self

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


def mlp(sizes, activation=ReLU, output=Identity, rng=None, dtype=np.float32):
    """A multi-layer perceptron, e.g. ``mlp([784, 128, 64, 10])``.

    Hidden layers use He initialisation for ReLU and LeCun otherwise.
    """
    rng = np.random.default_rng(rng)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        act = output if last else activation
        gain = 2.0 if act is ReLU else 1.0
        layers += [Dense(n_in, n_out, rng=rng, gain=gain, dtype=dtype), act()]
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
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, {n_in}), got shape {x.shape}")
    if x.shape[1] != n_in:
        raise ValueError(f"{name} has {x.shape[1]} columns but the model expects {n_in}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    x = np.asarray(x, dtype=dtype)
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} contains NaN or infinity (first at row {bad[0]}, column {bad[1]}); "
                         "clean or impute the data first")
    return x
