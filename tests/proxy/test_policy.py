"""The endpoint policy: default-deny of fund-moving endpoints, operator rules, read-only mode."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signproxy.errors import ConfigError
from signproxy.proxy.policy import DEFAULT_RULES, Policy, parse_rules
from tests.conftest import Harness, MakeProxy
from tests.support.logs import log_lines

# OKX's fund-moving and credential endpoints (OKX's API docs: Funding, Sub-account, Broker...).
DENIED = (
    "/api/v5/asset/withdrawal",
    "/api/v5/asset/withdrawal-lightning",
    "/api/v5/asset/cancel-withdrawal",
    "/api/v5/fiat/create-withdrawal",
    "/api/v5/fiat/buy-sell/trade",
    "/api/v5/asset/transfer",
    "/api/v5/asset/subaccount/transfer",
    "/api/v5/users/subaccount/set-transfer-out",
    "/api/v5/account/move-positions",
    "/api/v5/tradingBot/grid/withdraw-income",
    "/api/v5/users/subaccount/apikey",
    "/api/v5/users/subaccount/modify-apikey",
    "/api/v5/users/subaccount/delete-apikey",
    "/api/v5/users/subaccount/create-subaccount",
    "/api/v5/broker/nd/create-subaccount",
    "/api/v5/asset/convert/trade",
    "/api/v5/finance/savings/purchase-redempt",
)
# Read-only and trading endpoints bots call (ccxt calls the first two at load time).
ALLOWED = (
    ("GET", "/api/v5/asset/balances"),
    ("GET", "/api/v5/asset/currencies"),
    ("GET", "/api/v5/asset/deposit-history"),
    ("GET", "/api/v5/asset/withdrawal-history"),
    ("GET", "/api/v5/asset/transfer-state"),
    ("GET", "/api/v5/users/subaccount/list"),
    ("GET", "/api/v5/finance/savings/balance"),
    ("POST", "/api/v5/trade/order"),
    ("POST", "/api/v5/trade/cancel-order"),
    ("POST", "/api/v5/account/set-leverage"),
    ("POST", "/api/v5/tradingBot/grid/order-algo"),
    ("POST", "/api/v5/account/move-positions-history"),
)
BODY = '{"ccy":"USDT","amt":"1","from":"6","to":"18"}'


@pytest.mark.parametrize("path", DENIED)
def test_default_denies_listed_endpoints(path: str) -> None:
    """Every fund-moving or credential endpoint is refused for POST by default."""
    rule = Policy().refusal("POST", path)
    assert rule is not None
    assert rule.default


@pytest.mark.parametrize(("method", "path"), ALLOWED)
def test_default_allows_reads_and_trading(method: str, path: str) -> None:
    """Reads in the denied families, and trading endpoints, are allowed by default."""
    assert Policy().refusal(method, path) is None


def test_family_rules_cover_endpoints_added_later() -> None:
    """A POST that OKX might add under a value-moving family is denied too."""
    for path in ("/api/v5/asset/new-thing", "/api/v5/users/x/y/z", "/api/v5/fiat/anything"):
        assert Policy().refusal("POST", path) is not None
    assert Policy().refusal("GET", "/api/v5/broker/nd/info") is not None


@given(
    st.sampled_from(DENIED),
    st.lists(st.booleans(), min_size=64, max_size=64),
)
def test_letter_case_never_escapes_a_rule(path: str, upper: list[bool]) -> None:
    """Any mix of upper and lower case of a denied path is still denied."""
    mixed = "".join(c.upper() if flip else c.lower() for c, flip in zip(path, upper, strict=False))
    assert Policy().refusal("POST", mixed + path[len(mixed) :]) is not None


def test_rules_match_whole_segments() -> None:
    """A rule's path matches itself and paths below it, not a longer segment."""
    policy = Policy(allow=parse_rules("POST /api/v5/asset/transfer", "V", "allow"))
    assert policy.refusal("POST", "/api/v5/asset/transfer") is None
    assert policy.refusal("POST", "/api/v5/asset/transfer/x") is None
    rule = policy.refusal("POST", "/api/v5/asset/transfer-x")
    assert rule is not None
    assert rule.name == "funds-asset"


