#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hotfolder benchmarks (issue 6): burst, latency, idle, poll-mode scans, polling cost, restart, big images; the scale
rows (issue 14, scale.py) and the dashboard rows (issue 11, dashboard.py).

Every figure is measured in the same run as its comparison (a shell `inotifywait | curl` loop, `inotifywait -r`,
`find`) and printed as a ratio. Usage: bench.py HOTFOLDER_BINARY [--only burst,latency,...] [options]
"""
import argparse, json, os, random, shutil, signal, struct, subprocess, sys, tempfile, threading, time, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard  # noqa: E402
import nodes  # noqa: E402
import scale  # noqa: E402
from hflib import Emulator, Service, write_config, wait_until, wait_progress, percentile, proc_cpu, proc_mem, table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "bench-key-%d" % os.getpid()
SECTIONS = ["burst", "latency", "idle", "pollscan", "polling", "restart", "bigimages",
            "pollscan100k", "start100k", "folders10k", "history1m", "dashboard", "burst-dashboard", "nodes"]

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
ap.add_argument("--burst-n", type=int, default=10000)
ap.add_argument("--nodes-n", type=int, default=5000, help="drops per run of the nodes section (1 node SQLite, 1 and 3 on PostgreSQL)")
ap.add_argument("--baseline-n", type=int, default=0, help="drops for the burst baseline (default: --burst-n)")
ap.add_argument("--latency-n", type=int, default=1000)
ap.add_argument("--latency-gap-ms", type=float, default=20)
ap.add_argument("--idle-seconds", type=float, default=60)
ap.add_argument("--idle-folders", type=int, default=1000)
ap.add_argument("--scan-files", type=int, default=10000)
ap.add_argument("--scans", type=int, default=10)
ap.add_argument("--polling-tasks", type=int, default=1000)
ap.add_argument("--polling-run-seconds", type=float, default=60)
ap.add_argument("--polling-rate", type=float, default=50, help="max_status_calls_per_second in the polling run")
ap.add_argument("--restart-jobs", type=int, default=10000)
ap.add_argument("--restart-in-flight", type=int, default=5000)
ap.add_argument("--big-images", type=int, default=200)
ap.add_argument("--scan100k-files", type=int, default=100000)
ap.add_argument("--scan100k-seconds", type=float, default=30)
ap.add_argument("--start-files", type=int, default=100000)
ap.add_argument("--folders10k", type=int, default=10000)
ap.add_argument("--history-jobs", type=int, default=1000000)
ap.add_argument("--history-drops", type=int, default=200, help="drops whose latency is measured in history1m")
ap.add_argument("--history-idle-seconds", type=float, default=30)
ap.add_argument("--dashboard-jobs", type=int, default=100000)
ap.add_argument("--dashboard-requests", type=int, default=100, help="requests per page in the dashboard row")
ap.add_argument("--burst-dashboard-rounds", type=int, default=4,
                help="bursts without and with a dashboard client (alternated) in burst-dashboard; the medians are compared")
ap.add_argument("--keep", action="store_true", help="keep the work folder")
a = ap.parse_args()
only = [s.strip() for s in a.only.split(",") if s.strip()]
for s in only:
    if s not in SECTIONS:
        sys.exit("unknown section %s (known: %s)" % (s, ", ".join(SECTIONS)))

work = tempfile.mkdtemp(prefix="hf-bench-")
rows = []      # figure, hotfolder, baseline, ratio, target, ok
verdicts = []  # booleans for measured targets


def row(figure, value, baseline="-", ratio="-", target="-", ok=None):
    rows.append([figure, value, baseline, ratio, target, "-" if ok is None else ("yes" if ok else "NO")])
    if ok is not None:
        verdicts.append(ok)
    print("  %s: %s (baseline %s, ratio %s, target %s)" % (figure, value, baseline, ratio, target), flush=True)


def not_measured(figure, why):
    rows.append([figure, "not measured", "-", "-", "-", "-"])
    print("  %s: not measured (%s)" % (figure, why), flush=True)


def section_dir(name):
    d = os.path.join(work, name)
    os.makedirs(d)
    return d


def service_config(d, emu, **settings):
    base = dict(settle=0, watch_mode="inotify", max_in_flight=20000, max_status_calls_per_second=1000,
                poll_first_delay="3600s", archive_policy="keep", log_level="info")
    base.update(settings)
    cfg = os.path.join(d, "hotfolder.yaml")
    values = write_config(cfg, d, emu.base, **base)
    return cfg, values


def write_prompt(path, text):
    with open(path, "w") as f:
        f.write(text)


def start_baseline(dirpath, emu):
    p = subprocess.Popen([os.path.join(HERE, "baseline.sh"), dirpath, emu.base, KEY], stdout=subprocess.PIPE,
                         text=True, start_new_session=True)
    if "ready" not in p.stdout.readline():
        raise SystemExit("baseline inotifywait did not start")
    return p


def stop_group(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    p.wait()


def create_times(emu, marker):
    """receivedAt of each recorded create call whose body holds `marker`, keyed by the token after it."""
    out = {}
    for r in emu.requests():
        if r["endpoint"] != "gateway.create" or not r.get("bodyJSON"):
            continue
        try:
            prompt = json.loads(r["bodyJSON"]).get("prompt", "")
        except ValueError:
            continue
        i = prompt.find(marker)
        if i >= 0:
            token = marker + prompt[i + len(marker):].split()[0]
            out.setdefault(token, r["receivedAt"])
    return out


def proc_io(pid):
    """/proc/PID/io as a dict of ints."""
    with open("/proc/%d/io" % pid) as f:
        return {k: int(v) for k, v in (line.split(":") for line in f)}


scale.B = sys.modules[__name__]
dashboard.B = sys.modules[__name__]
nodes.B = sys.modules[__name__]


# ---------------------------------------------------------------------------------------------------------------
# The service's CPU per job in the burst (user+sys from /proc over the burst / create calls), measured with the
# release build of b077c1c on 2026-12-03 on this project's 2-core machine, TMPDIR=/dev/shm: 1251, 1473 and 1482 us/job
# in three runs (median 1473). Issue 14 asks for at most a third of it. HOTFOLDER_BURST_CPU_REFERENCE_US overrides it.
BURST_CPU_REFERENCE_US = float(os.environ.get("HOTFOLDER_BURST_CPU_REFERENCE_US", "1473"))


def bench_burst():
    print("burst: %d prompt files at once" % a.burst_n, flush=True)
    d = section_dir("burst")
    emu = Emulator(a.binary, d, KEY, record_limit=a.burst_n * 2 + 100)
    try:
        cfg, v = service_config(d, emu)
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        time.sleep(0.5)
        cpu0 = svc.cpu()
        t0 = time.time()
        for i in range(a.burst_n):
            write_prompt(os.path.join(v["inbox"], "p%05d.txt" % i), "A red fox running through snow, take burst-%d" % i)
        t_written = time.time()
        wait_progress(emu.creates, a.burst_n, stall=10)
        cpu1 = svc.cpu()
        times = sorted(create_times(emu, "burst-").values())
        rss, hwm = svc.mem()
        svc.stop()
        failed = sum(len(f) for _, _, f in os.walk(v["failed"]) if f) // 2
        if not times:
            row("Burst jobs/s", "no create calls", ok=False)
            return
        rate = len(times) / (times[-1] - t0)
        print("    writer %.0f files/s, hotfolder %.2f s, %d creates, %d drops in failed/"
              % (a.burst_n / (t_written - t0), times[-1] - t0, len(times), failed), flush=True)
        if len(times) < a.burst_n:
            row("Burst: drops that made no create call", "%d of %d (%d in failed/)" % (a.burst_n - len(times), a.burst_n, failed),
                target="0", ok=False)

        n = a.baseline_n or a.burst_n
        bdir = os.path.join(d, "baseline-inbox")
        os.makedirs(bdir)
        before = emu.creates()
        base = start_baseline(bdir, emu)
        time.sleep(0.3)
        b0 = time.time()
        for i in range(n):
            write_prompt(os.path.join(bdir, "p%05d.txt" % i), "A red fox running through snow, take base-%d" % i)
        wait_progress(lambda: emu.creates() - before, n, stall=10, timeout=max(300, n / 5), interval=0.1)
        btimes = sorted(create_times(emu, "base-").values())
        stop_group(base)
        if not btimes:
            row("Burst jobs/s", "%.0f" % rate, "baseline incomplete (%d of %d)" % (emu.creates() - before, n),
                target=">= 2000 and >= 15x", ok=rate >= 2000)
        else:
            brate = len(btimes) / (btimes[-1] - b0)
            row("Burst jobs/s (%d drops; baseline %d/%d)" % (a.burst_n, len(btimes), n), "%.0f" % rate, "%.0f (inotifywait|curl)" % brate,
                "%.1fx" % (rate / brate), ">= 2000, >= 15x", rate >= 2000 and rate / brate >= 15)
        us = (cpu1 - cpu0) / max(1, len(times)) * 1e6
        ref = BURST_CPU_REFERENCE_US
        row("Burst CPU of the service per job (user+sys)", "%.0f us/job" % us, "%.0f us/job (b077c1c)" % ref,
            "%.1fx" % (ref / us if us else 0), "<= %.0f (1/3)" % (ref / 3), us <= ref / 3)
        row("Burst peak RSS", "%.1f MB" % hwm, target="<= 150 MB", ok=hwm <= 150)
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------------------------
def drip(dirpath, n, gap, marker):
    """Writes n prompt files `gap` seconds apart; returns {token: time after close}."""
    closed = {}
    next_t = time.time()
    for i in range(n):
        token = "%s%05d" % (marker, i)
        path = os.path.join(dirpath, "l%05d.txt" % i)
        with open(path, "w") as f:
            f.write("A lighthouse in a storm, frame %s" % token)
        closed[token] = time.time()
        next_t += gap
        time.sleep(max(0, next_t - time.time()))
    return closed


def latencies(emu, closed, marker):
    got = create_times(emu, marker)
    return [(got[t] - closed[t]) * 1000 for t in closed if t in got]


def bench_latency():
    print("latency: %d single drops %g ms apart" % (a.latency_n, a.latency_gap_ms), flush=True)
    d = section_dir("latency")
    emu = Emulator(a.binary, d, KEY, record_limit=a.latency_n * 3 + 100)
    try:
        cfg, v = service_config(d, emu)
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        time.sleep(0.5)
        closed = drip(v["inbox"], a.latency_n, a.latency_gap_ms / 1000, "lat-")
        wait_until(lambda: emu.creates() >= a.latency_n, timeout=60)
        lat = latencies(emu, closed, "lat-")
        svc.stop()
        bdir = os.path.join(d, "baseline-inbox")
        os.makedirs(bdir)
        base = start_baseline(bdir, emu)
        time.sleep(0.3)
        bclosed = drip(bdir, a.latency_n, a.latency_gap_ms / 1000, "blat-")
        before = len(lat)
        wait_until(lambda: emu.creates() >= a.latency_n * 2, timeout=60)
        blat = latencies(emu, bclosed, "blat-")
        stop_group(base)
        if len(lat) < a.latency_n:
            row("Latency", "only %d of %d creates seen" % (len(lat), a.latency_n), ok=False)
            return
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        b50, b99 = percentile(blat, 50), percentile(blat, 99)
        row("Latency p50 close->create", "%.2f ms" % p50, "%.2f ms" % b50, "%.2fx" % (b50 / p50), "<= 5 ms", p50 <= 5)
        row("Latency p99 close->create", "%.2f ms" % p99, "%.2f ms" % b99, "%.2fx" % (b99 / p99), "<= 25 ms", p99 <= 25)
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------------------------
def bench_idle():
    idle_row(a.idle_folders, "<= 40 MB", 40, "idle")


def idle_row(folders, rss_target, rss_limit, section="folders10k"):
    print("idle: %g s, %d watched subfolders" % (a.idle_seconds, folders), flush=True)
    d = section_dir(section)
    emu = Emulator(a.binary, d, KEY)
    try:
        cfg, v = service_config(d, emu, settle=2)
        for i in range(folders):
            os.makedirs(os.path.join(v["inbox"], "lane%04d" % i))
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        base = subprocess.Popen(["inotifywait", "-m", "-r", "-q", "-e", "close_write,moved_to,create", v["inbox"]],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)  # start-up scan, settle
        c0, b0 = svc.cpu(), proc_cpu(base.pid)
        time.sleep(a.idle_seconds)
        c1, b1 = svc.cpu(), proc_cpu(base.pid)
        rss, hwm = svc.mem()
        brss = proc_mem(base.pid)[0]
        base.terminate()
        base.wait()
        svc.stop()
        cpu, bcpu = c1 - c0, b1 - b0
        per_min = cpu * 60 / a.idle_seconds
        row("Idle CPU per minute, %d folders (%g s measured)" % (folders, a.idle_seconds), "%.2f s" % per_min,
            "%.2f s (inotifywait -r)" % (bcpu * 60 / a.idle_seconds), "-" if cpu == 0 else "%.2fx" % (bcpu / cpu),
            "<= 0.1 s", per_min <= 0.1)
        row("Idle RSS, %d folders" % folders, "%.1f MB" % rss, "%.1f MB" % brss, "-", rss_target, rss <= rss_limit)
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------------------------
def bench_pollscan():
    print("poll mode: %d files, %d scans" % (a.scan_files, a.scans), flush=True)
    d = section_dir("pollscan")
    inbox = os.path.join(d, "inbox")
    os.makedirs(inbox)
    for i in range(a.scan_files):
        sub = os.path.join(inbox, "d%02d" % (i % 100))
        os.makedirs(sub, exist_ok=True)
        write_prompt(os.path.join(sub, "f%05d.txt" % i), "x")
    p = subprocess.Popen([a.binary, "watch", inbox, "--mode", "poll", "--poll-interval", "1", "--settle", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = 0
    while seen < a.scan_files and p.stdout.readline():
        seen += 1
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    time.sleep(0.5)
    c0 = proc_cpu(p.pid)
    time.sleep(a.scans)
    c1 = proc_cpu(p.pid)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=10)
    per_scan = (c1 - c0) / a.scans
    # Baseline: one `find -printf` (a stat of every file) per scan.
    r0 = os.times()
    for _ in range(a.scans):
        subprocess.run(["find", inbox, "-printf", "%s %T@ %i\n"], stdout=subprocess.DEVNULL, check=True)
    r1 = os.times()
    base = ((r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)) / a.scans
    row("Poll mode CPU per scan of %d files" % a.scan_files, "%.1f ms" % (per_scan * 1000),
        "%.1f ms (find -printf)" % (base * 1000), "%.2fx" % (base / per_scan) if per_scan else "-", "-")


# ---------------------------------------------------------------------------------------------------------------
def bench_polling():
    print("polling cost: %d tasks, run time %g s" % (a.polling_tasks, a.polling_run_seconds), flush=True)
    d = section_dir("polling")
    emu = Emulator(a.binary, d, KEY, queue=0, run=a.polling_run_seconds, record_limit=a.polling_tasks * 40)
    try:
        cfg, v = service_config(d, emu, poll_first_delay="5s", max_status_calls_per_second=a.polling_rate,
                                archive_policy="delete")
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        for i in range(a.polling_tasks):
            write_prompt(os.path.join(v["inbox"], "t%05d.txt" % i), "Clouds over a mountain ridge %d" % i)

        def finished():
            return emu.stats().get("videos_served", 0) >= a.polling_tasks
        ok = wait_until(finished, timeout=a.polling_run_seconds * 4 + 120, interval=0.5)
        time.sleep(1)
        svc.stop()
        recs = [r for r in emu.requests() if r["endpoint"] == "gateway.status"]
        per_task = {}
        per_second = {}
        for r in recs:
            tid = r["path"].rsplit("/", 1)[-1]
            per_task[tid] = per_task.get(tid, 0) + 1
            s = int(r["receivedAt"])
            per_second[s] = per_second.get(s, 0) + 1
        if not ok:
            row("Polling: status calls per task", "incomplete: %d videos" % emu.stats().get("videos_served", 0), ok=False)
            return
        med = percentile(list(per_task.values()), 50)
        peak = max(per_second.values()) if per_second else 0
        row("Polling: status calls/task (median)", "%.0f" % med, target="<= 10", ok=med <= 10)
        row("Polling: peak status calls/s", "%d" % peak, target="<= %g (setting)" % a.polling_rate,
            ok=peak <= a.polling_rate + 1)
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------------------------
def bench_restart():
    print("restart: %d jobs, %d in flight" % (a.restart_jobs, a.restart_in_flight), flush=True)
    d = section_dir("restart")
    emu = Emulator(a.binary, d, KEY, queue=0, run=3600, record_limit=a.restart_jobs * 2)
    try:
        cfg, v = service_config(d, emu, max_in_flight=a.restart_in_flight, poll_first_delay="1s",
                                max_status_calls_per_second=20)
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        for i in range(a.restart_jobs):
            write_prompt(os.path.join(v["inbox"], "r%05d.txt" % i), "A train crossing a bridge %d" % i)
        ok = wait_until(lambda: emu.creates() >= a.restart_in_flight, timeout=300, interval=0.2)
        time.sleep(2)  # let the intake record the rest of the drops
        svc.kill9()
        if not ok:
            row("Restart: start -> polling resumed", "setup failed: %d creates" % emu.creates(), ok=False)
            return
        time.sleep(1.5)  # every task is due now
        t0 = time.time()
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service2.log"), wait_started=False)

        def first_status():
            for r in reversed(emu.requests()):
                if r["endpoint"] == "gateway.status" and r["receivedAt"] >= t0:
                    return r["receivedAt"]
            return None
        got = wait_until(first_status, timeout=60, interval=0.05)
        if not got:
            row("Restart: start -> polling resumed", "no status call in 60 s", ok=False)
        else:
            dt = min(x["receivedAt"] for x in emu.requests() if x["endpoint"] == "gateway.status" and x["receivedAt"] >= t0) - t0
            row("Restart: start -> first status call", "%.2f s" % dt, target="<= 2 s", ok=dt <= 2)
        svc.stop()
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------------------------
def png_writer(width, height, seed):
    """A random-noise RGB PNG with stored (uncompressed) deflate blocks: ~3 bytes per pixel."""
    rnd = random.Random(seed)
    row_len = width * 3
    noise = bytes(rnd.getrandbits(8) for _ in range(row_len * 4))  # 4 distinct rows, shifted per line

    def raw():
        for y in range(height):
            k = (y * 7919 + seed) % (len(noise) - row_len)
            yield b"\x00" + noise[k:k + row_len]
    data = b"".join(raw())
    comp = zlib.compress(data, 0)

    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", comp) + chunk(b"IEND", b""))


def bench_bigimages():
    n = a.big_images
    print("big images: %d image jobs, 15 MB PNG each" % n, flush=True)
    d = section_dir("bigimages")
    emu = Emulator(a.binary, d, KEY, record_limit=n * 4)
    try:
        cfg, v = service_config(d, emu, settle=1, max_uploads=2, archive_policy="delete")
        staging = os.path.join(d, "staging")
        os.makedirs(staging)
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        peak = [0.0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], svc.mem()[1])
                except OSError:
                    return
                time.sleep(0.2)
        threading.Thread(target=sample, daemon=True).start()
        io0 = proc_io(svc.pid)
        size = 0
        t0 = time.time()
        for i in range(n):
            png = png_writer(3000, 1700, i)
            size = len(png)
            p = os.path.join(staging, "img%03d.png" % i)
            with open(p, "wb") as f:
                f.write(png)
            write_prompt(os.path.join(staging, "img%03d.txt" % i), "A slow zoom into the picture %d" % i)
            os.rename(p, os.path.join(v["inbox"], "img%03d.png" % i))
            os.rename(os.path.join(staging, "img%03d.txt" % i), os.path.join(v["inbox"], "img%03d.txt" % i))
        ok = wait_until(lambda: emu.creates() >= n, timeout=600, interval=0.5)
        dt = time.time() - t0
        stop.set()
        time.sleep(1)
        io1 = proc_io(svc.pid)
        hwm = svc.mem()[1]
        svc.stop()
        st = emu.stats()
        if not ok:
            row("Big images peak RSS", "incomplete: %d of %d creates" % (emu.creates(), n), ok=False)
            return
        print("    %d uploads, %.1f MB each, %.0f s" % (st.get("images_uploaded", 0), size / 1e6, dt), flush=True)
        row("Big images (%d x %.0f MB PNG) peak RSS" % (n, size / 1e6), "%.1f MB" % max(hwm, peak[0]),
            target="<= 150 MB", ok=max(hwm, peak[0]) <= 150)
        # Bytes the service read (read/pread calls, so tmpfs counts too) less the videos it downloaded.
        videos = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(v["outbox"]) for f in fs if f.endswith(".mp4"))
        reads = (io1["rchar"] - io0["rchar"] - videos) / (n * size)
        row("Big images: reads of each image", "%.2f" % reads, target="<= 2 (hash, upload)", ok=reads <= 2.05)
        # Free the disk: the emulator keeps every upload.
    finally:
        emu.stop()


try:
    for name in SECTIONS:
        figure = {"burst": "Burst", "latency": "Latency", "idle": "Idle", "pollscan": "Poll mode CPU per scan",
                  "polling": "Polling cost", "restart": "Restart", "bigimages": "Big images",
                  "pollscan100k": "Poll mode, 100000 files every 5 s", "start100k": "Start with 100000 known files",
                  "folders10k": "Idle with 10000 folders", "history1m": "History of 1000000 jobs",
                  "dashboard": "Dashboard pages with 100000 jobs",
                  "burst-dashboard": "Burst with and without a connected dashboard",
                  "nodes": "Several nodes (1 SQLite, 1 and 3 on PostgreSQL)"}[name]
        if name not in only:
            not_measured(figure, "not selected")
            continue
        try:
            function = "bench_" + name.replace("-", "_")
            (getattr(scale, function, None) or getattr(dashboard, function, None) or getattr(nodes, function, None)
             or globals()[function])()
        except SystemExit as e:
            row(figure, "error: %s" % e, ok=False)
finally:
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work folder kept: %s" % work)

print()
print(table(rows, ["figure", "hotfolder", "baseline", "advantage", "target", "met"]))
print("advantage: how many times better hotfolder is than the baseline (> 1 = better; 0.5x = twice as slow/costly)")
met = sum(verdicts)
print()
if all(verdicts):
    print("verdict: all %d measured targets met" % len(verdicts))
else:
    print("verdict: %d of %d measured targets met (see 'NO' rows)" % (met, len(verdicts)))
