-- wrk script for bench/load.py: one request shape per endpoint kind (bench/endpoints.py).
-- Arguments (after "--"): kind, method, path template, products, key, seed, order lines,
-- and "1" to send a new Idempotency-Key with every request.
-- Products are drawn at random with a fixed seed, so runs repeat and requests spread over
-- the catalog (orders never exhaust one product's stock).
local kind, method, template, products, lines, keyed, run_id
local sent = 0

function init(args)
  kind, method, template = args[1], args[2], args[3]
  products = tonumber(args[4])
  math.randomseed(tonumber(args[6]))
  lines = tonumber(args[7])
  keyed = args[8] == "1"
  -- Keys stay unique across runs against the same database (answers are kept for 24 h).
  run_id = string.format("%d-%d-%d", os.time(), tonumber(args[6]), math.random(1000000000))
  wrk.headers["Authorization"] = "Bearer " .. args[5]
  -- The production configuration sits behind a TLS proxy (TRUST_PROXY_HEADERS=true).
  wrk.headers["X-Forwarded-Proto"] = "https"
  wrk.headers["Content-Type"] = "application/json"
end

local function order_body()
  local start = math.random(products - lines + 1)
  local items = {}
  for i = 0, lines - 1 do
    items[#items + 1] = string.format('{"product_id":"PROD-SYN-%07d","quantity":1}', start + i)
  end
  return '{"customer_id":"CUST-789012","items":[' .. table.concat(items, ",") ..
    '],"shipping_address":{"street":"1 Bench Way","city":"San Francisco","state":"CA",' ..
    '"zip":"94105","country":"US"}}'
end

function request()
  if keyed then
    sent = sent + 1
    wrk.headers["Idempotency-Key"] = string.format("bench-%s-%d", run_id, sent)
  end
  if kind == "order" then
    return wrk.format(method, template, nil, order_body())
  end
  local path = template
  if string.find(template, "%%07d") then
    path = string.format(template, math.random(products))
  end
  if kind == "patch" then
    -- Stays above any units the order rounds reserve, and within MAX_ON_HAND (9999).
    local body = string.format('{"quantity":%d,"reason":"bench"}', 5000 + math.random(4999))
    return wrk.format(method, path, nil, body)
  end
  return wrk.format(method, path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
