-- A mix of what the public reads: the year list, a report summary, the ranking, unit pages
-- and the unit API, unit codes drawn over the 337 so no single page is hot.
local run = os.getenv("RUN") or "2"
local codes = {"110000","120000","130100","140100","150100","210100","220100","230100","310000","320100","330100","340100","350100","360100","370100","410100","420100","430100","440100","450100","460100","500000","510100","520100","530100","540100","610100","620100","630100","640100","650100"}
local i = 0
request = function()
  i = i + 1
  local c = codes[(i % #codes) + 1]
  local k = i % 5
  local path
  if k == 0 then path = "/"
  elseif k == 1 then path = "/runs/" .. run .. "/ranking.html"
  elseif k == 2 then path = "/runs/" .. run .. "/units/" .. c .. ".html"
  else path = "/api/v1/runs/" .. run .. "/units/" .. c end
  return wrk.format("GET", path)
end
response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
