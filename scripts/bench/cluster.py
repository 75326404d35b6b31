#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Several nodes on one inbox and one PostgreSQL database (issue 12), under faults.

Starts a private PostgreSQL cluster in a temporary folder (initdb/pg_ctl, as `nobody` when run as root), an emulator
with transport and money faults, and 3 `hotfolder run` nodes (own state folders, one inbox, `store:` the cluster).
Drops ~100 mixed jobs every 3 s (every mode, manifests, variants, a storyboard) while node n1 is killed with SIGKILL 5 times (and
restarted), node n2 is frozen with SIGSTOP for longer than its lease, and PostgreSQL is restarted once. Then waits
for the queue to drain and checks: 0 jobs lost, one job per drop, every video exactly once, 0 duplicate creates
outside jobs that were uncertain, nothing left in the inbox, the nodes alive, no API call once drained. Prints jobs
done per node and take-overs. Exits 1 if an invariant breaks.
Usage: cluster.py HOTFOLDER_BINARY [--waves 7] [--kills 5] [--seed N] [--lease 5] [--keep]"""
import argparse, json, os, random, shutil, signal, sys, tempfile, time, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hflib import Emulator, Postgres, Service, write_config, wait_until, table  # noqa: E402
import corpus  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--waves", type=int, default=7, help="waves of ~100 jobs each, one every 3 s")
ap.add_argument("--kills", type=int, default=5, help="SIGKILLs of node n1")
ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
ap.add_argument("--lease", type=int, default=5, help="the nodes' lease in seconds")
ap.add_argument("--settle-timeout", type=float, default=480, help="seconds to wait for the queue to drain")
ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, outbox, database)")
a = ap.parse_args()
rnd = random.Random(a.seed)
KEY = "hfsecret-" + uuid.uuid4().hex
work = tempfile.mkdtemp(prefix="hf-cluster-")
rows, broken = [], []
LIVE = ("detected", "ready", "uploading", "submitting", "submitted", "running", "downloading", "held")
NODES = ("n1", "n2", "n3")
SERVICE = dict(settle="300ms", watch_mode="inotify", max_in_flight=64, max_uploads=4, max_downloads=4,
               poll_first_delay="500ms", poll_min_interval="500ms", poll_max_interval="2s",
               max_status_calls_per_second=200, request_timeout="2s", backoff_base="200ms", backoff_max="2s",
               max_attempts=10, archive_policy="move", shutdown_grace="2s", log_level="info")


def check(name, ok, detail=""):
    rows.append([name, "ok" if ok else "BROKEN", detail])
    print("  %s: %s %s" % (name, "ok" if ok else "BROKEN", detail), flush=True)
    if not ok:
        broken.append(name)


def all_files(root):
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            yield os.path.join(dirpath, f)


def valid_mp4(path):
    with open(path, "rb") as f:
        data = f.read()
    return len(data) > 0 and data[4:8] == b"ftyp" and b"moov" in data


def count_lines(path, text):
    with open(path, errors="replace") as f:
        return sum(1 for line in f if text in line)


def main():
    print("cluster: 3 nodes, %d waves, %d kills of n1, SIGSTOP of n2 past its %d s lease, one PostgreSQL restart; "
          "seed %d; work %s" % (a.waves, a.kills, a.lease, a.seed, work), flush=True)
    # Its own short folder under /tmp: the socket's path must stay under 108 bytes, and `nobody` must reach it.
    pg = Postgres(tempfile.mkdtemp(prefix="hfpg-", dir="/tmp"))
    faults = ["server_error=0.05", "rate_limit=0.05", "stall=0.01", "moderation=0.02", "created_then_502=0.01",
              "created_then_reset=0.01", "slow_task=0.03", "cdn_flaky=0.03"]
    emu = Emulator(a.binary, work, KEY, queue=0.2, run=1.0, faults=faults, seed=a.seed, stall=4, record_limit=1000000)
    shared = os.path.join(work, "shared")
    configs, logs, services = {}, {}, {}
    for name in NODES:
        configs[name] = os.path.join(work, "%s.yaml" % name)
        logs[name] = os.path.join(work, "%s.log" % name)
        v = write_config(configs[name], shared, emu.base, state_dir=os.path.join(work, "state-" + name), node_name=name,
                         lease="%ds" % a.lease, store=pg.url, http={"enabled": False}, **SERVICE)
    inbox = v["inbox"]
    for name in NODES:
        services[name] = Service(a.binary, configs[name], KEY, logs[name])

    waves = corpus.mixed_jobs(inbox, a.waves, "tok:")
    # A storyboard per wave: 3 keyframes, a prompt per clip, 2 clips joined into a film. Every node sees it; one
    # must make its film and clips.
    films = []
    for w, (files, jobs) in enumerate(waves):
        name = "sb%d" % w
        for index, seed in ((1, 900 + w * 3), (2, 901 + w * 3), (3, 902 + w * 3)):
            files.append(("%s/%02d.png" % (name, index), corpus.png(400, 300, seed)))
        files.append(("%s/01.txt" % name, ("A glide over hills tok:%s-01-02" % name).encode()))
        files.append(("%s/02.txt" % name, ("A glide over hills tok:%s-02-03" % name).encode()))
        files.append(("%s/storyboard.yaml" % name, b"duration: 2\n"))
        jobs += ["%s-01-02" % name, "%s-02-03" % name]
        films.append(name)
    staging = os.path.join(work, "staging")
    span = a.waves * 3 + 10
    events = [(i * 3.0, "drop", wave) for i, wave in enumerate(waves)]
    events += [(t, "kill", None) for t in sorted(rnd.uniform(2, span) for _ in range(a.kills))]
    stop_at = rnd.uniform(4, span / 2)
    events += [(stop_at, "stop", None), (stop_at + a.lease + 3, "cont", None)]
    events += [(rnd.uniform(span / 3, span * 2 / 3), "pg-restart", None)]
    events.sort(key=lambda e: e[0])
    expected, kills, restarts = [], 0, 0
    t0 = time.time()
    for at, kind, wave in events:
        time.sleep(max(0, at - (time.time() - t0)))
        if kind == "drop":
            files, jobs = wave
            expected += jobs
            shutil.rmtree(staging, ignore_errors=True)
            for rel, data in files:
                corpus.write(os.path.join(staging, rel), data)
            # Written fully elsewhere, then moved in: images first, prompts last, as exporters do.
            for top in sorted(os.listdir(staging), key=lambda n: (n.endswith((".txt", ".csv", ".yaml")), n)):
                dst = os.path.join(inbox, top)
                if os.path.isdir(os.path.join(staging, top)) and os.path.isdir(dst):
                    for f in os.listdir(os.path.join(staging, top)):
                        os.rename(os.path.join(staging, top, f), os.path.join(dst, f))
                else:
                    os.rename(os.path.join(staging, top), dst)
        elif kind == "kill":
            services["n1"].kill9()
            kills += 1
            time.sleep(rnd.uniform(0, 0.5))
            services["n1"] = Service(a.binary, configs["n1"], KEY, logs["n1"], wait_started=False)
        elif kind == "stop":
            os.kill(services["n2"].pid, signal.SIGSTOP)
            print("    %.0f s: n2 frozen (SIGSTOP) for %d s" % (at, a.lease + 3), flush=True)
        elif kind == "cont":
            os.kill(services["n2"].pid, signal.SIGCONT)
        elif kind == "pg-restart":
            started = time.time()
            pg.restart()
            restarts += 1
            print("    %.0f s: PostgreSQL restarted (%.1f s)" % (at, time.time() - started), flush=True)
    print("    %d jobs dropped, %d kills of n1; waiting for the queue to drain" % (len(expected), kills), flush=True)

    def counts():
        try:
            return {state: int(n) for state, n in pg.psql("SELECT state, count(*) FROM job GROUP BY state")}
        except RuntimeError:
            return None

    def drained():
        c = counts()
        return c is not None and sum(c.get(s, 0) for s in LIVE) == 0 and sum(c.values()) >= len(expected) * 0.9
    drained_ok = wait_until(drained, timeout=a.settle_timeout, interval=2)
    final = counts() or {}
    creates_at_drain = emu.creates()
    time.sleep(10)
    creates_after = emu.creates()
    alive = {name: services[name].alive() for name in NODES}
    for name in NODES:
        services[name].stop()
    recs = emu.requests()
    stats = emu.stats()
    emu.stop()

    check("cluster: the queue drained through %d SIGKILLs, a SIGSTOP past the lease and a PostgreSQL restart" % kills,
          bool(drained_ok), "counts %s" % json.dumps(final, sort_keys=True))
    check("cluster: every node alive at the end", all(alive.values()), json.dumps(alive, sort_keys=True))
    check("cluster: no API call once drained (10 s)", creates_after == creates_at_drain,
          "creates %d at the drain, %d 10 s later" % (creates_at_drain, creates_after))

    jobs = [dict(zip(("id", "name", "state", "category", "output"), r)) for r in
            pg.psql("SELECT id, name, state, coalesce(failure_category, ''), coalesce(output_path, '') FROM job")]
    ever_uncertain = {r[0] for r in pg.psql("SELECT DISTINCT job_id FROM event WHERE to_state = 'uncertain'")}
    inputs = {}
    for job_id, path in pg.psql("SELECT job_id, path FROM input_file"):
        inputs.setdefault(job_id, []).append(path)
    by_name = {}
    for j in jobs:
        by_name.setdefault(j["name"], []).append(j)
    missing = [n for n in expected if n not in by_name]
    check("cluster: 0 jobs lost (every drop is a job)", not missing,
          "%d jobs expected, %d missing %s" % (len(expected), len(missing), missing[:5]))
    twice = [n for n, js in by_name.items() if len([j for j in js if j["state"] != "invalid"]) > 1]
    check("cluster: each drop made one job, whichever node saw it", not twice, "%s" % twice[:5])
    done = [j for j in jobs if j["state"] == "done"]
    failed = [j for j in jobs if j["state"] == "failed"]
    uncertain = [j for j in jobs if j["state"] == "uncertain"]
    other = [j for j in jobs if j["state"] not in ("done", "failed", "uncertain")]
    check("cluster: every job ended done, failed or uncertain", not other,
          "%d done, %d failed, %d uncertain, other %s" % (len(done), len(failed), len(uncertain),
                                                         ["%s:%s" % (j["name"], j["state"]) for j in other][:5]))
    outbox = v["outbox"]
    film_rows = pg.psql("SELECT f.name, f.state, (SELECT count(*) FROM job j WHERE j.film_id = f.id), "
                        "(SELECT count(*) FROM job j WHERE j.film_id = f.id AND j.state = 'done') FROM film f")
    film_names = sorted(row[0] for row in film_rows)
    # Joined when every clip is done; failed (naming the clip) when one failed (a moderation fault, say).
    wrong = [row for row in film_rows if int(row[2]) != 2 or (row[1] == "joined") != (int(row[3]) == 2)]
    check("cluster: one film per storyboard, with its 2 clips, joined when both are done",
          film_names == sorted(films) and not wrong,
          "%d storyboards, %d films, joined %d, wrong %s" % (
              len(films), len(film_rows), sum(1 for row in film_rows if row[1] == "joined"), wrong[:3]))
    film_videos = {os.path.join(outbox, name + ".mp4") for name in films}
    videos = [p for p in all_files(outbox) if p.endswith(".mp4") and p not in film_videos]
    bad_files = [p for p in all_files(outbox) if os.path.getsize(p) == 0 or os.path.basename(p).startswith(".")
                 or (p.endswith(".mp4") and not valid_mp4(p))]
    no_video = [j["name"] for j in done if not (j["output"] and os.path.exists(j["output"] + ".mp4"))]
    check("cluster: every video exactly once (one per done job, none partial)",
          not no_video and len(videos) == len(done) and not bad_files,
          "%d videos for %d done jobs, %d done without video %s, bad files %s" % (
              len(videos), len(done), len(no_video), no_video[:3], bad_files[:3]))
    creates = {}
    for r in recs:
        if r["endpoint"] != "gateway.create" or not r.get("bodyJSON"):
            continue
        body = json.loads(r["bodyJSON"])
        key = (body.get("prompt", ""), body.get("seed"))
        creates[key] = creates.get(key, 0) + 1
    dups = [k for k, c in creates.items() if c > 1]
    uncertain_names = {j["name"] for j in jobs if j["id"] in ever_uncertain}
    unexplained = []
    for prompt, _ in dups:
        token = prompt.split("tok:")[-1].split()[0] if "tok:" in prompt else prompt
        if not any(name == token or name.startswith(token + "-v") for name in uncertain_names):
            unexplained.append(token)
    check("cluster: 0 duplicate creates outside jobs reported uncertain", not unexplained,
          "%d create calls, %d duplicated, %d jobs ever uncertain (%d still), unexplained %s" % (
              sum(creates.values()), len(dups), len(uncertain_names), len(uncertain), unexplained[:5]))
    held = set()
    for j in uncertain:
        held.update(inputs.get(j["id"], []))
    leftovers = [os.path.relpath(p, inbox) for p in all_files(inbox) if os.path.relpath(p, inbox) not in held]
    check("cluster: the inbox holds no processed input", not leftovers,
          "%d files left besides the inputs of uncertain jobs %s" % (len(leftovers), leftovers[:5]))
    secrets = [p for p in list(all_files(shared)) + [logs[n] for n in NODES]
               if KEY.encode() in open(p, "rb").read()]
    check("cluster: the API key in no log line and no file the nodes wrote", not secrets, "%s" % secrets[:3])

    per_node = [[name, count_lines(logs[name], ": done \u2192"), count_lines(logs[name], "taken over from node"),
                 count_lines(logs[name], "lost its lease")] for name in NODES]
    print()
    print(table(per_node, ["node", "jobs done (its log lines)", "take-overs", "leases lost"]))
    print("emulator faults: %s" % json.dumps(stats.get("faults_injected", {}), sort_keys=True))
    print()
    print(table(rows, ["invariant", "result", "detail"]))
    pg.stop()
    if not a.keep:
        shutil.rmtree(pg.root, ignore_errors=True)
    if a.keep:
        print("work folder kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("verdict: %s" % ("all %d invariants hold" % len(rows) if not broken else "%d BROKEN: %s" % (len(broken), ", ".join(broken))))
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        print("work folder kept for inspection: %s" % work, file=sys.stderr)
        raise
