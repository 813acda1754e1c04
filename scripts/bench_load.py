"""The load section of ``aftersales bench``: the real server under eight clients at once.

Builds the ten-year data set (``scripts/bench_data.py``; a tenth with ``--quick``) with real
case documents (one case taken in through ``records.cases.workflow.intake``, cloned over the
data set's 20,000 ids with their own number, customer, product, receiver and time; the last
received 2 % open at the intake's state, the rest closed, most with a final fault classification, 9.3) and two demo users, starts ``aftersales serve`` on
a free loopback port, logs in as a few users to get their session cookies and drives each page
with wrk (Debian package ``wrk``) over 8 connections, one run per page, printing p50/p95 per
page beside the login page's (a page without data).

``run_load(data_dir, seconds, connections)`` is the part a test can call on any data folder.
"""
from __future__ import annotations

import http.cookiejar
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import orjson

from records.calendar.corrections import current_calendar
from records.cases import workflow
from records.core.store import SHARD_SIZE, Store
from records.demo import DEMO_PASSWORD, DEMO_USERS
from records.users.accounts import create_user, find_by_username

from .bench_data import build_dataset, classification, volume

OPEN_SHARE = 50  # one case in 50 is open (the last received): about 400 at ten years
LOGINS = ("zhang.jie", "li.gong")  # the users of PAGES (a receiver; 技质部, who reads every list)
RECEIVERS = ("zhang.jie", "li.gong", "zhao.shifu", "sun.xiaoshou")
# (page name, path, user logging in; None: no login)
PAGES = (
    ("login", "/login", None),
    ("home (receiver)", "/", "zhang.jie"),
    ("home (技质部)", "/", "li.gong"),
    ("我的待办", "/cases/my", "li.gong"),
    ("case list", "/cases/", "li.gong"),
    ("case list filtered", "/cases/?state=closed&customer_id=7&q=" + urllib.parse.quote("异常"), "li.gong"),
    ("case page", "/cases/{case_id}", "li.gong"),
    ("customer page", "/customers/7", "li.gong"),
    ("product page", "/products/7", "li.gong"),
    ("inbox", "/inbox/", "li.gong"),
    ("follow-up list", "/followups/", "li.gong"),
)
LUA = """
done = function(summary, latency, requests)
  local codes = 0
  io.write(string.format("RESULT %f %f %d %d %d\\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


# --- the data ---------------------------------------------------------------------------------
def build_load_data(root: Path, scale: float) -> Path:
    """A data folder at ``scale`` (1.0: ten years) whose cases are real case documents."""
    data = root / "data"
    counts = volume(scale)
    build_dataset(data, *counts)
    n_cases = counts[2]
    open_cases = max(10, n_cases // OPEN_SHARE)
    store = Store(data)
    for username, display, roles in DEMO_USERS:  # only those who log in (Argon2 hashing is slow)
        if username in LOGINS:
            create_user(store, username, DEMO_PASSWORD, roles, "bench", display_name=display)
    receiver = find_by_username(store, "zhang.jie")
    product = store.get("products", 1)
    customer = store.get("customers", product["customer_id"])
    template = workflow.intake(store, current_calendar(store), {
        "type": "service_request", "customer_id": customer["id"], "product_serial": product["serial_no"],
        "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone",
        "description": "设备运行中出现异常噪声"}, receiver)
    keep = ("id", "_rev", "_audit", "_created", "_updated", "_by", "received_at", "customer_id", "product_id",
            "description")
    folder = data / "tables" / "cases"
    rng = random.Random(17)
    for path in sorted(folder.glob("*.json")):
        shard = orjson.loads(path.read_bytes())
        for key, doc in shard["cases"].items():
            if int(key) == template["id"]:
                continue
            new = {**orjson.loads(orjson.dumps(template)), **{k: doc[k] for k in keep if k in doc}}
            cid = new["customer_id"]
            year = doc["received_at"][:4]
            new.update(number=f"FW{year}-{int(key):05d}", customer_name=f"顾客单位{cid:04d}有限公司",
                       product_serial=f"SN{doc['product_id']:07d}", product_label="XK-100 数控加工中心",
                       received_by=RECEIVERS[int(key) % len(RECEIVERS)], recorded_at=doc["received_at"],
                       caller_name=doc.get("reporter", "张伟"), caller_phone=doc.get("phone", ""))
            dl = {k: {**v, "start": doc["received_at"], "responsible": new["received_by"]}
                  for k, v in template["deadlines"].items()}
            if int(key) <= n_cases - open_cases:  # the older ones are closed
                new.update(state="closed", outcome="answered", classification=classification(rng, doc["received_at"]))
                dl = {k: {**v, "done_at": doc["received_at"]} for k, v in dl.items()}
            new["deadlines"] = dl
            shard["cases"][key] = new
        path.write_bytes(orjson.dumps(shard))
    return data


# --- the server and the clients ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, port: int, threads: int = 8, workers: int = 2) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-c", "from scripts.cli import cli; cli()", "serve", "--data-dir",
                             str(data), "--port", str(port), "--threads", str(threads), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server did not start: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("server did not answer within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def login(base: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """The Cookie header of a fresh session of ``username``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username, "password": password})
    opener.open(base + "/login", body.encode()).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    # a check that the session works (a login page here would mean the load hits the login page)
    req = urllib.request.Request(base + "/cases/my", headers={"Cookie": cookie})
    with urllib.request.urlopen(req) as resp:
        if "/login" in resp.geturl():
            raise RuntimeError(f"login of {username} failed")
    return cookie


