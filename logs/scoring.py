"""Risk score and band: score = likelihood × impact (1–25) on the usual 5 × 5 matrix.

| Score  | Band     | Cells of the matrix                                      |
|--------|----------|----------------------------------------------------------|
| 1–4    | Low      | e.g. 1×4 rare/major, 2×2                                 |
| 5–9    | Medium   | e.g. 3×3 possible/moderate, 5×1                          |
| 10–15  | High     | e.g. 2×5 unlikely/severe, 3×4, 5×3                       |
| 16–25  | Critical | 4×4, 4×5 (likely/severe = 20), 5×4, 5×5                  |

The bands follow the common convention that anything likely *and* major (4×4 and above) is
critical, and that a severe but unlikely risk (2×5 = 10) is already high."""

from logs.models import Risk

BANDS: list[tuple[Risk.Band, int, int]] = [
    (Risk.Band.LOW, 1, 4),
    (Risk.Band.MEDIUM, 5, 9),
    (Risk.Band.HIGH, 10, 15),
    (Risk.Band.CRITICAL, 16, 25),
]


def risk_band(score: int) -> Risk.Band:
    for band, low, high in BANDS:
        if low <= score <= high:
            return band
    raise ValueError(f"A risk score is 1–25, not {score}.")


def band_score_range(band: str) -> tuple[int, int]:
    for candidate, low, high in BANDS:
        if candidate == band:
            return low, high
    raise ValueError(f"Unknown band {band!r}.")
