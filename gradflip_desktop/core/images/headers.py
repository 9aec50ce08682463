"""What a file's first bytes and headers say before Pillow decodes it.

The format it starts like, documents and archives named like images, a TIFF Pillow cannot decode, an icon's frame
sizes, a progressive JPEG's scan count, a PPM's bit depth and a TIFF's orientation (Pillow turns it upright while
loading and drops the tag)."""

from __future__ import annotations

ICON = b"\x00\x00\x01\x00"  # an ICO file's first bytes
MAX_SCANS = 500  # scans of a progressive JPEG (scan_count); libjpeg-turbo's scan limit


# Signatures of raster formats: a file that starts like one but that Pillow cannot open is broken.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"qoif", "QOI"),
)


def signature(head: bytes) -> str | None:
    for sig, fmt in SIGNATURES:
        if head.startswith(sig):
            return fmt
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis") and _reads_avif():  # a cut-off one: "not an image…"
        return "AVIF"
    return None


def _reads_avif() -> bool:
    from PIL import features  # noqa: PLC0415

    return "avif" in features.modules and bool(features.check_module("avif"))  # an older Pillow knows no "avif"


def article(fmt: str) -> str:
    """"a PNG", "an AVIF"."""
    return f"{'an' if fmt[0] in 'AEIOU' else 'a'} {fmt}"


def sniff_text(head: bytes) -> str | None:
    """Problems recognisable from the first bytes before Pillow looks (documents named like images)."""
    h = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if h.startswith(b"<svg") or b"<svg" in h[:1024]:
        return "is an SVG vector image; GradFlip needs a raster image (export it to PNG first)"
    if h.startswith(b"<!doctype html") or h.startswith(b"<html") or b"<html" in h[:512]:
        return "is an HTML page, not an image (a failed download?)"
    if h.startswith(b"%pdf"):
        return "is a PDF document, not an image"
    if h.startswith(b"<?xml"):
        return "is an XML document, not an image"
    return None


def tiff_kind(fp) -> str | None:
    """A TIFF whose first directory reads whole (Pillow's own directory parser): its samples in words ("3 channels of
    32-bit floats"); ``None`` when the directory is cut off or makes no sense (then the header is truncated or corrupt)."""
    import warnings

    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    try:
        fp.seek(0)
        ifd = ImageFileDirectory_v2(fp.read(8))
        fp.seek(ifd.next)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": a directory cut short, judged below
            ifd.load(fp)
        values = {tag: ifd.get(tag) for tag in (256, 257, 258, 262, 277, 339)}
        # a tag of several values (one per channel): the first
        tags = {k: int(v[0] if isinstance(v, tuple) else v) for k, v in values.items() if v not in (None, ())}
    except Exception:  # noqa: BLE001 - a broken directory raises many kinds
        return None
    finally:
        fp.seek(0)
    if not (tags.get(256, 0) > 0 and tags.get(257, 0) > 0 and 1 <= tags.get(277, 1) <= 16 and 1 <= tags.get(258, 1) <= 64
            and tags.get(262, 1) in (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 32803, 32844, 32845, 34892)):  # TIFF's and DNG's
        return None  # a directory that makes no sense (an unknown colour model, 0 channels): truncated or corrupt
    sample = {1: "integers", 2: "signed integers", 3: "floats"}.get(tags.get(339, 1), "samples of an unknown kind")
    channels, bits = tags.get(277, 1), f"{tags[258]}-bit " if 258 in tags else ""
    return f"{channels} channel{'s' if channels != 1 else ''} of {bits}{sample}"


