"""Start the student's process in a sandbox, and make sure nothing of it outlives grading.

With bubblewrap (Debian/Ubuntu package ``bubblewrap``; `make test` installs it) the process
gets its own network namespace (no network at all), PID namespace (every process it starts
dies with it), IPC and UTS namespaces, and a private filesystem view: the Python installation
and the dlab library read-only, the lab files (which hold the solutions) hidden, its job
folder read-only, and a size-capped scratch ``/tmp`` as the only writable place. The
submissions folder, the other grades, the gradebook and the home folder do not exist there.
Where the cgroup v1 ``pids`` controller is writable (root on Linux) the sandbox's processes
are also counted and capped, and killed one by one at the end.

Everywhere, resource limits apply: address space, processes (for a non-root user), open
files, file size, no core dumps. What could not be isolated is reported, and every grade says
so (``sandbox: none``, ``not_isolated``).
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PIDS_ROOT = Path("/sys/fs/cgroup/pids")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc")


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 4096
    processes: int = 256  # tasks, threads included (torch starts a few)
    open_files: int = 256
    scratch_mb: int = 256  # the writable /tmp, and the largest file
    output_mb: int = 10  # stdout + stderr kept; the rest is counted and dropped


@dataclass
class Started:
    proc: subprocess.Popen
    sock: socket.socket
    kind: str  # "bubblewrap" or "none"
    not_isolated: list[str]
    cgroup: Path | None
    output: "OutputCap"
    jobdir: Path = field(default=Path())

    def info(self) -> dict:
        return {"sandbox": self.kind, "not_isolated": self.not_isolated,
                "process_cap": "cgroup" if self.cgroup else "rlimit"}


@lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """The bwrap binary, if it can create the namespaces here (a locked container cannot)."""
    path = shutil.which("bwrap")
    if path is None or os.environ.get("DLAB_SANDBOX") == "none":
        return None
    probe = subprocess.run([path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                            "--proc", "/proc", "--dev", "/dev", "true"],
                           capture_output=True, timeout=30)
    return path if probe.returncode == 0 else None


def _cgroup(name: str, limits: SandboxLimits) -> Path | None:
    if not os.access(PIDS_ROOT, os.W_OK):
        return None
    path = PIDS_ROOT / name
    try:
        path.mkdir(exist_ok=True)
        (path / "pids.max").write_text(str(limits.processes))
    except OSError:
        return None
    return path


def kill_cgroup(path: Path | None, timeout: float = 10.0) -> bool:
    """Kill every process in the sandbox's cgroup and remove it; True once it is empty."""
    if path is None or not path.exists():
        return True
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return True
        if not pids:
            try:
                path.rmdir()
            except OSError:
                pass
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    return False


class OutputCap(threading.Thread):
    """Copies the student's stdout and stderr to ``sink`` up to a cap; counts the rest."""

    def __init__(self, fd: int, sink, cap_bytes: int):
        super().__init__(daemon=True)
        self.fd, self.sink, self.cap = fd, sink, cap_bytes
        self.kept = self.dropped = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = max(0, self.cap - self.kept)
            if room:
                self.sink.write(chunk[:room])
                self.sink.flush()
            self.kept += min(room, len(chunk))
            self.dropped += len(chunk) - min(room, len(chunk))
        os.close(self.fd)


def _readonly_paths() -> list[str]:
    """What the student's Python needs to start: the interpreter and its packages."""
    wanted = [os.path.realpath(p) for p in [sys.base_prefix, sys.prefix, *sys.path,
                                            os.path.dirname(sys.executable)]
              if p and os.path.isdir(p)]
    wanted += [d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    out: list[str] = []
    for p in sorted(set(wanted), key=len):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def _bwrap_args(bwrap: str, jobdir: Path, limits: SandboxLimits, fd: int,
                hidden: list[Path]) -> list[str]:
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
    for path in _readonly_paths():
        args += ["--ro-bind", path, path]
    import dlab

    labs = Path(dlab.__file__).parent / "labs"  # the solutions
    for path in [labs, *hidden]:
        path = Path(os.path.realpath(path))
        if path.exists() and any(str(path).startswith(p) for p in _readonly_paths()):
            args += ["--tmpfs", str(path)]
    args += ["--size", str(limits.scratch_mb * 2**20), "--tmpfs", "/tmp",
             "--ro-bind", str(jobdir), "/job", "--chdir", "/tmp",
             "--clearenv", "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin",
             "--setenv", "DLAB_CHANNEL_FD", str(fd), "--setenv", "MPLBACKEND", "Agg",
             "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "PYTHONUNBUFFERED", "1",
             "--setenv", "DLAB_PRECISION", os.environ.get("DLAB_PRECISION", "auto")]
    return args + [sys.executable, "-m", "dlab.grading.student", "/job/job.json"]


def _limit(limits: SandboxLimits, cgroup: Path | None):
    def apply():  # in the child, before bwrap (or Python) starts; inherited by all it starts
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        size = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        scratch = limits.scratch_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (scratch, scratch))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.getuid() != 0:  # root is not held to RLIMIT_NPROC
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    return apply


def start(jobdir: Path, limits: SandboxLimits, sink, name: str,
          hidden: list[Path] = ()) -> Started:
    """Start ``python -m dlab.grading.student`` on ``jobdir/job.json`` (the job folder holds
    the job and the submission's code), with a socket for the channel."""
    ours, theirs = socket.socketpair()
    read_fd, write_fd = os.pipe()
    cgroup = _cgroup(name, limits)
    bwrap = bubblewrap()
    not_isolated = []
    if bwrap:
        cmd = _bwrap_args(bwrap, jobdir, limits, theirs.fileno(), list(hidden))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        kind = "bubblewrap"
    else:
        cmd = [sys.executable, "-m", "dlab.grading.student", str(jobdir / "job.json")]
        env = {**os.environ, "DLAB_CHANNEL_FD": str(theirs.fileno()), "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        kind = "none"
        not_isolated = ["network", "filesystem (reads and writes where the user can)",
                        "process tree (only the process group is killed)"]
    if cgroup is None and os.getuid() == 0:
        not_isolated.append("process count (no writable pids cgroup; root ignores "
                            "RLIMIT_NPROC)")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
                            pass_fds=(theirs.fileno(),), env=env, start_new_session=True,
                            preexec_fn=_limit(limits, cgroup), cwd=str(jobdir))
    os.close(write_fd)
    theirs.close()
    output = OutputCap(read_fd, sink, limits.output_mb * 2**20)
    output.start()
    return Started(proc, ours, kind, not_isolated, cgroup, output, jobdir)


def stop(started: Started) -> dict:
    """End the sandbox: kill every process of it (its output is unbuffered, it has nothing to
    save) and wait until all are gone. Returns what the output cap counted."""
    exited = started.proc.poll()  # None: still running when grading ended
    try:
        os.killpg(started.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    started.sock.close()
    started.proc.wait()
    gone = kill_cgroup(started.cgroup)
    started.output.join(timeout=5)
    return {"output_kept_bytes": started.output.kept,
            "output_dropped_bytes": started.output.dropped,
            "exited_on_its_own": exited is not None, "all_processes_gone": gone}
