#!/usr/bin/python3
"""Writes the golden reference data for the Keras 3 losses and metrics (tests/golden/*.json).

The values come from an implementation of Keras 3's formulas that is independent of the C++ code:
numpy float64 for the metrics and for a literal transcription of the Keras expressions, PyTorch
(python3-torch 1.13) float64 autograd for the losses and their gradients. Every input is a
float32-representable number, so a float32 or a float64 implementation reads it exactly.

Run: /usr/bin/python3 tests/golden/make_golden.py   (deterministic: fixed seeds; a few seconds)

Sources (keras-team/keras, Keras 3, the `keras/src` tree):
- keras/src/losses/losses.py: binary_crossentropy, binary_focal_crossentropy,
  categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
  mean_squared_error, mean_absolute_error and the loss classes (constructor arguments, docstrings).
- keras/src/losses/loss.py: Loss.__call__, reduce_weighted_values, apply_mask, reduce_values,
  squeeze_or_expand_to_same_rank (reductions, sample weights, masks).
- keras/src/backend/{numpy,jax,tensorflow,torch}/nn.py: binary_crossentropy,
  categorical_crossentropy, sparse_categorical_crossentropy (clipping, logits paths).
- keras/src/metrics/accuracy_metrics.py, keras/src/metrics/reduction_metrics.py (MeanMetricWrapper,
  Mean), keras/src/backend/*/math.py in_top_k.
- keras/src/trainers/compile_utils.py: get_metric, is_binary_or_sparse_categorical ("accuracy").
- keras/src/trainers/data_adapters/data_adapter_utils.py: class_weight_to_sample_weights.
- keras-team/keras pull request 23488: label_smoothing for SparseCategoricalCrossentropy.

Formulas (eps = keras.backend.epsilon() = 1e-7; C = size of the last axis; rows are samples):
- binary_crossentropy: y <- y (1 - ls) + 0.5 ls when ls != 0. Probabilities: p <- clip(p, eps,
  1 - eps), e = -(y ln p + (1 - y) ln(1 - p)). Logits (TensorFlow, JAX and torch backends, no
  clip): e = max(x, 0) - x y + log1p(exp(-|x|)) = -(y log_sigmoid(x) + (1 - y) log_sigmoid(-x)).
  Loss of a sample = mean of e over the last axis.
- categorical_crossentropy: y <- y (1 - ls) + ls / C when ls != 0. Probabilities: p <- p / sum(p),
  p <- clip(p, eps, 1 - eps), loss = -sum y ln p. Logits: loss = -sum y log_softmax(x) =
  logsumexp(x) sum(y) - sum y x (soft targets allowed).
- sparse_categorical_crossentropy: integer labels. Probabilities: p <- clip(p / sum(p), eps,
  1 - eps), loss = -ln p[label]; logits: loss = -log_softmax(x)[label]. With label_smoothing ls
  (pull request 23488): loss = (1 - ls) loss_hard + ls CE(uniform 1/C, p), the uniform term through
  categorical_crossentropy. ignore_class: labels equal to it get loss 0 and a mask that removes them
  from the sum_over_batch_size count (see reductions).
- binary_focal_crossentropy: y smoothed as binary; p = sigmoid(x) when from_logits; bce = binary
  crossentropy of the CLIPPED p; p_t = y p + (1 - y)(1 - p) with the UNCLIPPED p; loss element =
  (1 - p_t)^gamma bce, times (y alpha + (1 - y)(1 - alpha)) when apply_class_balancing; mean over
  the last axis.
- categorical_focal_crossentropy: y smoothed as categorical; p = softmax(x) when from_logits;
  o = clip(p / sum(p), eps, 1 - eps); loss = sum alpha (1 - o)^gamma (-y ln o).
- mean_squared_error = mean (y - p)^2, mean_absolute_error = mean |y - p| over the last axis.
- Reductions of the per-sample losses l with per-sample weights w (w = 1 when absent):
  none: l w; sum: sum l w; sum_over_batch_size ("mean"): sum l w / B (B counts zero-weight
  samples); mean_with_sample_weight: sum l w / sum w (0 when sum w = 0; sum l / B without weights).
  A mask m (ignore_class) multiplies w; for sum_over_batch_size it is first scaled by B / valid
  (0 when valid = 0), so the loss is sum l w / valid.
- class_weight: per-sample weight = class_weight.get(class, 1.0) with class = argmax of y_true when
  its last axis has more than one entry, else round-half-to-even of the label; Keras refuses
  class_weight together with sample_weight.
- Gradients: d(reduced loss)/d(y_pred) by autograd of the same expressions; clip() has zero
  gradient outside [eps, 1 - eps] and full gradient on the closed interval.

Where the literal IEEE evaluation of Keras' expression gives NaN although the mathematical value
is finite (0 * inf in y log p for a logit of -inf in a zero-target class, inf - inf in the logits
BCE at x = +-inf), the golden value is the finite limit and the case carries
"keras_literal_nan": true. The "float32" block, present where float32 arithmetic (Keras' default
dtype) differs materially from float64, holds the same computation in float32.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1e-7  # keras.backend.epsilon()
REDUCTIONS = ("sum", "sum_over_batch_size", "mean_with_sample_weight")
HERE = os.path.dirname(os.path.abspath(__file__))

torch.set_num_threads(1)


def f32(values):
    """Rounds to the nearest float32 so that every input is exact in float32 and float64."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def next_float32(value, direction):
    return float(np.nextafter(np.float32(value), np.float32(direction)))


# ---------------------------------------------------------------------------------------------
# Losses: per-sample values as torch expressions (autograd-safe versions of the Keras formulas)
# ---------------------------------------------------------------------------------------------


def _zeros(t):
    return torch.zeros_like(t)


def _clip(p):
    # torch.clamp converts the bounds to p's dtype as Keras does (1 - 1e-7 is 0.99999988 in float32)
    return torch.clamp(p, EPSILON, 1.0 - EPSILON)


def _smooth_binary(y, ls):
    return y * (1.0 - ls) + 0.5 * ls if ls else y


def _smooth_categorical(y, ls):
    return y * (1.0 - ls) + ls / y.shape[-1] if ls else y


def _weighted_log_sum(y, log_p):
    """-sum y log p over the last axis, with 0 * log 0 taken as 0 (a zero target drops the term)."""
    return -torch.where(y != 0, y * log_p, _zeros(log_p)).sum(-1)


def _binary_elements(y, out, from_logits):
    if from_logits:
        # log_sigmoid keeps the exact derivative sigmoid(x) - y at x = 0, like TensorFlow's
        # sigmoid_cross_entropy_with_logits; the where() drops 0 * inf at x = +-inf.
        positive = torch.where(y != 0, -y * F.logsigmoid(out), _zeros(out))
        negative = torch.where(y != 1, -(1.0 - y) * F.logsigmoid(-out), _zeros(out))
        return positive + negative
    p = _clip(out)
    return -(y * torch.log(p) + (1.0 - y) * torch.log(1.0 - p))


def binary_crossentropy(y, out, cfg):
    y = _smooth_binary(y, cfg["label_smoothing"])
    return _binary_elements(y, out, cfg["from_logits"]).mean(-1)


def _log_probabilities(out, from_logits):
    if from_logits:
        return torch.log_softmax(out, -1)
    return torch.log(_clip(out / out.sum(-1, keepdim=True)))


def categorical_crossentropy(y, out, cfg):
    y = _smooth_categorical(y, cfg["label_smoothing"])
    return _weighted_log_sum(y, _log_probabilities(out, cfg["from_logits"]))


def sparse_categorical_crossentropy(labels, out, cfg):
    """Returns (per-sample loss, valid mask or None)."""
    ignore_class = cfg["ignore_class"]
    if ignore_class is None:
        valid = torch.ones(labels.shape, dtype=torch.bool)
    else:
        valid = labels != ignore_class
    # Keras multiplies the ignored rows of y_pred by 0 (0 / 0 for probabilities, later discarded by
    # a where); substituting ones keeps the discarded branch finite so its zero gradient stays 0.
    safe_out = torch.where(valid[:, None], out, torch.ones_like(out))
    safe_labels = torch.where(valid, labels, torch.zeros_like(labels))
    log_p = _log_probabilities(safe_out, cfg["from_logits"])
    hard = -log_p.gather(-1, safe_labels[:, None]).squeeze(-1)
    ls = cfg["label_smoothing"]
    if ls:
        uniform = torch.full_like(log_p, 1.0 / log_p.shape[-1])
        loss = (1.0 - ls) * hard + ls * _weighted_log_sum(uniform, log_p)
    else:
        loss = hard
    loss = torch.where(valid, loss, _zeros(loss))
    return loss, (None if ignore_class is None else valid)


def binary_focal_crossentropy(y, out, cfg):
    y = _smooth_binary(y, cfg["label_smoothing"])
    p = torch.sigmoid(out) if cfg["from_logits"] else out
    bce = _binary_elements(y, p, from_logits=False)
    p_t = y * p + (1.0 - y) * (1.0 - p)
    focal = torch.pow(1.0 - p_t, cfg["gamma"]) * bce
    if cfg["apply_class_balancing"]:
        alpha = cfg["alpha"]
        focal = (y * alpha + (1.0 - y) * (1.0 - alpha)) * focal
    return focal.mean(-1)


def categorical_focal_crossentropy(y, out, cfg):
    y = _smooth_categorical(y, cfg["label_smoothing"])
    p = torch.softmax(out, -1) if cfg["from_logits"] else out
    o = _clip(p / p.sum(-1, keepdim=True))
    cross_entropy = -y * torch.log(o)
    weighting = torch.pow(1.0 - o, cfg["gamma"]) * cfg["alpha"]
    return (weighting * cross_entropy).sum(-1)


def mean_squared_error(y, out, cfg):
    return torch.square(y - out).mean(-1)


def mean_absolute_error(y, out, cfg):
    return torch.abs(y - out).mean(-1)


LOSSES = {
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
}


def per_sample_losses(loss, y_true, y_pred, cfg):
    """Returns (per-sample loss, mask or None)."""
    result = LOSSES[loss](y_true, y_pred, cfg)
    return result if isinstance(result, tuple) else (result, None)


def reduce(values, weights, mask, reduction, mask_divisor_epsilon=0.0):
    """keras/src/losses/loss.py reduce_weighted_values, for per-sample values and weights.

    mask_divisor_epsilon = 1e-7 gives the Keras releases before pull request 21908, where
    apply_mask scaled the mask by total / (valid + epsilon) instead of divide_no_nan(total, valid).
    """
    batch = values.shape[0]
    if mask is not None:
        m = mask.to(values.dtype)
        if reduction == "sum_over_batch_size":
            valid = m.sum()
            if mask_divisor_epsilon:
                m = m * (batch / (valid + mask_divisor_epsilon))
            elif valid.item() != 0:
                m = m * (batch / valid)
            else:
                m = m * 0.0
        weights = m if weights is None else weights * m
    if weights is not None:
        values = values * weights
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = weights.sum()
        return total / divisor if divisor.item() != 0 else total * 0.0
    return total / batch


