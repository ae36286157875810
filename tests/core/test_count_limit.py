"""One count limit: what the parser accepts as copies or candidates is what the declaration saves, and no more."""

from __future__ import annotations

from typing import Any

import pytest

from core import declarations
from core.errors import InvalidInput
from core.parsing import MAX_COUNT, parse_count
from tests.core.helpers import efm_by_mission


def test_the_parser_and_the_declaration_share_one_limit(demo: Any, db: Any) -> None:
    assert MAX_COUNT == 10_000  # the limit documented in docs/CONTRACTS.md
    with db() as s:
        efm = efm_by_mission(s, "DEMO-101")  # a correction: a number of copies
        declarations.set_service_done(s, efm, True, "test")
        declarations.set_quantity(s, efm, parse_count("10 000"), "test")
        assert efm.copies == MAX_COUNT
        with pytest.raises(InvalidInput, match="maximum accepté est 10 000"):
            parse_count("10 001")
        with pytest.raises(InvalidInput, match="hors limites"):
            declarations.set_quantity(s, efm, MAX_COUNT + 1, "test")
