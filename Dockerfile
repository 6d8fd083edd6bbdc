# One image for every costcurve service: the API, the Prefect server, workers,
# migrations (docker-compose.yml). Prefect's versions are pinned by pyproject.toml.
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The whole tree: .dockerignore says what stays out, so a new package needs no
# Dockerfile change.
COPY . .
RUN pip install -e . \
    && useradd --create-home --uid 10001 costcurve
# prefect.yaml's pull step runs flow code from /app (entrypoints are relative paths).
USER costcurve
EXPOSE 8000 4200
CMD ["costcurve", "serve-api", "--host", "0.0.0.0"]
