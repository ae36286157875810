"""Image preparation for OCR: safe loading, orientation, grayscale, contrast, deskew and scaling."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images (decompression bombs)
MIN_LINE_HEIGHT, SMALL_TEXT_TARGET = 10, 20  # text lines (pixels) smaller than this are enlarged to the target
MAX_LINE_HEIGHT, LARGE_TEXT_TARGET = 80, 40  # and larger ones reduced
RETRY_TEXT_TARGET = 24  # text line height (pixels) of the second reading of a doubtful total
_FADED_INK = 0.15  # gray level (fraction of white) given to the darkest ink of a faded print
TALL_LINE, HEADER_SHARE = 1.6, 0.2  # double-height lines: this much taller than usual, below the header
MIN_SIDE = 8  # smaller images carry no readable text
MAX_SIDE = 30_000  # Tesseract refuses sides over 32767 pixels; no receipt needs as many
MAX_ASPECT = 60  # longer than wide by more than this: a strip of pixels, not a receipt


DAMAGED = "Image illisible ou endommagée : envoyez un fichier JPEG, PNG ou GIF valide."


class ImageRejected(Exception):
    """The image cannot be read; the message is French and user-facing."""


def too_big_message(pixels: int | None) -> str:
    count = f" ({pixels / 1_000_000:.0f} millions de pixels)" if pixels else ""
    return (
        f"Image trop grande{count} : fichier refusé. Envoyez une photo ou un scan de moins de "
        f"{MAX_PIXELS // 1_000_000} millions de pixels (par exemple 4000×3000)."
    )


def check_shape(width: int, height: int) -> None:
    """Refuse sizes no receipt has (a few pixels, a strip, a giant) with a French reason."""
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(f"Image trop petite ({width}×{height} pixels) pour être lue.")
    if max(width, height) > MAX_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageRejected(
            f"Image aux dimensions inhabituelles ({width}×{height} pixels) : envoyez une photo "
            "ou un scan du justificatif entier, en JPEG, PNG ou PDF."
        )


def _bomb(exc: Image.DecompressionBombError) -> ImageRejected:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return ImageRejected(too_big_message(int(found[1]) if found else None))


def _open_within_limit(data: bytes) -> Image.Image:
    """The image opened (its header read, nothing decoded), refused when it has more than MAX_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _bomb(exc) from exc
    w, h = img.size
    if w * h > MAX_PIXELS:
        img.close()
        raise ImageRejected(too_big_message(w * h))
    return img


def check_image(data: bytes, *, decode: bool = True) -> None:
    """Refuse (ImageRejected, French) an image no reader could use: over MAX_PIXELS or a decompression bomb
    (judged from the header, before anything is decoded), of a size no receipt has, or, with ``decode``,
    that does not open or whose pixels stop short or are corrupt (a JPEG is decoded at an eighth of its size:
    every byte is still read). Without ``decode``, what does not open is left to the caller."""
    try:
        img = _open_within_limit(data)
    except ImageRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on bad bytes
        if decode:
            raise ImageRejected(DAMAGED) from exc
        return
    with img:
        check_shape(*img.size)
        if not decode:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                img.load()
        except Image.DecompressionBombError as exc:
            raise _bomb(exc) from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected(DAMAGED) from exc


