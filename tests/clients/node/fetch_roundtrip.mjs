// Plain HTTP with Node's built-in fetch (no packages): what any language's HTTP client does.
// Usage: node fetch_roundtrip.mjs PROXY_URL. Prints one JSON summary line.
const [proxy] = process.argv.slice(2);

async function okx(method, path, body) {
  const response = await fetch(proxy + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (answer.code !== "0") throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer.data;
}

const balance = await okx("GET", "/api/v5/account/balance?ccy=USDT");
const placed = await okx("POST", "/api/v5/trade/order", {
  instId: "BTC-USDT", tdMode: "cash", side: "buy", ordType: "limit",
  px: "30000", sz: "0.01", clOrdId: "fetch1",
});
const order = await okx("GET", "/api/v5/trade/order?instId=BTC-USDT&clOrdId=fetch1");
const canceled = await okx("POST", "/api/v5/trade/cancel-order", { instId: "BTC-USDT", clOrdId: "fetch1" });
console.log(JSON.stringify({
  totalEq: balance[0].totalEq,
  placed: placed[0],
  state: order[0].state,
  canceled: canceled[0],
}));
