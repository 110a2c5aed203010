"""Sample observatory uploads, so the system can be seen working without a telescope.

The files look like what a Photon Ranch observatory sends for one exposure: the header as a ``.txt``
first, then a bz2-compressed large FITS, a tile-compressed small FITS and a medium JPEG. The header
carries the keywords the catalog reads, in the shapes real headers use (a sexagesimal ``DEC``, a long
string that needs ``CONTINUE`` cards, ``COMMENT`` and ``HISTORY``), and its sky position is
consistent: RA/Dec follow from the altitude and azimuth at the site and the capture time.

Everything here is a pure function of its arguments (and the seed): it returns bytes and leaves the
upload to the caller. The same arguments always give the same bytes, so tests and benchmarks can
rely on them.
"""

from __future__ import annotations

import bz2
import functools
import io
import math
import os
import random
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from astropy.io import fits
from PIL import Image

from photon_archive.errors import Rejected
from photon_archive.naming import Prefix

ALL_FILES: tuple[str, ...] = ("txt", "fits_large", "fits_small", "jpg")
"""The file roles of one exposure, in the order an observatory uploads them (header first)."""

LARGE_SHAPE: tuple[int, int] = (384, 576)
"""(rows, columns) of the large FITS image; the header's NAXIS cards describe it."""

SMALL_SHAPE: tuple[int, int] = (192, 288)
"""(rows, columns) of the tile-compressed small FITS image: the large one at half scale."""

JPEG_SIZE: tuple[int, int] = (768, 512)
"""(width, height) of the medium JPEG, the same field as the FITS images."""

DEFAULT_INSTRUMENT = "kb001ms"
DEFAULT_INSTRUMENTS: dict[str, str] = {Prefix.ALLSKY: "sq01"}
"""The camera each prefix usually comes from, used when the caller names none."""

INFO_PREFIX = Prefix.INFO_IMAGES
INFO_CHANNELS = (1, 2, 3)

_ROLES: dict[str, tuple[str, str, str]] = {
    # role: (reduction, extension, content type)
    "txt": ("00", "txt", "text/plain"),
    "fits_large": ("01", "fits.bz2", "application/x-bzip2"),
    "fits_small": ("10", "fits.fz", "application/fits"),
    "jpg": ("10", "jpg", "image/jpeg"),
}

_SITE_RE = re.compile(r"[A-Za-z0-9]{3,6}")
_INSTRUMENT_RE = re.compile(r"[A-Za-z0-9]+")
_DATA_TYPE_RE = re.compile(r"[A-Za-z]+")
_PREFIX_RE = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
_MAX_COUNTER = 99_999_999

# Approximate latitude and east longitude (degrees) of a few sites, so that RA/Dec and
# altitude/azimuth agree; any other site borrows the default.
_SITE_LOCATIONS: dict[str, tuple[float, float]] = {
    "sro": (37.0703, -119.4128),
    "saf": (35.5542, -105.8703),
    "mrc": (34.4592, -119.6811),
}
_DEFAULT_LOCATION = (34.4592, -119.6811)

_FILTERS = ("L", "R", "G", "B", "Ha", "O3", "S2")
_EXPOSURE_TIMES = (5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0)
_OBSERVERS = (
    ("google-oauth2|100354044221813550027", "Maria Mitchell"),
    ("google-oauth2|112401903840514166111", "Henrietta Leavitt"),
    ("auth0|5fa1e2b39c0a6e006f3c1d42", "Edwin Hubble"),
    ("auth0|60c7d1b4e1a2f10069b3e8a7", "Vera Rubin"),
)
_TARGETS = ("M31", "M42", "M51", "M81", "M101", "NGC 7000", "NGC 891", "IC 434", "Tycho 3013-1234-1")
_PROJECTS = ("Messier survey", "Variable star monitoring", "Comet watch", "Outreach night")

