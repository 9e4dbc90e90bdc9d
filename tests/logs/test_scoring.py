"""Score = likelihood × impact, and the band table of logs/scoring.py."""

import pytest

from logs.models import Risk
from logs.scoring import band_score_range, risk_band

L, M, H, C = "low", "medium", "high", "critical"

# The whole 5 × 5 matrix: rows are likelihood 5 → 1, columns impact 1 → 5.
MATRIX = {
    5: [M, H, H, C, C],  # 5, 10, 15, 20, 25
    4: [L, M, H, C, C],  # 4, 8, 12, 16, 20
    3: [L, M, M, H, H],  # 3, 6, 9, 12, 15
    2: [L, L, M, M, H],  # 2, 4, 6, 8, 10
    1: [L, L, L, L, M],  # 1, 2, 3, 4, 5
}


@pytest.mark.parametrize(
    "likelihood, impact, band",
    [(li, im, MATRIX[li][im - 1]) for li in range(1, 6) for im in range(1, 6)],
)
def test_every_cell_of_the_matrix_has_its_band(likelihood, impact, band):
    risk = Risk(likelihood=likelihood, impact=impact)
    assert risk.score == likelihood * impact
    assert risk.band == band


@pytest.mark.parametrize(
    "score, band",
    [(1, L), (4, L), (5, M), (9, M), (10, H), (15, H), (16, C), (20, C), (25, C)],
)
def test_band_edges(score, band):
    assert risk_band(score) == band


@pytest.mark.parametrize("score", [0, 26, -1])
def test_a_score_outside_1_to_25_is_an_error(score):
    with pytest.raises(ValueError, match="1–25"):
        risk_band(score)


def test_band_ranges_cover_1_to_25_without_gaps():
    covered = []
    for band in Risk.Band:
        low, high = band_score_range(band)
        covered.extend(range(low, high + 1))
    assert covered == list(range(1, 26))


def test_likely_and_severe_is_20_and_critical():
    risk = Risk(likelihood=Risk.Likelihood.LIKELY, impact=Risk.Impact.SEVERE)
    assert (risk.score, risk.band.label) == (20, "Critical")


def test_a_risk_without_likelihood_has_no_score():
    assert Risk(impact=3).score is None
    assert Risk(impact=3).band is None
