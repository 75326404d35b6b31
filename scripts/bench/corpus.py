#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generators for scripts/chaos.sh: small valid images, the mixed-job drop set and the bad-input corpus.

`python3 corpus.py bad DIR OUTSIDE` writes the bad-input corpus into DIR (and a secret file into OUTSIDE, which the
corpus symlinks to) and prints one JSON line per drop: {"name", "kind", "expect"} where expect is `error` (a
NAME.error.txt must appear in failed/) or `ignored` (no job may start from it, the service must not stop)."""
import json, os, struct, sys, zlib


def png(width, height, seed=0, rows=None):
    """A valid RGB PNG (stored deflate, varied bytes so that different seeds give different files)."""
    line = bytes((x * 7 + seed * 13 + 1) & 0xFF for x in range(width * 3))
    data = b"".join(b"\x00" + line for _ in range(height if rows is None else rows))
    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b""))


def jpeg_header(width, height):
    """The start of a baseline JPEG: SOI, APP0, SOF0 with the size, then EOI (no scan data)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def mixed_jobs(inbox, n_waves, token_prefix):
    """Yields waves of (relative path, bytes) for about 1,000 jobs of every mode; returns the expected job
    names per wave via the 'jobs' list in each wave: [(files, job_names)]."""
    waves = []
    per = 1
    k = 0
    for w in range(n_waves):
        files, jobs = [], []
        def add(rel, data):
            files.append((rel, data if isinstance(data, bytes) else data.encode()))
        for i in range(per * 40):          # text
            name = "t%d_%03d" % (w, i); add(name + ".txt", "Waves on black sand %s%s" % (token_prefix, name)); jobs.append(name)
        for i in range(12):                # first frame
            name = "i%d_%02d" % (w, i); add(name + ".png", png(400, 300, k)); k += 1
            add(name + ".txt", "A cat wakes up %s%s" % (token_prefix, name)); jobs.append(name)
        for i in range(8):                 # first + last frame, quality model
            name = "f%d_%02d" % (w, i)
            add(name + ".first.png", png(400, 300, k)); add(name + ".last.png", png(400, 300, k + 1)); k += 2
            add(name + ".txt", "A door opens %s%s" % (token_prefix, name)); add(name + ".yaml", "model: quality\n"); jobs.append(name)
        for i in range(8):                 # reference
            name = "r%d_%02d" % (w, i); add(name + ".ref.png", png(300, 400, k)); k += 1
            add(name + ".txt", "A shoe on a rock %s%s" % (token_prefix, name)); jobs.append(name)
        for i in range(6):                 # shot folder
            name = "shot%d_%02d" % (w, i)
            add(name + "/prompt.txt", "Intro shot %s%s" % (token_prefix, name)); add(name + "/first_frame.png", png(400, 300, k)); k += 1
            jobs.append(name)
        for i in range(4):                 # variants
            name = "v%d_%02d" % (w, i)
            add(name + ".txt", "A kite in the wind %s%s" % (token_prefix, name)); add(name + ".yaml", "variants: 3\n")
            jobs += [name + "-v1", name + "-v2", name + "-v3"]
        # a manifest: 10 rows, two with an image
        rows = ["name,prompt,first_frame,duration"]
        for i in range(10):
            name = "m%d_%02d" % (w, i)
            img = ""
            if i < 2:
                img = "mimg/%s.png" % name
                add("mimg/%s.png" % name, png(400, 300, k)); k += 1
            rows.append('%s,"Rain on a window %s%s",%s,4' % (name, token_prefix, name, img))
            jobs.append(name)
        add("manifest%d.csv" % w, "\n".join(rows) + "\n")
        waves.append((files, jobs))
    return waves


