"""Receipt reading: totals from PDFs (text layer) and photos or scans (Tesseract). Imports nothing of ours."""

from ocr.hashing import perceptual_hash
from ocr.reading import Reading, read

__all__ = ["Reading", "perceptual_hash", "read"]
