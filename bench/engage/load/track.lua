-- POST /users/track with 75 attribute objects of 8 custom attributes each: updates of the seeded
-- profiles, each thread walking them from its own offset.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done

local next_user
local sent = 0
init = function()
  next_user = ((thread_id or 1) * 7919) % c.profiles
end

request = function()
  sent = sent + 1
  local objects = {}
  for i = 1, 75 do
    next_user = (next_user + 1) % c.profiles
    objects[i] = string.format(
      '{"external_id":%s,"plan":"gold","visits":%d,"score":%d.5,"city":"Lyon","opt_in":true,' ..
      '"segment":"s%d","last_offer":"o%d","channel":"email"}',
      c.user(next_user), sent, i, next_user % 17, sent % 101)
  end
  return wrk.format("POST", "/users/track",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c.api_key},
    '{"attributes":[' .. table.concat(objects, ",") .. "]}")
end