def money_jobs(n_jobs, n_waves, token_prefix):
    """Waves of `n_jobs` jobs in all for the money section: 80 % text prompts, 15 % first-frame images, 5 % first +
    last frame with the quality model. Every prompt ends with `token_prefix` + the job's name, so each create call
    names its job. Returns [(files, job_names)], files as (relative path, bytes)."""
    subjects = ["Waves on black sand", "A lighthouse at dusk", "Steam rising from a cup", "A fox in fresh snow",
                "Neon signs in the rain", "A paper boat on a pond", "Clouds over a wheat field", "A drummer on a roof"]
    waves = []
    k = 0
    for w in range(n_waves):
        files, jobs = [], []
        def add(rel, data):
            files.append((rel, data if isinstance(data, bytes) else data.encode()))
        for i in range(n_jobs // n_waves + (1 if w < n_jobs % n_waves else 0)):
            subject = subjects[(w * 7 + i) % len(subjects)]
            kind = i % 20
            if kind < 16:                  # text
                name = "mt%d_%03d" % (w, i)
                add(name + ".txt", "%s %s%s" % (subject, token_prefix, name))
            elif kind < 19:                # first frame
                name = "mi%d_%03d" % (w, i)
                add(name + ".png", png(400, 300, 1000 + k)); k += 1
                add(name + ".txt", "%s, from this frame %s%s" % (subject, token_prefix, name))
            else:                          # first + last frame, quality model
                name = "mf%d_%03d" % (w, i)
                add(name + ".first.png", png(400, 300, 1000 + k)); add(name + ".last.png", png(400, 300, 1001 + k)); k += 2
                add(name + ".txt", "%s, between two frames %s%s" % (subject, token_prefix, name))
                add(name + ".yaml", "model: quality\n")
            jobs.append(name)
        waves.append((files, jobs))
    return waves


def bad_corpus(root, outside):
    """Writes the bad-input corpus; returns [(name, kind, expect)]."""
    items = []
    def add(rel, data, kind="-", expect="error", name=None):
        write(os.path.join(root, rel), data if isinstance(data, bytes) else data.encode())
        items.append((name or os.path.basename(rel).split(".")[0], kind, expect))
    add("bin_prompt.txt", bytes(range(256)) * 4, "binary prompt")
    add("badutf8.txt", b"A cat \xff\xfe\xc3\x28 walks", "invalid UTF-8 prompt")
    add("empty.txt", b"", "empty prompt")
    add("blank.txt", b"   \n\t\n", "whitespace-only prompt")
    add("bom_only.txt", b"\xef\xbb\xbf", "BOM-only prompt")
    add("toolong.txt", "word " * 1000, "prompt over 2,000 characters")
    # 1 GB sparse prompt
    p = os.path.join(root, "sparse_gb.txt")
    with open(p, "wb") as f:
        f.truncate(1 << 30)
    items.append(("sparse_gb", "1 GB sparse prompt", "error"))
    good = png(400, 300, 99)
    add("trunc_png.png", good[:len(good) // 2], "truncated PNG"); add("trunc_png.txt", "x prompt", "-", "pair")
    add("corrupt_png.png", b"\x89PNG\r\n\x1a\n" + os.urandom(64), "corrupt PNG"); add("corrupt_png.txt", "a prompt", "-", "pair")
    add("trunc_jpg.jpg", jpeg_header(400, 300)[:12], "truncated JPEG"); add("trunc_jpg.txt", "a prompt", "-", "pair")
    add("corrupt_jpg.jpg", b"\xff\xd8\xff" + os.urandom(100), "corrupt JPEG"); add("corrupt_jpg.txt", "a prompt", "-", "pair")
    add("notimage.png", b"this is text, not a picture", "text named .png"); add("notimage.txt", "a prompt", "-", "pair")
    add("huge_png.png", png(20000, 20000, 1, rows=1)[:33] , "20000x20000 PNG header only"); add("huge_png.txt", "a prompt", "-", "pair")
    add("huge_jpg.jpg", jpeg_header(20000, 20000), "20000x20000 JPEG header only"); add("huge_jpg.txt", "a prompt", "-", "pair")
    for w, h, what in [(200, 300, "too narrow"), (300, 100, "too short"), (7000, 400, "too wide in px"),
                       (1300, 400, "ratio 3.25"), (400, 1100, "ratio 0.36"), (299, 299, "299 px")]:
        nm = "size_%dx%d" % (w, h)
        data = png(w, h, 3, rows=h) if w * h <= 3_000_000 else png(w, h, 3, rows=1)[:33]
        add(nm + ".png", data, "image %s (%dx%d)" % (what, w, h)); add(nm + ".txt", "a prompt", "-", "pair")
    add("bad_yaml.txt", "a prompt"); items.pop()
    add("bad_yaml.yaml", "duration: [5\nmodel: fast: x\n", "YAML syntax error")
    add("bomb.txt", "a prompt"); items.pop()
    bomb = "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
    for i, (p_, c) in enumerate(zip("bcdefghij", "abcdefghi")):
        bomb += "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n" % ((p_, p_) + (c,) * 9)
    bomb += "prompt: *j\n"
    add("bomb.yaml", bomb, "YAML alias bomb")
    add("unknown_key.txt", "a prompt"); items.pop()
    add("unknown_key.yaml", "durration: 5\n", "unknown setting key")
    for key, value in [("model", "turbo"), ("duration", "15"), ("duration", "1"), ("duration", "5.5"),
                       ("duration", "abc"), ("aspect_ratio", '"2:1"'), ("resolution", "4k"), ("seed", "-2"),
                       ("seed", "4294967296"), ("variants", "0"), ("variants", "1000"), ("priority", "asap"),
                       ("output_name", '"../../etc/passwd"'), ("prompt_prefix", "[1, 2]")]:
        nm = "bad_%s_%s" % (key, "".join(ch if ch.isalnum() else "_" for ch in value))
        add(nm + ".txt", "a prompt"); items.pop()
        add(nm + ".yaml", "%s: %s\n" % (key, value), "invalid %s: %s" % (key, value))
    add("quality_needed.first.png", png(400, 300, 5), "last frame with the fast model", name="quality_needed")
    add("quality_needed.last.png", png(400, 300, 6), "-", "pair"); items.pop()
    add("quality_needed.txt", "a prompt", "-", "pair"); items.pop()
    add("ref1080.ref.png", png(400, 300, 7), "reference at 1080p"); add("ref1080.txt", "a prompt", "-", "pair"); items.pop()
    add("ref1080.yaml", "resolution: 1080p\n", "-", "pair"); items.pop()
    add("bad_csv.csv", 'name,prompt\nok1,"unterminated\nok2,x,y,z,w\n', "CSV syntax error")
    add("bad_jsonl.jsonl", '{"name": "a", "prompt": \n{"nope"}\n', "JSONL syntax error")
    add("csv_badrow.csv", "name,prompt,duration\nrow_ok,A fine prompt,5\nrow_bad,Another,99\n", "CSV row with a bad duration", name="row_bad")
    # names
    add("with space.txt", "a prompt with spaces in the name", "name with spaces", "accepted", name="with space")
    add("new\nline.txt", "a prompt", "name with a newline", "accepted", name="new\nline")
    add("ünïcødé-名前.txt", "a unicode name", "unicode name", "accepted", name="ünïcødé-名前")
    add("-dash.txt", "a leading dash", "leading dash", "accepted", name="-dash")
    add(("n" * 251) + ".txt", "a 255-byte name", "255-byte name", "accepted", name="n" * 251)
    add("/".join("d%d" % i for i in range(40)) + "/deep.txt", "deeply nested", "40 folders deep", "error", name="deep")
    add("orphan_img.png", png(400, 300, 8), "image without a prompt (orphan)")
    # outside the inbox
    secret = os.path.join(outside, "secret.txt")
    write(secret, b"OUTSIDE-SECRET-CONTENT do not read")
    os.symlink(secret, os.path.join(root, "link_out.txt"))
    items.append(("link_out", "symlink to a file outside the inbox", "error"))
    os.symlink(outside, os.path.join(root, "linkdir"))
    items.append(("linkdir", "symlink to a folder outside the inbox", "ignored"))
    os.mkfifo(os.path.join(root, "fifo.txt"))
    items.append(("fifo", "FIFO named .txt", "error"))
    return [item for item in items if item[2] != "pair"]


if __name__ == "__main__":
    if sys.argv[1] == "bad":
        for name, kind, expect in bad_corpus(sys.argv[2], sys.argv[3]):
            print(json.dumps({"name": name, "kind": kind, "expect": expect}))
