FROM python:3.12-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY scrapers scrapers
COPY catalog catalog
COPY config config
COPY db db
COPY analytics analytics
COPY flows flows
COPY api api
COPY alerts alerts
COPY benchmarks benchmarks
COPY costcurve costcurve
COPY migrations migrations
RUN pip install -e .
EXPOSE 8000
CMD ["costcurve", "serve-api"]
