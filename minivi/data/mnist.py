"""MNIST: the official IDX files, found locally or downloaded, checked and parsed.

Where the data comes from (first match wins):

1. the ``path`` argument of :func:`load_mnist` (a directory, or a directory with a ``mnist/`` sub-folder);
   when given, it is the only place searched: a wrong path is an error, never a silent fall-back;
2. the ``MINIVI_DATA`` environment variable (same rule: ``$MINIVI_DATA/mnist/`` or ``$MINIVI_DATA/``);
3. the user cache, ``$XDG_CACHE_HOME/minivi/mnist`` or ``~/.cache/minivi/mnist``;
4. a download into the user cache from the first mirror in :data:`MIRRORS` that has the files, abandoned
   after :data:`DOWNLOAD_DEADLINE` seconds per file however slowly the server trickles bytes.

Which split you get:

* all four official files present: the official split (60,000 training / 10,000 test digits);
* only the two test files (``t10k-*``, the offline case): digits 0-7,999 of the official *test* set for
  training and 8,000-9,999 for testing, always the same. The loader says so once per process, and
  :func:`mnist_info` tells you which split the last call used.

Binarisation comes in two kinds. *Fixed* binarisation (:func:`binarize`) turns the grey images into 0/1
once, by a threshold or by one seeded Bernoulli draw. *Dynamic* binarisation draws fresh 0/1 pixels every
epoch; it lives in the batch iterator (``minibatches(..., binarize="dynamic")``).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import time
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

__all__ = [
    "CHECKSUMS",
    "Checksum",
    "ChecksumError",
    "MIRRORS",
    "MNISTInfo",
    "binarize",
    "load_mnist",
    "mnist_info",
    "read_idx",
]

# --------------------------------------------------------------------------------------------------------------
# Configuration (module-level so that tests, or users behind a proxy, can replace it)
# --------------------------------------------------------------------------------------------------------------

#: Base URLs tried in order; a file's URL is ``base + name + ".gz"``.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

#: Seconds to wait for a mirror to answer (per network operation, not for the whole file).
DOWNLOAD_TIMEOUT: float = 30.0

#: Seconds allowed for downloading one whole file; a mirror still sending after that is abandoned
#: (a server trickling a byte at a time never trips the per-operation timeout alone).
DOWNLOAD_DEADLINE: float = 600.0


class Checksum(NamedTuple):
    """A known hash of one MNIST file.

    ``of="raw"`` hashes the decompressed IDX bytes (robust to re-compressed copies of the ``.gz`` file);
    ``of="gz"`` hashes the ``.gz`` file itself (the only hash published for the training files).
    """

    of: Literal["raw", "gz"]
    algorithm: str  # any name hashlib knows: "md5", "sha256", ...
    hexdigest: str


#: Known hashes, keyed by the file name without ``.gz``. The published md5s of the two test ``.gz`` files
#: (9fb629c4189551a2d022fa330f9573f3 and ec29112dd5afa0611ce80d1b7f02629c) are not used: copies of those
#: files are often re-compressed, so for them we check the decompressed content instead.
CHECKSUMS: dict[str, Checksum] = {
    "train-images-idx3-ubyte": Checksum("gz", "md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte": Checksum("gz", "md5", "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte": Checksum(
        "raw", "sha256", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
    ),
    "t10k-labels-idx1-ubyte": Checksum(
        "raw", "sha256", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    ),
}

# File names (without .gz) of the two official sets, as (images, labels).
_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# IDX magic numbers of MNIST: 0x0000 0803 (unsigned bytes, 3 dims) and 0x0000 0801 (unsigned bytes, 1 dim).
_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049

#: Offline split: the first 80% of the official test set (digits 0-7,999) train, the rest (8,000-9,999) test.
OFFLINE_TRAIN_FRACTION = 0.8


# --------------------------------------------------------------------------------------------------------------
# IDX format
# --------------------------------------------------------------------------------------------------------------

# The third byte of the magic number gives the element type (all stored big-endian).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _parse_idx(raw: bytes, name: str, expected_magic: int | None = None) -> np.ndarray:
    """Parse decompressed IDX bytes; ``name`` is used in error messages."""
    if len(raw) < 4:
        raise ValueError(f"{name}: only {len(raw)} bytes, too short to be an IDX file (truncated or empty).")
    magic = int.from_bytes(raw[:4], "big")
    leading, type_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]  # leading two bytes are zero
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{name}: IDX magic number is {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}). This is not the file its name says; replace it with an official copy."
        )
    if leading != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{name}: bad IDX magic number 0x{magic:08x}; this is not an IDX file.")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, the header needs {header_size}).")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = header_size + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: file {problem}: the header promises shape {dims} ({expected} bytes in all) but the "
            f"decompressed file has {len(raw)} bytes. Delete it and download it again."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(dims)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def _decompress(file_bytes: bytes, name: str) -> bytes:
    """Return the IDX bytes of a file that may or may not be gzip-compressed (told by its first bytes)."""
    if not file_bytes.startswith(b"\x1f\x8b"):
        return file_bytes
    try:
        return gzip.decompress(file_bytes)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{name}: corrupt gzip data ({err}). Delete the file and download it again.") from None


def read_idx(file: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into a NumPy array.

    IDX is the simple format of the MNIST files: a 4-byte magic number (two zero bytes, a type code, the
    number of dimensions), one big-endian 4-byte size per dimension, then the values in C order.

    Parameters
    ----------
    file : path-like
        The file to read, e.g. ``"t10k-labels-idx1-ubyte.gz"``.

    Returns
    -------
    numpy.ndarray
        The array, with the shape and element type the header declares (native byte order).

    Raises
    ------
    ValueError
        If the file is not IDX, is truncated, or has trailing bytes (the message names the file).
    """
    path = Path(file)
    return _parse_idx(_decompress(path.read_bytes(), str(path)), str(path))


