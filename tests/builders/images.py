"""Generated images, made here so that the thresholds of the document checks are calibrated on
known inputs: a sharp scan, the same blurred, a tiny one, a truncated one, one with GPS in its EXIF.
"""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFilter


def scan(width: int = 800, height: int = 600, seed: int = 1) -> Image.Image:
    """A sharp, document-like image: blocks of colour and lines of text."""
    rng = random.Random(seed)  # noqa: S311  (test pictures, not secrets)
    image = Image.new("RGB", (width, height), (235, 230, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + rng.randrange(10, 120), y + rng.randrange(5, 40)], fill=colour)
    for top in range(0, height, 18):
        draw.text(
            (20, top), "GIAY KHAI SINH - CONG HOA XA HOI CHU NGHIA VIET NAM " * 2, fill=(20, 20, 20)
        )
    return image


def encoded(image: Image.Image, kind: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


def sharp_jpeg(seed: int = 1) -> bytes:
    return encoded(scan(seed=seed))


def blurred_jpeg(radius: float = 8) -> bytes:
    return encoded(scan().filter(ImageFilter.GaussianBlur(radius)))


def soft_png() -> bytes:
    return encoded(scan().filter(ImageFilter.GaussianBlur(3)), "PNG")


def tiny_png() -> bytes:
    return encoded(scan(120, 90), "PNG")


def truncated_jpeg() -> bytes:
    data = sharp_jpeg()
    return data[: len(data) // 2]


def jpeg_with_gps() -> bytes:
    image = scan()
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    gps = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 42.0, 10.0)}
    exif[0x8825] = gps  # GPSInfo
    return encoded(image, exif=exif)
