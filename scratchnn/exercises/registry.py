"""Which functions of the library are the course's exercises, in the course's order.

Each entry names one function or method of the library (``module:qualified.name``): its
source is the answer, its docstring the question. Nothing in the library marks it; the
workspace is cut from it when a student starts (see :mod:`scratchnn.exercises.workspace`).
"""

from dataclasses import dataclass

PARTS = {
    1: "McCulloch–Pitts neurons on a 7-segment display",
    2: "Adaline and Madaline",
    3: "Backpropagation and the clustering autoencoder",
    4: "Teacher, student and knowledge distillation",
}
PART_FOLDERS = {1: "part1_mcculloch_pitts", 2: "part2_adaline_madaline", 3: "part3_autoencoder",
                4: "part4_distillation"}


@dataclass(frozen=True)
class Exercise:
    """One exercise: a function or method of the library a student writes.

    name     the exercise's name, and the name of the student's function.
    part     the part of the course (:data:`PARTS`).
    target   where the answer lives, ``"scratchnn.layers:Dense.backward"``.
    graded   what the grader checks, in a line.
    note     what the student has to work with beyond the docstring (attributes, helpers).
    """
    name: str
    part: int
    target: str
    graded: str
    note: str = ""

    @property
    def module(self):
        return self.target.partition(":")[0]

    @property
    def qualname(self):
        return self.target.partition(":")[2]

    @property
    def is_method(self):
        return "." in self.qualname

    @property
    def where(self):
        """'Dense.backward in scratchnn/layers.py', for people."""
        return f"{self.qualname} in {self.module.replace('.', '/')}.py"


