# The image docker-compose.yml runs as web (gunicorn), worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# The version cached pages are keyed on (docker compose build --build-arg RELEASE=$(git rev-parse HEAD)).
ARG RELEASE=""
ENV RELEASE=$RELEASE
WORKDIR /app
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/base.lock
COPY . .
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --no-input -v 0
RUN useradd --create-home handoff && mkdir -p /app/var && chown handoff /app/var
USER handoff
EXPOSE 8000
CMD ["gunicorn", "handoff.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
