-- Creates profiles u0 .. u(CF_PROFILES-1) with /users/track, 75 per request, on one
-- connection, then stops: run.sh runs it once before the measured runs.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local c = require("common")

local next_user = 0
request = function()
  local objects = {}
  for i = 1, 75 do
    if next_user >= c.profiles then break end
    objects[#objects + 1] = string.format('{"external_id":%s,"seeded":true}', c.user(next_user))
    next_user = next_user + 1
  end
  if #objects == 0 then objects[1] = '{"external_id":"u0","seeded":true}' end
  return wrk.format("POST", "/users/track",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c.api_key},
    '{"attributes":[' .. table.concat(objects, ",") .. "]}")
end

local answered = 0
response = function(status)
  if status ~= 201 then
    io.stderr:write("seed: /users/track answered " .. status .. "\n")
    os.exit(1)
  end
  answered = answered + 1
  if answered * 75 >= c.profiles then wrk.thread:stop() end
end