def test_longest_path_wins_then_operator_then_deny() -> None:
    """Longest matching path decides; on equal paths operator beats default, deny beats allow."""
    policy = Policy(
        allow=parse_rules("post /api/v5/trade, * /api/v5/asset/", "A", "allow"),
        deny=parse_rules("POST /api/v5, GET /api/v5/asset/", "D", "deny"),
    )
    assert policy.refusal("POST", "/api/v5/trade/order") is None
    denied = policy.refusal("POST", "/api/v5/account/set-leverage")
    assert denied is not None
    assert denied.name == "deny POST /api/v5"
    assert policy.refusal("POST", "/api/v5/asset/withdrawal") is None  # operator allow, same path
    get_denied = policy.refusal("GET", "/api/v5/asset/balances")
    assert get_denied is not None
    assert get_denied.name == "deny GET /api/v5/asset"  # deny beats allow on equal paths


def test_read_only_refuses_every_post_even_allowed() -> None:
    """Read-only mode refuses every non-GET method, whatever the allow rules say."""
    policy = Policy(allow=parse_rules("POST /api/v5/trade", "A", "allow"), read_only=True)
    rule = policy.refusal("POST", "/api/v5/trade/order")
    assert rule is not None
    assert rule.name == "read-only"
    assert policy.refusal("GET", "/api/v5/account/balance") is None


@pytest.mark.parametrize(
    "text",
    [
        "/api/v5/trade",
        "PUT /api/v5/trade",
        "POST /api/v4/trade",
        "POST /api/v5/trade//order",
        "POST /api/v5/../trade",
        "POST /api/v5/tr%61de",
        "POST api/v5/trade",
        "POST /api/v5/trade, GET",
    ],
)
def test_bad_rules_are_config_errors(text: str) -> None:
    """A rule that is not METHOD /api/v5/path fails at startup, naming the variable."""
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "SIGNPROXY_DENY_ENDPOINTS", "deny")
    assert caught.value.variable == "SIGNPROXY_DENY_ENDPOINTS"


def test_default_rule_names_are_unique() -> None:
    """Rule names go into logs and metrics, so each names one rule."""
    assert len({rule.name for rule in DEFAULT_RULES}) == len(DEFAULT_RULES)


# --- through a running proxy -----------------------------------------------------------------


def assert_policy_refused(reply_status: int, body: dict[str, str], harness: Harness) -> None:
    assert reply_status == 403
    assert body["code"] == "SPX208"
    assert harness.emulator.received == []


@pytest.mark.parametrize("path", DENIED)
async def test_denied_endpoint_gets_403_naming_the_rule(
    make_proxy: MakeProxy, log_output: io.StringIO, path: str
) -> None:
    """A denied endpoint gets 403 SPX208 naming the rule, a warning line, and is not sent."""
    proxy = await make_proxy()
    reply = await proxy.post(path, BODY)
    assert_policy_refused(reply.status, reply.json(), proxy)
    rule = Policy().refusal("POST", path)
    assert rule is not None
    assert f"'{rule.name}'" in reply.json()["msg"]
    assert "SIGNPROXY_ALLOW_ENDPOINTS" in reply.json()["msg"]
    (line,) = log_lines(log_output, "signproxy.request")
    assert (line["level"], line["rule"], line["path"]) == ("warning", rule.name, path)


