import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.core.services.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and the beat scheduler together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port, host, **options):
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        worker = [celery, "-A", "opsportal", "worker", "--loglevel", "INFO", "--concurrency", "2"]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        commands = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": worker,
            "beat": [celery, "-A", "opsportal", "beat", "--loglevel", "INFO", "--pidfile="],
        }
        processes: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                # Each in its own process group, so stopping one stops its children too.
                processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)  # noqa: S603
            url = f"http://{host}:{port}"
            self._wait_until_up(f"{url}/healthz", processes, lambda: stopping)
            if not stopping:
                self._print_banner(url)
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"The {name} process exited ({process.returncode}); stopping the portal.")
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            self._stop_all(processes)
        self.stdout.write("Ops Portal stopped.")

    def _wait_until_up(self, health_url, processes, stopping, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stopping():
            if any(process.poll() is not None for process in processes.values()):
                return
            try:
                with urllib.request.urlopen(health_url, timeout=5):  # noqa: S310  (our own local URL)
                    return
            except OSError:
                time.sleep(0.5)

    def _print_banner(self, url):
        password = os.environ.get("DEMO_PASSWORD") or _stored_demo_password()
        lines = [
            "",
            f"Ops Portal is running at {url}/admin/",
            f"API: {url}/api/v1/  docs: {url}/api/docs/  health: {url}/healthz",
            "Demo logins (one per role): " + ", ".join(username for username, _ in DEMO_USERS),
            f"Password: {password}" if password else "Password: as printed when the demo users were created.",
            "Press Ctrl-C to stop the web server, the worker and the scheduler.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _stop_all(self, processes, grace=15):
        for process in processes.values():
            if process.poll() is None:
                process.terminate()  # the leader shuts its own children down (celery's warm shutdown)
        deadline = time.monotonic() + grace
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in processes.values():
            _signal_group(process, signal.SIGKILL)  # whatever is left of each group, children included
            process.wait()


def _signal_group(process, signum):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stored_demo_password() -> str:
    path = settings.VAR_DIR / "demo-password"
    return path.read_text().strip() if path.exists() else ""
