-- wrk script: grpc.health.v1.Health/Check over Connect JSON (HTTP/1.1), the cheapest unary call
-- through the server's stack (no token, one SELECT 1): the benchmark's baseline for what the RPC
-- stack costs per call. Every answer is checked (HTTP 200 and SERVING); done() prints one JSON
-- line prefixed "RESULT ", like record.lua.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

errors = 0
first_error = ""

function init(args)
  wrk.method = "POST"
  wrk.path = "/grpc.health.v1.Health/Check"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = "{}"
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, "SERVING", 1, true) then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local errs, fe = 0, ""
  for _, thread in ipairs(threads) do
    errs = errs + (thread:get("errors") or 0)
    local e = thread:get("first_error")
    if fe == "" and e and e ~= "" then fe = e end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"firstError":%q}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status,
    errs, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, fe))
end
