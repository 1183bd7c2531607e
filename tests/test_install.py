"""A plain, non-editable install carries its migrations and seeds and works outside the checkout."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

# Slow: seconds a test.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True)
    return next(wheels.glob("negotiation-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project's wheel installed (dependencies borrowed)."""
    env_dir = tmp_path_factory.mktemp("install") / "venv"
    venv.create(env_dir, with_pip=False)  # this environment's pip installs into it (--python): seconds sooner
    python = env_dir / "bin" / "python"
    # Borrow this environment's third-party packages instead of downloading them again;
    # the project itself comes only from the wheel (an editable install's hook is not read
    # from a directory added this way).
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # The borrowed directories may hold the project too (an editable or a plain install of the
    # same version): pip would call that installed and skip the wheel, so it is told to look past them.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--ignore-installed", "-q", str(wheel)], check=True)
    return env_dir


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import negotiation; print(negotiation.__file__)"],
                           cwd=tmp_path, check=True, capture_output=True, text=True).stdout

    assert where.startswith(str(installed))


def test_db_upgrade_and_demo_work_in_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEGOTIATION_DB_URL"}
    command = str(installed / "bin" / "negotiation")

    upgraded = subprocess.run([command, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True)
    demo = subprocess.run([command, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True)

    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from an empty database to revision" in upgraded.stdout
    assert (tmp_path / "negotiations.db").is_file()
    assert demo.returncode == 0, demo.stderr
    assert "replaying us-japan-2025" in demo.stdout
    # The demo keeps the seeds in a database of its own: the user's own log stays empty.
    assert "negotiation-demo.db" in demo.stdout and (tmp_path / "negotiation-demo.db").is_file()
    listed = subprocess.run([command, "list"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "us-japan-2025" not in listed.stdout


def test_the_wheel_carries_every_feature_file(wheel: Path) -> None:
    features = sorted(path.name for path in (ROOT / "features").glob("*.feature"))

    with zipfile.ZipFile(wheel) as archive:
        carried = sorted(Path(name).name for name in archive.namelist()
                         if name.startswith("negotiation/_features/") and name.endswith(".feature"))

    assert features, "features/ holds no feature files"
    assert carried == features


def test_docs_writes_the_spec_book_from_the_installed_wheel_in_an_empty_directory(
    installed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "book"
    titles = [line.split(":", 1)[1].strip() for path in sorted((ROOT / "features").glob("*.feature"))
              for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("Feature:")]

    written = subprocess.run([str(installed / "bin" / "negotiation"), "docs", "--out", str(out)], cwd=tmp_path,
                             capture_output=True, text=True, check=False)

    assert written.returncode == 0, written.stderr
    assert (out / "index.html").is_file() and (out / "spec.md").is_file()
    book = (out / "spec.md").read_text(encoding="utf-8")
    assert titles and all(f"### {title}" in book for title in titles)