_NIGHT_START_HOUR = 2  # UTC; captures spread over the ten hours that follow
_NIGHT_HOURS = 10
_PIXEL_SCALE = 1.2  # arcsec per pixel of the large image
_SATURATION = 32_767
_WORKERS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class SampleFile:
    """One object to upload: where it goes, its bytes and what S3 should say about it."""

    key: str
    body: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


def observatory_header(
    site: str, instrument: str, capture: datetime, counter: int, data_type: str, rng: random.Random
) -> fits.Header:
    """Write the header an observatory would send for one exposure.

    The header describes the large FITS image (its NAXIS cards match ``LARGE_SHAPE``), so the same
    header serves the ``.txt``, the large FITS and, with its structure cards dropped, the small one.
    ``capture`` is taken as UTC when naive.
    """
    _check_name_parts(site, instrument, data_type)
    _check_counter(counter)
    if not isinstance(capture, datetime):
        raise Rejected(f"capture must be a datetime, got {type(capture).__name__}")
    if capture.tzinfo is not None:
        capture = capture.astimezone(UTC).replace(tzinfo=None)

    latitude, longitude = _SITE_LOCATIONS.get(site.lower(), _DEFAULT_LOCATION)
    exposure_time = rng.choice(_EXPOSURE_TIMES)
    altitude = round(rng.uniform(25.0, 85.0), 4)
    azimuth = round(rng.uniform(0.0, 360.0), 4)
    mjd = (capture - datetime(1858, 11, 17)) / timedelta(days=1)
    ra_degrees, dec_degrees = _equatorial(altitude, azimuth, latitude, longitude, mjd)

    ra_hours = round(ra_degrees / 15.0, 6) % 24.0
    dec_tenths = round(abs(dec_degrees) * 36_000)  # tenths of an arcsecond
    dec_sign = "-" if dec_degrees < 0 and dec_tenths else "+"
    declination = (-1 if dec_sign == "-" else 1) * dec_tenths / 36_000
    user_id, username = rng.choice(_OBSERVERS)
    target = rng.choice(_TARGETS)
    project = rng.choice(_PROJECTS)
    filter_name = rng.choice(_FILTERS)
    stacked = rng.random() < 0.4
    stack_number = rng.randint(1, 12) if stacked else 0
    ccd_temp = round(rng.uniform(-20.5, -19.5), 2)
    focus = rng.randint(9_000, 11_000)
    written = capture + timedelta(seconds=exposure_time + rng.uniform(2.0, 6.0))
    name_date = capture.strftime("%Y%m%d")
    base = f"{site}-{instrument}-{name_date}-{counter:08d}"
    rows, cols = LARGE_SHAPE
    pixel_degrees = _PIXEL_SCALE / 3600.0

    header = fits.Header(
        [
            ("SIMPLE", True, "conforms to FITS standard"),
            ("BITPIX", 16, "array data type"),
            ("NAXIS", 2, "number of array dimensions"),
            ("NAXIS1", cols),
            ("NAXIS2", rows),
            ("SITE", site, "Photon Ranch site code"),
            ("OBSERVAT", f"Photon Ranch {site.upper()}", "Observatory name"),
            ("TELESCOP", f"{site}-0m61", "Telescope"),
            ("INSTRUME", instrument),  # no card comment: astropy would cut it after a long name
            ("OBSTYPE", "light", "Observation type"),
            ("IMAGETYP", "Light Frame", "Image type"),
            ("ORIGNAME", f"{base}-{data_type}00.fits"),
            ("FRAMENUM", counter, "Frame counter"),
            ("DAY-OBS", name_date, "Date of the observing night"),
            ("DATE-OBS", capture.isoformat(timespec="milliseconds"), "[UTC] Start of exposure"),
            ("DATE", written.isoformat(timespec="milliseconds"), "[UTC] File written"),
            ("MJD-OBS", round(mjd, 8), "[d] Modified Julian date of start of exposure"),
            ("EXPTIME", exposure_time, "[s] Exposure time"),
            ("FILTER", filter_name, "Filter"),
            ("OBJECT", target, "Target"),
            ("RA", _hms(ra_hours), "[hms] Right ascension of the pointing"),
            ("DEC", _dms(dec_sign, dec_tenths), "[dms] Declination of the pointing"),
            ("RAHRS", ra_hours, "[hrs] Right ascension"),
            ("CTYPE1", "RA---TAN"),
            ("CTYPE2", "DEC--TAN"),
            ("CRVAL1", round(ra_hours * 15.0, 6), "[deg] Right ascension"),
            ("CRVAL2", declination, "[deg] Declination"),
            ("CRPIX1", cols / 2 + 0.5, "[pix] Reference pixel"),
            ("CRPIX2", rows / 2 + 0.5, "[pix] Reference pixel"),
            ("CDELT1", -pixel_degrees, "[deg/pix] Pixel scale"),
            ("CDELT2", pixel_degrees, "[deg/pix] Pixel scale"),
            ("PIXSCALE", _PIXEL_SCALE, "[arcsec/pix] Pixel scale"),
            ("ALTITUDE", altitude, "[deg] Altitude of the pointing"),
            ("AZIMUTH", azimuth, "[deg] Azimuth of the pointing"),
            ("AIRMASS", _airmass(altitude), "Airmass at the start of the exposure"),
            ("CCD-TEMP", ccd_temp, "[C] Sensor temperature"),
            ("GAIN", 1.5, "[e-/ADU] Gain"),
            ("XBINNING", 1, "Binning"),
            ("YBINNING", 1, "Binning"),
            ("FOCUSPOS", focus, "[steps] Focuser position"),
            ("USERID", user_id, "Requesting user id"),
            ("USERNAME", username, "Requesting user name"),
            ("SMARTSTK", f"{counter:08d}" if stacked else "no", "Smart stack id, or no"),
            ("SSTKNUM", stack_number, "Position in the smart stack"),
            ("PROJECT", project, "Project name"),
            (
                "OBSNOTE",
                f"{target} in {filter_name} for the project '{project}', requested by {username}; "
                "sample data written by photon-archive-workshop to exercise the ingest.",
                "Observer note",
            ),
        ]
    )
    header.add_comment("Sample data written by photon_archive; not a real observation.")
    header.add_comment(f"Pointing from altitude/azimuth at site {site} at the start of the exposure.")
    header.add_history("Bias and dark subtracted.")
    header.add_history(f"Flat fielded with the {filter_name} master flat.")
    return header


