#!/usr/bin/env python3
"""Opens a morning report in headless Chromium and checks what a person would see.

Usage: check_report.py REPORT.html --expect NAME [--expect NAME ...] [--screenshot FILE.png] [--width 1100]

Checks that every expected job name is on the page, that every poster <img> loaded (naturalWidth > 0), and that
the page fetched nothing from the network (only file: and data: URLs). Saves a full-page screenshot when asked.
Exit status 0 when every check passes, 1 when one fails (each failure on stderr), 2 when the browser cannot start.
Runs as root on CI without a display: chromium gets --headless=new --no-sandbox --disable-dev-shm-usage.
"""
import argparse
import base64
import pathlib
import shutil
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--expect", action="append", default=[], help="a job name the page must show")
    parser.add_argument("--screenshot", help="where to save a full-page PNG")
    parser.add_argument("--width", type=int, default=1100)
    args = parser.parse_args()

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print("check_report: selenium is not installed; run scripts/setup.sh", file=sys.stderr)
        return 2

    report = pathlib.Path(args.report).resolve()
    if not report.is_file():
        print(f"check_report: no report at {report}", file=sys.stderr)
        return 1

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={args.width},900", "--hide-scrollbars"):
        options.add_argument(flag)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as error:  # the browser or its driver is missing or cannot start
        print(f"check_report: cannot start headless chromium: {error}", file=sys.stderr)
        return 2

    failures = []
    try:
        driver.get(report.as_uri())
        driver.execute_script(
            "return Promise.all(Array.from(document.images).map(i => i.complete ? 0 :"
            " new Promise(r => { i.onload = i.onerror = r; })))")
        text = driver.find_element("tag name", "body").text
        for name in args.expect:
            if name not in text:
                failures.append(f"job {name!r} is not on the page")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
        if not images:
            failures.append("the page shows no image")
        for src, width in images:
            if not width:
                failures.append(f"image {src} did not load")
        # Every URL the page or its resources asked for: the Resource Timing entries and the network log.
        urls = set(driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"))
        for entry in driver.get_log("performance"):
            message = entry.get("message", "")
            for marker in ('"url":"http', '"url":"ws', '"url":"ftp'):
                if marker in message:
                    start = message.index(marker) + 7
                    urls.add(message[start:message.index('"', start)])
        for url in sorted(urls):
            if not (url.startswith("file:") or url.startswith("data:")):
                failures.append(f"the page fetched {url} from the network")
        if args.screenshot:
            # The whole page, not just the window: the viewport is made as tall as the content first.
            metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            height = min(int(metrics["cssContentSize"]["height"]) + 16, 16000)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": args.width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            pathlib.Path(args.screenshot).write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()

    for failure in failures:
        print(f"check_report: {failure}", file=sys.stderr)
    if not failures:
        print(f"check_report: {len(args.expect)} job(s) shown, {len(images)} image(s) loaded, nothing fetched from the network")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