def _rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    """The largest resident set of the server's processes (the parent and its workers), in MB."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    return max([_rss(pid)] + [_rss(c) for c in children])


def wrk(url: str, cookie: str | None, seconds: float, connections: int, lua: Path) -> dict:
    cmd = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(lua)]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT (\S+) (\S+) (\d+) (\d+) (\d+)", out)
    rps = re.search(r"Requests/sec:\s+(\S+)", out)
    return {"p50_ms": round(float(m.group(1)), 1), "p95_ms": round(float(m.group(2)), 1),
            "requests": int(m.group(3)), "non_2xx": int(m.group(4)), "errors": int(m.group(5)),
            "rps": round(float(rps.group(1)), 1) if rps else 0.0}


def run_load(data: Path, seconds: float = 5, connections: int = 8, case_id: int = 1, workers: int = 2,
             pages: tuple = PAGES) -> dict:
    """Serve ``data`` (``workers`` processes) and drive each page of ``pages`` (by default every
    one of ``PAGES``); {page: figures}, plus the server's RSS."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(data, port, workers=workers)
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    lua = tmp / "report.lua"
    lua.write_text(LUA)
    try:
        cookies = {u: login(base, u) for u in {u for _, _, u in pages if u}}
        out = {}
        for name, path, user in pages:
            url = base + path.format(case_id=case_id)
            urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookies.get(user, "")})).read()
            out[name] = wrk(url, cookies.get(user), seconds, connections, lua)
            r = out[name]
            print(f"  {name:<20}\tp50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['rps']:7.1f} req/s"
                  f"{'  non-2xx ' + str(r['non_2xx']) if r['non_2xx'] else ''}", flush=True)
        out["rss_mb"] = rss_mb(proc.pid)
        print(f"  server RSS {out['rss_mb']} MB (the largest process)", flush=True)
        return out
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def section_load(quick: bool) -> dict:
    """The load section: ten years of data (a tenth when quick), 8 connections, every page."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-data-"))
    try:
        data = build_load_data(tmp, 0.1 if quick else 1.0)
        print(f"  data: {volume(0.1 if quick else 1.0)[2]} cases; 8 connections, one wrk run per page", flush=True)
        return run_load(data, seconds=3 if quick else 10, connections=8, case_id=SHARD_SIZE + 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    section_load("--quick" in sys.argv)