# --------------------------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------------------------


class ChecksumError(ValueError):
    """A file's content does not match its known hash."""


def _check(name: str, file_bytes: bytes, raw: bytes, where: str, downloaded: bool = False) -> None:
    """Compare a file with :data:`CHECKSUMS`; pass when no hash applies to this form of a local file."""
    known = CHECKSUMS.get(name)
    if known is None:
        return
    if known.of == "gz":
        if not file_bytes.startswith(b"\x1f\x8b"):
            if downloaded:  # a download must be verifiable
                raise ChecksumError(f"{where}: expected a gzip file, got uncompressed data that cannot be verified.")
            return  # a local uncompressed copy: only the .gz hash is published, nothing to compare with
        content, what = file_bytes, "the .gz file"
    else:
        content, what = raw, "the decompressed content"
    got = hashlib.new(known.algorithm, content).hexdigest()
    if got != known.hexdigest.lower():
        raise ChecksumError(
            f"{where}: {known.algorithm} of {what} is {got}, expected {known.hexdigest}. The file is corrupted "
            f"or not the official MNIST file."
        )


# --------------------------------------------------------------------------------------------------------------
# Finding and downloading the files
# --------------------------------------------------------------------------------------------------------------


def _cache_dir() -> Path:
    """``$XDG_CACHE_HOME/minivi/mnist``, or ``~/.cache/minivi/mnist`` when that variable is unset."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "minivi" / "mnist"


def _make_cache(directory: Path) -> None:
    """Create the download cache, or say which path is in the way and how to fix it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocker = next((p for p in [directory, *directory.parents] if p.exists() and not p.is_dir()), None)
        what = (f"{blocker} is a file, not a directory" if blocker is not None
                else f"{err.strerror or err}")
        xdg = os.environ.get("XDG_CACHE_HOME")
        via = f"XDG_CACHE_HOME={xdg!r}" if xdg else "the home directory"
        raise NotADirectoryError(
            f"load_mnist: cannot create the download cache {directory} ({what}; the cache comes from {via}). "
            "Fix: point XDG_CACHE_HOME at a writable directory (or unset it), or give the data directly with "
            "load_mnist(path=...) or MINIVI_DATA."
        ) from None


def _fetch(url: str, out, deadline: float) -> None:
    """Copy ``url`` into the open file ``out``, giving up when ``deadline`` seconds have passed in all."""
    start = time.monotonic()
    received = 0
    with urllib.request.urlopen(url, timeout=min(DOWNLOAD_TIMEOUT, deadline)) as response:
        while True:
            chunk = response.read1(1 << 16)  # returns what has arrived, so the clock is checked often
            if not chunk:
                return
            out.write(chunk)
            received += len(chunk)
            if time.monotonic() - start > deadline:
                raise TimeoutError(
                    f"gave up after {deadline:g} s with {received:,} bytes received (the server is too slow); "
                    "raise minivi.data.mnist.DOWNLOAD_DEADLINE to wait longer"
                )


