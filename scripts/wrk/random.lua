-- random.lua: wrk requests paths drawn at random from a file of request
-- paths, one a line (the first argument after --), each thread with its own
-- seed. scripts/bench-http.sh writes the files: component codes dumped from
-- the city (/parts/CODE), points and boxes around components drawn at
-- random over the whole city (nearest 10, 500 m counts, bbox pages).
--
--   wrk -t2 -c4 -d10s -s scripts/wrk/random.lua http://127.0.0.1:18090 -- codes.paths

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local paths = {}

function init(args)
  local name = args[1]
  if name == nil then
    error("random.lua: give the file of paths after --")
  end
  for line in io.lines(name) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("random.lua: " .. name .. " holds no paths")
  end
  math.randomseed(1000003 * (tonumber(id) or 1) + #paths)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