def sample_exposures(
    site: str = "sro",
    count: int = 10,
    prefix: str = Prefix.DATA,
    data_type: str = "EX",
    channel: int | None = None,
    instrument: str | None = None,
    night: date | None = None,
    first_counter: int = 1,
    seed: int = 0,
    files: Iterable[str] = ALL_FILES,
    jpeg_size: tuple[int, int] = JPEG_SIZE,
) -> list[SampleFile]:
    """Write ``count`` exposures of one night, in the order an observatory would upload them.

    ``instrument`` left as None picks the prefix's usual camera (``sq01`` for ``allsky``, else
    ``kb001ms``). ``channel`` (1 to 3) only applies to ``info-images``: each file then carries the
    ``info-channel`` metadata the API sets at upload. ``night`` defaults to yesterday (UTC), so every
    capture is in the past; captures spread from 02:00 to 12:00 UTC of that date. The same arguments
    give the same bytes, and a subset of ``files`` gives the same bytes for the files it keeps.
    ``jpeg_size`` (width, height) renders the medium JPEG's star field at another size, e.g. the few
    megapixels of a full camera frame, where the thumbnailer's cost shows; a 3:2 size shows the
    same field as the FITS images.
    """
    prefix = prefix.strip("/") if isinstance(prefix, str) else prefix
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise Rejected(f"prefix {prefix!r} is not a path of letters, digits, '.', '_' or '-'")
    if instrument is None:
        instrument = DEFAULT_INSTRUMENTS.get(prefix, DEFAULT_INSTRUMENT)
    _check_name_parts(site, instrument, data_type)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise Rejected(f"count must be a non-negative integer, got {count!r}")
    _check_counter(first_counter)
    if count and first_counter + count - 1 > _MAX_COUNTER:
        raise Rejected(f"counters from {first_counter} for {count} exposures overflow 8 digits")
    metadata: dict[str, str] = {}
    if channel is not None:
        if prefix != INFO_PREFIX:
            raise Rejected(f"a channel only applies to {INFO_PREFIX}, not to prefix {prefix!r}")
        if isinstance(channel, bool) or channel not in INFO_CHANNELS:
            raise Rejected(f"channel must be one of {INFO_CHANNELS}, got {channel!r}")
        metadata = {"info-channel": str(channel)}
    if isinstance(files, str):
        files = (files,)
    try:
        wanted = set(files)
    except TypeError:
        raise Rejected(f"files must be a collection of roles from {list(ALL_FILES)}, got {files!r}") from None
    unknown = sorted(repr(role) for role in wanted - set(ALL_FILES))
    if unknown:
        raise Rejected(f"unknown file roles {unknown}; the roles are {list(ALL_FILES)}")
    roles = [role for role in ALL_FILES if role in wanted]
    if not (
        isinstance(jpeg_size, tuple)
        and len(jpeg_size) == 2
        and all(isinstance(side, int) and not isinstance(side, bool) and side >= 1 for side in jpeg_size)
    ):
        raise Rejected(f"jpeg_size must be (width, height) in whole pixels, got {jpeg_size!r}")
    if night is None:
        night = datetime.now(UTC).date() - timedelta(days=1)
    elif isinstance(night, datetime) or not isinstance(night, date):
        raise Rejected(f"night must be a date, got {night!r}")

    start = datetime(night.year, night.month, night.day, _NIGHT_START_HOUR)
    slot_ms = _NIGHT_HOURS * 3_600_000 // max(count, 1)
    exposures: list[tuple[str, fits.Header, _Scene]] = []
    for index in range(count):
        counter = first_counter + index
        rng = random.Random(f"{seed}|{site}|{instrument}|{night.isoformat()}|{counter}|{data_type}")
        offset_ms = index * slot_ms + rng.randrange(max(slot_ms // 2, 1))
        capture = start + timedelta(milliseconds=offset_ms)
        header = observatory_header(site, instrument, capture, counter, data_type, rng)
        base = f"{prefix}/{site}-{instrument}-{night:%Y%m%d}-{counter:08d}-{data_type}"
        exposures.append((base, header, _Scene.draw(rng)))

    def write(exposure: tuple[str, fits.Header, _Scene]) -> list[SampleFile]:
        base, header, scene = exposure
        written = []
        for role in roles:
            reduction, extension, content_type = _ROLES[role]
            body = _render(role, header, scene, jpeg_size)
            written.append(SampleFile(f"{base}{reduction}.{extension}", body, content_type, dict(metadata)))
        return written

    # Compression and image arithmetic release the GIL, so exposures are written side by side;
    # each one's bytes depend only on its own header and scene, so the result stays deterministic.
    if len(exposures) < 2:
        return [file for exposure in exposures for file in write(exposure)]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(exposures))) as pool:
        return [file for written in pool.map(write, exposures) for file in written]


