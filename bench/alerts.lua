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
-- done() prints one line `BENCH_RESULT {json}` with wrk's totals, latency
-- percentiles (microseconds), the count of each HTTP status and of 2xx
-- answers in each second of the run, and one line
-- `BENCH_SAMPLE STATUS BODY` with the first body of each status >= 300, for
-- scripts/bench to parse.

local threads = {}

-- Main state: give each thread its id.
function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

-- Per-thread state below.
local mode, per_request, counter, starts_at, fixed_request, started

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
   started = os.time()
   starts_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if mode == "same" then
      -- Identical in every thread: all connections re-send one set of alerts.
      wrk.body = body(function(i) return string.format("same-%03d", i) end)
      fixed_request = wrk.format()
   end
end

-- Per thread: answers by status, and the first body of each failing status
-- (globals, so that done() can read them with thread:get).
statuses = {}
samples = {}
ok_per_second = {}

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status >= 200 and status < 300 then
      local second = os.time() - started + 1
      ok_per_second[second] = (ok_per_second[second] or 0) + 1
   end
   if status >= 300 and not samples[key] then
      samples[key] = string.sub(body or "", 1, 300)
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

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local e = summary.errors
   local by_status, sample, per_second, seconds = {}, {}, {}, 0
   for _, thread in ipairs(threads) do
      for second, n in pairs(thread:get("ok_per_second") or {}) do
         per_second[second] = (per_second[second] or 0) + n
         seconds = math.max(seconds, second)
      end
      for status, n in pairs(thread:get("statuses") or {}) do
         by_status[status] = (by_status[status] or 0) + n
      end
      for status, body in pairs(thread:get("samples") or {}) do
         sample[status] = sample[status] or body
      end
   end
   local parts = {}
   for status, n in pairs(by_status) do
      table.insert(parts, string.format('"%s":%d', status, n))
   end
   table.sort(parts)
   local series = {}
   for second = 1, seconds do
      series[second] = tostring(per_second[second] or 0)
   end
   for status, body in pairs(sample) do
      print("BENCH_SAMPLE " .. status .. " " .. json_string(body))
   end
   print(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
         .. '"statuses":{%s},"ok_per_second":[%s]}',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, table.concat(parts, ","), table.concat(series, ",")))
end
