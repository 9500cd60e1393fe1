// ccxt (JavaScript) through the proxy: markets, balance, create, open orders, cancel.
// Usage: node ccxt_roundtrip.mjs PROXY_URL. Prints one JSON summary line.
import ccxt from "ccxt";

const [proxy] = process.argv.slice(2);
// ccxt needs credentials to call private endpoints; the proxy replaces its OK-ACCESS-* headers.
const okx = new ccxt.okx({
  apiKey: "unused", secret: "unused", password: "unused",
  urls: { api: { rest: proxy }, test: { rest: proxy } },
});
const markets = await okx.loadMarkets();
const balance = await okx.fetchBalance();
const order = await okx.createOrder("BTC/USDT", "limit", "buy", 0.01, 30000);
const open = await okx.fetchOpenOrders("BTC/USDT");
const canceled = await okx.cancelOrder(order.id, "BTC/USDT");
const after = await okx.fetchOpenOrders("BTC/USDT");
console.log(JSON.stringify({
  symbols: Object.keys(markets).sort(),
  usdt: balance.USDT,
  orderId: order.id,
  open: open.map((o) => [o.id, o.symbol, o.status, o.price, o.amount]),
  canceled: canceled.id,
  openAfter: after.length,
}));
