"""Deep embedded clustering: the Student's t assignment, its target and loss, checked by hand
and against finite differences, and DEC / IDEC recovering clusters on a toy problem."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scratchnn import (Adam, Dense, Identity, Sequential, Tanh, check_layer, check_loss, check_model,
                       fit)
from scratchnn.cluster import adjusted_rand_score
from scratchnn.dec import DEC, Concat, IDECLoss, StudentTAssignment, kl_divergence, target_distribution
from scratchnn.losses import mse

TOL = 1e-6
codes = st.integers(1, 6).flatmap(lambda n: st.integers(1, 4).flatmap(
    lambda d: arrays(np.float64, (n, d), elements=st.floats(-3, 3))))


@settings(max_examples=40, deadline=None)
@given(codes, st.integers(1, 5), st.floats(0.5, 3.0), st.integers(0, 2**32 - 1))
def test_student_t_gradients_for_codes_and_centres(z, k, alpha, seed):
    centers = np.random.default_rng(seed).standard_normal((k, z.shape[1])) * 2
    layer = StudentTAssignment(centers, alpha=alpha)
    errors = check_layer(layer, z, rng=seed)
    assert set(errors) == {"x", "centers"} and max(errors.values()) < TOL, errors


def test_student_t_assignment_by_hand():
    # z = 0, centres at distance 1 and 2 with alpha = 1: u = (1 + d^2)^-1 = 1/2 and 1/5,
    # q = (1/2, 1/5) / (7/10) = (5/7, 2/7)
    q = StudentTAssignment(np.array([[1.0, 0.0], [0.0, 2.0]])).forward(np.zeros((1, 2)))
    np.testing.assert_allclose(q, [[5 / 7, 2 / 7]])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_kl_gradient_and_target(n, k, seed):
    rng = np.random.default_rng(seed)
    # Entries of q at least 0.02: the finite difference of log q has a truncation error
    # of h^2 / (3 q^3), which stops being negligible for q much below 1e-2.
    q = 0.9 * rng.dirichlet(np.ones(k), size=n) + 0.1 / k
    p = target_distribution(q)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    assert check_loss(kl_divergence, q, p)["output"] < TOL
    assert abs(kl_divergence(p, p)[0]) < 1e-12


def test_target_distribution_by_hand():
    # q rows (0.8, 0.2) and (0.4, 0.6): f = (1.2, 0.8); q^2 / f = (0.5333, 0.05) and (0.1333, 0.45)
    p = target_distribution(np.array([[0.8, 0.2], [0.4, 0.6]]))
    np.testing.assert_allclose(p[0], np.array([0.64 / 1.2, 0.04 / 0.8]) / (0.64 / 1.2 + 0.04 / 0.8))
    np.testing.assert_allclose(p[1], np.array([0.16 / 1.2, 0.36 / 0.8]) / (0.16 / 1.2 + 0.36 / 0.8))
    assert p[0, 0] > 0.8 and p[1, 1] > 0.6          # P is sharper than Q


def test_dec_gradient_through_an_encoder_is_eq4_of_the_paper():
    rng = np.random.default_rng(0)
    encoder = Sequential([Dense(4, 3, rng=0, dtype=np.float64), Tanh(), Dense(3, 2, rng=1, dtype=np.float64)])
    assign = StudentTAssignment(rng.standard_normal((3, 2)))
    model = Sequential([*encoder.layers, assign])
    x = rng.standard_normal((7, 4))
    p = target_distribution(model.predict(x))
    errors = check_model(model, kl_divergence, x, p)
    assert len(errors) == 5 and max(errors.values()) < TOL, errors
    # Eq. 4: dL/dz_i = (alpha+1)/alpha sum_j (1 + ||z_i - mu_j||^2/alpha)^-1 (p_ij - q_ij)(z_i - mu_j) / N
    z = encoder.predict(x)
    q = assign.forward(z)
    dz = assign.backward(kl_divergence(q, p)[1])
    mu = assign.params["centers"]
    diff = z[:, None, :] - mu[None, :, :]
    kernel = 1 / (1 + (diff ** 2).sum(-1))
    eq4 = 2 * ((kernel * (p - q))[:, :, None] * diff).sum(axis=1) / len(x)
    np.testing.assert_allclose(dz, eq4, rtol=1e-10)


def test_idec_loss_and_concat_gradients():
    rng = np.random.default_rng(1)
    encoder = [Dense(5, 2, rng=0, dtype=np.float64), Tanh()]
    decoder = Sequential([Dense(2, 5, rng=1, dtype=np.float64), Identity()])
    assign = StudentTAssignment(rng.standard_normal((3, 2)))
    model = Sequential([*encoder, Concat([assign, decoder])])
    x = rng.standard_normal((6, 5))
    p = target_distribution(model.predict(x)[:, :3])
    errors = check_model(model, IDECLoss(3, gamma=0.5), x, p, x)
    assert set(errors) == {"0.W", "0.b", "2.0.centers", "2.1.0.W", "2.1.0.b"}
    assert max(errors.values()) < TOL, errors
    assert check_layer(Concat([assign, decoder]), rng.standard_normal((4, 2)))["x"] < TOL


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 3], [3, 0, 0, 0], [0, 3, 3, 0]], float)
    y = rng.integers(0, 3, n)
    return (centres[y] + 0.5 * rng.standard_normal((n, 4))).astype(np.float32), y


def test_dec_and_idec_recover_separated_clusters_and_stop_by_tolerance():
    x, y = blobs()
    for decoder in (None, Sequential([Dense(2, 4, rng=2), Identity()])):
        encoder = Sequential([Dense(4, 2, rng=1), Identity()])
        dec = DEC(encoder, Adam(0.01), n_clusters=3, decoder=decoder, batch_size=30, update_interval=5,
                  tol=0.001, max_steps=2000, rng=0, verbose=False).fit(x)
        assert adjusted_rand_score(y, dec.labels_) > 0.95
        assert dec.history[-1]["changed"] < 0.001 and dec.n_steps_ < 2000 and dec.converged_
        np.testing.assert_array_equal(dec.predict(x), dec.labels_)
        assert not np.allclose(dec.assignment.params["centers"], dec.initial_centers_)


def test_dec_sharpens_the_assignments_it_is_trained_on():
    x, y = blobs()
    dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, batch_size=30,
              update_interval=5, tol=0.0, max_steps=200, rng=0, verbose=False).fit(x)
    confidence = [h["confidence"] for h in dec.history]          # mean of max_j q_ij
    assert len(confidence) >= 20 and confidence[-1] > confidence[0] + 0.05, confidence
    assert adjusted_rand_score(y, dec.labels_) > 0.95


def test_dec_labels_describe_the_final_model_when_stopped_by_the_step_limit():
    x, _ = blobs()
    dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.05), n_clusters=3, batch_size=30,
              update_interval=5, tol=0.0, max_steps=12, rng=0, verbose=False).fit(x)
    assert dec.n_steps_ >= 12 and not dec.converged_
    np.testing.assert_array_equal(dec.labels_, dec.predict(x))


def test_dec_records_clusters_that_empty_out():
    x, y = blobs()
    dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, batch_size=30,
              update_interval=5, max_steps=300, rng=0, verbose=False).fit(x)
    assert dec.empty_clusters_ == 0 and all(h["empty"] == 0 for h in dec.history)
    # A step far too large collapses two blobs onto one centre: said, not hidden.
    dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(5.0), n_clusters=3, batch_size=30,
              update_interval=5, max_steps=300, rng=0, verbose=False).fit(x)
    assert dec.empty_clusters_ == 3 - len(np.unique(dec.labels_)) >= 1
    assert dec.history[-1]["empty"] == dec.empty_clusters_


def test_dec_starts_from_given_centres_and_idec_keeps_the_given_reconstruction_loss():
    x, y = blobs()
    centres = np.stack([x[y == k].mean(axis=0)[:2] for k in range(3)])     # any (3, 2) start
    calls = []

    def counted_mse(output, target):
        calls.append(len(output))
        return mse(output, target)

    encoder = Sequential([Dense(4, 2, rng=1), Identity()])
    dec = DEC(encoder, Adam(0.01), n_clusters=3, decoder=Sequential([Dense(2, 4, rng=2), Identity()]),
              batch_size=30, update_interval=5, max_steps=10, reconstruction=counted_mse,
              initial_centers=centres, rng=0, verbose=False).fit(x)
    np.testing.assert_array_equal(dec.initial_centers_, centres.astype(np.float32))
    # every step reconstructed with it; each of the two fits (one per refresh of P) first tries
    # the loss once on its first batch
    assert calls == [30] * (10 + 2)
    assert dec.history[-1]["step"] == dec.n_steps_    # the step limit's final entry
    assert dec.history[-1]["empty"] == dec.empty_clusters_
    with pytest.raises(ValueError, match=r"initial_centers has shape \(2, 2\); the codes need \(3, 2\)"):
        DEC(encoder, Adam(0.01), n_clusters=3, initial_centers=centres[:2], verbose=False).fit(x)


def test_dec_da_takes_the_target_from_clean_images_and_the_loss_from_augmented_ones(monkeypatch):
    import scratchnn.dec as dec_module
    x, _ = blobs()
    calls = []

    def recording_fit(model, loss, optimizer, xb, targets, **kwargs):
        calls.append((xb, targets))
        return fit(model, loss, optimizer, xb, targets, **kwargs)

    monkeypatch.setattr(dec_module, "fit", recording_fit)
    shift = np.array([100.0, -100.0, 50.0, 0.0], np.float32)    # far from every clean point
    clean = []

    def augment(batch, rng):
        clean.append(batch)
        return batch + shift
    for decoder in (None, Sequential([Dense(2, 4, rng=2), Identity()])):
        calls.clear(), clean.clear()
        encoder = Sequential([Dense(4, 2, rng=1), Identity()])
        codes = encoder.predict(x)
        centres = codes[[0, 50, 100]]
        first_p = target_distribution(StudentTAssignment(centres).forward(codes))
        dec = DEC(encoder, Adam(0.01), n_clusters=3, decoder=decoder, batch_size=30,
                  update_interval=5, tol=0.0, max_steps=10, augment=augment,
                  initial_centers=centres, rng=0, verbose=False).fit(x)
        xb, targets = calls[0]
        assert len(calls) == 2 and len(xb) == 150
        np.testing.assert_array_equal(xb, clean[0] + shift)    # the loss saw augmented images
        p = targets if decoder is None else targets[0]
        # P is the first refresh's target from the clean images (rows of first_p, in batch order)
        rows = [np.flatnonzero((x == row).all(axis=1))[0] for row in clean[0]]
        np.testing.assert_allclose(p, first_p[rows], rtol=1e-5)
        if decoder is not None:                                # IDEC rebuilds what it was shown
            np.testing.assert_array_equal(targets[1], xb)
        np.testing.assert_array_equal(dec.labels_, dec.predict(x))


def test_dec_callback_numbers_join_each_refresh_of_the_history():
    x, y = blobs()
    seen = []

    def watch(dec):
        seen.append(dec.n_clusters)
        return {"ari": adjusted_rand_score(y, dec.predict(x))}

    dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, batch_size=30,
              update_interval=5, tol=0.0, max_steps=20, rng=0, verbose=False).fit(x, watch)
    assert len(seen) == len(dec.history) == 5          # at steps 0, 5, 10, 15 and the limit, 20
    assert [h["step"] for h in dec.history] == [0, 5, 10, 15, 20]
    assert dec.history[-1]["ari"] == adjusted_rand_score(y, dec.labels_)
    with pytest.raises(ValueError, match=r"may not overwrite the history's own \['changed'\]"):
        DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, rng=0,
            verbose=False).fit(x, lambda dec: {"changed": 0.0})
    with pytest.raises(ValueError, match=r"\['loss'\]"):           # the entry's loss comes later
        DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, rng=0,
            verbose=False).fit(x, lambda dec: {"loss": 0.0})
    with pytest.raises(TypeError, match="returns None or a dict"):
        DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3, rng=0,
            verbose=False).fit(x, lambda dec: 0.5)


def test_dec_da_draws_its_augmentation_from_its_own_seed_in_pieces():
    from scratchnn.dec import augmented
    x, _ = blobs()

    def jitter(batch, rng):
        return batch + 0.05 * rng.standard_normal(batch.shape).astype(batch.dtype)

    def centres(seed):
        dec = DEC(Sequential([Dense(4, 2, rng=1), Identity()]), Adam(0.01), n_clusters=3,
                  batch_size=30, update_interval=5, tol=0.0, max_steps=20, augment=jitter,
                  rng=seed, verbose=False).fit(x)
        return dec.assignment.params["centers"]

    np.testing.assert_array_equal(centres(3), centres(3))        # the same seed, the same run
    assert not np.array_equal(centres(3), centres(4))
    # In pieces: rows stay in order, each piece draws anew, and the whole is seeded.
    offsets = lambda batch, rng: batch + rng.random((len(batch), 1))    # noqa: E731
    rows = np.zeros((7, 3))
    out = augmented(offsets, rows, np.random.default_rng(0), piece=2)
    assert out.shape == (7, 3) and (out == out[:, :1]).all()     # one offset per row, in order
    assert len(np.unique(out[:, 0])) == 7
    np.testing.assert_array_equal(out, augmented(offsets, rows, np.random.default_rng(0), piece=2))
