"""Run Python programs as `python prog.py` would, in forks of one interpreter that has already
done the imports every program pays for.

test_as_torch runs each of its programs three times in a fresh process: once under PyTorch,
twice under `python -m chainrule.as_torch`. A fresh PyTorch process spends 2-5 s importing
torch and, at its first optimizer, torch._dynamo: most of the suite's time for those tests,
and none of it what the test is about. A *warm interpreter* imports once and forks a child per
program; the child starts where a fresh process would be after those imports (nothing has run
in the parent, no threads, no compute, so the fork is clean), changes to the program's folder,
points its stdout and stderr at files, and runs the program as `__main__`.

One warm interpreter per library and test worker, started on first use and ended with the
session. The protocol on its stdin/stdout is one JSON line per program: the request, then the
child's pid, then its exit status.

Run as a script, this file is the interpreter: `python warm_interpreters.py torch|chainrule`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

LIBRARIES = ("torch", "chainrule")


@dataclass
class Finished:
    """What `subprocess.run(..., capture_output=True, text=True)` would have given."""

    returncode: int
    stdout: str
    stderr: str


class WarmInterpreter:
    """One serving interpreter for `library`; `run(program, args, cwd)` runs one program."""

    def __init__(self, library: str) -> None:
        if library not in LIBRARIES:
            raise ValueError(f"library must be one of {LIBRARIES}, not {library!r}")
        self.library = library
        self._process: subprocess.Popen | None = None
        self._pending = b""  # replies read but not yet taken

    def _started(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            command = [sys.executable, __file__, self.library]
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._pending = b""
        return self._process

    def _reply(self, process: subprocess.Popen, timeout: float) -> int:
        """The next reply line, waiting at most `timeout` s (read unbuffered, so select sees
        every byte not yet taken)."""
        fd = process.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"the warm {self.library} interpreter ended ({process.wait()})")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return int(line)

    def run(self, program: Path, args: list[str], cwd: Path, timeout: float) -> Finished:
        process = self._started()
        stdout, stderr = cwd / ".warm-stdout", cwd / ".warm-stderr"
        request = {"program": str(program), "args": args, "cwd": str(cwd)}
        request |= {"stdout": str(stdout), "stderr": str(stderr)}
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        child = self._reply(process, 60)
        try:
            returncode = int(self._reply(process, timeout))
        except TimeoutError:
            os.kill(child, signal.SIGKILL)
            self._reply(process, 60)
            late = f"{program.name} under {self.library} ran past {timeout} s"
            raise TimeoutError(late) from None
        return Finished(returncode, stdout.read_text(), stderr.read_text())

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=30)
        self._process = None


# ---- the serving side (this file run as a script) --------------------------------------------


def _warm_up(library: str) -> None:
    """The imports a fresh process for `library`'s programs would make first."""
    if library == "torch":
        import torch
        import torch._dynamo  # noqa: F401  (imported by the first optimizer's step)
        import torch.optim  # noqa: F401
    else:
        import chainrule.as_torch  # noqa: F401  (its main() installs the aliases, in the child)


def _run_child(library: str, request: dict) -> None:
    """In the forked child: the program's folder, files for its output, the program as
    `__main__`; exits with the status `python` would."""
    status = 0
    try:
        os.chdir(request["cwd"])
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        argv = [request["program"], *request["args"]]
        if library == "torch":
            import runpy

            sys.argv = argv
            sys.path[0] = os.path.dirname(os.path.abspath(request["program"]))
            runpy.run_path(request["program"], run_name="__main__")
        else:
            from chainrule import as_torch

            status = as_torch.main(argv)
    except SystemExit as stop:  # as the interpreter reads sys.exit's argument
        if stop.code is None or isinstance(stop.code, int):
            status = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        atexit._run_exitfuncs()  # what interpreter shutdown does: DataLoader workers, files
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def serve(library: str) -> None:
    _warm_up(library)
    replies = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        child = os.fork()
        if child == 0:
            _run_child(library, request)
        print(child, file=replies, flush=True)
        _, status = os.waitpid(child, 0)
        print(os.waitstatus_to_exitcode(status), file=replies, flush=True)


if __name__ == "__main__":
    serve(sys.argv[1])
