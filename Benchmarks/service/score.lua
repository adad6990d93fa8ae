-- wrk script for Benchmarks/service/compare.py: POST one JSON body, then print the figures as one JSON line.
--
--   wrk -t1 -c16 -d10s --timeout 10s --latency -s score.lua http://127.0.0.1:PORT/v1/score -- BODY.json
--
-- Every request is `POST <the URL's path>` with Content-Type: application/json and the bytes of BODY.json.
-- At the end, done() prints a line starting "WRK_JSON " with the request count, the run's duration, the
-- errors (a status other than 2xx/3xx counts as errors.status) and the latency distribution, all in
-- microseconds, from wrk's own histogram (the same figures as --latency prints).

function init(args)
   local file = assert(io.open(args[1], "rb"), "usage: wrk ... -s score.lua URL -- BODY.json")
   wrk.body = file:read("*a")
   file:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"durationMicros":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyMicros":{"min":%d,"mean":%.3f,"stdev":%.3f,"p50":%d,"p90":%d,"p99":%d,"p99.9":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.max))
end