# ---------------------------------------------------------------------------------------------
# Keras semantics that are not losses: class weights, and a literal IEEE transcription
# ---------------------------------------------------------------------------------------------


def class_weight_to_sample_weights(y_true, class_weight, sparse):
    """keras/src/trainers/data_adapters/data_adapter_utils.py class_weight_to_sample_weights."""
    y = np.asarray(y_true, dtype=np.float64)
    if not sparse and y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    classes = np.round(y).astype(np.int32)  # numpy rounds half to even: 0.5 -> 0, 2.5 -> 2
    return np.array([class_weight.get(int(c), 1.0) for c in classes], dtype=np.float64)


def keras_literal_per_sample(loss, y_true, y_pred, cfg):
    """The Keras expressions evaluated literally in numpy float64, IEEE NaN included.

    An independent cross-check of the torch expressions (same value wherever this is finite) and
    the detector of the cases where Keras itself would return NaN. Logits BCE follows the
    TensorFlow kernel; the categorical paths follow the numpy/JAX backends.
    """
    y = np.asarray(y_true, dtype=np.float64)
    x = np.asarray(y_pred, dtype=np.float64)
    with np.errstate(all="ignore"):
        if loss == "mean_squared_error":
            return np.mean(np.square(y - x), axis=-1)
        if loss == "mean_absolute_error":
            return np.mean(np.abs(y - x), axis=-1)
        ls = cfg.get("label_smoothing", 0.0)
        if loss in ("binary_crossentropy", "binary_focal_crossentropy"):
            if ls:
                y = y * (1.0 - ls) + 0.5 * ls
            if loss == "binary_crossentropy" and cfg["from_logits"]:
                return np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))), axis=-1)
            p = 1.0 / (1.0 + np.exp(-x)) if cfg["from_logits"] else x
            pc = np.clip(p, EPSILON, 1.0 - EPSILON)
            bce = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
            if loss == "binary_crossentropy":
                return np.mean(bce, axis=-1)
            p_t = y * p + (1 - y) * (1 - p)
            focal = np.power(1.0 - p_t, cfg["gamma"]) * bce
            if cfg["apply_class_balancing"]:
                focal = (y * cfg["alpha"] + (1 - y) * (1 - cfg["alpha"])) * focal
            return np.mean(focal, axis=-1)

        def log_prob(out):
            if cfg["from_logits"]:
                shifted = out - np.max(out, axis=-1, keepdims=True)
                return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
            out = out / np.sum(out, axis=-1, keepdims=True)
            return np.log(np.clip(out, EPSILON, 1.0 - EPSILON))

        if loss == "categorical_crossentropy":
            if ls:
                y = y * (1.0 - ls) + ls / y.shape[-1]
            return -np.sum(y * log_prob(x), axis=-1)
        if loss == "categorical_focal_crossentropy":
            if ls:
                y = y * (1.0 - ls) + ls / y.shape[-1]
            if cfg["from_logits"]:
                e = np.exp(x - np.max(x, axis=-1, keepdims=True))
                x = e / np.sum(e, axis=-1, keepdims=True)
            o = np.clip(x / np.sum(x, axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON)
            return np.sum(np.power(1.0 - o, cfg["gamma"]) * cfg["alpha"] * (-y * np.log(o)), -1)
        # sparse_categorical_crossentropy
        labels = y.astype(np.int64)
        valid = np.ones(labels.shape, dtype=bool)
        if cfg["ignore_class"] is not None:
            valid = labels != cfg["ignore_class"]
            labels = labels * valid
            x = x * valid[:, None]
        lp = log_prob(x)
        one_hot = np.eye(x.shape[-1])[labels]
        res = -np.sum(one_hot * lp, axis=-1)
        if ls:
            res = (1.0 - ls) * res + ls * -np.sum(lp / x.shape[-1], axis=-1)
        return np.where(valid, res, 0.0)


# ---------------------------------------------------------------------------------------------
# Evaluating one loss case
# ---------------------------------------------------------------------------------------------


def encode(value):
    """JSON-safe float64: repr precision, infinities and NaN as strings."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [encode(v) for v in np.asarray(value, dtype=np.float64).ravel().tolist()]
    value = float(value) + 0.0  # -0.0 becomes 0.0
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _tensors(loss, y_true, y_pred, weights, dtype):
    sparse = loss == "sparse_categorical_crossentropy"
    yt = torch.tensor(y_true, dtype=torch.int64 if sparse else dtype)
    yp = torch.tensor(y_pred, dtype=dtype, requires_grad=True)
    w = None if weights is None else torch.tensor(weights, dtype=dtype)
    return yt, yp, w


def evaluate(loss, cfg, y_true, y_pred, weights, dtype=torch.float64, mask_divisor_epsilon=0.0):
    """Per-sample values, every reduction and its gradient, in the given dtype."""
    result = {"reduced": {}, "grad": {}}
    yt, yp, w = _tensors(loss, y_true, y_pred, weights, dtype)
    values, mask = per_sample_losses(loss, yt, yp, cfg)
    result["per_sample"] = reduce(values, w, mask, "none").detach().numpy().astype(np.float64)
    result["has_mask"] = mask is not None
    for reduction in REDUCTIONS:
        yt, yp, w = _tensors(loss, y_true, y_pred, weights, dtype)
        values, mask = per_sample_losses(loss, yt, yp, cfg)
        reduced = reduce(values, w, mask, reduction, mask_divisor_epsilon)
        reduced.backward()
        result["reduced"][reduction] = float(reduced.item())
        result["grad"][reduction] = yp.grad.numpy().astype(np.float64)
    return result


def _close(a, b, rtol, atol):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return bool(np.all(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)))


def differs_materially(r64, r32):
    """True when float32 arithmetic moves a value beyond float32 rounding noise."""
    # absolute floor far below float32 resolution of the largest value: a loss of 1e-7 that is
    # 1.19e-7 in float32 (the clip at 1 - eps) counts as a material difference
    scale = max(1.0, float(np.max(np.abs(np.nan_to_num(r64["per_sample"], posinf=0, neginf=0)))))
    if not _close(r32["per_sample"], r64["per_sample"], 1e-4, 1e-12 * scale):
        return True
    for reduction in REDUCTIONS:
        if not _close(r32["reduced"][reduction], r64["reduced"][reduction], 1e-4, 1e-12 * scale):
            return True
        g64 = r64["grad"][reduction]
        gscale = max(1e-30, float(np.max(np.abs(np.nan_to_num(g64, posinf=0, neginf=0)))))
        if not _close(r32["grad"][reduction], g64, 1e-3, 1e-4 * gscale):
            return True
    return False


class LossCases:
    def __init__(self):
        self.cases = []
        self.names = set()
        self.literal_mismatches = []

    def add(self, name, loss, config, y_true, y_pred, sample_weight=None, class_weight=None,
            notes=None):
        assert name not in self.names, name
        self.names.add(name)
        sparse = loss == "sparse_categorical_crossentropy"
        y_pred = np.atleast_2d(np.asarray(y_pred, dtype=np.float64))
        batch, classes = y_pred.shape
        if sparse:
            y_true = np.asarray(y_true, dtype=np.int64).reshape(batch)
        else:
            y_true = np.asarray(y_true, dtype=np.float64).reshape(batch, classes)
        # every input is stored as a float32 value (1e30 becomes 1.0000000150474662e+30)
        y_pred = f32(y_pred)
        if not sparse:
            y_true = f32(y_true)
        if sample_weight is not None:
            sample_weight = f32(sample_weight).reshape(batch)
        weights = sample_weight
        if class_weight is not None:
            assert sample_weight is None, "Keras refuses class_weight with sample_weight"
            weights = class_weight_to_sample_weights(y_true, class_weight, sparse)
        cfg = dict(config)

        r64 = evaluate(loss, cfg, y_true, y_pred, weights)
        case = {
            "name": name,
            "loss": loss,
            "config": config,
            "batch": int(batch),
            "classes": int(classes),
            "y_true": [int(v) for v in y_true] if sparse else encode(y_true),
            "y_pred": encode(y_pred),
            "sample_weight": None if sample_weight is None else encode(sample_weight),
            "class_weight": (None if class_weight is None else
                             {str(k): float(v) for k, v in sorted(class_weight.items())}),
        }
        if class_weight is not None:
            case["effective_sample_weight"] = encode(weights)
        case["per_sample"] = encode(r64["per_sample"])
        case["reduced"] = {r: encode(r64["reduced"][r]) for r in REDUCTIONS}
        case["grad"] = {r: encode(r64["grad"][r]) for r in REDUCTIONS}

        literal = keras_literal_per_sample(loss, y_true, y_pred, cfg)
        if weights is not None:
            literal = literal * weights
        golden = r64["per_sample"]
        finite = np.isfinite(literal)
        if not _close(literal[finite], golden[finite], 1e-12, 1e-300):
            self.literal_mismatches.append(name)
        literal_nan = bool(np.any(np.isnan(literal) & ~np.isnan(golden)))
        if literal_nan:
            case["keras_literal_nan"] = True
        if r64["has_mask"]:
            legacy = evaluate(loss, cfg, y_true, y_pred, weights, mask_divisor_epsilon=EPSILON)
            case["reduced_pre_pr21908"] = {
                "sum_over_batch_size": encode(legacy["reduced"]["sum_over_batch_size"])}
        r32 = evaluate(loss, cfg, y_true, y_pred, weights, dtype=torch.float32)
        if differs_materially(r64, r32):
            case["float32"] = {
                "per_sample": encode(r32["per_sample"]),
                "reduced": {r: encode(r32["reduced"][r]) for r in REDUCTIONS},
                "grad": {r: encode(r32["grad"][r]) for r in REDUCTIONS},
            }
        if notes:
            case["notes"] = notes
        self.cases.append(case)
        return case


# ---------------------------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------------------------


def random_logits(rng, batch, classes, scale=3.0):
    return f32(rng.normal(0.0, scale, size=(batch, classes)))


def random_probabilities(rng, batch, classes, normalized=True):
    logits = rng.normal(0.0, 2.0, size=(batch, classes))
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    if not normalized:  # Keras divides by the row sum; rows that do not sum to 1 test that
        p *= rng.uniform(0.5, 2.0, size=(batch, 1))
    return f32(np.clip(p, 1e-6, None))


def random_binary_probabilities(rng, batch, classes):
    return f32(rng.uniform(0.001, 0.999, size=(batch, classes)))


def one_hot(labels, classes):
    return np.eye(classes)[np.asarray(labels)]


def random_sample_weight(rng, batch, mode):
    if mode == "none":
        return None
    if mode == "random":
        return f32(rng.uniform(0.0, 2.0, size=batch))
    if mode == "with_zeros":
        w = f32(rng.uniform(0.25, 3.0, size=batch))
        w[rng.random(batch) < 0.4] = 0.0
        w[0] = 0.0
        return w
    raise ValueError(mode)


WEIGHT_MODES = ("none", "random", "with_zeros")


def _fmt(x):
    return ("%g" % x).replace(".", "p")


# ---------------------------------------------------------------------------------------------
# Loss case catalogue
# ---------------------------------------------------------------------------------------------

PROBABILITY_BOUNDARIES = [
    (0.0, "zero"),
    (next_float32(EPSILON, 0.0), "below_eps"),
    (float(np.float32(EPSILON)), "eps"),  # float32(1e-7) is inside [1e-7, 1 - 1e-7] in both types
    (next_float32(EPSILON, 1.0), "above_eps"),
    (0.5, "half"),
    (next_float32(1.0 - EPSILON, 0.0), "below_one_minus_eps"),
    (float(np.float32(1.0 - EPSILON)), "one_minus_eps"),  # 0.99999988: inside in both types
    (next_float32(1.0 - EPSILON, 1.0), "above_one_minus_eps"),  # 0.99999994: outside in both
    (1.0, "one"),
]


def binary_cases(cases, rng):
    loss = "binary_crossentropy"
    shapes = [(1, 1), (4, 1), (8, 3), (16, 7), (5, 2), (33, 10), (64, 1)]
    i = 0
    for from_logits in (False, True):
        for ls in (0.0, 0.1, 0.5):
            for batch, classes in shapes:
                mode = WEIGHT_MODES[i % len(WEIGHT_MODES)]
                i += 1
                y = (rng.random((batch, classes)) < 0.5).astype(np.float64)
                x = (random_logits(rng, batch, classes) if from_logits
                     else random_binary_probabilities(rng, batch, classes))
                cfg = {"from_logits": from_logits, "label_smoothing": ls}
                kind = "logits" if from_logits else "probs"
                name = f"bce/{kind}/ls{_fmt(ls)}/b{batch}c{classes}/w_{mode}"
                cases.add(name, loss, cfg, y, x, random_sample_weight(rng, batch, mode))
    # soft targets
    for from_logits in (False, True):
        y = f32(rng.random((6, 4)))
        x = random_logits(rng, 6, 4) if from_logits else random_binary_probabilities(rng, 6, 4)
        cases.add(f"bce/{'logits' if from_logits else 'probs'}/soft_targets/b6c4", loss,
                  {"from_logits": from_logits, "label_smoothing": 0.0}, y, x)
    # hand-checkable: p = 0.5 gives ln 2 for either label; logit 0 the same
    cases.add("bce/probs/half_is_ln2", loss, {"from_logits": False, "label_smoothing": 0.0},
              [[0.0], [1.0]], [[0.5], [0.5]], notes=["every per-sample value is ln 2"])
    cases.add("bce/logits/zero_is_ln2", loss, {"from_logits": True, "label_smoothing": 0.0},
              [[0.0], [1.0]], [[0.0], [0.0]],
              notes=["every per-sample value is ln 2; gradient sigmoid(0) - y = +-0.5 / B"])
    # clipping boundaries, one element per sample so every clip is visible in per_sample
    values = [v for v, _ in PROBABILITY_BOUNDARIES]
    for ls in (0.0, 0.1):
        y = np.array([[t] for t in (0.0, 1.0) for _ in values])
        x = np.array([[v] for _ in (0.0, 1.0) for v in values])
        cases.add(f"bce/probs/clip_boundaries/ls{_fmt(ls)}", loss,
                  {"from_logits": False, "label_smoothing": ls}, y, x,
                  notes=["rows: labels 0 then 1, each against p = " +
                         ", ".join(n for _, n in PROBABILITY_BOUNDARIES)])
    # extreme and infinite logits where the loss is finite
    inf = math.inf
    x = [1e30, -1e30, 1e30, -1e30, 0.0, 16.0, -16.0, 17.0, -17.0, 40.0, -40.0, 100.0, -100.0,
         88.0, -104.0, 710.0, -746.0]
    y = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    cases.add("bce/logits/extreme_finite", loss, {"from_logits": True, "label_smoothing": 0.0},
              np.array(y)[:, None], np.array(x)[:, None],
              notes=["logits +-1e30 with either label: loss 0 or 1e30, gradient sigmoid(x) - y"])
    cases.add("bce/logits/extreme_finite_smoothed", loss,
              {"from_logits": True, "label_smoothing": 0.1},
              np.array(y)[:, None], np.array(x)[:, None])
    cases.add("bce/logits/infinite_matching_label", loss,
              {"from_logits": True, "label_smoothing": 0.0},
              [[1.0], [0.0], [1.0], [0.0]], [[inf], [-inf], [3.0], [-2.0]],
              notes=["x = +inf with y = 1 and x = -inf with y = 0 have loss 0 and gradient 0; "
                     "Keras evaluates max(x,0) - x y + log1p(exp(-|x|)) as inf - inf or "
                     "-inf * 0 = NaN there"])
    # multi-label with 1000 outputs
    y = (rng.random((1, 1000)) < 0.1).astype(np.float64)
    cases.add("bce/logits/b1c1000", loss, {"from_logits": True, "label_smoothing": 0.0}, y,
              random_logits(rng, 1, 1000), random_sample_weight(rng, 1, "random"))
    # class weights: label rounding (half to even) and argmax over multi-label rows
    cw = {0: 0.25, 1: 3.0}
    y = f32([[0.0], [1.0], [0.5], [0.51], [1.0], [0.0], [0.49], [1.0]])
    cases.add("bce/probs/class_weight/b8c1", loss, {"from_logits": False, "label_smoothing": 0.0},
              y, random_binary_probabilities(rng, 8, 1), class_weight=cw,
              notes=["class = round-half-to-even(y): 0.5 -> 0, 0.51 -> 1, 0.49 -> 0"])
    y = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
    cases.add("bce/logits/class_weight_multilabel_argmax/b5c3", loss,
              {"from_logits": True, "label_smoothing": 0.1}, y, random_logits(rng, 5, 3),
              class_weight={0: 0.5, 1: 2.0, 2: 4.0},
              notes=["class_weight on a multi-label target uses argmax(y_true): the first 1 "
                     "of each row, class 0 for an all-zero row"])
    cases.add("bce/probs/all_zero_weights/b4c2", loss, {"from_logits": False,
                                                         "label_smoothing": 0.0},
              (rng.random((4, 2)) < 0.5).astype(np.float64), random_binary_probabilities(rng, 4, 2),
              np.zeros(4), notes=["mean_with_sample_weight divides 0 by 0: divide_no_nan gives 0"])


def categorical_cases(cases, rng):
    loss = "categorical_crossentropy"
    shapes = [(1, 2), (5, 3), (8, 7), (16, 10), (3, 2), (33, 7), (64, 10)]
    i = 0
    for from_logits in (False, True):
        for ls in (0.0, 0.1, 0.5):
            for batch, classes in shapes:
                mode = WEIGHT_MODES[i % len(WEIGHT_MODES)]
                i += 1
                y = one_hot(rng.integers(0, classes, batch), classes)
                if from_logits:
                    x = random_logits(rng, batch, classes)
                else:
                    x = random_probabilities(rng, batch, classes, normalized=(i % 2 == 0))
                cfg = {"from_logits": from_logits, "label_smoothing": ls}
                kind = "logits" if from_logits else "probs"
                name = f"cce/{kind}/ls{_fmt(ls)}/b{batch}c{classes}/w_{mode}"
                cases.add(name, loss, cfg, y, x, random_sample_weight(rng, batch, mode))
    for from_logits in (False, True):
        y = rng.dirichlet(np.ones(5), size=7)
        y = f32(y)
        x = random_logits(rng, 7, 5) if from_logits else random_probabilities(rng, 7, 5, False)
        kind = "logits" if from_logits else "probs"
        cases.add(f"cce/{kind}/soft_targets/b7c5", loss,
                  {"from_logits": from_logits, "label_smoothing": 0.0}, y, x,
                  random_sample_weight(rng, 7, "random"))
        x = random_logits(rng, 4, 1) if from_logits else f32(rng.uniform(0.2, 3.0, (4, 1)))
        cases.add(f"cce/{kind}/one_class/b4c1", loss,
                  {"from_logits": from_logits, "label_smoothing": 0.0}, np.ones((4, 1)), x,
                  notes=["one class: p / sum(p) = 1 is clipped to 1 - eps (loss -ln(1 - eps)); "
                         "log_softmax of one logit is 0. Keras warns for this shape"])
        batch = 2 if from_logits else 1
        y = one_hot(rng.integers(0, 1000, batch), 1000)
        x = random_logits(rng, batch, 1000) if from_logits else random_probabilities(
            rng, batch, 1000)
        cases.add(f"cce/{kind}/b{batch}c1000", loss,
                  {"from_logits": from_logits, "label_smoothing": 0.1 if from_logits else 0.0},
                  y, x)
    # hand-checkable: uniform probabilities give ln C
    cases.add("cce/probs/uniform_is_lnC", loss, {"from_logits": False, "label_smoothing": 0.0},
              one_hot([0, 1, 2, 3], 4), np.full((4, 4), 0.25), notes=["per-sample ln 4"])
    # clipping boundaries
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.25, 0.75, 0.0],
            [float(np.float32(EPSILON)), float(np.float32(1.0 - EPSILON)), 0.0],
            [next_float32(EPSILON, 0.0), 1.0, 0.0], [0.0, 0.0, 0.0 + 1.0]]
    labels = [0, 0, 2, 1, 0, 0, 0]
    for ls in (0.0, 0.1):
        cases.add(f"cce/probs/clip_boundaries/ls{_fmt(ls)}", loss,
                  {"from_logits": False, "label_smoothing": ls}, one_hot(labels, 3),
                  np.array(rows), notes=["target probability 1 (clipped to 1 - eps), 0 (clipped "
                                         "to eps), eps, just below eps"])
    # extreme logits
    inf = math.inf
    x = [[1e30, 0.0, -1e30], [1e30, 0.0, -1e30], [1e30, 0.0, -1e30], [-1e30, -1e30, 5.0],
         [100.0, -100.0, 0.0], [88.0, 89.0, 90.0], [-746.0, 0.0, 710.0]]
    cases.add("cce/logits/extreme_finite", loss, {"from_logits": True, "label_smoothing": 0.0},
              one_hot([0, 1, 2, 2, 1, 0, 1], 3), np.array(x))
    cases.add("cce/logits/extreme_finite_smoothed", loss,
              {"from_logits": True, "label_smoothing": 0.1}, one_hot([0, 1, 2, 2, 1, 0, 1], 3),
              np.array(x))
    x = [[-inf, 1.0, 2.0], [-inf, 1.0, 2.0], [0.0, -inf, -inf], [3.0, -inf, 1e30]]
    cases.add("cce/logits/minus_inf_non_target", loss,
              {"from_logits": True, "label_smoothing": 0.0}, one_hot([1, 2, 0, 2], 3),
              np.array(x), sample_weight=f32([1.0, 0.5, 2.0, 1.5]),
              notes=["a logit of -inf in a zero-target class contributes nothing and has gradient "
                     "0; Keras computes 0 * log_softmax = 0 * -inf = NaN there"])
    cases.add("cce/probs/all_zero_weights/b3c4", loss,
              {"from_logits": False, "label_smoothing": 0.1}, one_hot([0, 3, 1], 4),
              random_probabilities(rng, 3, 4), np.zeros(3))
    # class weights: class = argmax(y_true), first maximum on ties (soft targets)
    y = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0.4, 0.4, 0.2], [0.1, 0.45, 0.45],
                  [0, 0, 1]], dtype=np.float64)
    cases.add("cce/logits/class_weight/b6c3", loss, {"from_logits": True, "label_smoothing": 0.0},
              f32(y), random_logits(rng, 6, 3), class_weight={0: 0.5, 2: 4.0},
              notes=["class = argmax(y_true), first maximum on ties; class 1 is absent from the "
                     "map and weighs 1.0"])
    cases.add("cce/probs/class_weight/b5c4_smoothed", loss,
              {"from_logits": False, "label_smoothing": 0.2}, one_hot([3, 0, 1, 3, 2], 4),
              random_probabilities(rng, 5, 4), class_weight={0: 2.0, 1: 0.0, 2: 1.5, 3: 0.75})


def sparse_cases(cases, rng):
    loss = "sparse_categorical_crossentropy"
    shapes = [(1, 2), (6, 3), (12, 7), (16, 10), (33, 3), (64, 10)]
    i = 0
    for from_logits in (False, True):
        for ls in (0.0, 0.1):
            for ignore_class in (None, -1, 2):
                for batch, classes in shapes[(i % 2)::2]:
                    mode = WEIGHT_MODES[i % len(WEIGHT_MODES)]
                    i += 1
                    labels = rng.integers(0, classes, batch)
                    if ignore_class == -1:
                        labels[rng.random(batch) < 0.3] = -1
                        labels[batch // 2] = -1  # at least one ignored label
                    elif ignore_class == 2 and batch > 1:
                        labels[batch // 2] = 2
                    x = (random_logits(rng, batch, classes) if from_logits
                         else random_probabilities(rng, batch, classes, normalized=(i % 2 == 0)))
                    cfg = {"from_logits": from_logits, "ignore_class": ignore_class,
                           "label_smoothing": ls}
                    name = (f"scce/{'logits' if from_logits else 'probs'}/ls{_fmt(ls)}/"
                            f"ignore_{ignore_class}/b{batch}c{classes}/w_{mode}")
                    cases.add(name, loss, cfg, labels, x, random_sample_weight(rng, batch, mode))
    for from_logits in (False, True):
        kind = "logits" if from_logits else "probs"
        batch = 1 if from_logits else 2
        labels = rng.integers(0, 1000, batch)
        x = random_logits(rng, batch, 1000) if from_logits else random_probabilities(
            rng, batch, 1000)
        cases.add(f"scce/{kind}/b{batch}c1000", loss,
                  {"from_logits": from_logits, "ignore_class": None,
                   "label_smoothing": 0.0 if from_logits else 0.1}, labels, x)
        cases.add(f"scce/{kind}/one_class/b3c1", loss,
                  {"from_logits": from_logits, "ignore_class": None, "label_smoothing": 0.0},
                  [0, 0, 0], random_logits(rng, 3, 1) if from_logits else f32([[0.3], [1.0],
                                                                                   [2.0]]))
        cases.add(f"scce/{kind}/all_ignored/b4c3", loss,
                  {"from_logits": from_logits, "ignore_class": -1, "label_smoothing": 0.0},
                  [-1, -1, -1, -1],
                  random_logits(rng, 4, 3) if from_logits else random_probabilities(rng, 4, 3),
                  notes=["no valid label: every reduction is 0 (divide_no_nan), gradient 0"])
        cases.add(f"scce/{kind}/ignored_with_zero_and_weights/b6c4", loss,
                  {"from_logits": from_logits, "ignore_class": 0, "label_smoothing": 0.1},
                  [0, 1, 3, 0, 2, 1],
                  random_logits(rng, 6, 4) if from_logits else random_probabilities(rng, 6, 4),
                  f32([0.5, 1.0, 0.0, 2.0, 1.5, 0.25]),
                  notes=["ignore_class = 0 masks the rows labelled 0; mean_with_sample_weight "
                         "divides by the sum of the unmasked rows' weights"])
    cases.add("scce/probs/clip_boundaries", loss,
              {"from_logits": False, "ignore_class": None, "label_smoothing": 0.0},
              [0, 1, 0, 1, 2],
              np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0],
                        [float(np.float32(EPSILON)), float(np.float32(1.0 - EPSILON)), 0.0],
                        [0.5, 0.5, 0.0], [next_float32(EPSILON, 0.0), 0.0, 1.0]]))
    inf = math.inf
    x = [[-inf, 1.0, 2.0], [0.0, -inf, -inf], [1e30, 0.0, -1e30], [1e30, 0.0, -1e30],
         [-1e30, 7.0, -inf]]
    cases.add("scce/logits/extreme_and_minus_inf_non_target", loss,
              {"from_logits": True, "ignore_class": None, "label_smoothing": 0.0},
              [2, 0, 0, 1, 1], np.array(x),
              notes=["finite everywhere; TensorFlow's sparse kernel picks the target logit and "
                     "gives these values, the numpy/JAX backends multiply a one-hot row by "
                     "log_softmax and get 0 * -inf = NaN where a logit is -inf"])
    cases.add("scce/logits/class_weight/b7c4", loss,
              {"from_logits": True, "ignore_class": None, "label_smoothing": 0.0},
              [0, 1, 2, 3, 3, 1, 0], random_logits(rng, 7, 4),
              class_weight={0: 1.5, 1: 0.5, 3: 2.0})
    cases.add("scce/probs/class_weight_and_ignore/b6c3", loss,
              {"from_logits": False, "ignore_class": -1, "label_smoothing": 0.0},
              [0, -1, 2, 1, -1, 2], random_probabilities(rng, 6, 3),
              class_weight={0: 2.0, 1: 0.5, 2: 3.0},
              notes=["label -1 is not in the map: weight 1.0, then masked"])


def focal_cases(cases, rng):
    loss = "binary_focal_crossentropy"
    shapes = [(1, 1), (4, 1), (8, 3), (16, 7), (33, 2), (64, 1)]
    i = 0
    for from_logits in (False, True):
        for ls in (0.0, 0.1):
            for balancing in (False, True):
                for alpha, gamma in ((0.25, 2.0), (0.6, 0.0), (0.4, 3.5)):
                    batch, classes = shapes[i % len(shapes)]
                    mode = WEIGHT_MODES[i % len(WEIGHT_MODES)]
                    i += 1
                    y = (rng.random((batch, classes)) < 0.5).astype(np.float64)
                    x = (random_logits(rng, batch, classes) if from_logits
                         else random_binary_probabilities(rng, batch, classes))
                    cfg = {"apply_class_balancing": balancing, "alpha": alpha, "gamma": gamma,
                           "from_logits": from_logits, "label_smoothing": ls}
                    name = (f"bfce/{'logits' if from_logits else 'probs'}/ls{_fmt(ls)}/"
                            f"bal{int(balancing)}/a{_fmt(alpha)}g{_fmt(gamma)}/b{batch}c{classes}/"
                            f"w_{mode}")
                    cases.add(name, loss, cfg, y, x, random_sample_weight(rng, batch, mode))
    values = [v for v, _ in PROBABILITY_BOUNDARIES]
    y = np.array([[t] for t in (0.0, 1.0) for _ in values])
    x = np.array([[v] for _ in (0.0, 1.0) for v in values])
    for balancing in (False, True):
        cases.add(f"bfce/probs/clip_boundaries/bal{int(balancing)}", loss,
                  {"apply_class_balancing": balancing, "alpha": 0.25, "gamma": 2.0,
                   "from_logits": False, "label_smoothing": 0.0}, y, x,
                  notes=["p_t uses the unclipped p, the crossentropy the clipped one"])
    inf = math.inf
    x = [1e30, -1e30, 1e30, -1e30, inf, -inf, inf, -inf, 0.0, 17.0, -17.0, 40.0]
    y = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    for gamma in (2.0, 0.0):
        cases.add(f"bfce/logits/extreme_and_infinite/g{_fmt(gamma)}", loss,
                  {"apply_class_balancing": True, "alpha": 0.25, "gamma": gamma,
                   "from_logits": True, "label_smoothing": 0.0},
                  np.array(y)[:, None], np.array(x)[:, None],
                  notes=["sigmoid then clip: the crossentropy is bounded by -ln(eps) = 16.118 on "
                         "the numpy/JAX/torch backends (TensorFlow recovers the logits and does "
                         "not clip); the gradient vanishes where sigmoid saturates"])
    cases.add("bfce/probs/class_weight/b6c1", loss,
              {"apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0,
               "from_logits": False, "label_smoothing": 0.1},
              [[1.0], [0.0], [1.0], [1.0], [0.0], [0.0]], random_binary_probabilities(rng, 6, 1),
              class_weight={0: 1.0, 1: 5.0})
    cases.add("bfce/logits/b1c1000", loss,
              {"apply_class_balancing": True, "alpha": 0.25, "gamma": 2.0,
               "from_logits": True, "label_smoothing": 0.0},
              (rng.random((1, 1000)) < 0.2).astype(np.float64), random_logits(rng, 1, 1000))

    loss = "categorical_focal_crossentropy"
    shapes = [(1, 2), (5, 3), (8, 7), (16, 10), (33, 3), (64, 10)]
    i = 0
    for from_logits in (False, True):
        for ls in (0.0, 0.1):
            for alpha, gamma in ((0.25, 2.0), (1.0, 0.0), (0.5, 1.5)):
                for repeat in range(2):
                    batch, classes = shapes[(2 * i + repeat) % len(shapes)]
                    mode = WEIGHT_MODES[(i + repeat) % len(WEIGHT_MODES)]
                    y = one_hot(rng.integers(0, classes, batch), classes)
                    x = (random_logits(rng, batch, classes) if from_logits
                         else random_probabilities(rng, batch, classes, normalized=repeat == 0))
                    cfg = {"alpha": alpha, "gamma": gamma, "from_logits": from_logits,
                           "label_smoothing": ls}
                    name = (f"cfce/{'logits' if from_logits else 'probs'}/ls{_fmt(ls)}/"
                            f"a{_fmt(alpha)}g{_fmt(gamma)}/b{batch}c{classes}/w_{mode}")
                    cases.add(name, loss, cfg, y, x, random_sample_weight(rng, batch, mode))
                i += 1
    cases.add("cfce/probs/soft_targets/b6c4", loss,
              {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0},
              f32(rng.dirichlet(np.ones(4), size=6)), random_probabilities(rng, 6, 4))
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0],
            [float(np.float32(EPSILON)), float(np.float32(1.0 - EPSILON)), 0.0]]
    cases.add("cfce/probs/clip_boundaries", loss,
              {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0},
              one_hot([0, 0, 2, 0], 3), np.array(rows),
              notes=["the modulating factor (1 - o)^gamma uses the clipped o"])
    x = [[1e30, 0.0, -1e30], [1e30, 0.0, -1e30], [-inf, 1.0, 2.0], [0.0, -inf, -inf],
         [-1e30, -1e30, 5.0]]
    cases.add("cfce/logits/extreme_and_minus_inf", loss,
              {"alpha": 0.25, "gamma": 2.0, "from_logits": True, "label_smoothing": 0.1},
              one_hot([0, 1, 2, 0, 0], 3), np.array(x),
              notes=["softmax then clip: every term is finite, even with smoothing"])
    cases.add("cfce/logits/b1c1000", loss,
              {"alpha": 0.25, "gamma": 2.0, "from_logits": True, "label_smoothing": 0.0},
              one_hot([17], 1000), random_logits(rng, 1, 1000))
    cases.add("cfce/probs/class_weight/b5c3", loss,
              {"alpha": 0.5, "gamma": 1.0, "from_logits": False, "label_smoothing": 0.0},
              one_hot([2, 0, 1, 2, 2], 3), random_probabilities(rng, 5, 3),
              class_weight={0: 3.0, 2: 0.5})
    cases.add("cfce/probs/gamma0_alpha1_equals_cce", loss,
              {"alpha": 1.0, "gamma": 0.0, "from_logits": False, "label_smoothing": 0.0},
              one_hot([0, 1, 2], 3), np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1],
                                               [0.2, 0.3, 0.5]]),
              notes=["alpha = 1, gamma = 0 is categorical crossentropy"])


def regression_cases(cases, rng):
    shapes = [(1, 1), (4, 1), (8, 3), (16, 7), (33, 10), (64, 2), (2, 100)]
    for loss, short in (("mean_squared_error", "mse"), ("mean_absolute_error", "mae")):
        for i, (batch, classes) in enumerate(shapes):
            mode = WEIGHT_MODES[i % len(WEIGHT_MODES)]
            y = f32(rng.normal(0.0, 2.0, (batch, classes)))
            x = f32(y + rng.normal(0.0, 1.0, (batch, classes)))
            exact = rng.random((batch, classes)) < 0.1  # some y == p: the |y - p| kink
            x[exact] = y[exact]
            cases.add(f"{short}/b{batch}c{classes}/w_{mode}", loss, {}, y, x,
                      random_sample_weight(rng, batch, mode))
        y = np.array([[1.0, -2.0, 0.5], [3.0, 3.0, 3.0]])
        x = np.array([[1.0, -2.5, 0.5], [3.0, 4.0, 1.0]])
        cases.add(f"{short}/exact_matches", loss, {}, y, x,
                  notes=["|y - p| has gradient 0 where y == p (sign(0) = 0)"])
        cases.add(f"{short}/all_zero_weights/b3c2", loss, {}, f32(rng.normal(size=(3, 2))),
                  f32(rng.normal(size=(3, 2))), np.zeros(3))
        cases.add(f"{short}/large_values/b2c2", loss, {}, [[1e18, -1e18], [0.0, 3e19]],
                  [[-1e18, 1e18], [1e19, 0.0]],
                  notes=["squares reach 1e39: finite in float64, overflow to inf in float32"])


# ---------------------------------------------------------------------------------------------
# Metrics (numpy float64; keras/src/metrics/accuracy_metrics.py and reduction_metrics.py)
# ---------------------------------------------------------------------------------------------


def metric_values(metric, y_true, y_pred, config):
    """Per-sample values of the metric function (before weighting)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if metric == "binary_accuracy":
        if y_true.ndim == y_pred.ndim - 1:
            y_true = y_true[..., None]
        predicted = (y_pred > config["threshold"]).astype(np.float64)
        return np.mean((y_true == predicted).astype(np.float64), axis=-1)
    if metric in ("sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"):
        labels = y_true.reshape(y_pred.shape[0])
    else:
        labels = np.argmax(y_true, axis=-1)  # first maximum on ties
    if metric in ("categorical_accuracy", "sparse_categorical_accuracy"):
        return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)
    k = config["k"]
    classes = y_pred.shape[-1]
    if k >= classes:
        return np.ones(y_pred.shape[0])
    target = y_pred[np.arange(y_pred.shape[0]), labels.astype(np.int64)]
    kth_largest = -np.sort(-y_pred, axis=-1)[:, k - 1]
    return (target >= kth_largest).astype(np.float64)  # ties at the k-th value count as hits


