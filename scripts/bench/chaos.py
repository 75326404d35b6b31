#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hotfolder fault-injection harness (issue 6). Phases:
  1. mixed jobs (every mode, manifests, variants) against a faulty emulator while the service is killed with
     SIGKILL at random moments and restarted; then the invariants.
  2. a bad-input corpus (corpus.py): a specific error file each, the service stays up, memory stays bounded,
     nothing outside the configured folders is copied.
  3. disk full: the outbox on a small tmpfs (root only).
  4. the API key, a unique marker, appears in no file the run wrote and no log line.
Prints a table of invariants and a verdict; exits 1 if any invariant breaks.
Usage: chaos.py HOTFOLDER_BINARY [--waves 10] [--kills 20] [--seed N] [--only mixed,bad,diskfull,secret]"""
import argparse, json, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, time, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hflib import Emulator, Service, write_config, wait_until, table, proc_mem  # noqa: E402
import corpus  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--waves", type=int, default=10, help="waves of ~100 jobs each")
ap.add_argument("--kills", type=int, default=20)
ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
ap.add_argument("--only", default="mixed,bad,diskfull,secret")
ap.add_argument("--settle-timeout", type=float, default=360, help="seconds to wait for the queue to drain")
ap.add_argument("--keep", action="store_true")
a = ap.parse_args()
only = set(a.only.split(","))
rnd = random.Random(a.seed)
KEY = "hfsecret-" + uuid.uuid4().hex  # the marker that must never be written anywhere
work = tempfile.mkdtemp(prefix="hf-chaos-")
rows = []
broken = []
LIVE = ("detected", "ready", "uploading", "submitting", "submitted", "running", "downloading", "held")


def check(name, ok, detail=""):
    rows.append([name, "ok" if ok else "BROKEN", detail])
    print("  %s: %s %s" % (name, "ok" if ok else "BROKEN", detail), flush=True)
    if not ok:
        broken.append(name)


def db_jobs(state_dir):
    con = sqlite3.connect("file:%s/hotfolder.sqlite?mode=ro" % state_dir, uri=True) if os.path.exists(
        state_dir + "/hotfolder.sqlite") else None
    if con is None:
        dbs = [f for f in os.listdir(state_dir) if f.endswith((".sqlite", ".db", ".sqlite3"))]
        con = sqlite3.connect("file:%s/%s?mode=ro" % (state_dir, dbs[0]), uri=True)
    con.row_factory = sqlite3.Row
    jobs = [dict(r) for r in con.execute("SELECT id, name, lane, state, failureCategory, outputPath, specJSON FROM job")]
    inputs = {}
    for r in con.execute("SELECT jobId, path FROM inputFile"):
        inputs.setdefault(r["jobId"], []).append(r["path"])
    con.close()
    return jobs, inputs


def status_json(cfg):
    env = dict(os.environ, SEEDANCE_API_KEY=KEY)
    out = subprocess.run([a.binary, "status", "--json", "--config", cfg], capture_output=True, text=True, env=env)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def valid_mp4(path):
    """A complete MP4 here: non-empty, starts with an ftyp box and holds a moov box."""
    with open(path, "rb") as f:
        data = f.read()
    return len(data) > 0 and data[4:8] == b"ftyp" and b"moov" in data


def all_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            yield os.path.join(dirpath, f)


# -------------------------------------------------------------------------------------------------------------
def phase_mixed():
    print("mixed jobs: %d waves, %d kills, seed %d" % (a.waves, a.kills, a.seed), flush=True)
    d = os.path.join(work, "mixed")
    os.makedirs(d)
    faults = ["server_error=0.10", "rate_limit=0.05", "stall=0.02", "moderation=0.03", "truncate=0.02",
              "expire_early=0.01"]
    emu = Emulator(a.binary, d, KEY, queue=0.2, run=1.0, faults=faults, seed=a.seed, stall=4, record_limit=1000000)
    cfg = os.path.join(d, "hotfolder.yaml")
    v = write_config(cfg, d, emu.base, settle="300ms", watch_mode="inotify", max_in_flight=64, max_uploads=4,
                     max_downloads=4, poll_first_delay="500ms", poll_min_interval="500ms", poll_max_interval="2s",
                     max_status_calls_per_second=200, request_timeout="2s", backoff_base="200ms", backoff_max="2s",
                     max_attempts=10, archive_policy="move", shutdown_grace="2s", log_level="info")
    log = os.path.join(d, "service.log")
    waves = corpus.mixed_jobs(v["inbox"], a.waves, "tok:")
    expected = []
    staging = os.path.join(d, "staging")
    svc = Service(a.binary, cfg, KEY, log)
    kills = 0
    restarts = []
    t_end_drops = None
    # Drop the waves at random moments while killing the service at random moments.
    kill_times = sorted(rnd.uniform(1, 8 + a.waves * 3) for _ in range(a.kills))
    drop_times = [i * 3 for i in range(len(waves))]
    t0 = time.time()
    pending_drops = list(zip(drop_times, waves))
    pending_kills = list(kill_times)
    while pending_drops or pending_kills:
        now = time.time() - t0
        if pending_drops and pending_drops[0][0] <= now:
            _, (files, jobs) = pending_drops.pop(0)
            expected += jobs
            # Stage (write fully elsewhere), then move into the inbox: images first, prompts last, as exporters do.
            shutil.rmtree(staging, ignore_errors=True)
            for rel, data in files:
                corpus.write(os.path.join(staging, rel), data)
            for top in sorted(os.listdir(staging), key=lambda n: (n.endswith((".txt", ".csv", ".yaml")), n)):
                dst = os.path.join(v["inbox"], top)
                if os.path.isdir(os.path.join(staging, top)) and os.path.isdir(dst):
                    for f in os.listdir(os.path.join(staging, top)):
                        os.rename(os.path.join(staging, top, f), os.path.join(dst, f))
                else:
                    os.rename(os.path.join(staging, top), dst)
        if pending_kills and pending_kills[0] <= now:
            pending_kills.pop(0)
            svc.kill9()
            kills += 1
            time.sleep(rnd.uniform(0, 0.5))
            svc = Service(a.binary, cfg, KEY, log, wait_started=False)
            restarts.append(time.time())
        time.sleep(0.02)
    svc.wait_log("watching the inbox", 60, start_offset=0)
    print("    %d jobs dropped, %d kills; waiting for the queue to drain" % (len(expected), kills), flush=True)

    def drained():
        st = status_json(cfg)
        counts = st.get("counts", {})
        return st and sum(counts.get(s, 0) for s in LIVE) == 0 and sum(counts.values()) >= len(expected) * 0.9
    ok = wait_until(drained, timeout=a.settle_timeout, interval=2)
    st = status_json(cfg)
    svc.stop()
    stats = emu.stats()
    recs = emu.requests()
    emu.stop()
    check("mixed: service alive through %d SIGKILLs and the queue drained" % kills, bool(ok),
          "counts %s" % json.dumps(st.get("counts", {}), sort_keys=True))

    jobs, inputs = db_jobs(v["state_dir"])
    by_name = {}
    for j in jobs:
        by_name.setdefault(j["name"], []).append(j)
    missing = [n for n in expected if n not in by_name]
    check("mixed: every dropped job is known to the service", not missing,
          "%d jobs expected, %d missing %s" % (len(expected), len(missing), missing[:5]))
    twice = [n for n, js in by_name.items() if len([j for j in js if j["state"] not in ("invalid",)]) > 1]
    check("mixed: no input made into two jobs", not twice, "%s" % twice[:5])

    # Outcomes: done -> one video; failed -> failed/ folder with an error file of the right category.
    videos = [p for p in all_files(v["outbox"]) if p.endswith(".mp4")]
    bad_files = [p for p in all_files(v["outbox"]) if os.path.getsize(p) == 0 or os.path.basename(p).startswith(".")
                 or (p.endswith(".mp4") and not valid_mp4(p))]
    check("mixed: no partial, hidden or zero-byte file in the outbox", not bad_files, "%s" % bad_files[:5])
    done = [j for j in jobs if j["state"] == "done"]
    failed = [j for j in jobs if j["state"] == "failed"]
    uncertain = [j for j in jobs if j["state"] == "uncertain"]
    other = [j for j in jobs if j["state"] not in ("done", "failed", "uncertain")]
    no_video = [j["name"] for j in done if not (j["outputPath"] and os.path.exists(j["outputPath"] + ".mp4"))]
    check("mixed: every done job has its video", not no_video, "%d done, %d without video %s" % (len(done), len(no_video), no_video[:5]))
    check("mixed: one video per job (no extra videos)", len(videos) == len(done),
          "%d videos for %d done jobs" % (len(videos), len(done)))
    allowed = {"moderation": stats["faults_injected"].get("moderation", 0), "expired": 10 ** 9}
    wrong = []
    no_error_file = []
    for j in failed:
        cat = j["failureCategory"]
        if cat not in allowed:
            wrong.append("%s:%s" % (j["name"], cat))
        folder = j["outputPath"] or ""
        errs = [f for f in (os.listdir(folder) if os.path.isdir(folder) else []) if f.endswith(".error.txt")]
        if not errs or ("Category: %s" % cat) not in open(os.path.join(folder, errs[0]), errors="replace").read():
            no_error_file.append(j["name"])
    mods = sum(1 for j in failed if j["failureCategory"] == "moderation")
    check("mixed: every failure is in failed/ with an error file naming its category", not no_error_file,
          "%d failed, %d without %s" % (len(failed), len(no_error_file), no_error_file[:5]))
    check("mixed: failure categories match injected faults (moderation, expired)",
          not wrong and mods <= allowed["moderation"],
          "%d moderation (of %d injected), %d expired, other %s" % (
              mods, allowed["moderation"], sum(1 for j in failed if j["failureCategory"] == "expired"), wrong[:5]))
    check("mixed: every job ended done, failed or uncertain", not other,
          "%d done, %d failed, %d uncertain, other %s" % (len(done), len(failed), len(uncertain),
                                                         ["%s:%s" % (j["name"], j["state"]) for j in other][:5]))
    # Duplicate creates: the same prompt and seed created twice must belong to a job reported uncertain.
    creates = {}
    for r in recs:
        if r["endpoint"] != "gateway.create" or not r.get("bodyJSON"):
            continue
        body = json.loads(r["bodyJSON"])
        key = (body.get("prompt", ""), body.get("seed"))
        creates[key] = creates.get(key, 0) + 1
    dups = [k for k, c in creates.items() if c > 1]
    uncertain_tokens = set()
    for j in uncertain:
        uncertain_tokens.add(j["name"].rsplit("-v", 1)[0] if j["name"].startswith("v") else j["name"])
    reported = st.get("counts", {}).get("uncertain", 0)
    unexplained = []
    for prompt, seed in dups:
        tok = prompt.split("tok:")[-1].split()[0] if "tok:" in prompt else prompt
        if tok not in uncertain_tokens:
            unexplained.append(tok)
    check("mixed: every duplicate create belongs to an uncertain job", not unexplained,
          "%d create calls, %d duplicated, %d uncertain jobs (status --json reports %d), unexplained %s" % (
              sum(creates.values()), len(dups), len(uncertain), reported, unexplained[:5]))
    held = set()
    for j in uncertain:
        held.update(inputs.get(j["id"], []))
    leftovers = []
    for p in all_files(v["inbox"]):
        rel = os.path.relpath(p, v["inbox"])
        if rel not in held:
            leftovers.append(rel)
    check("mixed: the inbox holds no processed input", not leftovers,
          "%d files left besides the inputs of uncertain jobs %s" % (len(leftovers), leftovers[:5]))
    print("    emulator: %s" % json.dumps(stats["faults_injected"], sort_keys=True), flush=True)


# -------------------------------------------------------------------------------------------------------------
def phase_bad():
    print("bad-input corpus", flush=True)
    d = os.path.join(work, "bad")
    os.makedirs(d)
    emu = Emulator(a.binary, d, KEY, queue=0, run=0.5)
    cfg = os.path.join(d, "hotfolder.yaml")
    v = write_config(cfg, d, emu.base, settle="500ms", watch_mode="inotify", orphan_timeout="5s",
                     poll_first_delay="500ms", poll_min_interval="500ms", archive_policy="move")
    outside = os.path.join(d, "outside")
    os.makedirs(outside)
    svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
    staging = os.path.join(d, "staging")
    os.makedirs(staging)
    items = corpus.bad_corpus(staging, outside)
    for top in sorted(os.listdir(staging)):
        os.rename(os.path.join(staging, top), os.path.join(v["inbox"], top))
    peak = 0.0
    deadline = time.time() + 30
    while time.time() < deadline and svc.alive():
        peak = max(peak, svc.mem()[1])
        time.sleep(0.25)
    alive = svc.alive()
    if alive:
        peak = max(peak, svc.mem()[1])
    failed_names = {}
    for p in all_files(v["failed"]):
        if p.endswith(".error.txt"):
            failed_names[os.path.basename(p)[:-len(".error.txt")]] = p
    outputs = {os.path.basename(p)[:-4] for p in all_files(v["outbox"]) if p.endswith(".mp4")}
    missing, generic = [], []
    for name, kind, expect in items:
        if expect == "error":
            hit = [n for n in failed_names if n == name or n.startswith(name[:40])]
            if not hit:
                missing.append("%s (%s)" % (name, kind))
        elif expect == "accepted":
            plain = name.replace("\n", "_").lstrip("-")[:40]
            if not any(o.startswith(plain) for o in outputs):
                missing.append("%s (%s: no video)" % (name.replace("\n", "\\n"), kind))
    for n, p in failed_names.items():
        text = open(p, errors="replace").read()
        if "Category:" not in text or len(text) < 80:
            generic.append(n)
    check("bad: service stays up", alive)
    check("bad: memory bounded (peak RSS <= 200 MB)", peak <= 200, "%.1f MB" % peak)
    check("bad: every bad drop gets its own error file (%d drops)" % len(items), not missing,
          "%d error files; without: %s" % (len(failed_names), "; ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")))
    check("bad: error files say what is wrong", not generic, "%s" % generic[:5])
    leaked = [p for root in (v["outbox"], v["failed"], v["archive"]) for p in all_files(root)
              if os.path.isfile(p) and not os.path.islink(p) and b"OUTSIDE-SECRET" in open(p, "rb").read(1 << 20)]
    check("bad: nothing outside the inbox was read into the outbox/failed/archive", not leaked, "%s" % leaked[:3])
    check("bad: outside files untouched", os.path.exists(os.path.join(outside, "secret.txt")))
    svc.stop()
    emu.stop()
    print("    drops without error file: %s" % missing, flush=True)


# -------------------------------------------------------------------------------------------------------------
def phase_diskfull():
    print("disk full", flush=True)
    if os.geteuid() != 0:
        rows.append(["diskfull: skipped (needs root to mount a tmpfs)", "-", ""])
        return
    d = os.path.join(work, "disk")
    os.makedirs(d)
    outbox = os.path.join(d, "outbox")
    os.makedirs(outbox)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", outbox]).returncode != 0:
        rows.append(["diskfull: skipped (mount -t tmpfs not permitted)", "-", ""])
        return
    try:
        emu = Emulator(a.binary, d, KEY, queue=0, run=0.5)
        cfg = os.path.join(d, "hotfolder.yaml")
        v = write_config(cfg, d, emu.base, outbox=outbox, settle="300ms", poll_first_delay="500ms",
                         poll_min_interval="500ms", backoff_base="500ms", backoff_max="2s", max_attempts=1000,
                         archive_policy="move")
        # Fill the tmpfs so that a video (bundled clip) cannot fit.
        filler = os.path.join(outbox, "filler.bin")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        svc = Service(a.binary, cfg, KEY, os.path.join(d, "service.log"))
        n = 6
        for i in range(n):
            corpus.write(os.path.join(v["inbox"], "disk%d.txt" % i), b"A full disk, take %d" % i)
        time.sleep(8)
        partial = [p for p in all_files(outbox) if p.endswith(".mp4") and not valid_mp4(p)]
        videos_full = [p for p in all_files(outbox) if p.endswith(".mp4")]
        jobs_while_full, _ = db_jobs(v["state_dir"])
        failed_while_full = [j["name"] for j in jobs_while_full if j["state"] == "failed"]
        os.unlink(filler)
        ok = wait_until(lambda: len([p for p in all_files(outbox) if p.endswith(".mp4")]) >= n, timeout=90, interval=1)
        svc.stop()
        emu.stop()
        videos = [p for p in all_files(outbox) if p.endswith(".mp4")]
        check("diskfull: no partial or empty video while the disk is full", not partial,
              "%d videos while full, %s" % (len(videos_full), partial[:3]))
        check("diskfull: no job failed because of the full disk", not failed_while_full, "%s" % failed_while_full)
        check("diskfull: jobs finish after space is freed", bool(ok), "%d of %d videos" % (len(videos), n))
    finally:
        subprocess.run(["umount", "-l", outbox])


# -------------------------------------------------------------------------------------------------------------
def phase_secret():
    hits = []
    for p in all_files(work):
        if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > (64 << 20):
            continue
        try:
            with open(p, "rb") as f:
                if KEY.encode() in f.read():
                    hits.append(os.path.relpath(p, work))
        except OSError:
            pass
    # The emulator's own log and config hold nothing either; the key is passed by environment and argument only.
    check("secret: the API key appears in no file written and no log line", not hits, "%d files scanned, hits %s" % (
        sum(1 for _ in all_files(work)), hits[:5]))


try:
    for name in ("mixed", "bad", "diskfull"):
        if name in only:
            try:
                globals()["phase_" + name]()
            except SystemExit as e:
                check(name + ": harness error", False, str(e))
    if "secret" in only:
        phase_secret()
finally:
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work folder kept: %s" % work)

print()
print(table(rows, ["invariant", "result", "detail"]))
print()
print("verdict: %s" % ("all %d invariants hold" % len(rows) if not broken else
                       "%d of %d invariants BROKEN: %s" % (len(broken), len(rows), ", ".join(broken))))
sys.exit(1 if broken else 0)
