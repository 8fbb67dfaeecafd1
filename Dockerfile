# The CRM as a container image: the web server (gunicorn); the same image runs the Celery workers and beat
# with another command (docker-compose.yml). PostgreSQL and Redis come from outside: DATABASE_URL, REDIS_URL.
# docs/operations.md, "Containers".

# Front-end libraries from npm (package-lock.json), served by Django's staticfiles: never from a CDN.
FROM node:22-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.13-slim-bookworm
# Pango for WeasyPrint's PDFs (quotes, invoices); fonts with Cyrillic; curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRM_VAR_DIR=/app/var GUNICORN_BIND=0.0.0.0:8000 GUNICORN_ACCESS_LOG=- LOG_FORMAT=json
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY --from=frontend /build/node_modules ./node_modules
COPY . .
# Static files are collected into the image; the settings need a key and URLs to load, none of them used here.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/unused REDIS_URL=redis://unused:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0 \
 && python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity 0 \
 && useradd --system --home /app --shell /usr/sbin/nologin crm \
 && mkdir -p /app/var/run /app/var/media && chown -R crm /app/var
USER crm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["python", "-m", "gunicorn", "crm.wsgi", "--config", "python:crm.gunicorn_conf"]