def resolve_accuracy(y_true_shape, y_pred_shape):
    """The metric keras/src/trainers/compile_utils.py get_metric picks for "accuracy"."""
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_true_shape[-1] == 1 and y_pred_shape[-1] > 1)
    if is_binary:
        return "binary_accuracy"
    if is_sparse:
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


class MeanState:
    """keras.metrics.Mean as MeanMetricWrapper uses it: total += sum(v w), count += sum(w) or B."""

    def __init__(self):
        self.total = 0.0
        self.count = 0.0

    def update(self, values, sample_weight):
        if sample_weight is None:
            self.total += float(np.sum(values))
            self.count += float(values.shape[0])
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
            self.total += float(np.sum(values * w))
            self.count += float(np.sum(w))

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0  # divide_no_nan


METRIC_DEFAULTS = {
    "binary_accuracy": {"threshold": 0.5},
    "categorical_accuracy": {},
    "sparse_categorical_accuracy": {},
    "top_k_categorical_accuracy": {"k": 5},
    "sparse_top_k_categorical_accuracy": {"k": 5},
}


def metric_case(name, metric, config, updates, notes=None, resolved=None):
    evaluated = resolved or metric
    state = MeanState()
    case = {"name": name, "metric": metric, "config": config}
    if metric == "accuracy":
        case["resolved_metric"] = evaluated
    case["updates"] = []
    sparse = evaluated.startswith("sparse")
    for y_true, y_pred, sample_weight in updates:
        y_true = f32(y_true)  # inputs stored as float32 values, as for the losses
        y_pred = f32(y_pred)
        if sample_weight is not None:
            sample_weight = f32(sample_weight)
        values = metric_values(evaluated, y_true, y_pred, config)
        state.update(values, sample_weight)
        case["updates"].append({
            "y_true_shape": list(y_true.shape),
            "y_pred_shape": list(y_pred.shape),
            "y_true": [int(v) for v in y_true.ravel()] if sparse else encode(y_true),
            "y_pred": encode(y_pred),
            "sample_weight": None if sample_weight is None else encode(sample_weight),
            "per_sample": encode(values),
            "total": state.total,
            "count": state.count,
            "result": state.result(),
        })
    case["result_after_first"] = case["updates"][0]["result"]
    case["result_after_second"] = case["updates"][-1]["result"]
    if notes:
        case["notes"] = notes
    return case


