"""MNIST loader: IDX parsing, checksums, lookup order, the offline split, downloads from a loopback server."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from minivi.data import ChecksumError, binarize, load_mnist, mnist_info, read_idx
from minivi.data import mnist

REAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_real = pytest.mark.skipif(
    not (REAL_DIR / "t10k-images-idx3-ubyte.gz").is_file(), reason=f"offline MNIST files not found in {REAL_DIR}"
)
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Never touch the real user cache, the environment's MINIVI_DATA, or the network."""
    monkeypatch.delenv("MINIVI_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")  # loopback requests must not go through a proxy
    monkeypatch.setattr(mnist, "MIRRORS", [])  # any download attempt fails unless a test serves files
    monkeypatch.setattr(mnist, "DOWNLOAD_TIMEOUT", 5.0)
    monkeypatch.setattr(mnist, "_CACHE", {})
    monkeypatch.setattr(mnist, "_LAST_INFO", None)
    monkeypatch.setattr(mnist, "_OFFLINE_ANNOUNCED", False)


def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "minivi" / "mnist"


# ---------------------------------------------------------------------------------------------------------------
# Synthetic IDX files
# ---------------------------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode an array as IDX (unsigned bytes unless it is int32)."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float64): 0x0E}[array.dtype]
    if magic is None:
        magic = (code << 8) | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_file(directory: Path, name: str, raw: bytes, gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name + ".gz" if gz else name)
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    return path


