#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hotfolder fault-injection harness (issue 6). Phases:
  1. mixed jobs (every mode, manifests, variants) against a faulty emulator while the service is killed with
     SIGKILL at random moments and restarted; then the invariants.
  2. money: ~1,000 jobs per provider (gateway, then Ark) under the faults that cost money (create answers lost after
     the task was made, slow tasks, a flaky CDN, prompts the provider always fails) and 20 SIGKILLs; then the money
     invariants: no paid video abandoned, duplicate creates only for uncertain jobs, provider failures bounded, no
     lost input, the queue drains, and on Ark most uncertain jobs resolved from the task list without a person.
  3. a bad-input corpus (corpus.py): a specific error file each, the service stays up, memory stays bounded,
     nothing outside the configured folders is copied.
  4. disk full: the outbox on a small tmpfs (root only).
  5. the API key, a unique marker, appears in no file the run wrote and no log line.
Prints a table of invariants, the money summary and a verdict; exits 1 if any invariant breaks.
Usage: chaos.py HOTFOLDER_BINARY [--waves 10] [--kills 20] [--seed N] [--money-jobs 1000] [--providers gateway,ark]
                                 [--only mixed,money,bad,diskfull,secret] [--keep]"""
import argparse, calendar, json, math, os, random, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hflib import Emulator, Service, write_config, wait_until, table, proc_mem  # noqa: E402
import corpus  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--waves", type=int, default=10, help="waves of ~100 jobs each")
ap.add_argument("--kills", type=int, default=20)
ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
ap.add_argument("--only", default="mixed,money,bad,diskfull,secret")
ap.add_argument("--money-jobs", type=int, default=1000, help="jobs per provider in the money section")
ap.add_argument("--providers", default="gateway,ark", help="providers the money section runs against")
ap.add_argument("--settle-timeout", type=float, default=360, help="seconds to wait for the queue to drain")
# A run drains in 150-220 s on a 2-core machine: an uncertain job whose task-list search finds nothing is sent again
# near the end and then polls a new (possibly slow) task. Waiting longer costs nothing when the queue drains (the wait
# ends at once) and hides nothing when it does not (a stuck job is still stuck at the deadline).
ap.add_argument("--money-settle-timeout", type=float, default=420,
                help="seconds to wait for the queue to drain in each money run")
ap.add_argument("--keep", action="store_true")
a = ap.parse_args()
only = set(a.only.split(","))
rnd = random.Random(a.seed)
KEY = "hfsecret-" + uuid.uuid4().hex  # the marker that must never be written anywhere
work = tempfile.mkdtemp(prefix="hf-chaos-")
rows = []
broken = []
# Service settings of the mixed and money phases: short polls, timeouts and backoff, so ~1,000 jobs take minutes.
FAST_SERVICE = dict(settle="300ms", watch_mode="inotify", max_in_flight=64, max_uploads=4, max_downloads=4,
                    poll_first_delay="500ms", poll_min_interval="500ms", poll_max_interval="2s",
                    max_status_calls_per_second=200, request_timeout="2s", backoff_base="200ms", backoff_max="2s",
                    max_attempts=10, archive_policy="move", shutdown_grace="2s", log_level="info")
LIVE = ("detected", "ready", "uploading", "submitting", "submitted", "running", "downloading", "held")


def check(name, ok, detail=""):
    rows.append([name, "ok" if ok else "BROKEN", detail])
    print("  %s: %s %s" % (name, "ok" if ok else "BROKEN", detail), flush=True)
    if not ok:
        broken.append(name)


def open_db(state_dir):
    """The state database, read-only."""
    con = sqlite3.connect("file:%s/hotfolder.sqlite?mode=ro" % state_dir, uri=True) if os.path.exists(
        state_dir + "/hotfolder.sqlite") else None
    if con is None:
        dbs = [f for f in os.listdir(state_dir) if f.endswith((".sqlite", ".db", ".sqlite3"))]
        con = sqlite3.connect("file:%s/%s?mode=ro" % (state_dir, dbs[0]), uri=True)
    con.row_factory = sqlite3.Row
    return con


def db_jobs(state_dir):
    con = open_db(state_dir)
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


def drop_while_killing(cfg, log, inbox, staging, waves, n_kills, kill_span):
    """Starts the service, drops one wave every 3 s and kills the service with SIGKILL `n_kills` times at random
    moments within `kill_span` seconds, restarting it at once. Returns (service, expected job names, kills)."""
    svc = Service(a.binary, cfg, KEY, log)
    expected = []
    kills = 0
    kill_times = sorted(rnd.uniform(1, kill_span) for _ in range(n_kills))
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
                dst = os.path.join(inbox, top)
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
        time.sleep(0.02)
    return svc, expected, kills


# -------------------------------------------------------------------------------------------------------------
def phase_mixed():
    print("mixed jobs: %d waves, %d kills, seed %d" % (a.waves, a.kills, a.seed), flush=True)
    d = os.path.join(work, "mixed")
    os.makedirs(d)
    faults = ["server_error=0.10", "rate_limit=0.05", "stall=0.02", "moderation=0.03", "truncate=0.02",
              "expire_early=0.01"]
    emu = Emulator(a.binary, d, KEY, queue=0.2, run=1.0, faults=faults, seed=a.seed, stall=4, record_limit=1000000)
    cfg = os.path.join(d, "hotfolder.yaml")
    v = write_config(cfg, d, emu.base, **FAST_SERVICE)
    log = os.path.join(d, "service.log")
    waves = corpus.mixed_jobs(v["inbox"], a.waves, "tok:")
    svc, expected, kills = drop_while_killing(cfg, log, v["inbox"], os.path.join(d, "staging"), waves, a.kills,
                                              8 + a.waves * 3)
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
# The money section: the faults that cost money (answers lost after a task was made, slow tasks, a flaky CDN, prompts
# the provider always fails) with transport faults at low rates, 20 SIGKILLs, once per provider.
MONEY_FAULTS = [("created_then_502", 0.01), ("created_then_reset", 0.01), ("no_task_id", 0.01), ("slow_task", 0.05),
                ("cdn_flaky", 0.05), ("always_fail", 0.03), ("server_error", 0.02), ("rate_limit", 0.03),
                ("stall", 0.01)]
MAX_TASK_FAILURES = 3
SLOW_TASK_SECONDS = 5
money_rows = []


def always_fails(prompt, probability):
    """The emulator's `always_fail` rule: FNV-1a 64 of the prompt's UTF-8, mapped to 0…1, is below the probability."""
    h = 0xCBF29CE484222325
    for byte in prompt.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return (h >> 11) / float(1 << 53) < probability


def create_prompt(body):
    """The prompt of a recorded create body: the gateway's `prompt`, or Ark's text item in `content`."""
    if isinstance(body.get("prompt"), str):
        return body["prompt"]
    for item in body.get("content") or []:
        if isinstance(item, dict) and item.get("type") == "text":
            return item.get("text") or ""
    return ""


def db_money(state_dir):
    """Jobs, tasks and state transitions from the state database."""
    con = open_db(state_dir)
    jobs = [dict(r) for r in con.execute("SELECT id, name, state, failureCategory, outputPath, nextAttemptAt FROM job")]
    tasks = [dict(r) for r in con.execute("SELECT jobId, provider, taskId, status, active FROM task")]
    moves = [dict(r) for r in con.execute(
        "SELECT jobId, kind, fromState, toState, message FROM event WHERE toState IS NOT NULL ORDER BY id")]
    con.close()
    return jobs, tasks, moves


def uncertain_searching(state_dir):
    """Uncertain jobs with a task-list search scheduled (Ark); 1 when the database cannot be read."""
    try:
        con = open_db(state_dir)
        # Any search still scheduled, also one already due that the service has not run yet (the service clears
        # nextAttemptAt of a job it leaves for a person).
        n = con.execute("SELECT COUNT(*) FROM job WHERE state = 'uncertain' AND nextAttemptAt IS NOT NULL").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 1


def remote_tasks(emu, provider, task_ids):
    """Task id -> the emulator's status word: Ark's whole task list (so tasks the service never heard of are seen
    too), or one gateway status call per id the service recorded."""
    out = {}
    if provider == "ark":
        page = 1
        while True:
            got = emu.api_get("/api/v3/contents/generations/tasks?page_num=%d&page_size=500" % page)
            items = (got or {}).get("items", [])
            for item in items:
                out[item["id"]] = item["status"]
            if len(items) < 500:
                return out
            page += 1
    from concurrent.futures import ThreadPoolExecutor

    def one(task_id):
        got = emu.api_get("/v1/tasks/" + task_id)
        return task_id, (got or {}).get("data", {}).get("status", "unknown")
    with ThreadPoolExecutor(8) as pool:
        for task_id, status in pool.map(one, sorted(task_ids)):
            out[task_id] = status
    return out


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def task_created_at(task_id):
    """When the emulator made a task, from its id: the gateway's ULID carries milliseconds, Ark's
    `cgt-YYYYMMDDhhmmss-xxxxx` the second (UTC); None for another shape."""
    if task_id.startswith("task_") and len(task_id) == 31:
        millis = 0
        for ch in task_id[5:15]:
            millis = millis * 32 + CROCKFORD.index(ch)
        return millis / 1000.0
    m = re.match(r"cgt-(\d{14})-", task_id)
    if m:
        return float(calendar.timegm(time.strptime(m.group(1), "%Y%m%d%H%M%S")))
    return None


def phase_money():
    for provider in a.providers.split(","):
        money_run(provider)


def money_run(provider):
    label = "money/" + provider
    print("%s: %d jobs in %d waves, %d kills, seed %d" % (label, a.money_jobs, a.waves, a.kills, a.seed), flush=True)
    d = os.path.join(work, "money-" + provider)
    os.makedirs(d)
    emu = Emulator(a.binary, d, KEY, queue=0.2, run=1.0, faults=["%s=%s" % f for f in MONEY_FAULTS], seed=a.seed,
                   stall=4, record_limit=10 ** 7,
                   extra=["--slow-task-seconds", str(SLOW_TASK_SECONDS), "--cdn-flaky-failures", "3"])
    cfg = os.path.join(d, "hotfolder.yaml")
    # Ark's base_url is the API root; the emulator serves it at its bare address.
    v = write_config(cfg, d, emu.base, provider=provider, max_task_failures=MAX_TASK_FAILURES, **FAST_SERVICE)
    log = os.path.join(d, "service.log")
    waves = corpus.money_jobs(a.money_jobs, a.waves, "mtok:")
    dropped = [rel for files, _ in waves for rel, _ in files]
    t_start = time.time()
    svc, expected, kills = drop_while_killing(cfg, log, v["inbox"], os.path.join(d, "staging"), waves, a.kills,
                                              8 + a.waves * 3)
    svc.wait_log("watching the inbox", 60, start_offset=0)
    print("    %d jobs dropped, %d kills; waiting for the queue to drain" % (len(expected), kills), flush=True)

    # Drained: nothing live, every job known, no search of the task list scheduled, and the counts unchanged for
    # three looks in a row (an uncertain job due for a search right now is still moving).
    last = []

    def drained():
        st = status_json(cfg)
        counts = st.get("counts", {})
        quiet = (st and sum(counts.get(s, 0) for s in LIVE) == 0 and sum(counts.values()) >= len(expected)
                 and uncertain_searching(v["state_dir"]) == 0)
        last.append(json.dumps(counts, sort_keys=True) if quiet else None)
        return quiet and len(last) >= 3 and last[-1] == last[-2] == last[-3]
    ok = wait_until(drained, timeout=a.money_settle_timeout, interval=2)
    t_drained = time.time()
    searching = uncertain_searching(v["state_dir"])
    # Once drained, the service makes no more API calls (no endless polls or searches for jobs that wait for a person).
    before = emu.stats()["requests_by_endpoint"]
    time.sleep(10)
    after = emu.stats()["requests_by_endpoint"]
    idle_calls = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0) and k != "files.video"}
    # Tasks of jobs left uncertain may still run (slow ones): wait until every task made has its outcome.
    wait_until(lambda: (lambda x: x["tasks_created"] <= x["tasks_succeeded"] + x["tasks_failed"])(emu.stats()),
               timeout=SLOW_TASK_SECONDS + 20, interval=0.5)
    st = status_json(cfg)
    svc.stop()
    stats = emu.stats()
    recs = emu.requests()
    jobs, tasks, moves = db_money(v["state_dir"])
    remote = remote_tasks(emu, provider, {t["taskId"] for t in tasks})
    emu.stop()
    check("%s: service alive through %d SIGKILLs and the queue drained" % (label, kills), bool(ok),
          "counts %s after %.0f s%s" % (json.dumps(st.get("counts", {}), sort_keys=True), t_drained - t_start,
                                        ", %d uncertain jobs with a search of the task list scheduled" % searching
                                        if searching else ""))
    check("%s: no API call once drained (10 s)" % label, not idle_calls,
          "calls in the 10 s after the queue drained: %s" % json.dumps(idle_calls, sort_keys=True))

    # Create calls per job, by the token in the prompt; whether the prompt is one the provider always fails.
    create_endpoint = provider + ".create"
    creates, prompts = {}, {}
    for r in recs:
        if r["endpoint"] != create_endpoint or not r.get("bodyJSON"):
            continue
        try:
            prompt = create_prompt(json.loads(r["bodyJSON"]))
        except ValueError:
            continue
        m = re.search(r"mtok:(\w+)", prompt)
        tok = m.group(1) if m else "?" + prompt[:40]
        creates[tok] = creates.get(tok, 0) + 1
        prompts[tok] = prompt
    af_probability = dict(MONEY_FAULTS)["always_fail"]
    doomed = {t for t, p in prompts.items() if always_fails(p, af_probability)}
    # Every recorded create made one task (its body was read after the transport faults, and all bodies are valid);
    # a task bills when it succeeds, and only doomed prompts fail (no moderation fault here).
    billed = {t: (0 if t in doomed else c) for t, c in creates.items()}
    n_creates = sum(creates.values())

    by_name = {}
    for j in jobs:
        by_name.setdefault(j["name"], []).append(j)
    job_of = {j["id"]: j for j in jobs}
    missing = [n for n in expected if n not in by_name]
    twice = [n for n, js in by_name.items() if len(js) > 1]
    done = [j for j in jobs if j["state"] == "done"]
    failed = [j for j in jobs if j["state"] == "failed"]
    other = [j for j in jobs if j["state"] not in ("done", "failed", "uncertain")]
    left_uncertain = {j["name"] for j in jobs if j["state"] == "uncertain"}
    delivered = {}
    for j in done:
        if j["outputPath"] and os.path.exists(j["outputPath"] + ".mp4"):
            delivered[j["name"]] = delivered.get(j["name"], 0) + 1
    videos = [p for p in all_files(v["outbox"]) if p.endswith(".mp4")]
    bad_files = [p for p in all_files(v["outbox"]) if os.path.getsize(p) == 0 or os.path.basename(p).startswith(".")
                 or (p.endswith(".mp4") and not valid_mp4(p))]
    strange = [t for t in creates if t not in by_name]
    check("%s: the emulator's counters match the per-job account" % label,
          n_creates == stats["tasks_created"] and sum(billed.values()) == stats["tasks_succeeded"]
          and n_creates - sum(billed.values()) == stats["tasks_failed"] and not strange,
          "%d creates recorded / %d tasks made, %d billed by prompt / %d succeeded, %d failed by prompt / %d failed%s" % (
              n_creates, stats["tasks_created"], sum(billed.values()), stats["tasks_succeeded"],
              n_creates - sum(billed.values()), stats["tasks_failed"],
              ", creates of no job %s" % strange[:5] if strange else ""))

    # 0. Every task a job tracks was made by one of that job's own create calls: the task id tells when it was made
    # (Ark: to the second, gateway: to the millisecond), which must be when a create carrying the job's prompt came
    # in. A job that takes another job's task delivers the wrong video and leaves the other job's paid task unused.
    create_times = {}
    for r in recs:
        if r["endpoint"] == create_endpoint and r.get("bodyJSON"):
            m = re.search(r"mtok:(\w+)", r["bodyJSON"])
            if m:
                create_times.setdefault(m.group(1), []).append(r["receivedAt"])
    job_of_name = {j["id"]: j["name"] for j in jobs}
    foreign = []
    for t in tasks:
        made = task_created_at(t["taskId"])
        name = job_of_name.get(t["jobId"], "?")
        own = create_times.get(name, [])
        if made is None or not any(math.floor(rt) - 0.002 <= made <= math.floor(rt) + 1.999 if provider == "ark"
                                   else rt - 0.002 <= made <= rt + 1.0 for rt in own):
            foreign.append("%s has %s (made %s; its creates at %s)" % (
                name, t["taskId"], "?" if made is None else time.strftime("%H:%M:%S", time.gmtime(made)),
                ",".join(time.strftime("%H:%M:%S", time.gmtime(rt)) for rt in own) or "none"))
    more_videos = ["%s (%d videos, %d tasks billed)" % (t, delivered[t], billed.get(t, 0)) for t in delivered
                   if delivered[t] > billed.get(t, 0)]
    check("%s: no job took another job's task" % label, not foreign and not more_videos,
          "%d tasks tracked; taken from another job: %s; more videos than billed tasks of the prompt: %s" % (
              len(tasks), foreign[:3], more_videos[:3]))

    # 1. Paid videos abandoned: billed tasks beyond the video delivered, for every job not left uncertain.
    abandoned = {t: billed[t] - delivered.get(t, 0) for t in billed
                 if t not in left_uncertain and billed[t] > delivered.get(t, 0)}
    held = {t: billed.get(t, 0) for t in left_uncertain if billed.get(t, 0)}
    check("%s: 0 paid videos abandoned" % label, not abandoned,
          "%d tasks billed, %d videos delivered, %d abandoned %s; %d billed tasks belong to %d jobs left uncertain" % (
              sum(billed.values()), sum(delivered.values()), sum(abandoned.values()), sorted(abandoned.items())[:5],
              sum(held.values()), len(left_uncertain)))
    # The same by task id: every billed task the service recorded is the one whose video it delivered; on Ark the
    # task list also shows billed tasks the service never heard of, which must belong to jobs left uncertain.
    billed_word = "succeeded" if provider == "ark" else "completed"
    known = {}
    for t in tasks:
        known[t["taskId"]] = t
    extra_paid = []
    per_job_billed = {}
    for task_id, t in known.items():
        if remote.get(task_id) == billed_word:
            per_job_billed.setdefault(t["jobId"], []).append(task_id)
    for job_id, ids in per_job_billed.items():
        j = job_of.get(job_id)
        if j is None or j["state"] == "uncertain":
            continue
        keep = 1 if j["state"] == "done" else 0
        if len(ids) > keep:
            extra_paid.append("%s:%s:%s" % (j["name"], j["state"], ",".join(ids)))
    unknown_paid = [i for i, s_ in remote.items() if s_ == billed_word and i not in known]
    unknown_allowed = sum(billed.get(t, 0) - sum(len(per_job_billed.get(j["id"], [])) for j in by_name.get(t, []))
                          for t in left_uncertain)
    no_billed_task = [j["name"] for j in done if not per_job_billed.get(j["id"])]
    check("%s: every billed task the service recorded was delivered (by task id)" % label,
          not extra_paid and not no_billed_task and (provider != "ark" or len(unknown_paid) <= unknown_allowed),
          "%d recorded tasks, %d of them billed; extra %s; done without a billed task %s; %s" % (
              len(known), sum(len(x) for x in per_job_billed.values()), extra_paid[:3], no_billed_task[:3],
              "%d billed tasks unknown to the service (%d may be uncertain jobs')" % (len(unknown_paid), unknown_allowed)
              if provider == "ark" else "the gateway has no task list to look for unknown ones"))

    # 2. Duplicate creates: a job created twice was left uncertain, or on Ark sent again after the task list had none.
    ever_uncertain = {m["jobId"] for m in moves if m["toState"] == "uncertain"}
    found = {m["jobId"] for m in moves if m["fromState"] == "uncertain" and m["toState"] == "submitted"}
    resent = {m["jobId"] for m in moves if m["fromState"] == "uncertain" and m["toState"] == "ready"}
    resent_names = {job_of[i]["name"] for i in resent if i in job_of}
    dups = {t: c - 1 for t, c in creates.items() if t not in doomed and c > 1}
    unexplained = sorted(t for t in dups if t not in left_uncertain and t not in resent_names)
    check("%s: duplicate creates only for uncertain jobs" % label, not unexplained,
          "%d create calls, %d duplicates (%d of jobs left uncertain, %d of jobs sent again after no task was found), "
          "unexplained %s" % (n_creates, sum(dups.values()), sum(c for t, c in dups.items() if t in left_uncertain),
                              sum(c for t, c in dups.items() if t in resent_names and t not in left_uncertain),
                              ["%s:%d" % (t, creates[t]) for t in unexplained[:5]]))

    # 3. Provider failures are bounded: a prompt the provider always fails is created at most max_task_failures
    # times and its job fails as `provider`; no other job fails.
    over = ["%s:%d" % (t, creates[t]) for t in doomed if creates[t] > MAX_TASK_FAILURES]
    doomed_states = {}
    for t in doomed:
        for j in by_name.get(t, []):
            key = "%s/%s" % (j["state"], j["failureCategory"]) if j["state"] == "failed" else j["state"]
            doomed_states[key] = doomed_states.get(key, 0) + 1
    wrong_end = [t for t in doomed for j in by_name.get(t, []) if
                 not (j["state"] == "uncertain" or (j["state"] == "failed" and j["failureCategory"] == "provider"))]
    spread = {}
    for t in doomed:
        spread[creates[t]] = spread.get(creates[t], 0) + 1
    check("%s: every provider failure bounded (<= %d creates per always-failing prompt)" % (label, MAX_TASK_FAILURES),
          not over and not wrong_end,
          "%d always-failing prompts, creates per prompt %s, their jobs %s, over %s, wrong end %s" % (
              len(doomed), json.dumps(spread, sort_keys=True), json.dumps(doomed_states, sort_keys=True), over[:5],
              wrong_end[:5]))
    other_failures = ["%s:%s" % (j["name"], j["failureCategory"]) for j in failed if j["name"] not in doomed]
    check("%s: no job failed but the always-failing ones" % label, not other_failures,
          "%d failed, others %s" % (len(failed), other_failures[:5]))

    # 4. No lost input: every dropped file is archived, in failed/, or still in the inbox for a job left uncertain.
    places = {}
    for root, where in ((v["archive"], "archive"), (v["failed"], "failed"), (v["inbox"], "inbox")):
        for p_ in all_files(root):
            places.setdefault(os.path.basename(p_), []).append(where)
    lost = [rel for rel in dropped if os.path.basename(rel) not in places]
    stray = [rel for rel in dropped if "inbox" in places.get(os.path.basename(rel), [])
             and os.path.basename(rel).split(".")[0] not in left_uncertain]
    count_in = {w: sum(1 for rel in dropped if w in places.get(os.path.basename(rel), [])) for w in
                ("archive", "failed", "inbox")}
    check("%s: 0 lost inputs" % label, not lost and not stray,
          "%d files dropped: %d archived, %d in failed/, %d in the inbox (uncertain jobs); lost %s, left in the inbox %s"
          % (len(dropped), count_in["archive"], count_in["failed"], count_in["inbox"], lost[:5], stray[:5]))

    # 5. Every job ends done, failed or uncertain; one whole video per done job.
    check("%s: every job ended done, failed or uncertain" % label, not other and not missing and not twice,
          "%d jobs expected, %d done, %d failed, %d uncertain, other %s, missing %s, made twice %s" % (
              len(expected), len(done), len(failed), len(left_uncertain),
              ["%s:%s" % (j["name"], j["state"]) for j in other][:5], missing[:5], twice[:5]))
    stale = ["%s:%s" % (j["name"], j["failureCategory"]) for j in done if j["failureCategory"]]
    check("%s: a done job carries no failure" % label, not stale,
          "%d done jobs still name a failure category %s" % (len(stale), stale[:5]))
    check("%s: one whole video per done job" % label, len(videos) == len(done) == sum(delivered.values())
          and not bad_files, "%d videos for %d done jobs (%d videos served by the emulator), bad files %s" % (
              len(videos), len(done), stats["videos_served"], bad_files[:3]))

    # 6. Uncertain jobs: on Ark most are resolved by a search of the task list, without a person.
    lost_answers = stats.get("create_answers_lost", 0)
    by_themselves = len((found | resent) & {j["id"] for j in jobs if j["state"] != "uncertain"})
    if provider == "ark":
        share = by_themselves / float(len(ever_uncertain)) if ever_uncertain else 1.0
        check("%s: most uncertain jobs resolved without a person (> 50 %%)" % label, share > 0.5,
              "%d jobs became uncertain (%d create answers lost by the emulator); %d found in the task list, %d sent "
              "again after no task was found, %d left for a person: %.0f %% resolved" % (
                  len(ever_uncertain), lost_answers, len(found), len(resent - found), len(left_uncertain), 100 * share))
    uncertain_text = "%d" % len(left_uncertain)
    if provider == "ark":
        uncertain_text = "%d of %d (%d resolved by themselves: %d found, %d sent again)" % (
            len(left_uncertain), len(ever_uncertain), by_themselves, len(found), len(resent - found))
    else:
        uncertain_text = "%d of %d (%d create answers lost)" % (len(left_uncertain), len(ever_uncertain), lost_answers)
    summary = [provider, str(n_creates), str(sum(billed.values())), str(len(videos)), str(sum(abandoned.values())),
               str(sum(dups.values())), uncertain_text]
    money_rows.append(summary)
    print("    %s: creates sent %s, tasks billed %s, videos delivered %s, paid videos abandoned %s, duplicate creates "
          "%s, uncertain jobs %s" % tuple(summary), flush=True)
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
    for name in ("mixed", "money", "bad", "diskfull"):
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
if money_rows:
    print(table(money_rows, ["provider", "creates sent", "tasks billed", "videos delivered", "paid videos abandoned",
                             "duplicate creates", "uncertain jobs left (of all that were)"]))
    print()
print("verdict: %s" % ("all %d invariants hold" % len(rows) if not broken else
                       "%d of %d invariants BROKEN: %s" % (len(broken), len(rows), ", ".join(broken))))
sys.exit(1 if broken else 0)
