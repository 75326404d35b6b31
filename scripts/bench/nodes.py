# SPDX-License-Identifier: GPL-2.0-or-later
"""The several-nodes row of scripts/bench.sh (issue 12): a burst of prompt files made into create calls by 1 node on
SQLite, 1 node on PostgreSQL and 3 nodes on PostgreSQL sharing one inbox. Every node and the database run on this
machine, so the 3 nodes share its cores with PostgreSQL and the emulator: the row shows what the shared database costs
and that several nodes do not pay twice, not what 3 machines would do. The functions use bench.py's helpers through
`B` (bench.py's module, set by bench.py)."""
import os, shutil, tempfile, time

from hflib import Emulator, Postgres, Service, wait_progress

B = None  # bench.py's module


def run_burst(d, n, nodes, store):
    """Drops `n` prompt files into one inbox watched by `nodes` services (on `store`, None for SQLite); returns
    (jobs/s from the first file written to the last create call, create calls, CPU us per job of all nodes)."""
    emu = Emulator(B.a.binary, d, B.KEY, record_limit=n * 2 + 100)
    services = []
    try:
        inbox = None
        for index in range(nodes):
            settings = dict(state_dir=os.path.join(d, "state-%d" % index), node_name="node-%d" % index,
                            http={"enabled": False})
            if store:
                settings["store"] = store
            cfg, values = B.service_config(d, emu, **settings)
            os.rename(cfg, cfg + ".%d" % index)
            inbox = values["inbox"]
            services.append(Service(B.a.binary, cfg + ".%d" % index, B.KEY, os.path.join(d, "node-%d.log" % index)))
        time.sleep(0.5)
        cpu0 = sum(s.cpu() for s in services)
        t0 = time.time()
        for i in range(n):
            B.write_prompt(os.path.join(inbox, "p%05d.txt" % i), "A heron over a lake, take nodes-%d" % i)
        wait_progress(emu.creates, n, stall=15)
        cpu1 = sum(s.cpu() for s in services)
        times = sorted(B.create_times(emu, "nodes-").values())
        creates = emu.creates()
        for s in services:
            s.stop()
        rate = len(times) / (times[-1] - t0) if times else 0
        return rate, creates, (cpu1 - cpu0) / max(1, len(times)) * 1e6
    finally:
        emu.stop()


def bench_nodes():
    n = B.a.nodes_n
    print("nodes: %d prompt files, 1 node on SQLite, 1 on PostgreSQL, 3 on PostgreSQL (all on this machine)" % n, flush=True)
    results = {}
    for label, nodes, shared in (("1 node, SQLite", 1, False), ("1 node, PostgreSQL", 1, True), ("3 nodes, PostgreSQL", 3, True)):
        d = B.section_dir("nodes-%d-%s" % (nodes, "pg" if shared else "sqlite"))
        pg = Postgres(tempfile.mkdtemp(prefix="hfpg-", dir="/tmp")) if shared else None
        try:
            rate, creates, us = run_burst(d, n, nodes, pg.url if pg else None)
        finally:
            if pg:
                pg.stop()
                shutil.rmtree(pg.root, ignore_errors=True)
        results[label] = rate
        print("    %s: %.0f jobs/s, %d create calls for %d drops, %.0f us of CPU per job (all nodes)" % (label, rate, creates, n, us), flush=True)
        sqlite = results["1 node, SQLite"]
        B.row("Several nodes: %s (%d drops)" % (label, n), "%.0f jobs/s, %.0f us/job" % (rate, us),
              "-" if not shared else "%.0f jobs/s (1 node, SQLite)" % sqlite,
              "-" if not shared else "%.2fx" % (rate / sqlite if sqlite else 0), "one create call per drop", creates == n)
    print("    note: the nodes, PostgreSQL and the emulator share this machine's cores", flush=True)
