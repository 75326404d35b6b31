// SPDX-License-Identifier: GPL-2.0-or-later

/// The dashboard's stylesheet and script, served from this server (nothing from the internet).
enum DashboardAssets {
    static let css = """
        :root { color-scheme: light dark; --accent: #2563eb; --bad: #c0392b; --ok: #15803d; --muted: #6b7280; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, sans-serif; }
        header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid #8884; }
        nav { display: flex; gap: .8rem; flex-wrap: wrap; }
        nav a { text-decoration: none; }
        nav a[aria-current] { font-weight: bold; text-decoration: underline; }
        .live { margin-left: auto; font-size: .8rem; color: var(--muted); }
        .live.on { color: var(--ok); }
        main { padding: 1rem; max-width: 1200px; margin: auto; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; }
        .counts { display: flex; flex-wrap: wrap; gap: .5rem; }
        .count { padding: .4rem .7rem; border: 1px solid #8886; border-radius: .4rem; text-decoration: none; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
        td.poster img { display: block; border-radius: .2rem; }
        .prompt, .source, .id { color: var(--muted); font-size: .85rem; }
        .state-failed, .state-invalid, .error { color: var(--bad); }
        .state-done { color: var(--ok); }
        .state-uncertain { color: #b45309; }
        progress { display: block; width: 8rem; }
        .chart { width: 100%; max-width: 420px; fill: var(--accent); }
        .chart text { font-size: 9px; fill: var(--muted); }
        video { width: 100%; max-width: 720px; background: #000; }
        .actions { display: flex; gap: .5rem; margin: .5rem 0; }
        button, .button { font: inherit; padding: .35rem .8rem; border-radius: .3rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
        button.danger { border-color: var(--bad); background: var(--bad); }
        .inputs { display: flex; flex-wrap: wrap; gap: .5rem; }
        .inputs img { max-width: 160px; max-height: 120px; }
        pre { overflow: auto; max-height: 24rem; background: #8881; padding: .5rem; }
        .message { padding: .5rem; border-left: 4px solid var(--accent); background: #8881; }
        .filter { display: flex; flex-wrap: wrap; gap: .4rem; margin-bottom: .8rem; }
        .login { display: grid; gap: .5rem; max-width: 24rem; }
        @media (max-width: 600px) { th:nth-child(3), td:nth-child(3), th:nth-child(5), td:nth-child(5) { display: none; } }
        """

    /// Live updates: progress bars move in place; any other change re-reads the page's `<main>` (at most once a
    /// second), so new jobs appear and finished ones change without a reload. Without JavaScript the pages still read.
    static let script = """
        "use strict";
        (function () {
          const base = document.body.dataset.base || "";
          const live = document.getElementById("live");
          if (!window.EventSource || !live) return;
          const jobPage = document.querySelector("[data-job-page]");
          let pending = null;
          function refresh() {
            if (pending) return;
            pending = setTimeout(async function () {
              pending = null;
              try {
                const answer = await fetch(location.href, { credentials: "same-origin" });
                if (!answer.ok) return;
                const page = new DOMParser().parseFromString(await answer.text(), "text/html");
                const main = page.querySelector("main");
                if (main) document.querySelector("main").replaceWith(main);
              } catch (e) { /* the next event tries again */ }
            }, 700);
          }
          const events = new EventSource(base + "/api/v1/events");
          events.onopen = function () { live.textContent = "live"; live.classList.add("on"); };
          events.onerror = function () { live.textContent = "reconnecting"; live.classList.remove("on"); };
          events.addEventListener("job.progress", function (event) {
            const data = JSON.parse(event.data);
            document.querySelectorAll('progress[data-job="' + data.id + '"]').forEach(function (bar) {
              bar.value = data.progress; bar.textContent = data.progress + "%";
            });
          });
          function changed(event) {
            let id = null;
            try { const data = JSON.parse(event.data); id = data.id || (data.job && data.job.id); } catch (e) {}
            if (jobPage && id && jobPage.dataset.jobPage !== id) return;
            refresh();
          }
          ["job.state", "job.done", "job.failed", "job.uncertain", "job.held", "queue.paused", "queue.resumed",
           "budget.threshold", "budget.exhausted", "watch.unreachable"].forEach(function (name) {
            events.addEventListener(name, changed);
          });
          document.querySelectorAll("time[datetime]").forEach(function (t) {
            t.textContent = new Date(t.dateTime).toLocaleString();
          });
        })();
        """
}