@pytest.mark.parametrize(
    "target",
    [
        "/api/v5/asset/with%64rawal",
        "/api/v5/asset%2Fwithdrawal",
        "/api/v5/asset%2fwithdrawal",
        "/api/v5/%61sset/withdrawal",
        "/api/v5/asset//withdrawal",
        "//api/v5/asset/withdrawal",
        "/api/v5//asset/withdrawal",
        "/api/v5/asset/./withdrawal",
        "/api/v5/trade/../asset/withdrawal",
        "/api/v5/trade/%2e%2e/asset/withdrawal",
        "/api/v5/asset/withdrawal/",
        "/api/v5/asset/withdrawal/.",
        "/api/v5/Asset/Withdrawal",
        "/api/v5/ASSET/WITHDRAWAL",
        "/API/V5/asset/withdrawal",
        "/Api/v5/asset/withdrawal",
        "/api/v5/asset\\withdrawal",
        "/api/v5/asset/withdrawal;x=1",
        "/api/v5/asset/withdrawal%00",
        "/api/v5/asset/withdrawal%20",
        "/api/v5/asset/withdrawal#frag",
        "/api/v5/asset/withdrawal?ccy=USDT",
        "/api/v5/tradingbot/grid/withdraw-income",
        "/api/v5/TRADINGBOT/GRID/WITHDRAW-INCOME/",
    ],
)
async def test_variants_of_a_denied_path_never_reach_okx(
    make_proxy: MakeProxy, target: str
) -> None:
    """Escaped, doubled-slash, dot-segment, cased and trailing-slash variants are refused."""
    proxy = await make_proxy()
    reply = await proxy.post(target, BODY)
    assert reply.status in (400, 403, 404), reply.body
    assert reply.json()["code"] in ("SPX100", "SPX102", "SPX208")
    assert proxy.emulator.received == []


@pytest.mark.parametrize(("method", "path"), [m for m in ALLOWED if m[0] == "GET"])
async def test_reads_bots_need_are_forwarded(proxy: Harness, method: str, path: str) -> None:
    """GET /api/v5/asset/balances and /currencies (ccxt calls them) and other reads pass."""
    reply = await proxy.request(method, path)
    assert reply.status == 200
    assert [r.target for r in proxy.emulator.received] == [path]


async def test_operator_allows_one_endpoint(make_proxy: MakeProxy) -> None:
    """SIGNPROXY_ALLOW_ENDPOINTS opens one endpoint; its neighbours stay denied."""
    proxy = await make_proxy(SIGNPROXY_ALLOW_ENDPOINTS="POST /api/v5/asset/transfer")
    reply = await proxy.post("/api/v5/asset/transfer", BODY)
    assert reply.status == 200
    (received,) = proxy.emulator.received
    assert (received.target, received.code) == ("/api/v5/asset/transfer", "0")
    reply = await proxy.post("/api/v5/asset/withdrawal", BODY)
    assert (reply.status, reply.json()["code"]) == (403, "SPX208")
    assert len(proxy.emulator.received) == 1


async def test_operator_deny_rule(make_proxy: MakeProxy) -> None:
    """SIGNPROXY_DENY_ENDPOINTS refuses by method and prefix, naming the rule."""
    proxy = await make_proxy(SIGNPROXY_DENY_ENDPOINTS="POST /api/v5/account/, GET /api/v5/trade")
    reply = await proxy.post("/api/v5/account/set-leverage", '{"lever":"5"}')
    assert_policy_refused(reply.status, reply.json(), proxy)
    assert "'deny POST /api/v5/account'" in reply.json()["msg"]
    reply = await proxy.get("/api/v5/trade/order?instId=BTC-USDT&ordId=1")
    assert_policy_refused(reply.status, reply.json(), proxy)
    assert (await proxy.get("/api/v5/account/balance")).status == 200


async def test_read_only_mode(make_proxy: MakeProxy) -> None:
    """SIGNPROXY_READ_ONLY=1 refuses every POST (rule 'read-only') and serves GETs."""
    proxy = await make_proxy(SIGNPROXY_READ_ONLY="1")
    reply = await proxy.post("/api/v5/trade/order", '{"instId":"BTC-USDT"}')
    assert_policy_refused(reply.status, reply.json(), proxy)
    assert "'read-only'" in reply.json()["msg"]
    assert (await proxy.get("/api/v5/account/balance")).status == 200
