# The MallBots application image: every app service of docker-compose.yml runs it with its own command
# (architecture.md §17). Configuration comes only from the environment (architecture.md §15).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home mallbots \
    && mkdir -p /app/var \
    && chown mallbots:mallbots /app/var

USER mallbots

EXPOSE 8080 9100
CMD ["python", "manage.py", "run_all", "--no-bots"]
