"""A plain, non-editable install carries its migrations and seeds and works outside the checkout."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project's wheel installed (dependencies borrowed)."""
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True)
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Borrow this environment's third-party packages instead of downloading them again;
    # the project itself comes only from the wheel (an editable install's hook is not read
    # from a directory added this way).
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    wheel = next(wheels.glob("negotiation-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True)
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
