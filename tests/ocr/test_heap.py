"""Freed heap pages go back to the system after a reading (glibc only: elsewhere nothing to do)."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys

import pytest

from ocr import heap

BLOCK = 100 * 1024  # below glibc's mmap threshold: served from the heap, kept there once freed
BLOCKS = 1500  # about 150 MB


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's heap only")
def test_freed_heap_pages_are_handed_back() -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
    for b in blocks:
        libc.memset(b, 1, BLOCK)  # touched: resident
    keep = libc.malloc(BLOCK)  # above the freed blocks: glibc cannot shrink the heap's top by itself
    for b in blocks:
        libc.free(b)
    before = _resident_mb()
    assert heap.give_back()
    after = _resident_mb()
    libc.free(keep)
    assert before - after > 100, (before, after)


_LARGE_BLOCKS = """
import ctypes, sys
from ocr import heap
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
size = heap.OWN_MAPPING + 4096
if sys.argv[1] == "mapped":
    assert heap.map_large_blocks()
libc.free(libc.malloc(4 * size))  # glibc alone now raises its threshold past this size
blocks = [libc.malloc(size) for _ in range(30)]  # about 120 MB
for b in blocks:
    libc.memset(b, 1, size)
keep = libc.malloc(2**20)  # above them: the heap cannot shrink past it
before = int(open("/proc/self/statm").read().split()[1])
for b in blocks:
    libc.free(b)
print((before - int(open("/proc/self/statm").read().split()[1])) * 4096 / 2**20)
"""


def _freed_mb(mode: str) -> float:
    """Resident MB that freeing 30 large blocks gives back at once, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _LARGE_BLOCKS, mode], capture_output=True, text=True, check=True)
    return float(out.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's heap only")
def test_large_blocks_go_back_as_soon_as_freed() -> None:
    assert _freed_mb("heap") < 20  # glibc alone serves them from the heap and keeps them there
    assert _freed_mb("mapped") > 100
