"""Every variable signproxy reads: the one list the unknown-variable check compares against.

Adding a variable? Add its name here (one line, alphabetical within its group), read it in
:mod:`signproxy.settings.config` (or the module that owns it), and document it in the variable
table; ``tests/test_registry.py`` fails until the three agree. A secret that may come from a
file is listed twice, as ``NAME`` and ``NAME_FILE``.

Per-account variables (``OKX_ACCOUNT_<NAME>_<FIELD>``) are not listed one by one: they are known
for the accounts ``SIGNPROXY_ACCOUNTS`` names (see :mod:`signproxy.settings.account_env`).
"""

from __future__ import annotations

KNOWN_VARIABLES: frozenset[str] = frozenset(
    {
        # The default account (OKX_API_*), read by account_env.
        "OKX_API_KEY",
        "OKX_API_KEY_FILE",
        "OKX_API_PASSPHRASE",
        "OKX_API_PASSPHRASE_FILE",
        "OKX_API_SECRET",
        "OKX_API_SECRET_FILE",
        "OKX_DEMO",
        # Accounts and upstreams.
        "SIGNPROXY_ACCOUNTS",
        "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM",
        "SIGNPROXY_UPSTREAM",
        "SIGNPROXY_WATCH_INTERVAL",
        # Listening, access and policy.
        "SIGNPROXY_ALLOWED_HOSTS",
        "SIGNPROXY_ALLOWED_ORIGINS",
        "SIGNPROXY_ALLOW_ENDPOINTS",
        "SIGNPROXY_CLIENT_TOKENS",
        "SIGNPROXY_CLIENT_TOKENS_FILE",
        "SIGNPROXY_DENY_ENDPOINTS",
        "SIGNPROXY_HOST",
        "SIGNPROXY_INSECURE_BIND",
        "SIGNPROXY_PORT",
        "SIGNPROXY_READ_ONLY",
        "SIGNPROXY_UNIX_SOCKET",
        "SIGNPROXY_UNIX_SOCKET_GROUP",
        # Requests and the upstream exchange.
        "SIGNPROXY_BODY",
        "SIGNPROXY_CLOCK_SYNC_INTERVAL",
        "SIGNPROXY_CONNECT_TIMEOUT",
        "SIGNPROXY_EXPTIME_MS",
        "SIGNPROXY_GET_RETRIES",
        "SIGNPROXY_MAX_BODY_BYTES",
        "SIGNPROXY_MAX_RESPONSE_BYTES",
        "SIGNPROXY_SHUTDOWN_GRACE",
        "SIGNPROXY_TIMEOUT",
        "SIGNPROXY_UPSTREAM_CHECK_INTERVAL",
        "SIGNPROXY_UPSTREAM_IDLE_TIMEOUT",
        "SIGNPROXY_UPSTREAM_KEEP_WARM",
        "SIGNPROXY_WORKERS",
        # Client connections and memory (settings/limits.py).
        "SIGNPROXY_HEAD_TIMEOUT",
        "SIGNPROXY_KEEPALIVE_TIMEOUT",
        "SIGNPROXY_MAX_CLIENT_CONNECTIONS",
        "SIGNPROXY_MAX_HELD_BYTES",
        "SIGNPROXY_WRITE_TIMEOUT",
        # WebSocket.
        "SIGNPROXY_WS_ALLOWED_ORIGINS",
        "SIGNPROXY_WS_AUTO_LOGIN",
        "SIGNPROXY_WS_MAX_CONNECTIONS",
        "SIGNPROXY_WS_MAX_MESSAGE_BYTES",
        "SIGNPROXY_WS_UPSTREAM",
        # Exactly-once orders (settings/order_safety.py).
        "SIGNPROXY_CLORDID_PREFIX",
        "SIGNPROXY_DEDUP_WINDOW",
        "SIGNPROXY_JOURNAL",  # also the halt state's default place (settings/switches.py)
        "SIGNPROXY_JOURNAL_RETENTION",
        "SIGNPROXY_RESOLVE_TIMEOUT",
        # State shared by a fleet of proxies.
        "SIGNPROXY_REDIS_URL",
        "SIGNPROXY_REDIS_URL_FILE",
        # Rate budgets (settings/rates.py).
        "SIGNPROXY_RATE_IP_KEY",
        "SIGNPROXY_RATE_LIMITS",
        "SIGNPROXY_RATE_MARGIN_MS",
        "SIGNPROXY_RATE_MAX_WAIT_MS",
        # The switches: dead-man switch, kill switch, guardrails (settings/switches.py).
        "SIGNPROXY_DEADMAN_ON_STOP",
        "SIGNPROXY_DEADMAN_S",
        "SIGNPROXY_OPERATOR_TOKEN",  # the halt/resume/status commands' own token
        "SIGNPROXY_OPERATOR_TOKENS",
        "SIGNPROXY_OPERATOR_TOKENS_FILE",
        "SIGNPROXY_RULES_FILE",
        "SIGNPROXY_STATE_DIR",
        # Logs.
        "SIGNPROXY_LOG_FORMAT",
        "SIGNPROXY_LOG_LEVEL",
    }
)
