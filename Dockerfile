# signproxy: the signing proxy as a sidecar image.
# BASE_IMAGE is a build argument so offline builds can use a local stand-in image.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY signproxy ./signproxy
RUN python3 -m venv /opt/signproxy \
    && /opt/signproxy/bin/pip install --no-cache-dir . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin signproxy

USER 10001
ENV PATH=/opt/signproxy/bin:$PATH \
    SIGNPROXY_HOST=0.0.0.0 \
    SIGNPROXY_LOG_FORMAT=json
EXPOSE 8787
ENTRYPOINT ["signproxy"]
CMD ["serve"]
