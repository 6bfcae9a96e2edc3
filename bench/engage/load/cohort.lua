-- POST /partners/tinyclues/cohorts/users with 1,000 ids per request: 500 added to and 500
-- removed from one cohort, drawn at random from the seeded profiles.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done

init = function()
  math.randomseed(thread_id or 1)
end

local function ids(n)
  local out = {}
  for i = 1, n do out[i] = c.user(math.random(0, c.profiles - 1)) end
  return table.concat(out, ",")
end

request = function()
  local body = string.format(
    '{"partner_api_key":"%s","client_secret":"%s","cohort_id":"load","cohort_changes":' ..
    '[{"user_ids":[%s]},{"user_ids":[%s],"should_remove":true}]}',
    c.partner_key, c.client_secret, ids(500), ids(500))
  return wrk.format("POST", "/partners/tinyclues/cohorts/users", {["Content-Type"] = "application/json"}, body)
end
