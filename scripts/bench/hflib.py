# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for scripts/bench.sh and scripts/chaos.sh: start the emulator and the service,
read their counters, and sample CPU and memory from /proc. Standard library only."""
import glob, json, os, pwd, re, shlex, signal, socket, subprocess, sys, time, urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem(pid):
    """(VmRSS, VmHWM) in MB."""
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def get_json(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Emulator:
    """`hotfolder emulator` on a free port; its counters and recorded requests."""

    def __init__(self, binary, workdir, api_key, queue=0.0, run=0.0, faults=(), seed=1, stall=30.0,
                 record_limit=100000, bundled=True, extra=()):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.api_key = api_key
        args = [binary, "emulator", "--port", str(self.port), "--api-key", api_key,
                "--queue-seconds", str(queue), "--run-seconds", str(run), "--seed", str(seed),
                "--stall-seconds", str(stall), "--record-limit", str(record_limit)]
        for f in faults:
            args += ["--fault", f]
        if bundled:
            args.append("--bundled-video")
        args += list(extra)
        self.log_path = os.path.join(workdir, "emulator-%d.log" % self.port)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=workdir)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            raise SystemExit("emulator did not start: %r (see %s)" % (line, self.log_path))

        def drain(stream=self.proc.stdout, log=self.log):
            for l in stream:
                log.write(l)
        import threading
        threading.Thread(target=drain, daemon=True).start()

    def stats(self):
        return get_json(self.base + "/_emulator/stats")

    def creates(self):
        s = self.stats()["requests_by_endpoint"]
        return s.get("gateway.create", 0) + s.get("ark.create", 0)

    def requests(self):
        return get_json(self.base + "/_emulator/requests", timeout=120)

    def api_get(self, path, tries=20, timeout=10):
        """GET an API path with the key (a task, Ark's task list), retrying the faults the emulator injects
        (429, 5xx, resets, stalls); returns the JSON, or None when the answer is a 404."""
        import http.client, urllib.error
        for attempt in range(tries):
            request = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + self.api_key})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return None
                if e.code not in (429, 500, 502, 503, 504):
                    raise
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                pass
            time.sleep(min(2, 0.1 * (attempt + 1)))
        raise SystemExit("emulator: GET %s kept failing" % path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def write_config(path, root, base_url, **settings):
    """A service configuration with its folders under `root`; `settings` override the defaults below."""
    values = {
        "inbox": os.path.join(root, "inbox"),
        "outbox": os.path.join(root, "outbox"),
        "failed": os.path.join(root, "failed"),
        "archive": os.path.join(root, "archive"),
        "state_dir": os.path.join(root, "state"),
        "provider": "gateway",
        "base_url": base_url,
        "log_level": "info",
    }
    values.update(settings)
    for key in ("inbox", "outbox", "failed", "archive", "state_dir"):
        os.makedirs(values[key], exist_ok=True)
    with open(path, "w") as f:
        for k, v in values.items():
            # JSON is YAML: strings quoted, a dict (such as `http`) as a flow mapping.
            f.write("%s: %s\n" % (k, json.dumps(v) if isinstance(v, (str, dict, list)) else v))
    return values


class Service:
    """`hotfolder run --config FILE`, its log in a file; waits until the watcher has started."""

    def __init__(self, binary, config, api_key, log_path, wait_started=True, timeout=60, env_extra=None):
        env = dict(os.environ)
        env["SEEDANCE_API_KEY"] = api_key
        env.pop("HOTFOLDER_CONFIG", None)
        if env_extra:
            env.update(env_extra)
        self.log_path = log_path
        self.log = open(log_path, "a")
        self.start = time.time()
        # HOTFOLDER_BENCH_WRAP="valgrind --tool=callgrind ..." or "heaptrack -o /tmp/x" runs the service under a tool,
        # for profiling only: its memory and CPU figures are then the tool's, and wall-clock figures meaningless.
        # heaptrack's script does not pass SIGTERM on to the service: wrap it in a script that does.
        wrap = shlex.split(os.environ.get("HOTFOLDER_BENCH_WRAP", ""))
        self.proc = subprocess.Popen(wrap + [binary, "run", "--config", config], stdout=self.log, stderr=self.log, env=env)
        self.pid = self.proc.pid
        if wait_started:
            self.wait_log("watching the inbox", timeout)

    def wait_log(self, text, timeout=60, start_offset=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, errors="replace") as f:
                f.seek(start_offset)
                if text in f.read():
                    return time.time()
            if self.proc.poll() is not None:
                raise SystemExit("service exited (%s) before %r; see %s" % (self.proc.returncode, text, self.log_path))
            time.sleep(0.02)
        raise SystemExit("service did not log %r within %s s; see %s" % (text, timeout, self.log_path))

    def alive(self):
        return self.proc.poll() is None

    def cpu(self):
        return proc_cpu(self.pid)

    def mem(self):
        return proc_mem(self.pid)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self, timeout=30):
        if os.environ.get("HOTFOLDER_BENCH_WRAP"):
            timeout = max(timeout, 600)  # a tool such as callgrind writes its figures at exit, slowly
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def wait_progress(count, target, stall=10, timeout=600, interval=0.05, tick=None):
    """Waits until count() >= target, or until it has not grown for `stall` seconds; returns the last count."""
    if os.environ.get("HOTFOLDER_BENCH_WRAP"):
        stall, timeout = stall * 10, timeout * 10  # under a tool the service runs tens of times slower
    deadline = time.time() + timeout
    last, last_change = -1, time.time()
    while time.time() < deadline:
        c = count()
        if tick:
            tick()
        if c >= target:
            return c
        if c != last:
            last, last_change = c, time.time()
        elif time.time() - last_change > stall:
            return c
        time.sleep(interval)
    return last


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def table(rows, headers):
    """A plain-text table (rows of strings)."""
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |", "|" + line + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(out)


class Postgres:
    """A private cluster: data and socket in a folder of its own, a free port, trust logins for `hotfolder`."""

    def __init__(self, root):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise SystemExit("PostgreSQL's server programs are missing; run scripts/setup.sh")
        self.bin = os.path.dirname(bins[-1])
        self.root = root
        self.port = free_port()
        self.user = None
        if os.getuid() == 0:  # CI runs as root; PostgreSQL refuses to: run it as nobody
            self.user = "nobody"
            entry = pwd.getpwnam("nobody")
            os.chown(root, entry.pw_uid, entry.pw_gid)
        self.run("initdb", "-D", root + "/data", "-U", "hotfolder", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()
        self.psql("CREATE DATABASE hotfolder", database="postgres")

    def run(self, program, *args):
        with open(self.root + "/commands.log", "a") as log:
            subprocess.run([os.path.join(self.bin, program)] + list(args), check=True, stdout=log, stderr=log,
                           user=self.user, cwd=self.root)

    def options(self):
        return "-p %d -k %s -c listen_addresses='' -c fsync=off -c max_connections=200" % (self.port, self.root)

    def start(self):
        self.run("pg_ctl", "-D", self.root + "/data", "-o", self.options(), "-l", self.root + "/server.log", "-w", "start")

    def restart(self):
        self.run("pg_ctl", "-D", self.root + "/data", "-o", self.options(), "-l", self.root + "/server.log", "-m", "fast",
                 "-w", "restart")

    def stop(self):
        try:
            self.run("pg_ctl", "-D", self.root + "/data", "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass

    @property
    def url(self):
        return "postgres://hotfolder@localhost:%d/hotfolder?host=%s" % (self.port, self.root)

    def psql(self, sql, database="hotfolder"):
        """Rows of `sql` as lists of strings (tab-separated, unaligned)."""
        out = subprocess.run([os.path.join(self.bin, "psql"), "-h", self.root, "-p", str(self.port), "-U", "hotfolder",
                              "-d", database, "-AtX", "-F", "\t", "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql: %s" % out.stderr.strip())
        return [line.split("\t") for line in out.stdout.splitlines() if line]