def _check_name_parts(site: str, instrument: str, data_type: str) -> None:
    """Refuse parts that would make a name the ingest rejects; sample data must always be valid."""
    if not isinstance(site, str) or not _SITE_RE.fullmatch(site):
        raise Rejected(f"site {site!r} must be 3 to 6 letters or digits")
    if not isinstance(instrument, str) or not _INSTRUMENT_RE.fullmatch(instrument):
        raise Rejected(f"instrument {instrument!r} must be letters or digits, without a dash")
    if not isinstance(data_type, str) or not _DATA_TYPE_RE.fullmatch(data_type):
        raise Rejected(f"data type {data_type!r} must be letters only, like EX, EP or EF")


def _check_counter(counter: int) -> None:
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter <= _MAX_COUNTER:
        raise Rejected(f"counter {counter!r} must be an integer of at most 8 digits")


def _equatorial(
    altitude: float, azimuth: float, latitude: float, longitude: float, mjd: float
) -> tuple[float, float]:
    """RA and Dec (degrees) of an altitude/azimuth pointing, so the header's position is consistent."""
    alt, az, lat = math.radians(altitude), math.radians(azimuth), math.radians(latitude)
    sin_dec = math.sin(lat) * math.sin(alt) + math.cos(lat) * math.cos(alt) * math.cos(az)
    dec = math.asin(max(-1.0, min(1.0, sin_dec)))
    north = math.cos(lat) * math.sin(alt) - math.sin(lat) * math.cos(alt) * math.cos(az)
    hour_angle = math.atan2(-math.sin(az) * math.cos(alt), north)
    gmst = 280.46061837 + 360.98564736629 * (mjd + 2_400_000.5 - 2_451_545.0)
    ra = (gmst + longitude - math.degrees(hour_angle)) % 360.0
    return ra, math.degrees(dec)


