"""Memory freed while reading a receipt, handed back to the system (glibc otherwise keeps it in its heap).

RapidOCR's onnxruntime and Tesseract allocate hundreds of MB of short-lived buffers per page; glibc keeps the
freed pages mapped, so a long-lived OCR worker's resident size grew page after page (measured: about 470 MB
after a dozen scans, 215 MB with a trim after each). Large blocks get mappings of their own, so that the peak
during one page stays near what is really in use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
OWN_MAPPING = 4 * 2**20  # bytes: blocks at least this large are mapped apart and unmapped as soon as freed


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


def map_large_blocks() -> bool:
    """Serve every block of OWN_MAPPING bytes or more from a mapping of its own (glibc's ``mallopt``).

    glibc raises that threshold by itself up to 32 MB once large blocks are freed; onnxruntime's activations
    (a few MB each, of other sizes on every page) then come from the heap, which fragments: RapidOCR's reading
    of a page peaked about 170 MB higher. False where there is no glibc.
    """
    lib = _libc()
    return lib is not None and bool(lib.mallopt(_M_MMAP_THRESHOLD, OWN_MAPPING))
