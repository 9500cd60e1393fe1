# signproxy: the signing proxy as a sidecar image (see "Run as a sidecar" in docs/deployment.md).
# BASE_IMAGE is a build argument so offline builds can use a local stand-in image. Both stages
# use it, so the virtualenv built in the first still finds its interpreter in the second.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY signproxy ./signproxy
# Every dependency ships wheels, so no compiler is needed. pip and setuptools leave the
# virtualenv afterwards: nothing is installed at run time. Bytecode is compiled here, once,
# because the non-root user cannot write it next to the sources.
RUN python3 -m venv /opt/signproxy \
    && /opt/signproxy/bin/pip install --no-cache-dir . \
    && /opt/signproxy/bin/pip uninstall --yes pip setuptools \
    && mkdir -p /var/lib/signproxy

# The runtime stage has no RUN step: it is the base image plus the virtualenv, and the one
# directory the proxy writes (the order journal), owned by its user so a named volume mounted
# there starts out writable.
FROM ${BASE_IMAGE}
COPY --from=build /opt/signproxy /opt/signproxy
COPY --from=build --chown=10001:10001 /var/lib/signproxy /var/lib/signproxy
ENV PATH=/opt/signproxy/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SIGNPROXY_LOG_FORMAT=json \
    SIGNPROXY_JOURNAL=/var/lib/signproxy/journal.sqlite
# Inside its own network namespace the proxy listens on every address. When the bot shares the
# namespace (compose network_mode: service:..., a Kubernetes pod), set 127.0.0.1 instead.
ENV SIGNPROXY_HOST=0.0.0.0
# A numeric user with no account and no home: it owns no file, so it can change none
# (Kubernetes' runAsNonRoot needs the number).
USER 10001:10001
EXPOSE 8787
# `signproxy health` asks /-/health on SIGNPROXY_HOST/PORT (the slim image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["signproxy", "health"]
# SIGTERM: stop accepting, finish the requests in flight, close the OKX session, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["signproxy"]
CMD ["serve"]