def load_image(data: bytes) -> Image.Image:
    """Open an image with its pixel count checked before decoding; EXIF orientation applied; first frame;
    grayscale on white (`to_gray`), what every reader works on: a colour copy of a large scan is not kept."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = _open_within_limit(data)
            check_shape(*img.size)
            img.seek(0)
            img.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:  # a frame past the first one
        raise _bomb(exc) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected(DAMAGED) from exc
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # a broken EXIF block must not stop the reading
        pass
    return to_gray(img)


def to_gray(img: Image.Image) -> Image.Image:
    """Grayscale on a white background (transparent pixels become paper); a grayscale image as it is."""
    if img.mode == "L":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return img.convert("L")


def normalize_light(gray: Image.Image) -> Image.Image:
    """Even out lighting (shadows, low light, faded thermal print); clean scans are left untouched."""
    w, h = gray.size
    small = gray.resize((max(1, w // 16), max(1, h // 16)), Image.Resampling.BILINEAR, reducing_gap=3.0)
    background = np.asarray(small.filter(ImageFilter.MaxFilter(5)), dtype=np.float32)
    lo, hi = np.percentile(np.asarray(small, dtype=np.float32), [1, 99])
    uneven = float(background.std()) > 18 or float(background.mean()) < 170
    faded = hi - lo < 110
    if not uneven and not faded:
        return _stretch_faded_middle(gray)
    if uneven:  # float32 work in place: a photo of 12 million pixels takes 48 MB per array
        bg_small = Image.fromarray(background.astype(np.uint8))
        bg = np.asarray(bg_small.filter(ImageFilter.GaussianBlur(2)).resize((w, h)), dtype=np.float32)
        # Much darker than the paper nearby: the table or the floor around the receipt, not paper. Dividing
        # it by its own darkness would turn its grain into specks that Tesseract reads as text.
        paper = np.asarray(bg_small.filter(ImageFilter.MaxFilter(15)).resize((w, h)), dtype=np.float32)
        paper *= 0.5
        table = bg < paper
        del paper
        a = np.asarray(gray, dtype=np.float32)
        a /= np.maximum(bg, 1.0, out=bg)
        del bg
        a *= 255.0
        a[table] = 255.0
        gray = Image.fromarray(np.clip(a, 0, 255, out=a).astype(np.uint8))
    return ImageOps.autocontrast(gray, cutoff=(0.05, 0.5))


def _stretch_faded_middle(gray: Image.Image) -> Image.Image:
    """Faded print inside a dark frame (scanner lid, torn edge): the frame hides the low contrast of the
    text from the whole-image test, so judge the middle of the page and stretch its gray levels."""
    factor = max(1, max(gray.size) // 1000)  # strokes must stay dark in the reduced copy
    small = gray.reduce(factor) if factor > 1 else gray
    w, h = small.size
    middle = np.asarray(small, dtype=np.uint8)[h // 8 : h - h // 8, w // 8 : w - w // 8]
    if middle.size < 16:
        return gray
    cumulative = np.cumsum(np.bincount(middle.ravel(), minlength=256)) / middle.size  # fast percentiles
    lo, hi = (float(np.searchsorted(cumulative, q)) for q in (0.005, 0.99))
    if hi - lo >= 110:
        return gray
    lo = max(0.0, (lo - _FADED_INK * hi) / (1 - _FADED_INK))  # the darkest ink becomes dark gray, paper white
    lut = [int(np.clip((v - lo) / (hi - lo) * 255.0, 0, 255)) for v in range(256)]
    return gray.point(lut)


def _ink(gray: Image.Image, max_side: int = 800) -> tuple[np.ndarray, float]:
    """A small boolean ink mask (Otsu threshold) and its scale relative to the input."""
    factor = -(-max(gray.size) // max_side)  # integer box reduction: fast
    small = gray.reduce(factor) if factor > 1 else gray
    scale = small.size[0] / gray.size[0]
    a = np.asarray(small, dtype=np.uint8)
    hist = np.array(small.histogram(), dtype=np.float64)
    total = hist.sum()
    omega = np.cumsum(hist) / total
    mu = np.cumsum(hist * np.arange(256)) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    if np.isnan(between).all():  # a single shade (a blank page): no ink at all
        return np.zeros(a.shape, dtype=bool), scale
    threshold = int(np.nanargmax(between))
    return a < threshold, scale


def _line_score(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int], angle: float) -> float:
    """How strongly the inked pixels (ys, xs) of a mask form horizontal lines once the mask is turned `angle`
    degrees counter-clockwise: variance of the row profile's differences. Each pixel is projected onto its row,
    which is much faster than rotating the mask."""
    rad = np.radians(angle)
    cos, sin = np.cos(rad), np.sin(rad)
    rows = np.rint(ys * cos - xs * sin).astype(np.int64)
    width = shape[1] * abs(cos) + shape[0] * abs(sin)  # of the rotated, expanded mask
    return float(np.square(np.diff(np.bincount(rows - rows.min()) / width)).sum())


def is_sideways(gray: Image.Image) -> bool:
    """True when text lines look vertical (a receipt photographed sideways)."""
    mask, _ = _ink(gray, 500)
    if mask.mean() < 0.002:
        return False
    ys, xs = np.nonzero(mask)

    def best_lines(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> float:  # tolerant of a tilted photo
        return max(_line_score(ys, xs, shape, a) for a in (-8, -4, 0, 4, 8))

    return best_lines(xs, ys, mask.shape[::-1]) > 1.6 * best_lines(ys, xs, mask.shape)


def skew_angle(gray: Image.Image, limit: float = 10.0) -> float:
    """The small rotation (degrees, counter-clockwise) that makes text lines horizontal."""
    mask, _ = _ink(gray, 500)
    if mask.mean() < 0.002:
        return 0.0
    ys, xs = np.nonzero(mask)

    def score(angle: float) -> float:
        return _line_score(ys, xs, mask.shape, angle)

    coarse = max(np.arange(-limit, limit + 0.1, 2.0), key=score)
    fine = max(np.arange(coarse - 1.0, coarse + 1.01, 0.5), key=score)
    return float(fine) if score(fine) > score(0.0) * 1.05 else 0.0


def line_height(gray: Image.Image) -> float | None:
    """Median height in pixels of the text lines (runs of inked rows), or None if no text is seen."""
    mask, scale = _ink(gray, 1600)
    coverage = mask.mean(axis=1)
    text_rows = (coverage > 0.01) & (coverage < 0.5)  # rows mostly dark are borders or background
    rows = np.concatenate(([False], text_rows, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(rows))
    runs = [r for r in (edges[1::2] - edges[0::2]) if 3 <= r <= mask.shape[0] // 8]
    if len(runs) < 3:
        return None
    return float(np.median(runs)) / scale


def rescale_for_ocr(gray: Image.Image) -> Image.Image:
    """Enlarge tiny text and shrink huge text; Tesseract reads lines of 12 to 80 pixels as they are."""
    h = line_height(gray)
    w0, h0 = gray.size
    if h is None:
        factor = 2.0 if max(w0, h0) < 800 else 1.0
    elif h < MIN_LINE_HEIGHT:
        factor = SMALL_TEXT_TARGET / h
    elif h > MAX_LINE_HEIGHT:
        factor = LARGE_TEXT_TARGET / h
    else:
        return gray
    factor = max(0.25, min(4.0, factor, MAX_SIDE / max(w0, h0)))
    new = (max(1, int(w0 * factor)), max(1, int(h0 * factor)))
    if new[0] * new[1] > MAX_PIXELS // 2:
        return gray
    return gray.resize(new, Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC)


def rescale_again(gray: Image.Image) -> Image.Image:
    """Another size of an already prepared image, for a second reading: text lines near the middle of
    Tesseract's comfortable range (about 24 pixels), or a quarter larger when they are already there."""
    h = line_height(gray)
    factor = RETRY_TEXT_TARGET / h if h else 1.25
    if 0.9 < factor < 1.1:
        factor = 1.25
    factor = max(0.5, min(2.0, factor, MAX_SIDE / max(gray.size)))
    new = (max(1, int(gray.size[0] * factor)), max(1, int(gray.size[1] * factor)))
    if new[0] * new[1] > MAX_PIXELS // 2:
        return gray
    return gray.resize(new, Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC)


