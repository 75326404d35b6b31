#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Burst benchmark for `hotfolder watch`: N prompt files written at once -> N ready lines.

Prints files/s (first write to last ready line), the writer's own rate, peak RSS of the watcher,
and how long the watcher takes to exit after SIGINT.
Usage: watch_burst.py HOTFOLDER_BINARY [N] [--settle S]
"""
import os, signal, subprocess, sys, tempfile, time, shutil, argparse

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("n", type=int, nargs="?", default=10000)
ap.add_argument("--settle", default="0")
ap.add_argument("--mode", default="inotify")
a = ap.parse_args()

root = tempfile.mkdtemp(prefix="hf-burst-")
inbox = os.path.join(root, "inbox")
os.mkdir(inbox)
proc = subprocess.Popen([a.binary, "watch", inbox, "--settle", a.settle, "--mode", a.mode],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
line = proc.stderr.readline()  # "watching ..." once the watcher is up
if "watching" not in line:
    sys.exit("watcher did not start: " + line)
time.sleep(0.3)  # the startup scan of an empty inbox

t0 = time.time()
for i in range(a.n):
    with open(os.path.join(inbox, "p%05d.txt" % i), "w") as f:
        f.write("A red fox running through snow, take %d" % i)
t_written = time.time()
seen = 0
while seen < a.n:
    if not proc.stdout.readline():
        break
    seen += 1
t1 = time.time()
rss_kb = 0
with open("/proc/%d/status" % proc.pid) as f:
    for l in f:
        if l.startswith("VmHWM:"):
            rss_kb = int(l.split()[1])
t_stop = time.time()
proc.send_signal(signal.SIGINT)
code = proc.wait(timeout=10)
stop_s = time.time() - t_stop
shutil.rmtree(root)
print("files=%d ready=%d writer=%.0f files/s watcher=%.0f files/s (%.3f s) peak_rss=%.1f MB stop=%.2f s exit=%d"
      % (a.n, seen, a.n / (t_written - t0), seen / (t1 - t0), t1 - t0, rss_kb / 1024, stop_s, code))
sys.exit(0 if seen == a.n and code == 0 else 1)