def metric_catalogue(rng):
    cases = []

    def batch_of(metric, batch, classes, y_shape=None):
        if metric == "binary_accuracy":
            y = (rng.random((batch, classes)) < 0.5).astype(np.float64)
            x = f32(rng.random((batch, classes)))
            return y, x
        labels = rng.integers(0, classes, batch)
        x = random_probabilities(rng, batch, classes)
        if metric.startswith("sparse"):
            return (labels[:, None] if y_shape == "column" else labels).astype(np.float64), x
        return one_hot(labels, classes), x

    for metric, configs in (
            ("binary_accuracy", [{"threshold": 0.5}, {"threshold": 0.3}, {"threshold": 0.8}]),
            ("categorical_accuracy", [{}]),
            ("sparse_categorical_accuracy", [{}]),
            ("top_k_categorical_accuracy", [{"k": 5}, {"k": 1}, {"k": 2}]),
            ("sparse_top_k_categorical_accuracy", [{"k": 5}, {"k": 1}, {"k": 3}])):
        for config in configs:
            if metric == "binary_accuracy":
                shapes = [(4, 1), (16, 3), (64, 1)]
            elif config.get("k", 5) == 5:
                shapes = [(4, 3), (16, 7), (64, 10), (2, 1000)]
            else:
                shapes = [(4, 3), (16, 7), (64, 10)]
            for i, (batch, classes) in enumerate(shapes):
                modes = [("none", "none"), ("random", "with_zeros"), ("with_zeros", "none")][i % 3]
                updates = []
                for j, mode in enumerate(modes):
                    b = batch if j == 0 else max(1, batch // 2 + 1)
                    y, x = batch_of(metric, b, classes, "column" if i % 2 else None)
                    updates.append((y, x, random_sample_weight(rng, b, mode)))
                suffix = "_".join(f"{k}{_fmt(v)}" for k, v in config.items())
                cases.append(metric_case(f"{metric}/{suffix or 'default'}/b{batch}c{classes}",
                                         metric, config, updates))
    # hand-made edge cases
    cases.append(metric_case(
        "binary_accuracy/threshold_is_strict", "binary_accuracy", {"threshold": 0.5},
        [([[1.0], [0.0], [1.0], [0.5], [0.0]], [[0.5], [0.5], [0.50000006], [0.9], [0.0]], None),
         ([[1, 0, 1], [0, 0, 0]], [[0.7, 0.2, 0.4], [0.5, 0.6, 0.1]], [2.0, 0.5])],
        notes=["y_pred > threshold (0.5 itself is class 0); a target 0.5 never matches; "
               "multi-label rows average over the last axis"]))
    cases.append(metric_case(
        "binary_accuracy/all_zero_weights", "binary_accuracy", {"threshold": 0.5},
        [([[1.0], [0.0]], [[0.9], [0.8]], [0.0, 0.0]), ([[1.0], [0.0]], [[0.9], [0.8]], None)],
        notes=["count 0 after the first update: result 0 (divide_no_nan)"]))
    cases.append(metric_case(
        "categorical_accuracy/ties_pick_first", "categorical_accuracy", {},
        [([[0, 1, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]],
          [[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.3]], None),
         ([[0, 0, 1]], [[0.2, 0.2, 0.6]], [3.0])],
        notes=["argmax takes the first maximum, in y_true and y_pred alike"]))
    cases.append(metric_case(
        "sparse_categorical_accuracy/ties_pick_first", "sparse_categorical_accuracy", {},
        [([[1], [0], [2]], [[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.3, 0.3, 0.3]], [1.0, 2.0, 0.5]),
         ([0, 1], [[0.9, 0.1, 0.0], [0.9, 0.1, 0.0]], None)]))
    cases.append(metric_case(
        "top_k_categorical_accuracy/ties_at_kth_value_count", "top_k_categorical_accuracy",
        {"k": 1},
        [([[0, 0, 1], [0, 1, 0], [1, 0, 0]], [[0.3, 0.3, 0.3], [0.5, 0.25, 0.25],
                                               [0.2, 0.4, 0.4]], None),
         ([[0, 0, 1]], [[0.1, 0.9, 0.8]], None)],
        notes=["in_top_k: the target is a hit when its score >= the k-th largest score, so ties "
               "straddling the boundary all count (TensorFlow in_top_k, Keras JAX/torch code)"]))
    cases.append(metric_case(
        "sparse_top_k_categorical_accuracy/k_at_least_classes", "sparse_top_k_categorical_accuracy",
        {"k": 5}, [([0, 2, 1], [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], None),
                   ([1], [[0.5, 0.2, 0.3]], [0.5])],
        notes=["k >= number of classes: every finite target is in the top k (TensorFlow "
               "in_top_k; jax.lax.top_k and torch.topk reject k > classes)"]))
    cases.append(metric_case(
        "top_k_categorical_accuracy/k2_ties", "top_k_categorical_accuracy", {"k": 2},
        [([[0, 0, 0, 1], [1, 0, 0, 0]], [[0.4, 0.2, 0.2, 0.2], [0.1, 0.3, 0.3, 0.3]], [1.0, 1.0]),
         ([[0, 1, 0, 0]], [[0.5, 0.1, 0.3, 0.1]], None)]))
    # "accuracy" resolved from the shapes
    resolution = [
        ("labels_vs_probabilities", (8,), (8, 4)),
        ("column_labels_vs_probabilities", (8, 1), (8, 4)),
        ("one_hot_vs_probabilities", (8, 4), (8, 4)),
        ("binary_column_vs_column", (8, 1), (8, 1)),
        ("binary_labels_vs_column", (8,), (8, 1)),
        ("multilabel_vs_column", (8, 3), (8, 1)),
        ("one_class_one_hot", (8, 1), (8, 1)),
        ("sequence_labels", (2, 5), (2, 5, 4)),
        ("rank1_vs_rank1", (8,), (8,)),
        ("rank1_vs_rank1_batch1", (1,), (1,)),
    ]
    resolution_json = []
    for name, ts, ps in resolution:
        resolved = resolve_accuracy(ts, ps)
        resolution_json.append({"name": name, "y_true_shape": list(ts), "y_pred_shape": list(ps),
                                "resolved_metric": resolved})
    for name, ts, ps in resolution[:5]:
        resolved = resolve_accuracy(ts, ps)
        updates = []
        for j in range(2):
            batch = ts[0] if j == 0 else 3
            classes = ps[-1]
            if resolved == "binary_accuracy":
                y = (rng.random((batch, 1)) < 0.5).astype(np.float64)
                if len(ts) == 1:
                    y = y[:, 0]
                x = f32(rng.random((batch, 1)))
            else:
                labels = rng.integers(0, classes, batch)
                x = random_probabilities(rng, batch, classes)
                if resolved == "sparse_categorical_accuracy":
                    y = labels.astype(np.float64) if len(ts) == 1 else labels[:, None] * 1.0
                else:
                    y = one_hot(labels, classes)
            updates.append((y, x, random_sample_weight(rng, batch, "random" if j else "none")))
        cases.append(metric_case(f"accuracy/{name}", "accuracy", {"threshold": 0.5}
                                 if resolved == "binary_accuracy" else {}, updates,
                                 resolved=resolved))
    return cases, resolution_json


# ---------------------------------------------------------------------------------------------
# Keras docstring examples
# ---------------------------------------------------------------------------------------------

LOSSES_PY = {"path": "keras/src/losses/losses.py",
             "commit": "04bf53803f04e2af22c601df4748345aa405f704"}
METRICS_PY = {"path": "keras/src/metrics/accuracy_metrics.py",
              "commit": "040582fc160b1080954ddc1f554dd70fbbb1da5a"}

BCE_LOGITS_2D = ([[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]])
CCE_INPUTS = ([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])


def _loss_example(owner, code, loss, config, y_true, y_pred, printed,
                  reduction="sum_over_batch_size", sample_weight=None):
    return {"kind": "loss", "owner": owner, "code": code, "loss": loss, "config": config,
            "reduction": reduction, "y_true": y_true, "y_pred": y_pred,
            "sample_weight": sample_weight, "printed": printed}


def _metric_example(owner, code, metric, config, y_true, y_pred, printed, sample_weight=None):
    return {"kind": "metric", "owner": owner, "code": code, "metric": metric, "config": config,
            "y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight, "printed": printed}


def docstring_examples():
    """The doctest examples of the Keras 3 docstrings, numbers exactly as printed there."""
    bce = {"from_logits": True, "label_smoothing": 0.0}

    def bfce(gamma, balancing):
        return {"apply_class_balancing": balancing, "alpha": 0.25, "gamma": gamma,
                "from_logits": True, "label_smoothing": 0.0}

    cfce = {"alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0}
    cce = {"from_logits": False, "label_smoothing": 0.0}
    scce = {"from_logits": False, "ignore_class": None, "label_smoothing": 0.0}
    y1, x1 = [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]
    y2, x2 = BCE_LOGITS_2D
    yc, xc = CCE_INPUTS
    ex = [
        _loss_example("BinaryCrossentropy", "keras.losses.BinaryCrossentropy(from_logits=True)",
                      "binary_crossentropy", bce, y1, x1, "0.8654"),
        _loss_example("BinaryCrossentropy", "keras.losses.BinaryCrossentropy(from_logits=True)",
                      "binary_crossentropy", bce, y2, x2, "0.8654"),
        _loss_example("BinaryCrossentropy", "bce(y_true, y_pred, sample_weight=[0.8, 0.2])",
                      "binary_crossentropy", bce, y2, x2, "0.243", sample_weight=[0.8, 0.2]),
        _loss_example("BinaryCrossentropy",
                      'keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")',
                      "binary_crossentropy", bce, y2, x2, "1.730", reduction="sum"),
        _loss_example("BinaryCrossentropy",
                      "keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)",
                      "binary_crossentropy", bce, y2, x2, "array([0.235, 1.496], dtype=float32)",
                      reduction="none"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(gamma=2, from_logits=True)",
                      "binary_focal_crossentropy", bfce(2.0, False), y1, x1, "0.691"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2, "
                      "from_logits=True)", "binary_focal_crossentropy", bfce(2.0, True), y1, x1,
                      "0.51"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(gamma=3, from_logits=True)",
                      "binary_focal_crossentropy", bfce(3.0, False), y2, x2, "0.647"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3, "
                      "from_logits=True)", "binary_focal_crossentropy", bfce(3.0, True), y2, x2,
                      "0.482"),
        _loss_example("BinaryFocalCrossentropy",
                      "loss(y_true, y_pred, sample_weight=[0.8, 0.2])  # gamma=3",
                      "binary_focal_crossentropy", bfce(3.0, False), y2, x2, "0.133",
                      sample_weight=[0.8, 0.2]),
        _loss_example("BinaryFocalCrossentropy",
                      "loss(y_true, y_pred, sample_weight=[0.8, 0.2])  # balancing, gamma=3",
                      "binary_focal_crossentropy", bfce(3.0, True), y2, x2, "0.097",
                      sample_weight=[0.8, 0.2]),
        _loss_example("BinaryFocalCrossentropy",
                      'keras.losses.BinaryFocalCrossentropy(gamma=4, from_logits=True, '
                      'reduction="sum")', "binary_focal_crossentropy", bfce(4.0, False), y2, x2,
                      "1.222", reduction="sum"),
        _loss_example("BinaryFocalCrossentropy",
                      'keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=4, '
                      'from_logits=True, reduction="sum")', "binary_focal_crossentropy",
                      bfce(4.0, True), y2, x2, "0.914", reduction="sum"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(gamma=5, from_logits=True, "
                      "reduction=None)", "binary_focal_crossentropy", bfce(5.0, False), y2, x2,
                      "array([0.0017 1.1561], dtype=float32)", reduction="none"),
        _loss_example("BinaryFocalCrossentropy",
                      "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=5, "
                      "from_logits=True, reduction=None)", "binary_focal_crossentropy",
                      bfce(5.0, True), y2, x2, "array([0.0004 0.8670], dtype=float32)",
                      reduction="none"),
        _loss_example("CategoricalCrossentropy", "keras.losses.CategoricalCrossentropy()",
                      "categorical_crossentropy", cce, yc, xc, "1.177"),
        _loss_example("CategoricalCrossentropy",
                      "cce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))",
                      "categorical_crossentropy", cce, yc, xc, "0.814", sample_weight=[0.3, 0.7]),
        _loss_example("CategoricalCrossentropy",
                      'keras.losses.CategoricalCrossentropy(reduction="sum")',
                      "categorical_crossentropy", cce, yc, xc, "2.354", reduction="sum"),
        _loss_example("CategoricalCrossentropy",
                      "keras.losses.CategoricalCrossentropy(reduction=None)",
                      "categorical_crossentropy", cce, yc, xc,
                      "array([0.0513, 2.303], dtype=float32)", reduction="none"),
        _loss_example("CategoricalFocalCrossentropy",
                      "keras.losses.CategoricalFocalCrossentropy()",
                      "categorical_focal_crossentropy", cfce, yc, xc, "0.23315276"),
        _loss_example("CategoricalFocalCrossentropy",
                      "cce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))",
                      "categorical_focal_crossentropy", cfce, yc, xc, "0.1632",
                      sample_weight=[0.3, 0.7]),
        _loss_example("CategoricalFocalCrossentropy",
                      'keras.losses.CategoricalFocalCrossentropy(reduction="sum")',
                      "categorical_focal_crossentropy", cfce, yc, xc, "0.46631", reduction="sum"),
        _loss_example("CategoricalFocalCrossentropy",
                      "keras.losses.CategoricalFocalCrossentropy(reduction=None)",
                      "categorical_focal_crossentropy", cfce, yc, xc,
                      "array([3.2058331e-05, 4.6627346e-01], dtype=float32)", reduction="none"),
        _loss_example("SparseCategoricalCrossentropy",
                      "keras.losses.SparseCategoricalCrossentropy()",
                      "sparse_categorical_crossentropy", scce, [1, 2], xc, "1.177"),
        _loss_example("SparseCategoricalCrossentropy",
                      "scce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))",
                      "sparse_categorical_crossentropy", scce, [1, 2], xc, "0.814",
                      sample_weight=[0.3, 0.7]),
        _loss_example("SparseCategoricalCrossentropy",
                      'keras.losses.SparseCategoricalCrossentropy(reduction="sum")',
                      "sparse_categorical_crossentropy", scce, [1, 2], xc, "2.354",
                      reduction="sum"),
        _loss_example("SparseCategoricalCrossentropy",
                      "keras.losses.SparseCategoricalCrossentropy(reduction=None)",
                      "sparse_categorical_crossentropy", scce, [1, 2], xc,
                      "array([0.0513, 2.303], dtype=float32)", reduction="none"),
        # function docstrings (per-sample values)
        _loss_example("categorical_crossentropy",
                      "keras.losses.categorical_crossentropy(y_true, y_pred)",
                      "categorical_crossentropy", cce, yc, xc,
                      "array([0.0513, 2.303], dtype=float32)", reduction="none"),
        _loss_example("categorical_focal_crossentropy",
                      "keras.losses.categorical_focal_crossentropy(y_true, y_pred)",
                      "categorical_focal_crossentropy", cfce, yc,
                      [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]],
                      "array([2.63401289e-04, 6.75912094e-01], dtype=float32)", reduction="none"),
        _loss_example("sparse_categorical_crossentropy",
                      "keras.losses.sparse_categorical_crossentropy(y_true, y_pred)",
                      "sparse_categorical_crossentropy", scce, [1, 2], xc,
                      "array([0.0513, 2.303], dtype=float32)", reduction="none"),
        _loss_example("binary_crossentropy", "keras.losses.binary_crossentropy(y_true, y_pred)",
                      "binary_crossentropy", {"from_logits": False, "label_smoothing": 0.0},
                      [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
                      "array([0.916 , 0.714], dtype=float32)", reduction="none"),
        _loss_example("binary_focal_crossentropy",
                      "keras.losses.binary_focal_crossentropy(y_true, y_pred, gamma=2)",
                      "binary_focal_crossentropy",
                      {"apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0,
                       "from_logits": False, "label_smoothing": 0.0},
                      [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
                      "array([0.330, 0.206], dtype=float32)", reduction="none"),
    ]
    for e in ex:
        e["source"] = LOSSES_PY
    yk, xk = [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    metric_ex = [
        _metric_example("BinaryAccuracy", "m = keras.metrics.BinaryAccuracy()",
                        "binary_accuracy", {"threshold": 0.5}, [[1], [1], [0], [0]],
                        [[0.98], [1], [0], [0.6]], "0.75"),
        _metric_example("BinaryAccuracy", "sample_weight=[1, 0, 0, 1]", "binary_accuracy",
                        {"threshold": 0.5}, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], "0.5",
                        sample_weight=[1, 0, 0, 1]),
        _metric_example("CategoricalAccuracy", "m = keras.metrics.CategoricalAccuracy()",
                        "categorical_accuracy", {}, yk, [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "0.5"),
        _metric_example("CategoricalAccuracy", "sample_weight=[0.7, 0.3]", "categorical_accuracy",
                        {}, yk, xk, "0.3", sample_weight=[0.7, 0.3]),
        _metric_example("SparseCategoricalAccuracy",
                        "m = keras.metrics.SparseCategoricalAccuracy()",
                        "sparse_categorical_accuracy", {}, [[2], [1]],
                        [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], "0.5"),
        _metric_example("SparseCategoricalAccuracy", "sample_weight=[0.7, 0.3]",
                        "sparse_categorical_accuracy", {}, [[2], [1]],
                        [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], "0.3", sample_weight=[0.7, 0.3]),
        _metric_example("TopKCategoricalAccuracy", "m = keras.metrics.TopKCategoricalAccuracy(k=1)",
                        "top_k_categorical_accuracy", {"k": 1}, yk, xk, "0.5"),
        _metric_example("TopKCategoricalAccuracy", "sample_weight=[0.7, 0.3]  # k=1",
                        "top_k_categorical_accuracy", {"k": 1}, yk, xk, "0.3",
                        sample_weight=[0.7, 0.3]),
        _metric_example("SparseTopKCategoricalAccuracy",
                        "m = keras.metrics.SparseTopKCategoricalAccuracy(k=1)",
                        "sparse_top_k_categorical_accuracy", {"k": 1}, [2, 1], xk, "0.5"),
        _metric_example("SparseTopKCategoricalAccuracy", "sample_weight=[0.7, 0.3]  # k=1",
                        "sparse_top_k_categorical_accuracy", {"k": 1}, [2, 1], xk, "0.3",
                        sample_weight=[0.7, 0.3]),
    ]
    for e in metric_ex:
        e["source"] = METRICS_PY
    return ex + metric_ex


def _decimals(token):
    mantissa = token.lower().split("e")[0]
    exponent = int(token.lower().split("e")[1]) if "e" in token.lower() else 0
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return digits - exponent


def check_docstring_example(example):
    """Evaluates one example in float64 and float32; agrees if either rounds to the printed text."""
    printed = example["printed"]
    tokens = printed.replace("array(", "").replace("dtype=float32", "").replace(")", "")
    tokens = tokens.replace("[", " ").replace("]", " ").replace(",", " ").split()
    expected = [float(t) for t in tokens]
    results = {}
    if example["kind"] == "loss":
        sparse = example["loss"] == "sparse_categorical_crossentropy"
        y_pred = np.atleast_2d(np.asarray(example["y_pred"], dtype=np.float64))
        y_true = np.asarray(example["y_true"], dtype=np.int64 if sparse else np.float64)
        y_true = y_true.reshape(y_pred.shape[0]) if sparse else y_true.reshape(y_pred.shape)
        for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            xp = np.asarray(y_pred, dtype=np.float32 if dtype == torch.float32 else np.float64)
            yt, yp, w = _tensors(example["loss"], y_true, xp.astype(np.float64),
                                 example["sample_weight"], dtype)
            if dtype == torch.float32:
                yp = torch.tensor(xp, dtype=dtype)
            values, mask = per_sample_losses(example["loss"], yt, yp, example["config"])
            out = reduce(values, w, mask, example["reduction"])
            results[name] = [float(v) for v in np.atleast_1d(out.detach().numpy())]
    else:
        state = MeanState()
        state.update(metric_values(example["metric"], example["y_true"], example["y_pred"],
                                   example["config"]), example["sample_weight"])
        results["float64"] = [state.result()]
        results["float32"] = [float(np.float32(state.result()))]
    def shown_as(value, token, rule):
        unit = 10.0 ** (-_decimals(token))
        if rule == "rounded":
            return abs(value - float(token)) <= 0.5 * unit * (1 + 1e-9)
        truncated = math.trunc(value / unit * (1 + 1e-12))  # toward zero, as printed digits
        return abs(truncated * unit - float(token)) <= 1e-9 * unit

    example["expected"] = expected
    example["computed_float64"] = results["float64"]
    example["computed_float32"] = results["float32"]
    example["printed_digits"] = None
    for rule in ("rounded", "truncated"):
        if any(len(values) == len(tokens) and all(shown_as(v, t, rule)
                                                   for t, v in zip(tokens, values))
               for values in results.values()):
            example["printed_digits"] = rule
            break
    return example


# ---------------------------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------------------------


def hand_checks():
    """A few values checked against closed forms."""
    ln2 = math.log(2.0)
    r = evaluate("binary_crossentropy", {"from_logits": False, "label_smoothing": 0.0},
                 np.array([[0.0], [1.0]]), np.array([[0.5], [0.5]]), None)
    assert np.allclose(r["per_sample"], ln2, rtol=1e-15), r["per_sample"]
    assert np.allclose(r["grad"]["sum"].ravel(), [2.0, -2.0], rtol=1e-12)  # +-1/p, 1/(1-p)
    r = evaluate("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.0},
                 np.array([[0.0], [1.0]]), np.array([[0.0], [0.0]]), None)
    assert np.allclose(r["per_sample"], ln2, rtol=1e-15)
    assert np.allclose(r["grad"]["sum_over_batch_size"].ravel(), [0.25, -0.25], rtol=1e-15)
    r = evaluate("binary_crossentropy", {"from_logits": False, "label_smoothing": 0.0},
                 np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]]), None)
    assert np.isclose(r["per_sample"][0], -math.log(EPSILON), rtol=1e-15)  # clipped to eps
    assert abs(r["per_sample"][1] - (-math.log1p(-EPSILON))) < 1e-15
    assert np.all(r["grad"]["sum"][0] == 0.0)  # clipped: no gradient
    r = evaluate("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.0},
                 one_hot([0], 4), np.zeros((1, 4)), None)
    assert np.isclose(r["per_sample"][0], math.log(4.0), rtol=1e-15)
    assert np.allclose(r["grad"]["sum"], [[-0.75, 0.25, 0.25, 0.25]], rtol=1e-15)
    # label smoothing 0.5 on 2 classes makes targets (0.75, 0.25)
    r = evaluate("categorical_crossentropy", {"from_logits": False, "label_smoothing": 0.5},
                 one_hot([0], 2), np.array([[0.5, 0.5]]), None)
    assert np.isclose(r["per_sample"][0], ln2, rtol=1e-15)
    # sparse smoothing equals categorical smoothing of the one-hot target
    x = np.array([[1.0, -2.0, 0.5]])
    a = evaluate("sparse_categorical_crossentropy",
                 {"from_logits": True, "ignore_class": None, "label_smoothing": 0.3},
                 np.array([2]), x, None)
    b = evaluate("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.3},
                 one_hot([2], 3), x, None)
    assert np.allclose(a["per_sample"], b["per_sample"], rtol=1e-14)
    assert np.allclose(a["grad"]["sum"], b["grad"]["sum"], rtol=1e-13)
    # focal with gamma = 0 and no balancing is BCE; alpha = 1, gamma = 0 categorical is CCE
    y = np.array([[0.0, 1.0]])
    x = np.array([[0.3, 0.8]])
    a = evaluate("binary_focal_crossentropy",
                 {"apply_class_balancing": False, "alpha": 0.25, "gamma": 0.0,
                  "from_logits": False, "label_smoothing": 0.1}, y, x, None)
    b = evaluate("binary_crossentropy", {"from_logits": False, "label_smoothing": 0.1}, y, x, None)
    assert np.allclose(a["per_sample"], b["per_sample"], rtol=1e-15)
    # reductions: weights (1, 3) on losses (ln 2, ln 2)
    r = evaluate("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.0},
                 np.array([[0.0], [1.0]]), np.zeros((2, 1)), np.array([1.0, 3.0]))
    assert np.isclose(r["reduced"]["sum"], 4 * ln2)
    assert np.isclose(r["reduced"]["sum_over_batch_size"], 2 * ln2)
    assert np.isclose(r["reduced"]["mean_with_sample_weight"], ln2)
    # ignore_class: two valid of four; sum_over_batch_size divides by 2
    r = evaluate("sparse_categorical_crossentropy",
                 {"from_logits": True, "ignore_class": -1, "label_smoothing": 0.0},
                 np.array([0, -1, 1, -1]), np.zeros((4, 2)), None)
    assert np.allclose(r["per_sample"], [ln2, 0, ln2, 0])
    assert np.isclose(r["reduced"]["sum_over_batch_size"], ln2)
    assert np.isclose(r["reduced"]["mean_with_sample_weight"], ln2)
    print("hand checks passed")


def finite_difference_check(cases, rng, cases_per_loss=16):
    """Compares autograd with central differences on random coordinates of smooth cases."""
    checked = failed = 0
    per_loss = {}
    for case in cases:
        if per_loss.get(case["loss"], 0) >= cases_per_loss:
            continue
        if any(tag in case["name"] for tag in ("clip", "extreme", "inf", "large")):
            continue
        if case["class_weight"] is not None or case["batch"] * case["classes"] > 2000:
            continue
        sparse = case["loss"] == "sparse_categorical_crossentropy"
        y_pred = np.array(case["y_pred"], dtype=np.float64).reshape(case["batch"], case["classes"])
        y_true = np.array(case["y_true"], dtype=np.int64 if sparse else np.float64)
        y_true = y_true if sparse else y_true.reshape(y_pred.shape)
        w = None if case["sample_weight"] is None else np.array(case["sample_weight"])
        cfg = case["config"]

        def value(x, reduction):
            yt, yp, wt = _tensors(case["loss"], y_true, x, w, torch.float64)
            v, m = per_sample_losses(case["loss"], yt, yp, cfg)
            return float(reduce(v, wt, m, reduction).item())

        checked += 1
        per_loss[case["loss"]] = per_loss.get(case["loss"], 0) + 1
        for reduction in REDUCTIONS:
            grad = np.array(case["grad"][reduction], dtype=np.float64).reshape(y_pred.shape)
            for _ in range(3):
                i = rng.integers(0, y_pred.shape[0])
                j = rng.integers(0, y_pred.shape[1])
                x0 = y_pred[i, j]
                h = 1e-6 * max(1.0, abs(x0))
                if not cfg.get("from_logits", True) and case["loss"] not in (
                        "mean_squared_error", "mean_absolute_error"):
                    h = min(h, 0.25 * min(x0, 1 - x0) if "binary" in case["loss"] else h)
                estimates = []
                for step in (h, h / 4):
                    xp, xm = y_pred.copy(), y_pred.copy()
                    xp[i, j] += step
                    xm[i, j] -= step
                    estimates.append((value(xp, reduction) - value(xm, reduction)) / (2 * step))
                if abs(estimates[0] - estimates[1]) > 1e-5 * (1 + abs(estimates[0])):
                    continue  # a kink (|y - p| = 0, clip bound) lies within the step
                if abs(estimates[1] - grad[i, j]) > 1e-5 * (1 + abs(grad[i, j])):
                    failed += 1
                    print("finite difference mismatch", case["name"], reduction, i, j,
                          estimates[1], grad[i, j])
    print(f"finite differences: {checked} cases checked, {failed} mismatches")
    return failed == 0


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))),
                        np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))


