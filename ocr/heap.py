"""Memory freed while reading a receipt, handed back to the system (glibc otherwise keeps it in its heap).

RapidOCR's onnxruntime and Tesseract allocate hundreds of MB of short-lived buffers per page; glibc keeps the
freed pages mapped, so a long-lived OCR worker's resident size grew page after page (measured: about 470 MB
after a dozen scans, 215 MB with a trim after each).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return lib if lib is not None and hasattr(lib, "malloc_trim") else None


def give_back() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``); False where there is no glibc."""
    lib = _libc()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True
