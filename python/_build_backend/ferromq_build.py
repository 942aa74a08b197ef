"""PEP 517/660 build backend of the ``ferromq`` Python package (no third-party deps).

Owns turning python/ into a wheel: it runs ``cargo build --release --lib`` in the
repository that contains this directory and bundles ``libferromq.so`` as
``ferromq/_lib/libferromq.so``. ``FERROMQ_SKIP_CARGO=1`` builds a wheel without the
library (it is then found through ``FERROMQ_LIB`` at run time).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import pathlib
import subprocess
import sysconfig
import tarfile
import zipfile
from typing import Any, Optional

NAME = "ferromq"
VERSION = "0.1.0"
HERE = pathlib.Path(__file__).resolve().parent.parent  # python/
REPO = HERE.parent
LIB = "libferromq.so"

METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: paho-mqtt compatible MQTT client and embeddable MQTT broker over FerroMQ's C library
License: MIT OR Apache-2.0
Requires-Python: >=3.9
"""


def _platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _cargo_library() -> Optional[pathlib.Path]:
    if os.environ.get("FERROMQ_SKIP_CARGO") == "1":
        return None
    if not (REPO / "Cargo.toml").is_file():
        raise RuntimeError(f"{REPO} holds no Cargo.toml: build the wheel from the FerroMQ repository")
    cargo = os.environ.get("CARGO", "cargo")
    subprocess.run([cargo, "build", "--release", "--lib"], cwd=REPO, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    lib = target / "release" / LIB
    if not lib.is_file():
        raise RuntimeError(f"cargo did not produce {lib}")
    return lib


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(directory: str, files: dict[str, bytes], tag: str) -> str:
    dist_info = f"{NAME}-{VERSION}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = METADATA.encode()
    files[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: ferromq_build\nRoot-Is-Purelib: false\nTag: {tag}\n"
    ).encode()
    record = [_record_line(n, d) for n, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel_name = f"{NAME}-{VERSION}-{tag}.whl"
    with zipfile.ZipFile(pathlib.Path(directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return wheel_name


def _package_files() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    pkg = HERE / NAME
    for path in sorted(pkg.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed"):
            out[path.relative_to(HERE).as_posix()] = path.read_bytes()
    return out


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: Any = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    """Write the .dist-info directory without building (so pip runs cargo once)."""
    dist_info = pathlib.Path(metadata_directory) / f"{NAME}-{VERSION}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(METADATA)
    (dist_info / "WHEEL").write_text(
        f"Wheel-Version: 1.0\nGenerator: ferromq_build\nRoot-Is-Purelib: false\nTag: py3-none-{_platform_tag()}\n"
    )
    return dist_info.name


def build_wheel(wheel_directory: str, config_settings: Any = None,
                metadata_directory: Optional[str] = None) -> str:
    files = _package_files()
    lib = _cargo_library()
    if lib is not None:
        files[f"{NAME}/_lib/{LIB}"] = lib.read_bytes()
    return _write_wheel(wheel_directory, files, f"py3-none-{_platform_tag()}")


def build_editable(wheel_directory: str, config_settings: Any = None,
                   metadata_directory: Optional[str] = None) -> str:
    # Points at the sources; the library comes from target/release or FERROMQ_LIB.
    _cargo_library()
    files = {f"__editable__.{NAME}.pth": (str(HERE) + "\n").encode()}
    return _write_wheel(wheel_directory, files, f"py3-none-{_platform_tag()}")


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(pathlib.Path(sdist_directory) / name, "w:gz") as tar:
        for rel in ["pyproject.toml", "README.md", "_build_backend/ferromq_build.py"]:
            tar.add(HERE / rel, f"{base}/{rel}")
        for rel in _package_files():
            tar.add(HERE / rel, f"{base}/{rel}")
        pkg_info = METADATA.encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        tar.addfile(info, io.BytesIO(pkg_info))
    return name


__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "prepare_metadata_for_build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]
