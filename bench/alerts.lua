-- wrk script: POST Alertmanager API v2 bodies (what Prometheus sends) to the
-- URL given to wrk. Used by `scripts/bench ingest`.
--
--   wrk ... -s bench/alerts.lua URL -- MODE N
--
--   MODE new   every request carries N alerts never sent before: each label set
--              holds the thread id and a per-thread counter, so keys never repeat
--   MODE same  every request carries the same N alerts (the dedup path: what
--              Prometheus re-sends on every rule evaluation)
--
-- done() prints one line `BENCH_RESULT {json}` with wrk's totals and latency
-- percentiles (microseconds) for scripts/bench to parse.

local thread_count = 0

-- Main state: give each thread its id.
function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
end

-- Per-thread state below.
local mode, per_request, counter, starts_at, fixed_request

local function alert(instance)
   return string.format(
      '{"labels":{"alertname":"BenchAlert","job":"bench","severity":"warning","instance":"%s"},'
         .. '"annotations":{"summary":"bench alert on %s"},'
         .. '"startsAt":"%s",'
         .. '"generatorURL":"http://prometheus.bench:9090/graph?g0.expr=up%%3D%%3D0"}',
      instance, instance, starts_at)
end

local function body(make_instance)
   local parts = {}
   for i = 1, per_request do
      parts[i] = alert(make_instance(i))
   end
   return "[" .. table.concat(parts, ",") .. "]"
end

function init(args)
   mode = args[1] or "new"
   per_request = tonumber(args[2] or "1")
   if (mode ~= "new" and mode ~= "same") or not per_request or per_request < 1 then
      error("usage: -- new|same N  (got " .. tostring(args[1]) .. " " .. tostring(args[2]) .. ")")
   end
   counter = 0
   starts_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if mode == "same" then
      -- Identical in every thread: all connections re-send one set of alerts.
      wrk.body = body(function(i) return string.format("same-%03d", i) end)
      fixed_request = wrk.format()
   end
end

function request()
   if fixed_request then
      return fixed_request
   end
   return wrk.format(nil, nil, nil, body(function()
      counter = counter + 1
      return string.format("t%d-%d", tid, counter)
   end))
end

function done(summary, latency, requests)
   local e = summary.errors
   print(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
