-- SPDX-License-Identifier: GPL-2.0-or-later
-- wrk script: create+status load on the emulator's gateway protocol.
-- Each thread alternates POST /v1/videos/generations and GET /v1/tasks/{id} for the ids it created.
-- Usage: wrk -t2 -c64 -d10s -s scripts/emulator-load.lua http://127.0.0.1:8089
-- (the emulator must run with its default key, or set EMULATOR_KEY).

local key = os.getenv("EMULATOR_KEY") or "emulator-key"
local ids = {}
local create_body = '{"model":"doubao-seedance-1-0-pro-fast","prompt":"A load test","duration":2,"resolution":"480p"}'
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
local errors = 0

request = function()
  local id = table.remove(ids)
  if id then
    return wrk.format("GET", "/v1/tasks/" .. id, headers)
  end
  return wrk.format("POST", "/v1/videos/generations", headers, create_body)
end

response = function(status, _, body)
  if status ~= 200 then
    errors = errors + 1
    return
  end
  local id = body:match('"task_id":"(task_[0-9A-Z]+)"')
  if id then table.insert(ids, id) end
end