def _airmass(altitude: float) -> float:
    # Pickering (2002): stays finite down to the horizon.
    return round(1.0 / math.sin(math.radians(altitude + 244.0 / (165.0 + 47.0 * altitude**1.1))), 4)


def _hms(hours: float) -> str:
    hundredths = round(hours * 360_000) % (24 * 360_000)
    h, rest = divmod(hundredths, 360_000)
    m, rest = divmod(rest, 6_000)
    return f"{h:02d}:{m:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _dms(sign: str, tenths: int) -> str:
    d, rest = divmod(tenths, 36_000)
    m, rest = divmod(rest, 600)
    return f"{sign if sign == '-' else ''}{d:02d}d{m:02d}m{rest // 10:02d}.{rest % 10}s"


@dataclass(frozen=True)
class _Scene:
    """A star field in the large image's pixel coordinates, rendered at each file's scale."""

    x: np.ndarray  # column of each star
    y: np.ndarray  # row of each star
    peak: np.ndarray  # peak above the sky, ADU
    sigma: float  # gaussian width, pixels
    sky: float  # background, ADU
    seed: int

    @classmethod
    def draw(cls, rng: random.Random) -> _Scene:
        seed = rng.getrandbits(64)
        generator = np.random.default_rng(seed)
        rows, cols = LARGE_SHAPE
        stars = int(generator.integers(60, 220))
        # Pareto peaks: many faint stars, a few bright ones, some of them saturated.
        peak = np.minimum(50.0 * (1.0 + generator.pareto(1.0, stars)), 60_000.0)
        return cls(
            x=generator.uniform(-5, cols + 5, stars),
            y=generator.uniform(-5, rows + 5, stars),
            peak=peak,
            sigma=float(generator.uniform(1.0, 1.6)),
            sky=float(generator.uniform(120.0, 260.0)),
            seed=seed,
        )

    def render(self, rows: int, cols: int, stream: int) -> np.ndarray:
        """The field at ``rows`` x ``cols`` in ADU, sky noise included; ``stream`` keeps noise apart."""
        scale = cols / LARGE_SHAPE[1]
        sigma = max(self.sigma * scale, 0.7)
        # The images are views of one sky at one sky level; only a star drawn wider than its
        # scaled width (kept at 0.7 px so it still lands on a pixel) spreads its light lower.
        peak = self.peak * (self.sigma * scale / sigma) ** 2
        # Each star lands on a square of pixels 4 sigma around it; the squares are summed into the
        # image in one bincount, which costs a few thousand pixels per star, not the whole frame.
        steps = np.arange(-math.ceil(4 * sigma), math.ceil(4 * sigma) + 1)
        x, y = self.x * scale, self.y * scale
        columns = np.floor(x).astype(np.int64)[:, None] + steps
        lines = np.floor(y).astype(np.int64)[:, None] + steps
        across = np.exp(-0.5 * ((columns + 0.5 - x[:, None]) / sigma) ** 2)
        down = np.exp(-0.5 * ((lines + 0.5 - y[:, None]) / sigma) ** 2) * peak[:, None]
        across[(columns < 0) | (columns >= cols)] = 0.0
        down[(lines < 0) | (lines >= rows)] = 0.0
        np.clip(columns, 0, cols - 1, out=columns)
        np.clip(lines, 0, rows - 1, out=lines)
        pixels = (lines[:, :, None] * cols + columns[:, None, :]).ravel()
        light = (down[:, :, None] * across[:, None, :]).ravel()
        image = np.bincount(pixels, light, minlength=rows * cols).reshape(rows, cols).astype(np.float32)
        image += np.float32(self.sky)
        noise = np.random.default_rng([self.seed, stream]).standard_normal((rows, cols), dtype=np.float32)
        # Photon noise of the sky and the stars (gain 1.5 e-/ADU) plus 3 ADU of read noise.
        noise *= np.sqrt(image * np.float32(1 / 1.5) + np.float32(9.0))
        image += noise
        return image


