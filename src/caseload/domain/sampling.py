"""Dip-sampling for quality: which live crimes a supervisor reviews for quality, and the
results a quality review records (``pass``, ``advice``, ``fail``).

The draw is weighted toward the crimes that matter most when investigation goes wrong:
a high-risk crime weighs 4, a medium-risk one 2, a standard one 1, doubled when the
victim is entitled to the enhanced service. It is weighted sampling without replacement
(each crime's key ``u ** (1 / weight)`` for a uniform ``u`` from the seeded generator,
the largest keys drawn), over the crimes in reference order, so the same seed over the
same live crimes draws the same sample on any store or backend.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

QUALITY_RESULTS: tuple[str, ...] = ("pass", "advice", "fail")
RISK_WEIGHT = {"standard": 1, "medium": 2, "high": 4}
ENHANCED_FACTOR = 2
LARGEST_SEED = 2**31 - 1


def parse_quality(text: str) -> str:
    value = text.strip().lower()
    if value not in QUALITY_RESULTS:
        raise ValueError(f"'{text.strip()}' is not a quality result (pass, advice or fail)")
    return value


def weight(risk: str, enhanced: bool) -> int:
    """How much more likely a crime is to be drawn than a standard-risk, standard-service one."""
    return RISK_WEIGHT.get(risk, 1) * (ENHANCED_FACTOR if enhanced else 1)


def new_seed() -> int:
    """A seed for a draw that was given none (reported, so the draw can be repeated)."""
    return random.SystemRandom().randint(1, LARGEST_SEED)


def draw(crimes: Sequence[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``size`` of ``crimes`` (each with ``reference``, ``risk``, ``victim_enhanced``),
    in the order drawn; the same seed and crimes give the same sample."""
    rng = random.Random(seed)
    ordered = sorted(crimes, key=lambda c: str(c["reference"]))
    keyed = [
        (rng.random() ** (1 / weight(str(c["risk"]), bool(c["victim_enhanced"]))), index)
        for index, c in enumerate(ordered)
    ]
    keyed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [ordered[index] for _, index in keyed[:size]]
