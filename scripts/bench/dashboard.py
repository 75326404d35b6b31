# SPDX-License-Identifier: GPL-2.0-or-later
"""Dashboard rows of scripts/bench.sh (issue 11).

dashboard        100,000 jobs in the database: p50/p99 of every page and API call over HTTP on loopback (one kept-alive
                 connection, as a browser), each against the 50 ms p99 target
burst-dashboard  the burst figure (10,000 drops -> create calls) without a dashboard client, then with a browser-like
                 client loading the overview every second and an SSE client on /api/v1/events for the whole burst;
                 the ratio of the two (within noise: >= 0.9x)
The functions use bench.py's helpers through `B` (bench.py's module, set by bench.py)."""
import http.client, json, os, signal, sqlite3, struct, subprocess, sys, threading, time

from hflib import Service, Emulator, free_port, wait_progress, percentile
import history
import scale

B = None  # bench.py's module
WORDS = ["fox", "owl", "heron", "wave", "glacier", "city", "forest", "desert"]
STATES = ["done", "done", "done", "done", "done", "done", "failed", "invalid", "cancelled", "done"]


def http_settings(port):
    return {"listen": "127.0.0.1:%d" % port}


class Client:
    """One kept-alive HTTP/1.1 connection to the dashboard."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path):
        """(status, body bytes); reconnects once if the server closed the connection."""
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise

    def close(self):
        self.conn.close()


def vary_jobs(path, n):
    """Gives the cloned jobs their own names, lanes, final states and prompts (the search's words), as
    DashboardScaleTests does; the triggers keep the counts and the search index in step."""
    t0 = time.time()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    words = "CASE rowid % 8 " + " ".join("WHEN %d THEN '%s'" % (i, w) for i, w in enumerate(WORDS)) + " END"
    states = "CASE rowid % 10 " + " ".join("WHEN %d THEN '%s'" % (i, s) for i, s in enumerate(STATES)) + " END"
    db.execute("UPDATE job SET name = 'job-' || rowid, lane = 'lane-' || (rowid % 5), state = " + states + ", "
               "specJSON = CAST(json_set(CAST(specJSON AS TEXT), '$.name', 'job-' || rowid, "
               "'$.request.prompt', 'A ' || " + words + " || ' at dawn, take ' || rowid) AS BLOB)")
    db.execute("COMMIT")
    count = db.execute("SELECT COUNT(*) FROM job").fetchone()[0]
    db.close()
    return count, time.time() - t0


def cursor_at(path, offset):
    """The list's cursor after its `offset`th job (newest first): `<createdAt's bits>-<rowid>`."""
    db = sqlite3.connect(path)
    created, rowid = db.execute("SELECT createdAt, rowid FROM job ORDER BY createdAt DESC, rowid DESC LIMIT 1 OFFSET ?",
                                (offset,)).fetchone()
    db.close()
    return "%d-%d" % (struct.unpack("<Q", struct.pack("<d", created))[0], rowid)


def job_at(path, offset):
    db = sqlite3.connect(path)
    (job_id,) = db.execute("SELECT id FROM job ORDER BY createdAt DESC, rowid DESC LIMIT 1 OFFSET ?", (offset,)).fetchone()
    db.close()
    return job_id


def bench_dashboard():
    n = B.a.dashboard_jobs
    print("dashboard: %d jobs in the database, %d requests per page" % (n, B.a.dashboard_requests), flush=True)
    d = B.section_dir("dashboard")
    port = free_port()
    emu, cfg, v = scale.template_run(d, dict(archive_policy="keep", http=http_settings(port)), drops=2)
    try:
        db = os.path.join(v["state_dir"], "hotfolder.sqlite")
        took = history.grow(db, n - 2, step=7.0)
        count, varied = vary_jobs(db, n)
        print("    %d jobs written in %.1f s, varied in %.1f s" % (count, took, varied), flush=True)
        deep = cursor_at(db, count // 2)
        middle = job_at(db, count // 2)
        svc = Service(B.a.binary, cfg, B.KEY, os.path.join(d, "service.log"))
        wait_healthy(port)
        client = Client(port)
        paths = [
            ("status", "/api/v1/status"), ("jobs", "/api/v1/jobs"), ("jobs, one state", "/api/v1/jobs?state=failed"),
            ("jobs, one lane", "/api/v1/jobs?lane=lane-3"), ("jobs, state and lane", "/api/v1/jobs?state=done&lane=lane-1"),
            ("search, 1 in 8 match", "/api/v1/jobs?q=heron"), ("search, every job matches", "/api/v1/jobs?q=dawn"),
            ("search, one match", "/api/v1/jobs?q=job-%d" % (count - 7)), ("search, no match", "/api/v1/jobs?q=nomatch"),
            ("search, 2 characters", "/api/v1/jobs?q=zq"), ("search and state", "/api/v1/jobs?state=failed&q=heron"),
            ("deep cursor (job %d)" % (count // 2), "/api/v1/jobs?cursor=" + deep), ("one job", "/api/v1/jobs/" + middle),
            ("overview page", "/"), ("jobs page", "/jobs"), ("jobs page, search", "/jobs?q=heron"), ("failed page", "/failed"),
            ("job page", "/jobs/" + middle), ("metrics", "/metrics"), ("readyz", "/readyz"),
        ]
        try:
            for label, path in paths:
                times, bad = [], None
                for _ in range(B.a.dashboard_requests):
                    t = time.perf_counter()
                    status, body = client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    if status != 200:
                        bad = "%d %s" % (status, body[:120])
                if bad:
                    B.row("Dashboard, %d jobs: %s (%s)" % (count, label, path[:40]), "HTTP " + bad, ok=False)
                    continue
                p50, p99 = percentile(times, 50), percentile(times, 99)
                B.row("Dashboard, %d jobs: %s (%s)" % (count, label, path[:40]), "p50 %.1f ms, p99 %.1f ms" % (p50, p99),
                      target="p99 <= 50 ms", ok=p99 <= 50)
        finally:
            client.close()
            svc.stop()
    finally:
        emu.stop()


def wait_healthy(port, timeout=30):
    """Waits until the dashboard answers /healthz (it starts beside the watcher, not before it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            client = Client(port)
            status, _ = client.get("/healthz")
            client.close()
            if status == 200:
                return
        except (http.client.HTTPException, OSError):
            pass
        time.sleep(0.05)
    raise SystemExit("the dashboard did not answer /healthz on port %d" % port)


class DashboardLoad:
    """A browser on the overview: the page loaded every second, and an SSE client on /api/v1/events reading every
    event, both for as long as the load runs."""

    def __init__(self, port):
        self.port = port
        wait_healthy(port)
        self.stop_event = threading.Event()
        self.pages, self.page_times, self.events, self.errors, self.last_id = 0, [], 0, [], 0
        self.connected = threading.Event()
        # HOTFOLDER_BENCH_LOAD=sse or =page runs only that half of the load (to tell their costs apart).
        parts = os.environ.get("HOTFOLDER_BENCH_LOAD", "both")
        self.threads = [threading.Thread(target=self.overview, daemon=True)] if parts in ("both", "page") else []
        if parts in ("both", "sse"):
            # HOTFOLDER_BENCH_SSE_CLIENTS=N connects N live-feed clients (to tell a cost per client from a fixed one).
            for _ in range(int(os.environ.get("HOTFOLDER_BENCH_SSE_CLIENTS", "1"))):
                self.threads.append(threading.Thread(target=self.sse, daemon=True))
        else:
            self.connected.set()
        for t in self.threads:
            t.start()
        if not self.connected.wait(10):
            raise SystemExit("the SSE client did not connect")

    def overview(self):
        client = Client(self.port)
        next_t = time.time()
        while not self.stop_event.is_set():
            t = time.perf_counter()
            try:
                status, _ = client.get("/")
                if status != 200:
                    self.errors.append("overview: HTTP %d" % status)
            except (http.client.HTTPException, OSError) as e:
                self.errors.append("overview: %s" % e)
            self.page_times.append((time.perf_counter() - t) * 1000)
            self.pages += 1
            next_t += 1
            self.stop_event.wait(max(0, next_t - time.time()))
        client.close()

    def sse(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", "/api/v1/events", headers={"Accept": "text/event-stream"})
            r = conn.getresponse()
            if r.status != 200:
                self.errors.append("events: HTTP %d" % r.status)
                self.connected.set()
                return
            while not self.stop_event.is_set():
                line = r.readline()
                if not line:
                    break
                if line.startswith(b": connected"):
                    self.connected.set()
                elif line.startswith(b"event:"):
                    self.events += 1
                elif line.startswith(b"id:"):
                    self.last_id = max(self.last_id, int(line[3:]))
        except (http.client.HTTPException, OSError) as e:
            if not self.stop_event.is_set():
                self.errors.append("events: %s" % e)
        finally:
            self.connected.set()
            conn.close()

    def stop(self):
        self.stop_event.set()
        for t in self.threads[:1]:
            t.join(timeout=5)
        t = os.times()
        return {"pages": self.pages, "page_times": self.page_times, "events": self.events, "errors": self.errors,
                "published": self.last_id,
                "cpu": t.user + t.system}


if __name__ == "__main__" and sys.argv[1:2] == ["load"]:
    # The load process: runs until a line (or EOF) arrives on stdin, then prints its figures as JSON.
    running = DashboardLoad(int(sys.argv[2]))
    print("connected", flush=True)
    sys.stdin.readline()
    print(json.dumps(running.stop()), flush=True)


def start_load(port):
    """The browser-like load in its own process (`dashboard.py load PORT`), so that it does not take the writer's
    interpreter lock; returns the process once its SSE client is connected."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "load", str(port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "connected":
        p.kill()
        raise SystemExit("the dashboard load did not start")
    return p


def stop_load(p):
    """Ends the load process; returns its figures (pages, page_times, events, errors)."""
    out, _ = p.communicate("stop\n", timeout=30)
    return json.loads(out)


def start_profilers(pid, label):
    """With HOTFOLDER_BENCH_PERF=DIR: `perf record -g` and `perf stat` (task clock, context switches) attached to the
    service for the burst only, written to DIR/LABEL.data and DIR/LABEL.stat."""
    out = os.environ.get("HOTFOLDER_BENCH_PERF")
    if not out:
        return []
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, label)
    graph = os.environ.get("HOTFOLDER_BENCH_PERF_GRAPH", "fp")  # dwarf: also through libraries without frame pointers
    return [subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", graph, "-p", str(pid), "-o", base + ".data"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen(["perf", "stat", "-e", "task-clock,context-switches,cpu-migrations,page-faults", "-p", str(pid),
                              "-o", base + ".stat"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]


def stop_profilers(profilers):
    for p in profilers:
        p.send_signal(signal.SIGINT)
    for p in profilers:
        p.wait(timeout=60)


def burst_once(label, n, with_dashboard):
    """Jobs/s for n prompt files dropped at once (first drop written -> last create call), and the load's figures."""
    d = B.section_dir("burst-dashboard-%s" % label)
    emu = Emulator(B.a.binary, d, B.KEY, record_limit=n * 2 + 100)
    port = free_port()
    load = None
    try:
        cfg, v = B.service_config(d, emu, http=http_settings(port))
        svc = Service(B.a.binary, cfg, B.KEY, os.path.join(d, "service.log"))
        try:
            if with_dashboard:
                load = start_load(port)
            time.sleep(0.5)
            profilers = start_profilers(svc.pid, label)
            cpu0 = svc.cpu()
            t0 = time.time()
            for i in range(n):
                B.write_prompt(os.path.join(v["inbox"], "p%05d.txt" % i), "A red fox running through snow, take bd-%d" % i)
            wait_progress(emu.creates, n, stall=10)
            cpu1 = svc.cpu()
            stop_profilers(profilers)
            times = sorted(B.create_times(emu, "bd-").values())
            figures = stop_load(load) if load else None
            load = None
        finally:
            if load:
                load.kill()
                load.wait()
            svc.stop()
        if len(times) < n:
            raise SystemExit("%s: only %d of %d create calls" % (label, len(times), n))
        cpu_us = (cpu1 - cpu0) / n * 1e6
        return len(times) / (times[-1] - t0), figures, cpu_us
    finally:
        emu.stop()


def bench_burst_dashboard():
    n, rounds = B.a.burst_n, B.a.burst_dashboard_rounds
    print("burst with and without a dashboard: %d drops, %d rounds of each, alternated" % (n, rounds), flush=True)
    without, with_, loads, cpu_without, cpu_with = [], [], [], [], []
    for r in range(rounds):
        rate, _, cpu = burst_once("without-%d" % r, n, False)
        without.append(rate)
        cpu_without.append(cpu)
        print("    round %d without a dashboard: %.0f jobs/s, service CPU %.0f us/job" % (r + 1, rate, cpu), flush=True)
        rate, load, cpu = burst_once("with-%d" % r, n, True)
        with_.append(rate)
        cpu_with.append(cpu)
        loads.append(load)
        print("    round %d with the overview every 1 s and an SSE client: %.0f jobs/s, service CPU %.0f us/job "
              "(%d overview loads, p99 %.1f ms, %d SSE events of %d published, the client's own CPU %.2f s%s)"
              % (r + 1, rate, cpu, load["pages"], percentile(load["page_times"], 99), load["events"], load.get("published", 0), load["cpu"],
                 ", errors: %s" % load["errors"][:3] if load["errors"] else ""), flush=True)
    a, b = percentile(without, 50), percentile(with_, 50)
    B.row("Burst service CPU per job (median of %d): without a client / with one" % rounds,
          "%.0f / %.0f us/job" % (percentile(cpu_without, 50), percentile(cpu_with, 50)))
    B.row("Burst jobs/s (%d drops, median of %d) without a dashboard client" % (n, rounds), "%.0f" % a)
    errors = sum(len(l["errors"]) for l in loads)
    B.row("Burst jobs/s with the overview loaded every 1 s and an SSE client connected", "%.0f" % b, "%.0f (without)" % a,
          "%.2fx" % (b / a), ">= 0.90x (within noise), no client error", b / a >= 0.9 and errors == 0)
