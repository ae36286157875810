"""The generated corpora: every folder's labels name existing files with the fields the benches score, and the
generators are deterministic (an item regenerated alone gives the committed bytes and label)."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from ocr.kinds import keywords

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERATED = ["receipts_expenses", "receipts_de"]


def generator(corpus: str) -> ModuleType:
    path = FIXTURES / corpus / "make_corpus.py"
    spec = importlib.util.spec_from_file_location(f"make_{corpus}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def labels(corpus: str) -> list[dict[str, object]]:
    with open(FIXTURES / corpus / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("corpus", GENERATED)
def test_labels_are_complete(corpus: str) -> None:
    items = labels(corpus)
    assert len(items) >= 20
    for item in items:
        assert (FIXTURES / corpus / str(item["file"])).is_file()
        assert Decimal(str(item["total"])) > 0 and str(item["total"]).count(".") == 1
        date.fromisoformat(str(item["date"]))
        assert item["currency"] in {"EUR", "GBP", "CHF"}
        assert isinstance(item["merchant"], str) and item["merchant"]
        assert item["kind"] in keywords()  # a kind ocr.kinds knows


@pytest.mark.parametrize(("corpus", "index"), [("receipts_expenses", 3), ("receipts_expenses", 12), ("receipts_de", 1)])
def test_generator_is_deterministic(corpus: str, index: int) -> None:
    name, data, label = generator(corpus).item(index)
    assert label == labels(corpus)[index]
    assert data == (FIXTURES / corpus / name).read_bytes()
