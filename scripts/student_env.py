"""The student's way in, tested: a wheel, a non-root user, a clean environment,
no network.

    # build the wheel; run install.py as a non-root user
    python scripts/student_env.py install
    # what the last install recorded
    python scripts/student_env.py status

``install`` builds the course package as a wheel and runs README's student
command, ``python install.py``, as a user without root (``course-student``,
created when the tests run as root; otherwise the current user) with a bare
environment, into ``_build/student/.venv``. The first run installs everything (a
few minutes); later runs reinstall only the wheel unless install.py,
requirements.txt or pyproject.toml changed. The result goes to
``_build/student/install.json`` (tests/test_student_env.py reads it).

``execute_alone`` (used by scripts/pre_execute.py when BOOK_ALONE=1) copies one
notebook into an empty folder, outside the repository's layout, and runs it with
that environment's kernel, as that user, with the network cut (a new network
namespace that has only loopback): a notebook that needs a file of the
repository, a package the wheel does not declare, or the Hub fails.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STUDENT = "course-student"
# the Python the student's install starts from: as root, the system's (root's
# own Python may live where other users cannot read, as pyenv's under /root);
# otherwise the one we run on
SYSTEM_PYTHON = (
    "/usr/bin/python3"
    if os.geteuid() == 0
    else getattr(sys, "_base_executable", sys.executable)
)
PASSED_THROUGH = (
    "COURSE_FAST",
    "ONEDNN_MAX_CPU_ISA",
    "ATEN_CPU_CAPABILITY",
    "MKL_CBWR",
)


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_student() -> None:
    """Create the unprivileged user the tests run student code as (only when we
    are root).
    """
    if not is_root():
        return
    try:
        pwd.getpwnam(STUDENT)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/bash", STUDENT],
            check=True,
        )


def student_can_read(path: Path) -> bool:
    if not is_root():
        return os.access(path, os.R_OK)
    probe = ["runuser", "-u", STUDENT, "--", "test", "-r", str(path)]
    return subprocess.run(probe).returncode == 0


def area() -> Path:
    """The student's folder: in _build when the user can reach it, else in its
    home.
    """
    if not is_root() or student_can_read(REPO / "pyproject.toml"):
        return REPO / "_build" / "student"
    return Path(pwd.getpwnam(STUDENT).pw_dir) / "course-build"


def give_to_student(*paths: Path) -> None:
    """Make files we staged the student's (the environment itself the student
    creates).
    """
    if not is_root():
        return
    for path in paths:
        shutil.chown(path, STUDENT, STUDENT)
        for child in path.rglob("*") if path.is_dir() else ():
            shutil.chown(child, STUDENT, STUDENT)


def bare_env(home: Path, venv: Path | None, **extra: str) -> dict[str, str]:
    """A clean environment, as a new terminal of a new user has: nothing of ours
    leaks in.
    """
    path = f"{venv / 'bin'}:/usr/bin:/bin" if venv else "/usr/bin:/bin"
    env = {"HOME": str(home), "PATH": path, "LANG": "C.UTF-8", "USER": STUDENT}
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
    env.update(extra)
    return env


def as_student(
    command: list[str], env: dict[str, str], offline: bool
) -> list[str]:
    """The command line that runs ``command`` as the student, optionally without
    network.
    """
    user = ["runuser", "-u", STUDENT, "--"] if is_root() else []
    inner = [
        *user,
        "env",
        "-i",
        *(f"{k}={v}" for k, v in env.items()),
        *command,
    ]
    if not offline:
        return inner
    unshare = (
        ["unshare", "--net"]
        if is_root()
        else ["unshare", "--net", "--map-current-user"]
    )
    return [*unshare, "--", sys.executable, __file__, "_loopback_then", *inner]


@functools.lru_cache(maxsize=1)
def network_can_be_cut() -> bool:
    probe = as_student(["true"], bare_env(Path("/"), None), offline=True)
    return subprocess.run(probe, capture_output=True).returncode == 0


def _loopback_then(command: list[str]) -> None:
    """Inside a new network namespace: bring loopback up (kernels talk over
    127.0.0.1), exec.
    """
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack(
            "16sH", fcntl.ioctl(sock, siocgifflags, request)[:18]
        )[1]
        fcntl.ioctl(
            sock, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up)
        )
    os.execvp(command[0], command)


def machine_pip_config(folder: Path) -> Path:
    """This machine's package sources (pip config of whoever runs the tests),
    for the student.

    A student installs from wherever their pip looks; here that is the local
    indexes the machine configures for root, which another user would not
    otherwise see.
    """
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
    ).stdout
    keys = (
        "index-url",
        "extra-index-url",
        "find-links",
        "trusted-host",
        "cert",
    )
    lines = ["[global]"]
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if key.split(".")[-1] in keys:
            lines.append(f"{key.split('.')[-1]} = {value.strip(chr(39))}")
    path = folder / "pip.conf"
    path.write_text("\n".join(dict.fromkeys(lines)) + "\n")
    return path


def _stamp() -> str:
    parts = [
        REPO / name
        for name in ("install.py", "requirements.txt", "pyproject.toml")
    ]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[
        :16
    ]


def build_wheel(out: Path, source: Path = REPO) -> Path:
    """The course_utils wheel of ``source`` (the repository, or a staged
    copy of it) in the emptied folder ``out``.
    """
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
    )
    # setuptools' droppings
    for leftover in (source / "build", *source.glob("*.egg-info")):
        shutil.rmtree(leftover, ignore_errors=True)
    return next(out.glob("course_utils-*.whl"))


def install() -> int:
    """Run the student's install command as a non-root user; record what
    happened.
    """
    ensure_student()
    folder = area()
    folder.mkdir(parents=True, exist_ok=True)
    stage = folder / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    for name in ("install.py", "requirements.txt", "pyproject.toml"):
        shutil.copy(REPO / name, stage / name)
    shutil.copy(
        REPO / "scripts" / "run_notebook.py", folder / "run_notebook.py"
    )
    wheel = build_wheel(stage / "dist")
    (folder / "home").mkdir(exist_ok=True)
    pip_conf = machine_pip_config(folder)
    venv = folder / ".venv"
    stamp = folder / "install.stamp"
    fresh = (
        not (venv / "bin" / "python").exists()
        or not stamp.exists()
        or stamp.read_text() != _stamp()
    )
    if fresh:
        shutil.rmtree(venv, ignore_errors=True)
        stamp.unlink(missing_ok=True)
    if is_root():
        shutil.chown(folder, STUDENT, STUDENT)
    give_to_student(
        stage, folder / "home", pip_conf, folder / "run_notebook.py"
    )
    env = bare_env(folder / "home", None, PIP_CONFIG_FILE=str(pip_conf))
    if fresh:  # README's student command, exactly, in a new environment
        command = [
            SYSTEM_PYTHON,
            str(stage / "install.py"),
            "--venv",
            str(venv),
            "--package",
            str(wheel),
        ]
    else:  # the environment is current: only the package changed
        command = [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ]
    started = time.perf_counter()
    with open(folder / "install.log", "w") as log:
        # cwd: the stage, which has no course_utils folder that could shadow the
        # wheel
        rc = subprocess.run(
            as_student(command, env, offline=False),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=stage,
        ).returncode
    if fresh and rc == 0:
        stamp.write_text(_stamp())
    record = {
        "returncode": rc,
        "fresh": fresh,
        "seconds": round(time.perf_counter() - started),
        "user": STUDENT if is_root() else pwd.getpwuid(os.geteuid()).pw_name,
        "uid": pwd.getpwnam(STUDENT).pw_uid if is_root() else os.geteuid(),
        "venv": str(venv),
        "wheel": wheel.name,
        "command": command,
    }
    (folder / "install.json").write_text(json.dumps(record, indent=1))
    print(
        f"==> student install ({'fresh' if fresh else 'package only'}) as "
        f"{record['user']}: "
        f"exit {rc} in {record['seconds']} s; log in {folder / 'install.log'}",
        flush=True,
    )
    return rc


def execute_alone(
    notebook: Path, timeout: int
) -> tuple[bool, Path, str | None]:
    """Run ``notebook`` alone in an empty folder with the student's kernel,
    offline.

    Returns (success, path of the executed copy, traceback or None).
    """
    folder = area()
    venv = folder / ".venv"
    if not (venv / "bin" / "python").exists():
        raise RuntimeError(
            "no student environment: run `python scripts/student_env.py "
            "install`"
        )
    run_dir = folder / "runs" / notebook.parent.name / notebook.stem
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    shutil.copy(notebook, run_dir / notebook.name)
    cache = folder / (
        "course_cache_fast" if os.environ.get("COURSE_FAST") else "course_cache"
    )
    cache.mkdir(exist_ok=True)
    for path in (run_dir.parent, run_dir, run_dir / notebook.name, cache):
        if is_root():
            shutil.chown(path, STUDENT, STUDENT)
    offline = network_can_be_cut()
    extra = {
        "COURSE_CACHE": str(cache),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    if not offline:  # without a network namespace, at least tell the libraries
        extra.update(
            HF_HUB_OFFLINE="1",
            HF_DATASETS_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )
    env = bare_env(folder / "home", venv, **extra)
    executed = run_dir / ("executed-" + notebook.name)
    command = [
        str(venv / "bin" / "python"),
        str(folder / "run_notebook.py"),
        str(run_dir / notebook.name),
        str(executed),
        "--timeout",
        str(timeout),
    ]
    done = subprocess.run(
        as_student(command, env, offline),
        capture_output=True,
        text=True,
        cwd=run_dir,
    )
    error_file = executed.with_name(executed.name + ".error")
    if done.returncode == 0 and executed.exists():
        return True, executed, None
    if error_file.exists():
        return False, executed, error_file.read_text(encoding="utf-8")
    return (
        False,
        executed,
        f"the runner failed (exit {done.returncode}):\n{done.stderr[-3000:]}",
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["_loopback_then"]:
        _loopback_then(argv[1:])
    if argv[:1] == ["install"]:
        return install()
    if argv[:1] == ["status"]:
        print((area() / "install.json").read_text())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
