"""The sampler chain (src/sampling/sampler.cpp) against an independent numpy implementation of
llama.cpp's sampler semantics, through tools/sampler_driver.

Each step is written here from its definition: penalties over the last N accepted tokens
(repeat: positive logits divided, others multiplied; then count * frequency + presence
subtracted), top-k, locally typical, top-p, min-p (all at temperature 1, keeping at least
min_keep), then temperature and softmax. Cases whose cut falls within a rounding error of a
threshold are skipped, since float32 and float64 may then legitimately disagree. The draws
are checked with a chi-square goodness-of-fit test against the numpy distribution.
"""
from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass, replace

import numpy as np
import pytest

from conftest import BUILD

DRIVER = BUILD / "sampler_driver"


@dataclass
class Params:
    temp: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    typical: float = 1.0
    repeat_penalty: float = 1.0
    repeat_last_n: int = 64
    presence: float = 0.0
    frequency: float = 0.0
    seed: int = 1234
    min_keep: int = 1


class Borderline(Exception):
    """A cut too close to its threshold to compare float32 with float64."""


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def by_logit(ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """ids ordered by logit descending, lower id first on ties."""
    return ids[np.lexsort((ids, -logits[ids]))]


def oracle(logits32: np.ndarray, history: list[int], p: Params, eps: float = 2e-5):
    """Returns ("greedy", id) or ("dist", ids, probs) for the final distribution."""
    l = logits32.astype(np.float64).copy()
    if p.repeat_last_n != 0 and (p.repeat_penalty != 1 or p.presence != 0 or p.frequency != 0):
        window = history if p.repeat_last_n < 0 else history[-p.repeat_last_n:] if history else []
        ids, counts = np.unique(np.array(window, dtype=np.int64), return_counts=True)
        for t, c in zip(ids, counts):
            l[t] = l[t] * p.repeat_penalty if l[t] <= 0 else l[t] / p.repeat_penalty
            l[t] -= c * p.frequency + p.presence
    if p.temp <= 0:
        top = np.flatnonzero(l == l.max())
        return ("greedy", int(top[0]))
    alive = by_logit(np.arange(len(l)), l)
    mk = max(1, p.min_keep)
    if p.top_k > 0:
        alive = alive[:max(p.top_k, mk)]
    if p.typical < 1 and len(alive) > 1:
        pr = softmax(l[alive])
        ent = -np.sum(pr[pr > 0] * np.log(pr[pr > 0]))
        dist = np.abs(-np.log(pr) - ent)
        order = np.lexsort((alive, dist))
        cum = np.cumsum(pr[order])
        if np.min(np.abs(cum - p.typical)) < eps:
            raise Borderline
        hit = [i for i in range(len(cum)) if cum[i] > p.typical and i + 1 >= mk]
        keep = hit[0] + 1 if hit else len(cum)
        # Nearly equal distances on both sides of the cut could swap in float32.
        if keep < len(order) and abs(dist[order[keep]] - dist[order[keep - 1]]) < 1e-5:
            raise Borderline
        alive = by_logit(alive[order[:keep]], l)
    if p.top_p < 1 and len(alive) > 1:
        pr = softmax(l[alive])
        cum = np.cumsum(pr)
        if np.min(np.abs(cum - p.top_p)) < eps:
            raise Borderline
        hit = [i for i in range(len(cum)) if cum[i] >= p.top_p and i + 1 >= mk]
        alive = alive[:hit[0] + 1] if hit else alive
    if p.min_p > 0 and len(alive) > 1:
        thresh = l[alive[0]] + math.log(p.min_p)
        if np.min(np.abs(l[alive] - thresh)) < 1e-4:
            raise Borderline
        keep = max(int(np.sum(l[alive] >= thresh)), mk)
        alive = alive[:keep]
    return ("dist", alive, softmax(l[alive] / p.temp))


def run_driver(logits: np.ndarray, history: list[int], p: Params, draws: int = 1):
    lines = [
        f"{p.temp!r} {p.top_k} {p.top_p!r} {p.min_p!r} {p.typical!r} {p.repeat_penalty!r} "
        f"{p.repeat_last_n} {p.presence!r} {p.frequency!r} {p.seed} {p.min_keep}",
        f"{len(logits)} " + " ".join(repr(float(x)) for x in logits),
        f"{len(history)} " + " ".join(str(t) for t in history),
        str(draws),
    ]
    out = subprocess.run([str(DRIVER)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    res = {}
    for line in out.stdout.splitlines():
        head, *rest = line.split()
        res[head] = rest
    first = int(res["first"][0])
    k = int(res["dist"][0])
    vals = res["dist"][1:]
    ids = np.array([int(vals[2 * i]) for i in range(k)])
    probs = np.array([float(vals[2 * i + 1]) for i in range(k)])
    counts = {int(a): int(b) for a, b in (x.split(":") for x in res["counts"])}
    return first, ids, probs, counts


def random_logits(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    return (rng.standard_normal(n) * scale).astype(np.float32)


def chi_square_critical(df: int, z: float = 3.09) -> float:
    """Upper quantile of chi-square (z = 3.09: alpha 0.001) by the Wilson-Hilferty approximation."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def check_case(logits, history, p: Params) -> bool:
    try:
        expect = oracle(logits, history, p)
    except Borderline:
        return False
    first, ids, probs, _ = run_driver(logits, history, p)
    if expect[0] == "greedy":
        assert first == expect[1]
        assert ids[0] == expect[1] and probs[0] == 1.0
        return True
    _, e_ids, e_probs = expect
    assert list(ids) == list(e_ids), f"kept ids differ for {p}"
    np.testing.assert_allclose(probs, e_probs, atol=2e-6, rtol=1e-4)
    assert first in set(ids.tolist())
    return True


# One case per filter alone, then combinations, each over several random logit rows.
SINGLE = [
    Params(),                                   # plain softmax at temperature 1
    Params(temp=0.7),
    Params(temp=1.8),
    Params(top_k=5),
    Params(top_k=1),
    Params(top_p=0.9),
    Params(top_p=0.5),
    Params(min_p=0.05),
    Params(min_p=0.3),
    Params(typical=0.9),
    Params(typical=0.5),
    Params(repeat_penalty=1.3),
    Params(repeat_penalty=0.8),
    Params(presence=0.7),
    Params(frequency=0.4),
    Params(repeat_penalty=1.5, presence=0.3, frequency=0.2, repeat_last_n=8),
    Params(repeat_penalty=1.5, repeat_last_n=-1),
    Params(repeat_penalty=1.5, repeat_last_n=0),
    Params(top_p=0.3, min_keep=4),
    Params(min_p=0.5, min_keep=3),
    Params(typical=0.2, min_keep=5),
]
COMBOS = [
    Params(temp=0.8, top_k=40, top_p=0.95, min_p=0.05),           # llama.cpp's defaults
    Params(temp=0.6, top_k=20, top_p=0.8, min_p=0.02, typical=0.9, repeat_penalty=1.1,
           presence=0.2, frequency=0.1, repeat_last_n=16),
    Params(temp=1.3, top_k=0, top_p=0.7, min_p=0.1, typical=0.95),
    Params(temp=0.0, repeat_penalty=1.4, presence=0.5, frequency=0.5),
    Params(temp=-1.0),
]


@pytest.mark.parametrize("params", SINGLE + COMBOS, ids=lambda p: str(p).replace("Params", ""))
def test_chain_matches_numpy(params: Params):
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(12):
        n = int(rng.choice([8, 50, 300, 2000]))
        logits = random_logits(rng, n, scale=float(rng.choice([0.5, 2.0, 5.0])))
        history = rng.integers(0, n, size=int(rng.integers(0, 40))).tolist()
        # Some repeats so that frequency counts above 1 occur.
        history += history[: len(history) // 3]
        if check_case(logits, history, params):
            checked += 1
    assert checked >= 8, "too many borderline cases were skipped"


def test_greedy_lowest_id_on_ties():
    logits = np.array([0.5, 3.0, -1.0, 3.0, 3.0], dtype=np.float32)
    first, ids, probs, _ = run_driver(logits, [], Params(temp=0.0))
    assert first == 1
    assert ids[0] == 1 and probs[0] == 1.0


def test_penalty_window_only_counts_last_n():
    # Token 2 appears only before the last 2 accepted tokens: with repeat_last_n=2 it is not
    # penalized and stays the most likely; with repeat_last_n=8 it drops below token 3.
    logits = np.array([3.0, 3.0, 4.0, 3.0], dtype=np.float32)
    history = [2, 2, 0, 1]
    tops = {}
    for last_n in (2, 8):
        p = Params(repeat_penalty=4.0, repeat_last_n=last_n)
        expect = oracle(logits, history, p)
        _, ids, probs, _ = run_driver(logits, history, p)
        assert list(ids) == list(expect[1])
        np.testing.assert_allclose(probs, expect[2], atol=2e-6)
        tops[last_n] = ids[0]
    assert tops == {2: 2, 8: 3}


@pytest.mark.parametrize("params", [
    Params(temp=1.0),
    Params(temp=0.8, top_k=40, top_p=0.95, min_p=0.05),
    Params(temp=1.5, typical=0.8, repeat_penalty=1.2, presence=0.3),
], ids=["plain", "defaults", "typical+penalties"])
def test_draws_follow_distribution(params: Params):
    """Chi-square goodness of fit of 40,000 seeded draws against the numpy distribution."""
    rng = np.random.default_rng(11)
    logits = random_logits(rng, 200, 1.5)
    history = rng.integers(0, 200, size=30).tolist()
    _, e_ids, e_probs = oracle(logits, history, params)
    draws = 40000
    _, _, _, counts = run_driver(logits, history, replace(params, seed=42), draws=draws)
    assert sum(counts.values()) == draws
    assert set(counts) <= set(e_ids.tolist()), "drew a token outside the filtered set"
    expected = e_probs * draws
    observed = np.array([counts.get(int(t), 0) for t in e_ids], dtype=np.float64)
    # Merge the tail into one bin so every bin expects at least 5.
    big = expected >= 5
    exp_b = np.append(expected[big], expected[~big].sum())
    obs_b = np.append(observed[big], observed[~big].sum())
    if exp_b[-1] < 5:
        exp_b[-2] += exp_b[-1]
        obs_b[-2] += obs_b[-1]
        exp_b, obs_b = exp_b[:-1], obs_b[:-1]
    stat = float(np.sum((obs_b - exp_b) ** 2 / exp_b))
    df = len(exp_b) - 1
    assert df >= 3
    assert stat < chi_square_critical(df), f"chi2 {stat:.1f} with df {df}"


def test_same_seed_same_draws_different_seed_differs():
    rng = np.random.default_rng(3)
    logits = random_logits(rng, 500, 1.0)
    a = run_driver(logits, [], Params(seed=99), draws=300)[3]
    b = run_driver(logits, [], Params(seed=99), draws=300)[3]
    c = run_driver(logits, [], Params(seed=100), draws=300)[3]
    assert a == b
    assert a != c
