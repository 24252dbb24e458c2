-- bench/rest_rps.py --write: the request half of the wrk script (rest_rps.py writes `tokens` above it).
-- Each request schedules one one-hour meeting in room 1000 with the next token in turn; the day
-- moves on with the count, so every meeting is a distinct row. A 201 means the row was committed
-- (SQLite synchronous=FULL) before the answer.
local i = 0
request = function()
  i = i + 1
  local token = tokens[(i - 1) % #tokens + 1]
  local day = i % 28 + 1
  local body = string.format(
    '{"room_id":"1000","title":"bench %d","start":"2027-02-%02dT10:00:00Z","end":"2027-02-%02dT11:00:00Z"}',
    i, day, day)
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
