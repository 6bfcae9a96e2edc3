-- Shared by the wrk scripts of bench/engage/load: credentials and sizes from the environment
-- (run.sh sets them), a per-thread random stream, and one summary line per run for run.sh.
local M = {}

M.api_key = os.getenv("CF_API_KEY") or ""
M.partner_key = os.getenv("CF_PARTNER_KEY") or ""
M.client_secret = os.getenv("CF_CLIENT_SECRET") or ""
M.profiles = tonumber(os.getenv("CF_PROFILES") or "50000")
M.name = os.getenv("CF_RUN_NAME") or "run"

local counter = 1
function M.setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

function M.user(i)
  return '"u' .. i .. '"'
end

-- "RESULT name requests/s p50_ms p99_ms max_ms non2xx socket_errors": run.sh turns these into a table.
function M.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %s %.0f %.2f %.2f %.2f %d %d\n", M.name, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status, errors))
end

return M
