"""Smoke run of `make run` in the embedded default, as a person would use it.

Starts `make run` with no database or broker variables (SQLite and the filesystem broker in a
temporary folder), waits for /healthz, signs in through the API, sends a task from the web
process and waits for the worker's result, then presses Ctrl-C (SIGINT to the process group)
and checks that no process is left behind.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("SMOKE_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "smoke-" + os.urandom(6).hex()
STARTUP_LIMIT = 180


def request(method, path, data=None, token=None):
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(BASE + path, data=body, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def ours():
    """Processes started from this checkout's virtualenv (web, worker, beat, runner)."""
    out = subprocess.run(["pgrep", "-af", str(ROOT / ".venv/bin/")], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "smoke_run" not in line]


def main() -> int:
    var_dir = tempfile.mkdtemp(prefix="opsportal-smoke-")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ENV"}}
    env.update(PORT=str(PORT), DEMO_PASSWORD=PASSWORD, OPSPORTAL_VAR_DIR=var_dir)
    log = open(Path(var_dir) / "run.log", "w")  # noqa: SIM115
    started = time.monotonic()
    run = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    failures = []
    try:
        while True:
            if run.poll() is not None:
                failures.append(f"make run exited early with {run.returncode}")
                break
            if time.monotonic() - started > STARTUP_LIMIT:
                failures.append(f"/healthz did not answer 200 within {STARTUP_LIMIT}s")
                break
            try:
                status, body = request("GET", "/healthz")
            except OSError:
                time.sleep(1)
                continue
            if status == 200:
                print(f"healthz after {time.monotonic() - started:.0f}s: {body.decode()}")
                health = json.loads(body)
                if health != {"status": "ok", "database": "ok", "broker": "ok"}:
                    failures.append(f"unexpected health {health}")
                break
            time.sleep(1)
        if not failures:
            status, _ = request("GET", "/admin/login/")
            if status != 200:
                failures.append(f"/admin/login/ answered {status}")
            status, body = request("POST", "/api/v1/auth/token/", {"username": "admin", "password": PASSWORD})
            token = json.loads(body).get("token") if status == 200 else None
            if not token:
                failures.append(f"token endpoint answered {status}: {body[:200]!r}")
            else:
                status, body = request("POST", "/api/v1/system/ping/", {}, token)
                task_id = json.loads(body)["task_id"]
                deadline = time.monotonic() + 60
                state = None
                while time.monotonic() < deadline:
                    status, body = request("GET", f"/api/v1/system/tasks/{task_id}/", token=token)
                    result = json.loads(body)
                    state = result["state"]
                    if state == "SUCCESS":
                        print(f"worker ran the task sent by the web process: {result['result']}")
                        break
                    time.sleep(1)
                if state != "SUCCESS":
                    failures.append(f"task {task_id} sent by the web process ended as {state}")
    finally:
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            failures.append("make run did not stop within 60s of Ctrl-C")
        deadline = time.monotonic() + 45
        while ours() and time.monotonic() < deadline:
            time.sleep(1)
        left = ours()
        if left:
            failures.append("processes left behind after Ctrl-C:\n" + "\n".join(left))
            for line in left:
                os.kill(int(line.split()[0]), signal.SIGKILL)
        log.close()
    if failures:
        print((Path(var_dir) / "run.log").read_text()[-6000:])
        print("SMOKE RUN FAILED:\n- " + "\n- ".join(failures))
        return 1
    print("smoke run of `make run`: ok (served, task ran in the worker, Ctrl-C left nothing behind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
