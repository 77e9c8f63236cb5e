-- wrk script: RecordDeployment over Connect JSON (HTTP/1.1), the benchmark's load generator
-- (tests/bench/run.ts runs it; wrk is C, so it leaves the server the CPU a Node client would take).
--   wrk -t2 -c32 -d20s --latency -s tests/bench/record.lua URL -- ARGS_FILE
-- ARGS_FILE lines: token, environment, slots, heartbeat percent, wrk threads (-t), then one attested
-- digest per line.
-- Slot s is named "svc-<s>" and starts with digest number (s % #digests) (run.ts seeds it so).
-- Each wrk thread owns the slots s with s % threads == its index, and remembers the digest it last
-- sent to each: a heartbeat sends it again, anything else moves the slot to another digest.
-- Every answer is checked: HTTP 200 and an outcome in the JSON body, counted by kind. done()
-- prints one JSON line (prefixed "RESULT ") with counts and latency percentiles in microseconds.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local token, environment, slots, heartbeat_pct
local digests = {}
local current = {}
local mine = 0
heartbeat = 0
superseded = 0
created = 0
rolled_back = 0
other = 0
errors = 0
first_error = ""

function init(args)
  local f = assert(io.open(args[1], "r"))
  token = f:read("*l")
  environment = f:read("*l")
  slots = tonumber(f:read("*l"))
  heartbeat_pct = tonumber(f:read("*l"))
  nthreads = tonumber(f:read("*l"))
  for line in f:lines() do
    if line ~= "" then digests[#digests + 1] = line end
  end
  f:close()
  math.randomseed(1000 + tid)
  wrk.method = "POST"
  wrk.path = "/chainloop.v1.DeploymentService/RecordDeployment"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  -- a slot of this thread: tid, tid + n, tid + 2n, ...
  local n = nthreads
  local k = math.random(0, math.floor((slots - 1 - tid) / n))
  local slot = tid + k * n
  local cur = current[slot] or ((slot % #digests) + 1)
  local d = cur
  if math.random(1, 100) > heartbeat_pct then
    d = math.random(1, #digests - 1)
    if d >= cur then d = d + 1 end
  end
  current[slot] = d
  local body = '{"environment":"' .. environment .. '","logicalEnvironment":"production","deploymentName":"svc-' .. slot ..
    '","kind":"ARTIFACT_KIND_CONTAINER_IMAGE","digest":"' .. digests[d] .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 300) end
  elseif string.find(body, "RECORD_OUTCOME_HEARTBEAT", 1, true) then
    heartbeat = heartbeat + 1
  elseif string.find(body, "RECORD_OUTCOME_SUPERSEDED", 1, true) then
    superseded = superseded + 1
  elseif string.find(body, "RECORD_OUTCOME_CREATED", 1, true) then
    created = created + 1
  elseif string.find(body, "RECORD_OUTCOME_ROLLED_BACK", 1, true) then
    -- A digest of the pool the slot ran before: the mix re-sends old digests now and then.
    rolled_back = rolled_back + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { heartbeat = 0, superseded = 0, created = 0, rolled_back = 0, other = 0, errors = 0 }
  local fe = ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
    local e = thread:get("first_error")
    if fe == "" and e and e ~= "" then fe = e end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,"heartbeat":%d,"superseded":%d,"created":%d,"rolledBack":%d,"other":%d,"errors":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d,"firstError":%q}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status,
    t.heartbeat, t.superseded, t.created, t.rolled_back, t.other, t.errors,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, fe))
end
