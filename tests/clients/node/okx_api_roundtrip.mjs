// okx-api (npm) through the proxy: balance, place, list pending, cancel, instruments.
// Usage: node okx_api_roundtrip.mjs PROXY_URL [demo]. Prints one JSON summary line.
import { RestClient } from "okx-api";

const [baseUrl, mode] = process.argv.slice(2);
// okx-api refuses private calls without credentials; the proxy replaces what it signs with.
const client = new RestClient({
  apiKey: "unused",
  apiSecret: "unused",
  apiPass: "unused",
  baseUrl,
  demoTrading: mode === "demo",
});
const balance = await client.getBalance({ ccy: "USDT" });
const placed = await client.submitOrder({
  instId: "BTC-USDT", tdMode: "cash", side: "buy", ordType: "limit",
  px: "30000", sz: "0.01", clOrdId: "okxapi1",
});
const pending = await client.getOrderList({ instType: "SPOT" });
const canceled = await client.cancelOrder({ instId: "BTC-USDT", ordId: placed[0].ordId });
const instruments = await client.getInstruments({ instType: "SPOT" });
console.log(JSON.stringify({
  totalEq: balance[0].totalEq,
  placed: placed[0],
  pending: pending.map((o) => o.clOrdId),
  canceled: canceled[0],
  instruments: instruments.map((i) => i.instId),
}));
