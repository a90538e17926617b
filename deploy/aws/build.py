"""Build the comprehend backend's Lambda zip, check it, and measure both packages.

    python deploy/aws/build.py            # deploy/aws/.build/comprehend/ (CodeUri) + its size
    python deploy/aws/build.py --image    # also: the local backend image's Python layer size

The zip holds phiguard and what the comprehend backend imports beyond the Lambda Python 3.11
runtime (which ships boto3 and botocore): cryptography (AES-256-GCM), pynamodb (the vault),
mangum (the HTTP function). Wheels are manylinux x86_64 for CPython 3.11, whatever this
machine is. spaCy and Presidio stay out: the check imports every handler from the built
directory alone (plus boto3) and fails if anything pulls them in.

There is no Docker daemon here, so the image is not built: its Python layer is measured as the
installed size of `phiguard[lambda]` and all its dependencies in this virtualenv, which is what
the Dockerfile's `pip install` puts on top of the base image.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TARGET = HERE / ".build" / "comprehend"
#: What the zip adds to the runtime (each with --no-deps: boto3/botocore come with Lambda).
ZIP_DEPENDENCIES = (
    "cryptography",
    "cffi",
    "pycparser",
    "pynamodb",
    "mangum",
    "typing_extensions",
    # the HTTP function: the phiguard serve app (FastAPI) behind Mangum
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "anyio",
    "sniffio",
    "idna",
    "prometheus_client",
    "pyjwt",
)
RUNTIME_PROVIDED = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
HANDLERS = (
    "identify_phi",
    "mask_entities",
    "deidentify_entities",
    "reidentify_entities",
    "s3_batch",
    "http",
)


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)


def build() -> None:
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    pip("--no-deps", "--no-compile", "--target", str(TARGET), str(REPO))
    pip(
        "--no-deps",
        "--no-compile",
        "--target",
        str(TARGET),
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        "3.11",
        "--only-binary=:all:",
        *ZIP_DEPENDENCIES,
    )
    for junk in ("bin", "phiguard_cli"):  # the CLI is not a Lambda's business
        shutil.rmtree(TARGET / junk, ignore_errors=True)


def check() -> None:
    """Import every handler with only the build directory and the runtime's boto3 on the path."""
    with tempfile.TemporaryDirectory() as runtime:
        for name in RUNTIME_PROVIDED:
            spec = __import__(name).__file__
            assert spec is not None
            src = Path(spec).parent if Path(spec).name == "__init__.py" else Path(spec)
            os.symlink(src, Path(runtime) / src.name)
        code = (
            "import sys, phiguard.aws_lambda as h\n"
            f"assert all(callable(getattr(h, n)) for n in {HANDLERS!r})\n"
            "top = {m.split('.')[0] for m in sys.modules}\n"
            "heavy = sorted(top & {'spacy', 'presidio_analyzer', 'thinc', 'numpy'})\n"
            "assert not heavy, heavy\n"
        )
        env = {"PYTHONPATH": f"{TARGET}{os.pathsep}{runtime}", "PATH": os.environ.get("PATH", "")}
        # -S: no site-packages (this virtualenv's spaCy must not be found)
        subprocess.run([sys.executable, "-S", "-c", code], check=True, env=env, cwd=runtime)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zip_size(path: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "function.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for p in sorted(path.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(path))
        return out.stat().st_size


def _closure(name: str, extras: frozenset[str] = frozenset()) -> dict[str, md.Distribution]:
    """`name` and every distribution it requires (markers and extras evaluated)."""
    from packaging.requirements import Requirement

    seen: dict[str, md.Distribution] = {}
    todo = [(name, extras)]
    while todo:
        dist_name, wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", dist_name).lower()
        if key in seen:
            continue
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            env = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(e) for e in env):
                todo.append((req.name, frozenset(req.extras)))
    return seen


def image_layer_size() -> tuple[int, int]:
    """(bytes, distributions) that `pip install phiguard[lambda]` adds to the base image."""
    dists = _closure("phiguard", frozenset({"lambda"}))
    total = 0
    for dist in dists.values():
        for f in dist.files or []:
            p = Path(str(dist.locate_file(f)))
            if p.is_file() and "__pycache__" not in p.parts:
                total += p.stat().st_size
    total += tree_size(REPO / "src" / "phiguard")  # an editable install lists no files
    return total, len(dists)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--image", action="store_true", help="also measure the image's Python layer")
    args = ap.parse_args()
    build()
    check()
    mib = 1024 * 1024
    unzipped, zipped = tree_size(TARGET) / mib, zip_size(TARGET) / mib
    print(f"zip: {TARGET} {unzipped:.1f} MiB unzipped, {zipped:.1f} MiB zipped")
    if args.image:
        size, count = image_layer_size()
        print(
            f"image: phiguard[lambda] and {count - 1} dependencies: {size / mib:.0f} MiB installed"
        )


if __name__ == "__main__":
    main()
