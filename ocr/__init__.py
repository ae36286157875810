"""Receipt reading: totals from PDFs (text layer) and photos or scans (Tesseract). Imports nothing of ours."""

from ocr.fields import TicketTrip
from ocr.hashing import perceptual_hash
from ocr.kinds import labels as kind_labels
from ocr.reading import Reading, read

__all__ = ["Reading", "TicketTrip", "kind_labels", "perceptual_hash", "read"]
