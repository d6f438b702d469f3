"""`make run`: the web server, a Celery worker and Celery beat, stopped together.

Ctrl-C (or SIGTERM) stops all three; if any one of them exits, the others are stopped
too, so a broken worker never hides behind a running web server.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 10


def commands(address: str) -> dict[str, list[str]]:
    celery = [str(BIN / "celery"), "-A", "config"]
    return {
        "web": [sys.executable, "manage.py", "runserver", address],
        "worker": [
            *celery,
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-mingle",
            "--without-gossip",
        ],
        "beat": [
            *celery,
            "beat",
            "--loglevel=INFO",
            "--schedule=var/celerybeat-schedule",
        ],
    }


def child_env(address: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment of the three processes: unless TURNOUT_SITE_URL says
    otherwise, the links they build (emails, feeds, tickets) point at the address
    the web server listens on, so `make run PORT=8101` links to :8101."""
    env = dict(environ)
    env.setdefault("TURNOUT_SITE_URL", f"http://{address}")
    return env


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"
    env = child_env(address, os.environ)
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 -- our own
        for name, command in commands(address).items()
    }
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    exit_code = 0
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        name, process = next(
            (n, p) for n, p in processes.items() if p.poll() is not None
        )
        print(
            f"devserver: {name} stopped (exit {process.returncode}); stopping the rest"
        )
        exit_code = max(process.returncode, 0)
    except KeyboardInterrupt:
        print("\ndevserver: stopping the web server, the worker and beat")
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
