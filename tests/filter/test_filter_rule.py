"""The selection rule of METHOD.md §2.3.4 on hand-made scores."""
import numpy as np

from synthrec.filter import default_threshold, select


def _ids(n, prefix="img"):
    return [f"{prefix}{i:03d}" for i in range(n)]


def _shas(n):
    return [f"{i:064x}" for i in range(n)]


def test_threshold_is_one_over_n_as_a_float_and_strict():
    assert default_threshold(4) == 0.25 and isinstance(default_threshold("4"), float)  # the authors' 1/"4" crashed
    p = [0.24, 0.25, 0.26, 0.9]
    sel = select([0, 0, 0, 0], p, _ids(4), _shas(4), num_classes=4, seed=0)
    assert sel.threshold == 0.25
    assert sel.kept.tolist() == [False, False, True, True]
    assert sel.selected_by == [None, None, "threshold", "threshold"]


def test_cap_keeps_a_seeded_uniform_subset_of_the_passing_images():
    n = 20
    p = [0.9] * 15 + [0.1] * 5  # 15 pass, cap 6
    ids, shas = _ids(n), _shas(n)
    a = select([0] * n, p, ids, shas, num_classes=2, seed=1, cap=6)
    b = select([0] * n, p, ids, shas, num_classes=2, seed=1, cap=6)
    c = select([0] * n, p, ids, shas, num_classes=2, seed=2, cap=6)
    assert a.kept.sum() == 6 and not a.kept[15:].any()
    assert set(a.selected_by) <= {None, "random_subset"}
    assert a.kept.tolist() == b.kept.tolist() and a.kept.tolist() != c.kept.tolist()
    # input order does not matter: the same images are chosen from a shuffled list
    perm = np.random.default_rng(0).permutation(n)
    d = select([0] * n, [p[i] for i in perm], [ids[i] for i in perm], [shas[i] for i in perm], num_classes=2, seed=1,
               cap=6)
    assert {ids[perm[i]] for i in np.flatnonzero(d.kept)} == {ids[i] for i in np.flatnonzero(a.kept)}


def test_random_subset_is_uniform_over_seeds():
    counts = np.zeros(10)
    for seed in range(400):
        counts += select([0] * 10, [0.9] * 10, _ids(10), _shas(10), num_classes=2, seed=seed, cap=3).kept
    assert counts.sum() == 1200 and counts.min() > 80 and counts.max() < 160  # each ~120


def test_fill_to_cap_tops_up_by_p_below_the_threshold():
    p = [0.9, 0.05, 0.6, 0.3, 0.45, 0.2]  # 2 pass 0.5 (N=2)
    ids, shas = _ids(6), _shas(6)
    plain = select([0] * 6, p, ids, shas, num_classes=2, seed=0, cap=4)
    assert plain.kept.tolist() == [True, False, True, False, False, False]
    filled = select([0] * 6, p, ids, shas, num_classes=2, seed=0, cap=4, fill_to_cap=True)
    assert filled.kept.tolist() == [True, False, True, True, True, False]
    assert filled.selected_by == ["threshold", None, "threshold", "fill_to_cap", "fill_to_cap", None]


def test_exact_duplicates_go_before_selection():
    shas = ["a" * 64, "b" * 64, "a" * 64, "c" * 64]
    ids = ["x3", "x1", "x0", "x2"]  # the copy with the smallest id stays, whatever the order
    sel = select([0, 0, 0, 1], [0.9, 0.9, 0.95, 0.9], ids, shas, num_classes=2, seed=0)
    assert sel.duplicate.tolist() == [True, False, False, False]
    assert sel.kept.tolist() == [False, True, True, True]
    loose = select([0, 0, 0, 1], [0.9, 0.9, 0.95, 0.9], ids, shas, num_classes=2, seed=0, dedup=False)
    assert loose.duplicate[0] and loose.kept.all()  # flagged, but kept when dedup is off


def test_undecodable_images_are_never_kept_even_by_fill():
    sel = select([0, 0, 0], [np.nan, 0.9, 0.1], _ids(3), _shas(3), num_classes=2, seed=0, cap=3, fill_to_cap=True,
                 valid=[False, True, True])
    assert sel.kept.tolist() == [False, True, True]


def test_classes_are_selected_independently():
    base_cls = [0] * 8 + [1] * 8
    p = [0.9] * 16
    a = select(base_cls, p, _ids(16), _shas(16), num_classes=2, seed=5, cap=3)
    more = select(base_cls + [1] * 4, p + [0.9] * 4, _ids(20), _shas(20), num_classes=2, seed=5, cap=3)
    assert a.kept[:8].tolist() == more.kept[:8].tolist()
