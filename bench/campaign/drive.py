#!/usr/bin/env python3
"""Drives a whole evaluation campaign through govcap's HTTP API, as a team would, and checks
that the recorded run equals `govcap evaluate` on the campaign's exported observations.

Scale benchmark (issue 10): 337 units x the default framework's 16 manual and hybrid leaves,
four evaluators, a 10 % double-coding sample. Prints timings (generation, entry in requests/s,
review, run), the server's peak RSS, and whether the CLI reproduces the run byte for byte.

    python3 bench/campaign/drive.py --bin target/release/govcap [--units N] [--db URL]

With --units N only the first N units get values (the rest stay missing and are imputed),
which the test suite uses to keep its run short. Values are synthetic (a seeded hash), so the
run is synthetic-looking data marked as manual: never publish it.
"""
import argparse, hashlib, json, os, re, shutil, subprocess, sys, tempfile, time, tomllib, urllib.request, urllib.error

HERE = os.path.dirname(os.path.abspath(__file__))
FRAMEWORK = os.path.join(HERE, "..", "..", "crates", "govcap-core", "frameworks", "govcap-default.toml")


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None, expect=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if status not in expect:
            raise SystemExit(f"{method} {path}: {status} {raw[:300]!r}")
        ctype = "json"
        if raw and raw[:1] in (b"{", b"["):
            return status, json.loads(raw)
        return status, raw.decode("utf-8", "replace") if ctype else raw


def token(api, user, password):
    # A session, then a bearer token for the script (cookie + CSRF only for the token request).
    req = urllib.request.Request(api.base + "/api/v1/session", data=json.dumps({"username": user, "password": password}).encode(), method="POST")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req) as r:
        cookie = r.headers["set-cookie"].split(";")[0]
        csrf = json.loads(r.read())["csrf_token"]
    req = urllib.request.Request(api.base + "/api/v1/tokens", data=b'{"label":"drive.py"}', method="POST")
    req.add_header("content-type", "application/json")
    req.add_header("cookie", cookie)
    req.add_header("x-csrf-token", csrf)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["token"]