def _softmax(x):
    with np.errstate(invalid="ignore"):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def analytic_gradient_check(cases):
    """Closed-form gradients of the unclipped paths, on every case they cover (extremes included).

    d/dx of the 'sum' reduction: BCE logits w (sigmoid(x) - y) / C; CCE logits
    w (softmax(x) sum(y) - y); sparse logits w m ((1 - ls) (softmax - onehot) + ls (softmax - 1/C));
    MSE w 2 (p - y) / C; MAE w sign(p - y) / C.
    """
    checked = failed = 0
    for case in cases:
        loss, cfg = case["loss"], case["config"]
        b, c = case["batch"], case["classes"]
        x = np.array([float(v) for v in case["y_pred"]]).reshape(b, c)
        w = case.get("effective_sample_weight") or case["sample_weight"]
        w = np.ones(b) if w is None else np.array(w, dtype=np.float64)
        ls = cfg.get("label_smoothing", 0.0)
        if loss == "binary_crossentropy" and cfg["from_logits"]:
            y = np.array(case["y_true"]).reshape(b, c) * (1 - ls) + 0.5 * ls
            expected = w[:, None] * (_sigmoid(x) - y) / c
        elif loss == "categorical_crossentropy" and cfg["from_logits"]:
            y = np.array(case["y_true"]).reshape(b, c)
            y = y * (1 - ls) + ls / c if ls else y
            expected = w[:, None] * (_softmax(x) * y.sum(-1, keepdims=True) - y)
        elif loss == "sparse_categorical_crossentropy" and cfg["from_logits"]:
            labels = np.array(case["y_true"])
            valid = np.ones(b, dtype=bool) if cfg["ignore_class"] is None else (
                labels != cfg["ignore_class"])
            target = np.eye(c)[np.where(valid, labels, 0)]
            smooth = target * (1 - ls) + ls / c
            expected = (w * valid)[:, None] * (_softmax(x) - smooth)
        elif loss == "mean_squared_error":
            y = np.array(case["y_true"]).reshape(b, c)
            expected = w[:, None] * 2 * (x - y) / c
        elif loss == "mean_absolute_error":
            y = np.array(case["y_true"]).reshape(b, c)
            expected = w[:, None] * np.sign(x - y) / c
        else:
            continue
        checked += 1
        got = np.array([float(v) for v in case["grad"]["sum"]]).reshape(b, c)
        scale = max(1.0, float(np.abs(expected).max()))
        if not np.allclose(got, expected, rtol=1e-12, atol=1e-15 * scale):
            failed += 1
            print("analytic gradient mismatch", case["name"], np.abs(got - expected).max())
    print(f"analytic gradients: {checked} cases checked, {failed} mismatches")
    return failed == 0