def clean(img: Image.Image) -> Image.Image:
    """Grayscale, tiny images enlarged, lighting evened out: the first preparation step."""
    gray = to_gray(img)
    if max(gray.size) < 400:
        gray = gray.resize((gray.size[0] * 3, gray.size[1] * 3), Image.Resampling.BICUBIC)
    return normalize_light(gray)


def straighten(gray: Image.Image) -> Image.Image:
    """Deskew small tilts and bring the text to a size Tesseract reads well: the last preparation step."""
    angle = skew_angle(gray)
    if abs(angle) >= 1.0:
        gray = gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return rescale_for_ocr(gray)


def tall_text_bands(gray: Image.Image, limit: int = 3) -> list[tuple[int, int]]:
    """Bands of ink rows (top, bottom in pixels) at least half again as tall as the usual text line, below
    the header: double-height lines (often the total) that Tesseract may drop as non-text in a block."""
    mask, scale = _ink(gray, 1600)
    coverage = mask.mean(axis=1)
    text_rows = (coverage > 0.01) & (coverage < 0.5)
    rows = np.concatenate(([False], text_rows, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(rows))
    runs = [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True) if 3 <= b - a <= mask.shape[0] // 8]
    if len(runs) < 3:
        return []
    usual = float(np.median([b - a for a, b in runs]))
    header = mask.shape[0] * HEADER_SHARE
    tall = [(a, b) for a, b in runs if TALL_LINE * usual <= b - a <= 4 * usual and a >= header]
    tall.sort(key=lambda r: r[0] - r[1])  # tallest first
    return [(int(a / scale), int(b / scale)) for a, b in tall[:limit]]


def content_box(gray: Image.Image) -> Image.Image:
    """The image cropped to its inked area (margins, table and framing removed), for comparisons."""
    mask, scale = _ink(gray, 800)
    rows = np.flatnonzero(mask.mean(axis=1) > 0.005)
    cols = np.flatnonzero(mask.mean(axis=0) > 0.005)
    if len(rows) < 2 or len(cols) < 2:
        return gray
    box = (int(cols[0] / scale), int(rows[0] / scale), int((cols[-1] + 1) / scale), int((rows[-1] + 1) / scale))
    return gray.crop(box)