def _render(role: str, header: fits.Header, scene: _Scene, jpeg_size: tuple[int, int]) -> bytes:
    if role == "txt":
        return str(header).encode("ascii")
    if role == "fits_large":
        image = _adu(scene.render(*LARGE_SHAPE, stream=1))
        buffer = io.BytesIO()
        fits.PrimaryHDU(data=image, header=header).writeto(buffer)
        return bz2.compress(buffer.getvalue(), compresslevel=9)
    if role == "fits_small":
        image = _adu(scene.render(*SMALL_SHAPE, stream=2))
        small = header.copy()
        for keyword in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"):
            del small[keyword]
        factor = LARGE_SHAPE[1] / SMALL_SHAPE[1]
        small["CRPIX1"] = SMALL_SHAPE[1] / 2 + 0.5
        small["CRPIX2"] = SMALL_SHAPE[0] / 2 + 0.5
        small["CDELT1"] = header["CDELT1"] * factor
        small["CDELT2"] = header["CDELT2"] * factor
        buffer = io.BytesIO()
        compressed = fits.CompImageHDU(data=image, header=small, compression_type="RICE_1")
        fits.HDUList([fits.PrimaryHDU(), compressed]).writeto(buffer)
        return buffer.getvalue()
    if role == "jpg":
        width, height = jpeg_size
        return _jpeg(scene.render(height, width, stream=3), scene.sky)
    raise Rejected(f"unknown file role {role!r}")


def _adu(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, _SATURATION).astype(np.int16)


def _jpeg(image: np.ndarray, sky: float) -> bytes:
    adu = np.clip(image, 0, _SATURATION).astype(np.uint16)
    pixels = _stretch_table(round(sky))[adu]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@functools.lru_cache(maxsize=64)
def _stretch_table(sky: int) -> np.ndarray:
    """ADU -> RGB like a display preview: dark sky, faint stars visible, bright ones white.

    A table lookup instead of per-pixel arithmetic keeps the JPEG cheap enough for a night of data.
    """
    above = np.maximum(np.arange(_SATURATION + 1, dtype=np.float64) - sky, -30.0)
    level = np.clip(0.07 + 0.93 * np.arcsinh(above / 25.0) / math.asinh(20_000.0 / 25.0), 0.0, 1.0)
    tint = np.array([0.92, 0.96, 1.0])  # a slightly blue night sky
    table = (level[:, None] * tint * 255.0).astype(np.uint8)
    table.flags.writeable = False
    return table
