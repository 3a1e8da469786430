"""install.py, the student's command, in its parts (tests/test_student_env.py
runs it whole).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def install():
    spec = importlib.util.spec_from_file_location(
        "install", REPO / "install.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_become_constraints_without_the_editable_line(install):
    constraints = install.constraints_from(REPO / "requirements.txt")
    assert "-e ." not in constraints and "#" not in constraints
    assert install.pinned(constraints, "torch") == "2.13.0"
    assert install.pinned(constraints, "transformers") == "5.24.0"


def test_the_no_deps_packages_come_from_pyproject(install):
    assert install.no_deps_packages(REPO / "pyproject.toml") == [
        "openai-whisper==20250625"
    ]


def test_pytorch_comes_from_its_cpu_index_on_linux_only(install, monkeypatch):
    monkeypatch.setattr(install, "reachable", lambda url, timeout=3.0: True)
    monkeypatch.setattr(install.platform, "system", lambda: "Linux")
    assert install.torch_index_args("auto") == [
        "--index-url",
        install.TORCH_CPU_INDEX,
    ]
    # PyPI's wheels there are CPU builds already
    for system in ("Darwin", "Windows"):
        monkeypatch.setattr(
            install.platform, "system", lambda system=system: system
        )
        assert install.torch_index_args("auto") == []
    assert install.torch_index_args("none") == []
    assert install.torch_index_args("https://example.org/simple") == [
        "--index-url",
        "https://example.org/simple",
    ]


def test_an_unreachable_cpu_index_falls_back_to_pip_with_a_message(
    install, monkeypatch, capsys
):
    monkeypatch.setattr(install, "reachable", lambda url, timeout=3.0: False)
    monkeypatch.setattr(install.platform, "system", lambda: "Linux")
    assert install.torch_index_args("auto") == []
    assert "cannot be reached" in capsys.readouterr().out


def test_a_missing_pin_or_checkout_is_one_sentence(install, capsys):
    with pytest.raises(SystemExit):
        install.pinned("numpy==2.4.6\n", "torch")
    assert "pins no version of torch" in capsys.readouterr().err


def test_a_too_old_python_is_refused_in_one_sentence(
    install, monkeypatch, capsys
):
    monkeypatch.setattr(install.sys, "version_info", (3, 10, 12))
    with pytest.raises(SystemExit):
        install.main(["--skip-doctor"])
    assert "too old: the course needs 3.11 or newer" in capsys.readouterr().err


def test_the_student_install_brings_jupyterlab_myst(install, monkeypatch):
    """JupyterLab renders the book's MyST markup only with jupyterlab-myst:
    install.py installs the `lab` extra by default, and that extra pins it.
    """
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(spec.startswith("jupyterlab-myst==") for spec in extras["lab"])
    assert "lab" in install.parse_args([]).extras.split(",")
    # what main() asks pip for, with nothing installed for real
    calls = []
    monkeypatch.setattr(install, "pip", lambda python, *a: calls.append(a))
    monkeypatch.setattr(install, "venv_python", lambda folder: REPO / "x")
    monkeypatch.setattr(install, "create_venv", lambda folder: None)
    monkeypatch.setattr(install, "torch_index_args", lambda choice: [])
    monkeypatch.setattr(install, "check_torch_is_cpu", lambda python: None)
    assert install.main(["--skip-doctor", "--torch-index", "none"]) == 0
    package = [a for call in calls for a in call if "[" in a]
    assert package and all(
        "lab" in a.split("[")[1].rstrip("]").split(",") for a in package
    ), calls
    # and the other way round: without the extra there is no jupyterlab-myst
    calls.clear()
    install.main(["--skip-doctor", "--torch-index", "none", "--extras", ""])
    assert not [a for call in calls for a in call if "lab" in a]