def write_set(directory: Path, names: tuple[str, str], n: int, seed: int = 0, gz: bool = True):
    """Write n random 28x28 digits and labels; return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    write_file(directory, names[0], idx_bytes(images), gz)
    write_file(directory, names[1], idx_bytes(labels), gz)
    return images, labels


def checksums_of(directory: Path) -> dict[str, mnist.Checksum]:
    """A checksum table of the same kinds as the real one (train: md5 of .gz; t10k: sha256 of content)."""
    table = {}
    for name in TRAIN_FILES:
        table[name] = mnist.Checksum("gz", "md5", hashlib.md5((directory / f"{name}.gz").read_bytes()).hexdigest())
    for name in TEST_FILES:
        raw = gzip.decompress((directory / f"{name}.gz").read_bytes())
        table[name] = mnist.Checksum("raw", "sha256", hashlib.sha256(raw).hexdigest())
    return table


# ---------------------------------------------------------------------------------------------------------------
# The real offline files
# ---------------------------------------------------------------------------------------------------------------


@needs_real
def test_real_offline_split_shapes_dtypes_and_range():
    x, y = load_mnist(REAL_DIR, split="train")
    assert x.shape == (8000, 784) and x.dtype == np.float32
    assert y.shape == (8000,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() == 1.0
    xt, yt = load_mnist(REAL_DIR, split="test", flatten=False, normalize=False)
    assert xt.shape == (2000, 28, 28) and xt.dtype == np.uint8 and xt.max() == 255
    assert mnist_info().split == "offline"
    assert "8,000/2,000" in str(mnist_info())


@needs_real
def test_real_offline_split_is_the_fixed_slices_of_the_test_file():
    all_x = read_idx(REAL_DIR / "t10k-images-idx3-ubyte.gz")
    all_y = read_idx(REAL_DIR / "t10k-labels-idx1-ubyte.gz")
    assert all_x.shape == (10000, 28, 28)
    assert np.bincount(all_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, y = load_mnist(REAL_DIR.parent, split="train", normalize=False, flatten=False)  # finds mnist/ below
    xt, yt = load_mnist(REAL_DIR, split="test", normalize=False, flatten=False)
    np.testing.assert_array_equal(x, all_x[:8000])
    np.testing.assert_array_equal(xt, all_x[8000:])
    np.testing.assert_array_equal(np.concatenate([y, yt]), all_y)  # disjoint and together the whole file
    mnist._CACHE.clear()  # deterministic across fresh reads too
    np.testing.assert_array_equal(load_mnist(REAL_DIR, split="test", normalize=False, flatten=False)[0], xt)


@needs_real
def test_real_offline_message_is_printed_once(capsys):
    load_mnist(REAL_DIR, split="train", verbose=False)
    assert capsys.readouterr().out == ""
    load_mnist(REAL_DIR, split="train")
    load_mnist(REAL_DIR, split="test")
    load_mnist(REAL_DIR, split="train")
    out = capsys.readouterr().out
    assert out.count("offline 8,000/2,000 split") == 1
    assert "official 60,000/10,000" in out


@needs_real
def test_real_files_found_through_minivi_data(monkeypatch):
    monkeypatch.setenv("MINIVI_DATA", str(REAL_DIR.parent))
    x, y = load_mnist(split="test", verbose=False)
    assert x.shape == (2000, 784) and mnist_info().directory == REAL_DIR


@needs_real
def test_returned_arrays_are_copies():
    x, _ = load_mnist(REAL_DIR, normalize=False)
    x[:] = 0
    assert load_mnist(REAL_DIR, normalize=False)[0].max() == 255


# ---------------------------------------------------------------------------------------------------------------
# Lookup order and splits on synthetic files
# ---------------------------------------------------------------------------------------------------------------


def test_lookup_order_path_beats_env_beats_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path / "explicit", TEST_FILES, n=10)
    write_set(tmp_path / "env" / "mnist", TEST_FILES, n=15)
    write_set(cache_dir(tmp_path), TEST_FILES, n=20)
    monkeypatch.setenv("MINIVI_DATA", str(tmp_path / "env"))

    def n_total(**kw):
        return sum(len(load_mnist(split=s, verbose=False, download=False, **kw)[1]) for s in ("train", "test"))

    assert n_total(path=tmp_path / "explicit") == 10
    assert mnist_info().directory == tmp_path / "explicit"
    assert n_total() == 15
    with pytest.raises(FileNotFoundError, match="nothing-here"):  # a given path never falls through
        n_total(path=tmp_path / "nothing-here")
    monkeypatch.delenv("MINIVI_DATA")
    assert n_total() == 20
    assert mnist_info().directory == cache_dir(tmp_path)


def test_minivi_data_may_hold_the_files_directly(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path / "flat", TEST_FILES, n=10)
    monkeypatch.setenv("MINIVI_DATA", str(tmp_path / "flat"))
    assert load_mnist(split="test", verbose=False, download=False)[0].shape == (2, 784)


def test_uncompressed_files_and_offline_split(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    images, labels = write_set(tmp_path, TEST_FILES, n=10, gz=False)
    x, y = load_mnist(tmp_path, split="train", verbose=False)
    xt, yt = load_mnist(tmp_path, split="test", verbose=False, flatten=False, normalize=False)
    assert x.shape == (8, 784) and xt.shape == (2, 28, 28)
    np.testing.assert_allclose(x, images[:8].reshape(8, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(xt, images[8:])
    np.testing.assert_array_equal(np.concatenate([y, yt]), labels)


def test_official_split_when_training_files_present(tmp_path, monkeypatch, capsys):
    train_images, train_labels = write_set(tmp_path, TRAIN_FILES, n=12, seed=1)
    test_images, _ = write_set(tmp_path, TEST_FILES, n=5, seed=2)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums_of(tmp_path))
    x, y = load_mnist(tmp_path, split="train", normalize=False, flatten=False)
    xt, _ = load_mnist(tmp_path, split="test", normalize=False, flatten=False)
    np.testing.assert_array_equal(x, train_images)
    np.testing.assert_array_equal(y, train_labels)
    np.testing.assert_array_equal(xt, test_images)
    assert mnist_info().split == "official" and "offline" not in capsys.readouterr().out


def test_bad_split_name(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist(tmp_path, split="validation")


def test_mnist_info_before_loading():
    with pytest.raises(RuntimeError, match="load_mnist"):
        mnist_info()


# ---------------------------------------------------------------------------------------------------------------
# IDX validation and checksums
# ---------------------------------------------------------------------------------------------------------------


def test_read_idx_round_trip(tmp_path):
    for array in (np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5, np.linspace(0, 1, 7)):
        path = write_file(tmp_path, f"a{array.ndim}", idx_bytes(array))
        np.testing.assert_array_equal(read_idx(path), array)


def test_wrong_magic_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path, TEST_FILES, n=4)
    labels = np.zeros(4, np.uint8)
    write_file(tmp_path, TEST_FILES[1], idx_bytes(labels, magic=2051))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz.*magic number is 2051.*expected 2049"):
        load_mnist(tmp_path, verbose=False)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(write_file(tmp_path, "junk", b"\x12\x34\x56\x78" + bytes(10)))


def test_truncated_file_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path, TEST_FILES, n=4)
    raw = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    write_file(tmp_path, TEST_FILES[0], raw[:-100])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*truncated"):
        load_mnist(tmp_path, verbose=False)
    write_file(tmp_path, TEST_FILES[0], raw[:10])  # cut inside the header
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw)[:-20])  # cut gzip stream
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*corrupt gzip"):
        load_mnist(tmp_path, verbose=False)


def test_count_mismatch_names_both_files(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path, TEST_FILES, n=5)
    write_file(tmp_path, TEST_FILES[1], idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"5 images.*t10k-labels-idx1-ubyte holds 4 labels"):
        load_mnist(tmp_path, verbose=False)


def test_local_checksum_mismatch(tmp_path, monkeypatch):
    write_set(tmp_path, TRAIN_FILES, n=3)
    write_set(tmp_path, TEST_FILES, n=3)
    table = checksums_of(tmp_path)
    table[TEST_FILES[0]] = mnist.Checksum("raw", "sha256", "0" * 64)
    monkeypatch.setattr(mnist, "CHECKSUMS", table)
    expected = r"t10k-images-idx3-ubyte\.gz.*is [0-9a-f]{64}, expected 0{64}(.|\n)*delete"
    with pytest.raises(ChecksumError, match=expected):
        load_mnist(tmp_path, split="test", verbose=False)
    table = checksums_of(tmp_path)
    table[TRAIN_FILES[1]] = mnist.Checksum("gz", "md5", "f" * 32)
    monkeypatch.setattr(mnist, "CHECKSUMS", table)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: md5 of the \.gz file is .*expected f{32}"):
        load_mnist(tmp_path, split="train", verbose=False)


def test_missing_data_lists_every_place(tmp_path, monkeypatch):
    (tmp_path / "envdir").mkdir()
    monkeypatch.setenv("MINIVI_DATA", str(tmp_path / "envdir"))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(download=False)
    message = str(info.value)
    for place in (tmp_path / "envdir" / "mnist", tmp_path / "envdir", cache_dir(tmp_path)):
        assert f"{place}  (" in message
    assert "download=False" in message and "path=" in message and "MINIVI_DATA" in message
    monkeypatch.delenv("MINIVI_DATA")
    with pytest.raises(FileNotFoundError, match=r"MINIVI_DATA is not set(.|\n)*no mirrors"):
        load_mnist(download=True, verbose=False)


def test_a_wrong_path_raises_and_never_falls_back_or_downloads(tmp_path, monkeypatch, server):
    """load_mnist("typo") used to load from MINIVI_DATA (or download) without a word about the bad path."""
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(tmp_path / "env", TEST_FILES, n=10)
    monkeypatch.setenv("MINIVI_DATA", str(tmp_path / "env"))
    root, url = server
    write_set(root / "m", TEST_FILES, n=10)
    monkeypatch.setattr(mnist, "MIRRORS", [url + "m/"])  # a download would succeed: it must not happen
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("typo", download=True, verbose=False)
    message = str(info.value)
    assert "typo" in message and "does not exist" in message
    assert "MINIVI_DATA" in message and "user cache" in message and "leave path= out" in message
    assert not cache_dir(tmp_path).exists()  # nothing was downloaded
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty.*holds neither"):
        load_mnist(tmp_path / "empty", verbose=False)
    with pytest.raises(FileNotFoundError, match=r"is a file, not a directory.*path="):
        load_mnist(tmp_path / "env" / "t10k-images-idx3-ubyte.gz", verbose=False)
    assert load_mnist(tmp_path / "env", split="test", verbose=False)[0].shape == (2, 784)  # the right path works


def test_minivi_data_that_is_not_a_directory_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    write_set(cache_dir(tmp_path), TEST_FILES, n=10)
    monkeypatch.setenv("MINIVI_DATA", str(tmp_path / "tpyo"))
    with pytest.warns(UserWarning, match=r"MINIVI_DATA=.*tpyo.*not a directory"):
        assert load_mnist(split="test", verbose=False)[0].shape == (2, 784)


def test_cache_under_a_file_says_what_and_how_to_fix(tmp_path, monkeypatch, server):
    """XDG_CACHE_HOME pointing at a file gave a raw NotADirectoryError."""
    root, url = server
    write_set(root / "m", TEST_FILES, n=10)
    monkeypatch.setattr(mnist, "MIRRORS", [url + "m/"])
    (tmp_path / "afile").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "afile"))
    with pytest.raises(NotADirectoryError) as info:
        load_mnist(verbose=False)
    message = str(info.value)
    assert f"{tmp_path / 'afile'} is a file" in message and "XDG_CACHE_HOME" in message
    assert "load_mnist(path=" in message and "MINIVI_DATA" in message


# ---------------------------------------------------------------------------------------------------------------
# Downloads, from a real HTTP server on 127.0.0.1
# ---------------------------------------------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www over HTTP on a free loopback port; yields (root directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.part"))


def test_download_verify_and_parse(server, tmp_path, monkeypatch, capsys):
    root, url = server
    train_images, _ = write_set(root / "m", TRAIN_FILES, n=6, seed=3)
    test_images, _ = write_set(root / "m", TEST_FILES, n=4, seed=4)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums_of(root / "m"))
    monkeypatch.setattr(mnist, "MIRRORS", [url + "m/"])
    x, _ = load_mnist(split="train", normalize=False, flatten=False)
    np.testing.assert_array_equal(x, train_images)
    cache = cache_dir(tmp_path)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in TRAIN_FILES + TEST_FILES)
    assert "downloading" in capsys.readouterr().out
    # Later calls read the cache and never touch the network.
    monkeypatch.setattr(mnist, "MIRRORS", [])
    mnist._CACHE.clear()
    np.testing.assert_array_equal(load_mnist(split="test", normalize=False, flatten=False)[0], test_images)
    assert mnist_info().split == "official" and mnist_info().directory == cache


def test_second_mirror_used_after_404(server, tmp_path, monkeypatch):
    root, url = server
    (root / "empty").mkdir()
    write_set(root / "good", TRAIN_FILES, n=6)
    write_set(root / "good", TEST_FILES, n=5)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums_of(root / "good"))
    monkeypatch.setattr(mnist, "MIRRORS", [url + "empty/", url + "good"])  # base without trailing slash too
    x, y = load_mnist(split="test", verbose=False)
    assert x.shape == (5, 784) and leftovers(cache_dir(tmp_path)) == []


def test_corrupted_download_is_rejected_and_deleted(server, tmp_path, monkeypatch):
    root, url = server
    write_set(root / "m", TRAIN_FILES, n=6)
    write_set(root / "m", TEST_FILES, n=5)
    table = checksums_of(root / "m")
    write_set(root / "m", TEST_FILES, n=5, seed=99)  # the mirror now serves different (corrupt) content
    monkeypatch.setattr(mnist, "CHECKSUMS", table)
    monkeypatch.setattr(mnist, "MIRRORS", [url + "m/"])
    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte\.gz.*sha256.*expected(.|\n)*deleted"):
        load_mnist(verbose=False)
    cache = cache_dir(tmp_path)
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists() and leftovers(cache) == []


def test_uncompressed_download_of_a_gz_hashed_file_is_rejected(server, tmp_path, monkeypatch):
    root, url = server
    write_set(root / "m", TRAIN_FILES, n=6)
    write_set(root / "m", TEST_FILES, n=5)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums_of(root / "m"))
    served = root / "m" / "train-labels-idx1-ubyte.gz"
    served.write_bytes(gzip.decompress(served.read_bytes()))  # served uncompressed: its md5 cannot be checked
    monkeypatch.setattr(mnist, "MIRRORS", [url + "m/"])
    with pytest.raises(ChecksumError, match="expected a gzip file"):
        load_mnist(verbose=False)
    assert not (cache_dir(tmp_path) / "train-labels-idx1-ubyte.gz").exists()


def test_good_mirror_after_corrupt_one(server, tmp_path, monkeypatch):
    root, url = server
    write_set(root / "good", TRAIN_FILES, n=6)
    write_set(root / "good", TEST_FILES, n=5)
    write_set(root / "bad", TRAIN_FILES, n=6, seed=5)
    write_set(root / "bad", TEST_FILES, n=5, seed=6)
    monkeypatch.setattr(mnist, "CHECKSUMS", checksums_of(root / "good"))
    monkeypatch.setattr(mnist, "MIRRORS", [url + "bad/", url + "good/"])
    assert load_mnist(split="test", verbose=False)[0].shape == (5, 784)


def test_unreachable_mirror_gives_file_not_found(tmp_path, monkeypatch):
    with socket.socket() as s:  # a loopback port with nobody listening: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(mnist, "MIRRORS", [f"http://127.0.0.1:{port}/"])
    with pytest.raises(FileNotFoundError, match=rf"127\.0\.0\.1:{port}(.|\n)*three ways"):
        load_mnist(verbose=False)
    assert leftovers(cache_dir(tmp_path)) == []


def test_cached_test_files_used_when_training_download_fails(server, tmp_path, monkeypatch, capsys):
    root, url = server
    (root / "empty").mkdir()
    write_set(cache_dir(tmp_path), TEST_FILES, n=10)
    monkeypatch.setattr(mnist, "CHECKSUMS", {})
    monkeypatch.setattr(mnist, "MIRRORS", [url + "empty/"])
    assert load_mnist(split="train")[0].shape == (8, 784)
    out = capsys.readouterr().out
    assert "could not complete the MNIST download" in out and "offline 8/2 split" in out


class TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Promises a large file and sends one byte every ``pause`` seconds (a stalled or hostile mirror)."""

    pause = 3.0

    def do_GET(self):  # noqa: N802 - the name http.server looks for
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"\x1f")
                self.wfile.flush()
                time.sleep(self.pause)
        except OSError:  # the client hung up: what we want
            pass

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("pause", [3.0, 0.05])
def test_a_trickling_server_is_abandoned_at_the_deadline(tmp_path, monkeypatch, pause):
    """A byte every 3 s never tripped the per-read timeout: the download hung. A fast trickle (0.05 s) never
    trips a per-read timeout at all, so only the overall deadline can stop it."""
    handler = type("Trickle", (TrickleHandler,), {"pause": pause})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(mnist, "MIRRORS", [f"http://127.0.0.1:{httpd.server_address[1]}/"])
        monkeypatch.setattr(mnist, "DOWNLOAD_DEADLINE", 1.0)
        start = time.monotonic()
        with pytest.raises(FileNotFoundError, match=r"timed out|gave up after 1 s"):
            load_mnist(verbose=False)
        assert time.monotonic() - start < 4.0  # one deadline (plus at most one per-read timeout ≤ deadline)
        assert leftovers(cache_dir(tmp_path)) == []
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------------------------------------------------------
# Fixed binarisation
# ---------------------------------------------------------------------------------------------------------------


def test_binarize_threshold_and_sample():
    x = np.linspace(0, 1, 1001, dtype=np.float32).reshape(7, 143)
    b = binarize(x)
    assert b.dtype == np.float32 and set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b, (x > 0.5).astype(np.float32))
    s1 = binarize(x, method="sample", rng=np.random.default_rng(0))
    s2 = binarize(x, method="sample", rng=np.random.default_rng(0))
    np.testing.assert_array_equal(s1, s2)
    assert abs(s1.mean() - x.mean()) < 0.05
    assert (s1[x == 0] == 0).all() and (s1[x == 1] == 1).all()


def test_binarize_errors():
    x = np.full((2, 3), 0.5)
    with pytest.raises(TypeError, match="default_rng"):
        binarize(x, method="sample")
    with pytest.raises(TypeError, match="normalize=True"):
        binarize(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binarize(x * 255)
    with pytest.raises(ValueError, match="method"):
        binarize(x, method="round")