def value_for(node, unit, coder_salt=""):
    """A valid value under the leaf's rule, chosen by a hash (reproducible)."""
    h = int(hashlib.sha256(f"{unit}/{node['id']}{coder_salt}".encode()).hexdigest(), 16)
    rule = node["rule"]
    if rule == "binary":
        return "是" if h % 10 < 7 else "否"
    if rule == "ratio":
        return f"{(h % 101) / 100:.2f}"
    if rule == "count":
        return str(h % (int(node.get("cap", 5)) + 1))
    if rule == "graded":
        levels = node["levels"]
        return levels[h % len(levels)]["key"]
    return str(h % 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--units", type=int, default=337)
    ap.add_argument("--db", default=None, help="postgres:// URL (default: a SQLite file)")
    ap.add_argument("--disagree", type=float, default=0.05, help="share of second codings that differ")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (databases, the exported file, the CLI's outputs)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="govcap-campaign-")
    db = args.db or os.path.join(work, "campaign.db")
    pw = "campaign-password-1"
    users = [("lead", "lead"), ("rev", "reviewer"), ("ev1", "evaluator"), ("ev2", "evaluator"), ("ev3", "evaluator"), ("ev4", "evaluator")]
    for name, role in users:
        subprocess.run([args.bin, "users", "add", name, "--role", role, "--password-stdin", "--db", db], input=pw + "\n", text=True, check=True, capture_output=True)
    server = subprocess.Popen([args.bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--plain-logs"], stderr=subprocess.PIPE, text=True, env={**os.environ, "RUST_LOG": "warn"})
    base = None
    while base is None:
        line = server.stderr.readline()
        if not line:
            raise SystemExit("serve exited")
        m = re.search(r"listening on (http://[0-9.:]+)/", line)
        if m:
            base = m.group(1)
    api = Api(base)
    out = {"units_with_values": args.units}
    try:
        tok = {name: token(api, name, pw) for name, _ in users}
        fw = {n["id"]: n for n in tomllib.load(open(FRAMEWORK, "rb"))["node"]}
        t0 = time.perf_counter()
        _, c = api.call("POST", "/api/v1/campaigns", tok["lead"], {"name": "drive.py", "year": 2021})
        cid = c["id"]
        _, g = api.call("POST", f"/api/v1/campaigns/{cid}/tasks:generate", tok["lead"], {"evaluators": ["ev1", "ev2", "ev3", "ev4"]})
        out["generate_s"] = round(time.perf_counter() - t0, 3)
        out["tasks"], out["double_coded"] = g["tasks"], g["double_coded"]
        tasks, page = [], 1
        while True:
            _, p = api.call("GET", f"/api/v1/campaigns/{cid}/tasks?per_page=500&page={page}", tok["lead"])
            tasks += p["items"]
            if page * 500 >= p["total"]:
                break
            page += 1
        units = []
        for t in tasks:
            if t["unit"] not in units:
                units.append(t["unit"])
        chosen = set(units[: args.units])
        todo = [t for t in tasks if t["unit"] in chosen]
        t0 = time.perf_counter()
        for t in todo:
            node = fw[t["indicator"]]
            salt = ""
            if t["coder"] == 2 and int(hashlib.sha256(f"d{t['id']}".encode()).hexdigest(), 16) % 1000 < args.disagree * 1000:
                salt = "/second"
            v = value_for(node, t["unit"], salt)
            api.call("PUT", f"/api/v1/tasks/{t['id']}/value", tok[t["assignee"]], {"value": v, "evidence_url": f"http://127.0.0.1/evidence/{t['unit']}/{t['indicator']}", "version": t["version"]})
        dt = time.perf_counter() - t0
        out["entered"] = len(todo)
        out["entry_s"] = round(dt, 2)
        out["entry_per_s"] = round(len(todo) / dt, 1) if dt else None
        # Review: disputed pairs first go to the lead, then the reviewer confirms every first coding.
        tasks, page = [], 1
        while True:
            _, p = api.call("GET", f"/api/v1/campaigns/{cid}/tasks?per_page=500&page={page}", tok["lead"])
            tasks += p["items"]
            if page * 500 >= p["total"]:
                break
            page += 1
        t0 = time.perf_counter()
        disputed = 0
        for t in tasks:
            if t["coder"] != 1 or t["unit"] not in chosen:
                continue
            if t["disputed"]:
                disputed += 1
                api.call("POST", f"/api/v1/tasks/{t['id']}/adjudicate", tok["lead"], {"value": t["value"], "note": "checked", "version": t["version"]})
            api.call("POST", f"/api/v1/tasks/{t['id']}/review", tok["rev"], {"decision": "confirm"})
        out["review_s"] = round(time.perf_counter() - t0, 2)
        out["disputed"] = disputed
        _, detail = api.call("GET", f"/api/v1/campaigns/{cid}", tok["lead"])
        out["agreement"] = [{k: a[k] for k in ("indicator", "rule", "pairs", "statistic", "value")} for a in detail["agreement"]]
        api.call("POST", f"/api/v1/campaigns/{cid}/freeze", tok["lead"])
        t0 = time.perf_counter()
        _, r = api.call("POST", f"/api/v1/campaigns/{cid}/runs", tok["lead"])
        out["run_s"] = round(time.perf_counter() - t0, 3)
        run_id = r["run_id"]
        _, run = api.call("GET", f"/api/v1/runs/{run_id}", tok["lead"])
        with open(f"/proc/{server.pid}/status") as f:
            out["server_peak_rss_mib"] = round(int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024, 1)
        # The same values through the CLI.
        _, csv = api.call("GET", f"/api/v1/campaigns/{cid}/observations.csv", tok["lead"])
        path = os.path.join(work, f"campaign-{cid}-observations.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(csv)
        cli = subprocess.run([args.bin, "evaluate", "--observations", path, "--year", "2021", "--out", os.path.join(work, "cli"), "--db", os.path.join(work, "cli.db")], capture_output=True, text=True)
        if cli.returncode != 0:
            raise SystemExit("govcap evaluate failed: " + cli.stderr[-2000:])
        with open(os.path.join(work, "cli", "results.json"), "rb") as f:
            cli_sha = hashlib.sha256(f.read()).hexdigest()
        out["run_id"] = run_id
        out["results_sha256_workspace"] = run["results_sha256"]
        out["results_sha256_cli"] = cli_sha
        out["cli_equal"] = cli_sha == run["results_sha256"]
        rerun = subprocess.run([args.bin, "runs", "rerun", str(run_id), "--db", db], capture_output=True, text=True) if not args.db else None
        if rerun is not None:
            out["rerun_ok"] = rerun.returncode == 0
            out["rerun_output"] = (rerun.stdout + rerun.stderr).strip().splitlines()[-1:] 
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if not out.get("cli_equal") or out.get("rerun_ok") is False:
        sys.exit(1)


if __name__ == "__main__":
    main()
