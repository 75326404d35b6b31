#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks real answers of a running dashboard against etc/openapi.yaml.

Usage: check_openapi.py SPEC BASE_URL JOB_ID
Fetches status, the job list (and its next page), one job, and a few error cases, and validates each body against
the schema the spec gives for its operation and status code. Prints one line per check; exits 1 on any mismatch.
"""
import json
import sys
import urllib.error
import urllib.request

import jsonschema
import yaml

spec_path, base, job_id = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
spec = yaml.safe_load(open(spec_path, encoding="utf-8"))


def schema_for(path, method, status):
    responses = spec["paths"][path][method]["responses"]
    response = responses.get(str(status))
    if response is None:
        return None
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
    # Resolve #/components/... references against the whole spec.
    return {"$ref": "#/x", "x": response["content"]["application/json"]["schema"], "components": spec["components"]}


def fetch(url, method="GET"):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


failures = 0
first = None
checks = [
    ("/api/v1/status", "/api/v1/status", "get"),
    ("/api/v1/jobs", "/api/v1/jobs?limit=1", "get"),
    ("/api/v1/jobs/{id}", f"/api/v1/jobs/{job_id}", "get"),
    ("/api/v1/jobs/{id}", "/api/v1/jobs/00000000-0000-0000-0000-000000000000", "get"),
    ("/api/v1/jobs", "/api/v1/jobs?state=nonsense", "get"),
    ("/api/v1/jobs/{id}/cancel", f"/api/v1/jobs/{job_id}/cancel", "post"),
]
for path, url, method in checks:
    status, body = fetch(base + url, method.upper())
    schema = schema_for(path, method, status)
    if schema is None:
        print(f"FAIL {method.upper()} {url}: status {status} is not in the spec")
        failures += 1
        continue
    try:
        jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
        print(f"ok   {method.upper()} {url} -> {status}")
    except jsonschema.ValidationError as error:
        print(f"FAIL {method.upper()} {url} -> {status}: {error.message} at {list(error.absolute_path)}")
        failures += 1
    if url.endswith("limit=1") and "nextCursor" in body:
        first = body["nextCursor"]
if first:
    status, body = fetch(base + "/api/v1/jobs?limit=1&cursor=" + first)
    try:
        jsonschema.validate(body, schema_for("/api/v1/jobs", "get", status))
        print(f"ok   GET next page -> {status}")
    except jsonschema.ValidationError as error:
        print(f"FAIL next page: {error.message}")
        failures += 1
sys.exit(1 if failures else 0)
