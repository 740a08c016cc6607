-- wrk script for bench/load_curve.py: every request is unique, and done() prints one JSON line.
--
--   wrk -t1 -c64 -d10s -s bench/load_curve.lua http://127.0.0.1:PORT -- KIND PATH TOKEN ARG [LIST]
--
-- KIND "door":  ARG is a file of fresh ticket secrets, one a line; each request redeems the next one
--               against checkin list LIST. A thread that runs out of secrets stops (counted as "exhausted").
-- KIND "award": ARG is a file of member user ids, one a line; each request awards the next member
--               ("bench_award") with an idempotency key of its own (the file's name + thread + counter).
-- Threads take interleaved slices of the file, so no two requests in the run share a secret or a key.
-- Install wrk with `apt-get install wrk` (Debian/Ubuntu); it is not a project dependency.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function init(args)
   kind, path, token, file, list = args[1], args[2], args[3], args[4], args[5]
   nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
   items = {}
   local i = 0
   for line in io.lines(file) do
      if i % nthreads == tid then
         table.insert(items, line)
      end
      i = i + 1
   end
   prefix = file:match("([^/]+)$") .. ":" .. tid .. ":"
   headers = {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"}
   statuses = {}
   exhausted = 0
end

function request()
   counter = counter + 1
   local body
   if kind == "door" then
      local secret = items[counter]
      if secret == nil then
         exhausted = 1
         wrk.thread:stop()
         secret = items[#items]
      end
      body = '{"secret":"' .. secret .. '","lists":[' .. list .. ']}'
   else
      local user = items[(counter - 1) % #items + 1]
      body = '{"user_id":' .. user .. ',"reason":"bench_award","idempotency_key":"' .. prefix .. counter .. '"}'
   end
   return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts, gone = {}, 0
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      for status, n in pairs(seen) do
         counts[status] = (counts[status] or 0) + n
      end
      gone = gone + thread:get("exhausted")
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
      '"non_2xx": %d, "exhausted": %d, "statuses": {%s}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status, gone,
      table.concat(parts, ", ")))
end