EXERCISES = [
    # Part 1 --------------------------------------------------------------------------------
    Exercise("template_unit", 1, "scratchnn.mcculloch_pitts:template_unit",
             "on all 128 patterns, each unit fires for its own pattern and no other; the "
             "one-layer net built from them recognises 6, 7, 8, 9 alone and has 32 parameters",
             "A unit fires when sum_i x_i w_i >= theta. Return the weights as an integer array "
             "(7,) and the threshold as an int."),
    Exercise("two_layer_detector", 1, "scratchnn.mcculloch_pitts:two_layer_detector",
             "on all 128 patterns: 6, 7, 8 and 9 each fire their own output alone, through "
             "two hidden units, with 28 parameters",
             "Build it from MPLayer(weights, thresholds, names) and MPNetwork(layers, "
             "output_names); digit_pattern(d), SEGMENTS and template_unit are there to use."),
    # Part 2 --------------------------------------------------------------------------------
    Exercise("adaline_online_step", 2, "scratchnn.adaline:Adaline.online_step",
             "one step moves w by lr (t - net) x and b by lr (t - net) and returns t - net, "
             "for weights, inputs and rates hypothesis draws",
             "self.w (D,), self.b (a float) and self.lr are set by fit."),
    Exercise("madaline_mri_step", 2, "scratchnn.adaline:Madaline.mri_step",
             "rule MRI on drawn nets and samples: nothing moves when the output is right; "
             "otherwise only the units the rule names move, each by lr (t - z_in) [x, 1]; the "
             "largest change is returned",
             "self.W (n_in, n_hidden), self.b (n_hidden,) and self.lr are set by fit; "
             "self.output(z) is the OR unit over bipolar hidden outputs z."),
    # Part 3 --------------------------------------------------------------------------------
    Exercise("dense_forward", 3, "scratchnn.layers:Dense.forward",
             "x W + b for drawn shapes, in the parameters' dtype; x left unchanged; what "
             "backward needs is kept in training mode",
             "self.params['W'] (n_in, n_out), self.params['b'] (n_out,). Dense.backward reads "
             "the input from self._x: keep x there while self.training, None otherwise."),
    Exercise("dense_backward", 3, "scratchnn.layers:Dense.backward",
             "dx, dW and db against centred finite differences in float64, for drawn shapes; "
             "dout left unchanged",
             "forward kept the input as self._x (N, n_in); set self.grads['W'] and "
             "self.grads['b'] (each shaped like its parameter) and return dx."),
    Exercise("relu", 3, "scratchnn.layers:ReLU.function_and_derivative",
             "max(x, 0) and its derivative against finite differences (away from 0), in x's "
             "dtype", "Activation.backward multiplies dout by the derivative you return."),
    Exercise("tanh", 3, "scratchnn.layers:Tanh.function_and_derivative",
             "tanh(x) and its derivative against finite differences, in x's dtype",
             "Activation.backward multiplies dout by the derivative you return."),
    Exercise("sigmoid", 3, "scratchnn.layers:Sigmoid.function_and_derivative",
             "1 / (1 + e^-x) and its derivative against finite differences, in x's dtype, "
             "with no overflow for any finite x (|x| up to 1e4 drawn)",
             "Activation.backward multiplies dout by the derivative you return."),
    Exercise("weighted_mse", 3, "scratchnn.losses:WeightedMSE.__call__",
             "the loss against its definition and dL/dy against finite differences, for drawn "
             "shapes and non-negative weights", "self.weights (D,) holds w."),
    Exercise("l2_penalty", 3, "scratchnn.losses:L2Penalty.__call__",
             "returns beta sum ||p||^2 and adds 2 beta p to each gradient, for drawn "
             "parameters", "self.beta holds beta; params and grads are dicts by name."),
    Exercise("sgd_step", 3, "scratchnn.optim:SGD.step",
             "several steps against the rules in the docstring (plain, momentum, Nesterov, "
             "weight decay), each parameter updated in place",
             "self.lr, self.momentum, self.nesterov, self.weight_decay; self.velocity is a "
             "dict for v by parameter name."),
    Exercise("adam_step", 3, "scratchnn.optim:Adam.step",
             "several steps against Algorithm 1 (bias correction and each parameter's own "
             "step count included), in place",
             "self.lr, self.beta1, self.beta2, self.eps; self._next_step(name, p) returns "
             "t, m, v for a parameter (t counted up, m and v zero at first). Write the plain "
             "algorithm: the speed device step_in_place is not part of the exercise."),
    Exercise("train_step", 3, "scratchnn.train:train_step",
             "one step on small models: the parameters end at p - lr dL/dp (finite "
             "differences), the penalty included; the loss before the update is returned; a "
             "gradient a layer forgets, or a loss that is not finite, is an error",
             "model.forward, model.clear_grads(), model.backward(dout, input_grad=False), "
             "model.params, model.grads; check_gradients(model, params, grads) and "
             "NonFiniteError are there to use."),
    Exercise("pixel_importance_weights", 3, "scratchnn.autoencoder:pixel_importance_weights",
             "the weights against their definition, pair by pair, on drawn images and labels; "
             "shape (D,), float32; a constant pixel gets 0",
             "chunk_rows and max_bytes bound memory; your version may ignore them."),
    Exercise("lloyd_step", 3, "scratchnn.cluster:lloyd_step",
             "labels are the nearest centres, new centres the means of their rows, an empty "
             "cluster takes a row; the inertia never rises",
             "KMeans(algorithm='lloyd') repeats it; the clustering study's k-means uses "
             "Hamerly's faster iterations, so it runs there only with that setting."),
    Exercise("adjusted_rand_score", 3, "scratchnn.cluster:adjusted_rand_score",
             "against its definition by counting pairs on small labellings; 1 for a perfect "
             "match; the same for relabelled clusters and with the arguments swapped",
             "contingency_matrix(labels_true, labels_pred) is there to use."),
    # Part 4 --------------------------------------------------------------------------------
    Exercise("softmax_cross_entropy", 4, "scratchnn.losses:softmax_cross_entropy",
             "the loss against -mean log softmax, dL/dz against finite differences, finite "
             "for logits up to 1e4, in the logits' dtype",
             "log_softmax(z) and check_labels are there to use."),
    Exercise("distill_logit_mse", 4, "scratchnn.losses:distill_logit_mse",
             "the loss against its definition and dL/ds against finite differences",
             "mse(output, target) is there to use."),
    Exercise("soft_target_loss", 4, "scratchnn.losses:SoftTargetLoss.__call__",
             "the loss against its definition (KL at temperature T, the T^2 factor, alpha) "
             "and dL/ds against finite differences, for drawn T and alpha",
             "self.temperature and self.alpha hold T and alpha; log_softmax and "
             "softmax_cross_entropy are there to use."),
]
BY_NAME = {e.name: e for e in EXERCISES}