# ---------------------------------------------------------------------------------------------


def write_json(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    return os.path.getsize(path)


def main():
    hand_checks()
    cases = LossCases()
    binary_cases(cases, np.random.default_rng(20240601))
    categorical_cases(cases, np.random.default_rng(20240602))
    sparse_cases(cases, np.random.default_rng(20240603))
    focal_cases(cases, np.random.default_rng(20240604))
    regression_cases(cases, np.random.default_rng(20240605))
    ok = finite_difference_check(cases.cases, np.random.default_rng(7))
    ok = analytic_gradient_check(cases.cases) and ok
    if cases.literal_mismatches:
        print("literal transcription disagrees:", cases.literal_mismatches)
        ok = False

    counts = {}
    for case in cases.cases:
        counts[case["loss"]] = counts.get(case["loss"], 0) + 1
    losses_payload = {
        "description": (
            "Golden values for the Keras 3 losses (keras/src/losses/losses.py, loss.py), written "
            "by tests/golden/make_golden.py in float64 (eps = 1e-7); see tests/golden/README.md. "
            "y_true and y_pred are row-major (batch, classes); sparse y_true are integer labels. "
            "per_sample is reduction 'none' with weights applied; reduced and grad hold every "
            "other reduction and d(reduced)/d(y_pred). class_weight maps a class to a weight "
            "(effective_sample_weight is the result); keras_literal_nan marks cases whose "
            "literal Keras IEEE evaluation is NaN where the finite limit is given; float32 holds "
            "the float32 evaluation where it differs materially; reduced_pre_pr21908 is the "
            "masked sum_over_batch_size of Keras releases that divided by valid + 1e-7."),
        "epsilon": EPSILON,
        "case_counts": counts,
        "cases": cases.cases,
    }
    size = write_json(os.path.join(HERE, "losses.json"), losses_payload)
    print(f"losses.json: {len(cases.cases)} cases, {size / 1e6:.2f} MB, {counts}")
    print("  with float32 block:", sum("float32" in c for c in cases.cases),
          " keras_literal_nan:", sum(c.get("keras_literal_nan", False) for c in cases.cases))

    metric_cases, resolution = metric_catalogue(np.random.default_rng(20240606))
    metrics_payload = {
        "description": (
            "Golden values for the Keras 3 accuracy metrics (keras/src/metrics/"
            "accuracy_metrics.py) as weighted means (MeanMetricWrapper: total += sum(v w), "
            "count += sum(w), or the batch size without weights; result = total / count, 0 when "
            "count is 0). Each case applies its updates in order; per_sample are the metric "
            "function's values before weighting, total/count/result the state after that update. "
            "'accuracy' cases give the metric Keras resolves from the shapes "
            "(keras/src/trainers/compile_utils.py get_metric)."),
        "accuracy_resolution": resolution,
        "cases": metric_cases,
    }
    size = write_json(os.path.join(HERE, "metrics.json"), metrics_payload)
    print(f"metrics.json: {len(metric_cases)} cases, {size / 1e3:.0f} kB")

    examples = [check_docstring_example(e) for e in docstring_examples()]
    mismatches = [e for e in examples if e["printed_digits"] is None]
    truncated = [e for e in examples if e["printed_digits"] == "truncated"]
    doc_payload = {
        "description": (
            "Examples printed in the Keras 3 docstrings (keras-team/keras, file and commit in "
            "'source'), numbers exactly as printed ('printed', parsed into 'expected'), with this "
            "implementation's float64 and float32 values; printed_digits says whether the printed "
            "digits are the computed value rounded or truncated (null: neither). "
            "MeanSquaredError and MeanAbsoluteError have no numeric example (their "
            "function docstrings use random inputs)."),
        "examples": examples,
    }
    write_json(os.path.join(HERE, "keras_docstring_examples.json"), doc_payload)
    print(f"keras_docstring_examples.json: {len(examples)} examples, "
          f"{len(truncated)} printed truncated rather than rounded, "
          f"{len(mismatches)} not matching the printed digits")
    for e in truncated:
        print("   truncated:", e["owner"], e["printed"], e["computed_float32"])
    for e in mismatches:
        print("  ", e["owner"], e["code"], "printed", e["printed"], "computed",
              e["computed_float64"], e["computed_float32"])
    return 0 if ok and not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
