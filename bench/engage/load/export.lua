-- POST /users/export/ids for 50 random seeded profiles (Braze's most per request): a read
-- that also returns each profile's attributes and cohorts.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done

init = function()
  math.randomseed(1000 + (thread_id or 1))
end

request = function()
  local out = {}
  for i = 1, 50 do out[i] = c.user(math.random(0, c.profiles - 1)) end
  return wrk.format("POST", "/users/export/ids",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c.api_key},
    '{"external_ids":[' .. table.concat(out, ",") .. "]}")
end