def _find_file(directory: Path, name: str) -> Path | None:
    """``directory/name.gz`` or else ``directory/name``, whichever exists first."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _has_all(directory: Path, names: tuple[str, ...]) -> bool:
    return all(_find_file(directory, name) is not None for name in names)


def _download(name: str, directory: Path, verbose: bool) -> Path:
    """Download ``name.gz`` into ``directory`` from the first mirror that serves a file with the right hash.

    The file is written to a temporary ``.part`` file and renamed only once verified, so an interrupted or
    corrupt download never leaves a file behind. Raises ``ChecksumError`` if a mirror served bad content
    (and no mirror served good content), ``ConnectionError`` if no mirror could be reached.
    """
    _make_cache(directory)
    target = directory / f"{name}.gz"
    network_failures: list[str] = []
    content_failures: list[str] = []
    for base in MIRRORS:
        url = base if base.endswith("/") else base + "/"
        url += f"{name}.gz"
        fd, tmp = tempfile.mkstemp(prefix=f"{name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                if verbose:
                    print(f"minivi: downloading {url}")
                _fetch(url, out, DOWNLOAD_DEADLINE)
            file_bytes = Path(tmp).read_bytes()
            _check(name, file_bytes, _decompress(file_bytes, url), where=f"downloaded {url}", downloaded=True)
            os.replace(tmp, target)  # atomic: the final name only ever holds a verified file
            return target
        except ValueError as err:  # bad content: checksum mismatch or corrupt gzip
            content_failures.append(f"{err} (deleted)")
        except (OSError, http.client.HTTPException) as err:  # unreachable, 404, timeout, cut connection
            network_failures.append(f"{url}: {err}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    if content_failures:
        raise ChecksumError(
            f"Could not download {name}.gz: every mirror that answered served a bad file.\n  "
            + "\n  ".join(content_failures + network_failures)
        )
    if not MIRRORS:
        raise ConnectionError("no mirrors configured (minivi.data.mnist.MIRRORS is empty)")
    raise ConnectionError(f"could not download {name}.gz:\n    " + "\n    ".join(network_failures))


def _candidate_dirs() -> list[tuple[Path, str]]:
    """The directories searched when no path is given, in order, each with a note saying where it came from."""
    candidates: list[tuple[Path, str]] = []
    env = os.environ.get("MINIVI_DATA")
    if env:
        base = Path(env).expanduser()
        if not base.is_dir():
            warnings.warn(f"load_mnist: MINIVI_DATA={env!r} is not a directory, so it is skipped (searching the "
                          "user cache next); fix or unset the variable.", stacklevel=4)
        candidates += [(base / "mnist", "MINIVI_DATA"), (base, "MINIVI_DATA")]
    candidates.append((_cache_dir(), "user cache"))
    return candidates


def _not_found(candidates: list[tuple[Path, str]], download_note: str) -> FileNotFoundError:
    looked = "\n".join(f"  - {directory}  ({why})" for directory, why in candidates)
    if not os.environ.get("MINIVI_DATA"):
        looked += "\n  - (MINIVI_DATA is not set)"
    return FileNotFoundError(
        f"MNIST not found: no directory holds {_TEST_FILES[0]}[.gz] and {_TEST_FILES[1]}[.gz].\n"
        f"Looked in:\n{looked}\nDownload: {download_note}\n"
        "Provide the data in one of three ways:\n"
        "  1. load_mnist(path='some/dir') with the IDX files in some/dir or some/dir/mnist;\n"
        "  2. set the environment variable MINIVI_DATA to such a directory (e.g. MINIVI_DATA=../shared/data);\n"
        f"  3. let the loader download them into {_cache_dir()}: load_mnist(download=True) with internet access."
    )


def _explicit(path: str | os.PathLike) -> tuple[Path, bool]:
    """The directory an explicit ``path`` names: searched alone, so a wrong path is an error."""
    base = Path(path).expanduser()
    for directory in (base, base / "mnist"):
        if _has_all(directory, _TEST_FILES):
            return directory, _has_all(directory, _TRAIN_FILES)
    if not base.exists():
        problem = "does not exist"
    elif not base.is_dir():
        problem = f"is a file, not a directory (give the folder that holds it: path={str(base.parent)!r})"
    else:
        problem = f"holds neither {_TEST_FILES[0]}[.gz] and {_TEST_FILES[1]}[.gz] nor a mnist/ folder with them"
    raise FileNotFoundError(
        f"load_mnist(path={os.fspath(path)!r}): {base} {problem}.\n"
        f"With path= given, only {base} and {base / 'mnist'} are searched (never MINIVI_DATA, the cache or a "
        "download). Fix the path, or leave path= out to use the search order: "
        "$MINIVI_DATA[/mnist], then the user cache " f"{_cache_dir()}, then a download."
    )


def _locate(path: str | os.PathLike | None, download: bool, verbose: bool) -> tuple[Path, bool]:
    """Find the directory to read from; return it and whether it holds the full (official) set."""
    if path is not None:
        return _explicit(path)
    candidates = _candidate_dirs()
    for directory, _ in candidates[:-1]:  # MINIVI_DATA: use whatever is there
        if _has_all(directory, _TEST_FILES):
            return directory, _has_all(directory, _TRAIN_FILES)

    cache = candidates[-1][0]
    # The small test files first: if the big training files then fail, the offline split still works.
    missing = [name for name in _TEST_FILES + _TRAIN_FILES if _find_file(cache, name) is None]
    if missing and download:
        try:
            for name in missing:
                _download(name, cache, verbose)
        except ConnectionError as err:
            if not _has_all(cache, _TEST_FILES):
                raise _not_found(candidates, f"failed: {err}") from None
            if verbose:  # the test files are cached already: carry on with the offline split
                print(f"minivi: could not complete the MNIST download ({err}); using the cached test files.")
    elif missing and not _has_all(cache, _TEST_FILES):
        raise _not_found(candidates, "not attempted (download=False)")
    return cache, _has_all(cache, _TRAIN_FILES)


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MNISTInfo:
    """Which MNIST split a :func:`load_mnist` call used, and where the files were.

    Attributes
    ----------
    split : {"official", "offline"}
        ``"official"``: the 60,000/10,000 split. ``"offline"``: the first 80% of the official test set
        (digits 0-7,999) for training and the rest (8,000-9,999) for testing.
    directory : pathlib.Path
        The directory the IDX files were read from.
    description : str
        One sentence for printing, e.g. ``print(f"ran on the {mnist_info()}")``.
    """

    split: Literal["official", "offline"]
    directory: Path
    description: str

    def __str__(self) -> str:
        return self.description


# Parsed files, keyed by (directory, images file, labels file); stored read-only, handed out as copies.
_CACHE: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
_LAST_INFO: MNISTInfo | None = None
_OFFLINE_ANNOUNCED = False  # the offline-split message is printed once per process


def _read_checked(directory: Path, name: str, expected_magic: int) -> np.ndarray:
    file = _find_file(directory, name)
    assert file is not None  # _locate made sure it exists
    file_bytes = file.read_bytes()
    raw = _decompress(file_bytes, str(file))
    try:
        _check(name, file_bytes, raw, where=str(file))
    except ChecksumError as err:
        raise ChecksumError(
            f"{err}\nFix: delete {file} and call load_mnist(download=True) to fetch a fresh copy."
        ) from None
    return _parse_idx(raw, str(file), expected_magic)


def _read_set(directory: Path, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Read, check and cache one (images, labels) pair of files."""
    key = (str(directory.resolve()), *names)
    if key not in _CACHE:
        images = _read_checked(directory, names[0], _IMAGES_MAGIC)
        labels = _read_checked(directory, names[1], _LABELS_MAGIC)
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"{directory}: expected 3-D images and 1-D labels, got {images.shape}, {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(
                f"{directory}: {names[0]} holds {len(images)} images but {names[1]} holds {len(labels)} labels; "
                "the two files do not belong together. Replace them with an official pair."
            )
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"{directory / names[1]}: labels outside 0-9; this is not an MNIST label file.")
        images.flags.writeable = False
        labels.flags.writeable = False
        _CACHE[key] = (images, labels)
    return _CACHE[key]


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    split: Literal["train", "test"] = "train",
    download: bool = True,
    flatten: bool = True,
    normalize: bool = True,
    verbose: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images and labels.

    Parameters
    ----------
    path : path-like, optional
        A directory holding the IDX files (``t10k-images-idx3-ubyte.gz`` etc., gzipped or not), directly or
        in a ``mnist/`` sub-folder. When given it is the only place searched (a wrong path raises
        ``FileNotFoundError``); when omitted: ``$MINIVI_DATA``, then the user cache, then a download.
    split : {"train", "test"}
        Which part to return. With all four official files this is the official 60,000/10,000 split; with
        only the test files it is digits 0-7,999 (train) / 8,000-9,999 (test) of the official test set.
    download : bool
        If the data is found nowhere, download the official files into the user cache.
    flatten : bool
        Return images of shape ``(n, 784)``; otherwise ``(n, 28, 28)``.
    normalize : bool
        Return ``float32`` intensities in [0, 1]; otherwise the raw ``uint8`` values 0-255.
    verbose : bool
        Print download progress and, once per process, a note when the offline split is used.

    Returns
    -------
    images : numpy.ndarray
        ``(n, 784)`` or ``(n, 28, 28)``, ``float32`` or ``uint8``.
    labels : numpy.ndarray
        ``(n,)`` ``int64`` digits 0-9.

    Raises
    ------
    FileNotFoundError
        No data found and none could be downloaded; the message lists where it looked.
    ValueError
        A file is corrupt, truncated, fails its checksum, or does not match its partner file.

    Examples
    --------
    >>> x_train, y_train = load_mnist(split="train")      # doctest: +SKIP
    >>> x_test, y_test = load_mnist(split="test")         # doctest: +SKIP
    >>> print(f"ran on the {mnist_info()}")               # doctest: +SKIP
    """
    global _LAST_INFO, _OFFLINE_ANNOUNCED
    if split not in ("train", "test"):
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_mnist: path must be a folder name (str or pathlib.Path), got {type(path).__name__} "
                        f"{path!r:.40}; did you mean split=...?")

    directory, official = _locate(path, download, verbose)
    if official:
        images, labels = _read_set(directory, _TRAIN_FILES if split == "train" else _TEST_FILES)
        info = MNISTInfo("official", directory, "official MNIST split (60,000 training / 10,000 test digits)")
    else:
        all_images, all_labels = _read_set(directory, _TEST_FILES)
        n = len(all_labels)
        n_train = round(OFFLINE_TRAIN_FRACTION * n)
        part = slice(0, n_train) if split == "train" else slice(n_train, n)
        images, labels = all_images[part], all_labels[part]
        info = MNISTInfo(
            "offline",
            directory,
            f"offline {n_train:,}/{n - n_train:,} split of the official MNIST test set "
            f"(digits 0-{n_train - 1:,} train, {n_train:,}-{n - 1:,} test)",
        )
        if verbose and not _OFFLINE_ANNOUNCED:
            _OFFLINE_ANNOUNCED = True
            print(
                f"minivi: only the MNIST test files were found (in {directory}), so load_mnist uses the "
                f"{info.description}. With the full training files present it uses the official "
                "60,000/10,000 split."
            )
    _LAST_INFO = info

    images = images.astype(np.float32) / np.float32(255.0) if normalize else images.copy()
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels.astype(np.int64)


def mnist_info() -> MNISTInfo:
    """Describe the split and directory used by the last :func:`load_mnist` call in this process.

    Examples
    --------
    >>> x, y = load_mnist()                      # doctest: +SKIP
    >>> mnist_info().split                       # doctest: +SKIP
    'offline'
    """
    if _LAST_INFO is None:
        raise RuntimeError("mnist_info() describes the last load_mnist() call; call load_mnist() first.")
    return _LAST_INFO


# --------------------------------------------------------------------------------------------------------------
# Fixed binarisation
# --------------------------------------------------------------------------------------------------------------


def binarize(
    images: np.ndarray,
    *,
    method: Literal["threshold", "sample"] = "threshold",
    threshold: float = 0.5,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Fixed binarisation: turn intensities in [0, 1] into 0/1 values once.

    ``method="threshold"`` sets a pixel to 1 where it exceeds ``threshold``. ``method="sample"`` makes ONE
    Bernoulli draw per pixel (1 with probability equal to its intensity) using ``rng``; call it once and keep
    the result. For *dynamic* binarisation, a fresh draw every epoch, use
    ``minibatches(..., binarize="dynamic")`` instead.

    Parameters
    ----------
    images : numpy.ndarray
        Intensities in [0, 1] (``load_mnist(normalize=True)``), any shape.
    method : {"threshold", "sample"}
    threshold : float
        Used by ``method="threshold"``.
    rng : numpy.random.Generator
        Required by ``method="sample"``, e.g. ``np.random.default_rng(0)``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``images``, values 0.0 or 1.0.
    """
    images = np.asarray(images)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
        raise ValueError(f"binarize: threshold must be a number in [0, 1], got {threshold!r}")
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"binarize expects float intensities in [0, 1], got dtype {images.dtype}; "
            "load with normalize=True or divide by 255 first."
        )
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError("binarize expects intensities in [0, 1]; load with normalize=True or divide by 255 first.")
    if method == "threshold":
        out = images > threshold
    elif method == "sample":
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                "binarize(method='sample') needs rng=np.random.default_rng(seed) (a numpy Generator) "
                f"so the draw is reproducible; got {type(rng).__name__}."
            )
        out = rng.random(images.shape) < images
    else:
        raise ValueError(f"method must be 'threshold' or 'sample', got {method!r}")
    return out.astype(images.dtype)
