-- wrk script for the server benchmark (benches/http.rs): BENCH_MODE picks what each request
-- is; done() prints one RESULT line the bench parses.
local mode = os.getenv("BENCH_MODE")
local token = os.getenv("BENCH_TOKEN") or ""
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "1000")
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local n = 0

if think > 0 then
  -- A user's pause before each request (the first too, so they do not all start at once).
  function delay()
    return math.random(0, 2 * think)
  end
end

local function sku(i)
  return string.format("BENCH-%05d", i % products)
end

function init(args)
  -- Threads start at different places, so they seldom want the same rows at once.
  n = math.random(0, products)
end

function request()
  n = n + 1
  if mode == "read" then
    return wrk.format("GET", "/api/v1/products/" .. sku(n * 7919), headers)
  elseif mode == "floor" then
    return wrk.format("GET", "/floor/" .. sku(n * 7919), headers)
  elseif mode == "order" then
    -- Three consecutive SKUs in ascending order, as the core's own order bench takes them.
    local first = (n * 3) % (products - 2)
    local body = string.format(
      '{"customer":{"email":"customer%d@example.com","name":"Ada Lovelace","phone":"+44 20 7946 0958",' ..
      '"address":"12 St James\'s Square, London SW1Y 4JH, United Kingdom"},"warehouse":"MAIN","lines":[' ..
      '{"sku":"%s","quantity":1},{"sku":"%s","quantity":1},{"sku":"%s","quantity":1}]}',
      n % 10000, sku(first), sku(first + 1), sku(first + 2))
    return wrk.format("POST", "/api/v1/orders", headers, body)
  end
  return wrk.format("GET", "/")
end

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
