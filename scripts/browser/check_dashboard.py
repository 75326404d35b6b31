#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Uses the running dashboard in headless Chromium as a person would.

Usage: check_dashboard.py BASE_URL INBOX --failed-job ID --screenshots DIR [--token TOKEN]

Logs in with the token when one is given (the first page must be the login form), loads the job list, drops
INBOX/live.txt, and waits until the job appears and reaches `done` with no reload (a marker set on the window must
survive). Then opens the failed job, clicks Retry and checks the answer. Saves overview.png, jobs.png, job.png in DIR.
Exit status 0 when every check passes, 1 when one fails (each on stderr), 2 when the browser cannot start.
"""
import argparse
import pathlib
import shutil
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("inbox")
    parser.add_argument("--failed-job", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--token")
    args = parser.parse_args()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        print("check_dashboard: selenium is not installed; run scripts/setup.sh", file=sys.stderr)
        return 2

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(flag)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    try:
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    except Exception as error:
        print(f"check_dashboard: cannot start headless chromium: {error}", file=sys.stderr)
        return 2

    shots = pathlib.Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    failures = []

    def wait(what, condition, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if condition():
                    return True
            except Exception:
                pass
            time.sleep(0.1)
        failures.append(f"timed out waiting for {what}")
        return False

    try:
        base = args.base.rstrip("/")
        driver.get(base + "/")
        if args.token:
            if "/login" not in driver.current_url:
                failures.append(f"without the token the overview did not ask to log in ({driver.current_url})")
            driver.find_element(By.ID, "token").send_keys(args.token)
            driver.find_element(By.ID, "login").click()
            wait("the overview after logging in", lambda: driver.find_element(By.TAG_NAME, "h1").text == "Overview")
        wait("the live feed", lambda: driver.find_element(By.ID, "live").text == "live")
        driver.save_screenshot(str(shots / "overview.png"))

        driver.get(base + "/jobs")
        wait("the live feed on the job list", lambda: driver.find_element(By.ID, "live").text == "live")
        driver.execute_script("window.__noReload = true")
        (pathlib.Path(args.inbox) / "live.txt").write_text("A kingfisher diving into a clear river\n", encoding="utf-8")
        row = "//tr[.//a[normalize-space()='live']]"
        wait("the dropped job to appear", lambda: driver.find_elements(By.XPATH, row))
        wait("the job to finish", lambda: "done" in driver.find_element(By.XPATH, row + "//td[contains(@class,'state')]").text)
        if not driver.execute_script("return window.__noReload === true"):
            failures.append("the page reloaded instead of updating live")
        wait("its poster", lambda: driver.execute_script(
            "const i = document.querySelector(\"tr img\"); return i && i.complete && i.naturalWidth > 0"))
        driver.save_screenshot(str(shots / "jobs.png"))

        driver.get(f"{base}/jobs/{args.failed_job}")
        driver.save_screenshot(str(shots / "job.png"))
        driver.find_element(By.ID, "retry").click()
        wait("the retry's answer", lambda: "moved back into the inbox" in driver.find_element(By.CLASS_NAME, "message").text)
    finally:
        driver.quit()
    for failure in failures:
        print("check_dashboard: " + failure, file=sys.stderr)
    print("check_dashboard: " + ("FAILED" if failures else "all checks passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