def sniff_unidentified(head: bytes) -> str:
    """Why Pillow could not identify a file, as specifically as the first bytes allow."""
    fmt = signature(head)
    if fmt:
        return f"starts like {article(fmt)} file but its header is truncated or corrupt"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):  # here only where this Pillow has no AVIF
        return "is an AVIF image, which this installation cannot read (convert it to JPEG or PNG)"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"heim", b"heis"):
        return "is a HEIC/HEIF image, which this installation cannot read (convert it to JPEG or PNG)"
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return "is a Radiance HDR image, which GradFlip cannot read (save it as a 16-bit PNG)"
    if head[:2] == b"PF" and head[2:3].isspace():  # Pillow reads grey float maps ("Pf") only
        return "is a colour PFM (portable float map), which GradFlip cannot read (save it as a 16-bit PNG)"
    if head.startswith(b"PK\x03\x04"):
        return "is a ZIP archive, not an image"
    if head.startswith(b"\x1f\x8b"):
        return "is a gzip archive, not an image"
    if head[:4].lower() == b"%!ps" or head.startswith(b"\xc5\xd0\xd3\xc6"):  # text or DOS-binary EPS
        return ("is a PostScript/EPS document; GradFlip does not render PostScript (that would run the file's "
                "program): export it to PNG first")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\t\r\n\f" for c in text):
        return "is a text file, not an image"
    return "is not an image format GradFlip can read (unknown or corrupt file header)"


def icon_frame_sizes(fp) -> list[tuple[int, int]]:
    """The (width, height) each frame of an ICO file declares in its own header (a PNG frame's IHDR, a bitmap's
    header of one of the sizes BMP defines): the directory says at most 256 × 256, while a PNG frame can hold
    20000 × 20000, which Pillow decodes while opening the file (2 GB and 14 s before the size could be refused).
    Bytes that are neither are left to Pillow. The file position is kept."""
    pos, sizes = fp.tell(), []
    try:
        fp.seek(4)
        count = int.from_bytes(fp.read(2), "little")
        entries = [fp.read(16) for _ in range(count)]
        for entry in entries:
            if len(entry) < 16:  # noqa: PLR2004 - a directory entry's size
                break
            fp.seek(int.from_bytes(entry[12:16], "little"))
            head = fp.read(24)
            kind = int.from_bytes(head[:4], "little") if len(head) >= 12 else 0  # noqa: PLR2004
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                sizes.append((int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")))
            elif kind == 12:  # noqa: PLR2004 - an OS/2 bitmap header: 16-bit sizes; its height counts the mask too
                sizes.append((int.from_bytes(head[4:6], "little"), int.from_bytes(head[6:8], "little") // 2))
            elif kind in (40, 52, 56, 64, 108, 124):  # Windows bitmap headers
                sizes.append((abs(int.from_bytes(head[4:8], "little", signed=True)),
                              abs(int.from_bytes(head[8:12], "little", signed=True)) // 2))
    finally:
        fp.seek(pos)
    return sizes


def scan_count(fp, most: int = MAX_SCANS) -> int:
    """The scans of a JPEG (a progressive one is decoded once more per scan: a 2 MB file of 5,000 scans took 90 s;
    a camera's has about 10): its start-of-scan markers, found by walking its segments as a decoder does (each
    skipped by its length; in a scan's data every FF byte is stuffed), up to its end-of-image marker: FF DA in an
    ICC profile, an EXIF thumbnail or data appended after the image is no scan. Counting stops past ``most``. The
    file position is kept."""
    pos = fp.tell()
    try:
        fp.seek(0)
        data = fp.read()
    finally:
        fp.seek(pos)
    i, n, scans = 2, len(data), 0
    while i + 1 < n and scans <= most:
        if data[i] != 0xFF:  # a scan's entropy-coded data: on to the next FF byte
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF or marker == 0x00 or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # fill, stuffed, TEM, RSTn
            i += 1 if marker == 0xFF else 2
            continue
        if marker == 0xD9:  # end of image: what follows is not this image's
            break
        scans += marker == 0xDA
        i += 2 + int.from_bytes(data[i + 2: i + 4], "big")  # the segment (a scan's header), by its length
    return scans


def ppm_bits(im) -> int:
    """The bits per colour of a colour PPM of more than 8 (maxval over 255, which Pillow reads as 8 bits), else 0.
    A tile is a plain tuple before Pillow 11 (its ``args`` the 4th item)."""
    args = im.tile[0][3] if im.format == "PPM" and im.tile and len(im.tile[0]) > 3 else None  # noqa: PLR2004
    wide = im.mode == "RGB" and isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], int) and args[1] > 255
    return int(args[1]).bit_length() if wide else 0


def orientation(im) -> int | None:
    """The EXIF orientation tag of an unloaded image, or None (a broken EXIF block is judged after loading)."""
    try:
        return im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001
        return None
