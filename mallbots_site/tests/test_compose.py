"""docker-compose.yml, Dockerfile and deploy/nginx.conf checked without a Docker engine (architecture.md §17).

Every app service runs a command this project has (a ``manage.py`` command whose parser accepts the
arguments, or the web server as ``run_all`` starts it); every variable the file sets for the app is one
the settings read (architecture.md §15 and ``mallbots_site/settings.py``); the layout is the one of §17.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class

from eventstore import messaging
from mallbots_site.web import http_server_argv

ROOT = Path(settings.BASE_DIR)
IMAGES = {"postgres": "postgres:16", "nats": "nats:2", "nginx": "nginx:"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def app_services(services: dict) -> dict:
    return {name: service for name, service in services.items() if "build" in service}


def settings_variables() -> set[str]:
    """The environment variables the settings read: ``env.<type>("NAME"`` in settings.py and what
    ``bootstrap`` reads before them (``VAR_DIR``, ``EMBEDDED_NATS_PORT``, ``DJANGO_SECRET_KEY`` …)."""
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', (ROOT / "mallbots_site/settings.py").read_text()))
    names |= set(re.findall(r'environ(?:ment)?(?:\.get\(|\[)\s*"([A-Z][A-Z0-9_]*)"',
                            (ROOT / "mallbots_site/bootstrap.py").read_text()))
    return names


def manage_commands(command: list[str]) -> list[list[str]]:
    """The ``manage.py`` invocations of a service command (``sh -c "a && b"`` gives several)."""
    if command[:2] == ["sh", "-c"]:
        parts = [shlex.split(part) for part in command[2].split("&&")]
    else:
        parts = [command]
    return [part[2:] for part in parts if part[:2] == ["python", "manage.py"]]


def test_the_settings_parse_finds_the_variables_of_architecture_section_15():
    assert {"DATABASE_URL", "NATS_URL", "NATS_STREAM_REPLICAS", "DJANGO_SECRET_KEY", "VAR_DIR", "WEB_HOST",
            "DJANGO_ALLOWED_HOSTS", "ENVIRONMENT", "BOT_SIM_BASE_URL", "METRICS_PORT"} <= settings_variables()


def test_every_app_service_runs_a_command_of_this_project_with_arguments_it_accepts(services):
    commands = get_commands()
    web_argv = http_server_argv(None, 1, bind="0.0.0.0:8080")
    for name, service in app_services(services).items():
        command = service["command"]
        if command[:2] == ["python", "-m"]:
            assert (command[2], command[-1]) == (web_argv[2], web_argv[-1]), f"{name}: not the web server of run_all"
            assert command[command.index("--bind") + 1] == "0.0.0.0:8080", name
            continue
        invocations = manage_commands(command)
        assert invocations and len(invocations) == (command[2].count("&&") + 1 if command[0] == "sh" else 1), name
        for argv in invocations:
            assert argv[0] in commands, f"{name}: manage.py has no command {argv[0]}"
            parser = load_command_class(commands[argv[0]], argv[0]).create_parser("manage.py", argv[0])
            parser.parse_args(argv[1:])


def test_the_services_are_the_layout_of_architecture_section_17(services):
    assert {"postgres", "nats1", "nats2", "nats3", "init", "web", "proxy", "relay", "qcluster", "bots"} <= set(services)
    for name, service in services.items():
        if "build" not in service:
            assert any(service["image"].startswith(IMAGES[kind]) for kind in IMAGES if name.startswith(
                {"postgres": "postgres", "nats": "nats", "nginx": "proxy"}[kind])), f"{name}: image {service['image']}"
    assert services["postgres"]["image"] == "postgres:16" and "pgdata:" in services["postgres"]["volumes"][0]

    nodes = {f"nats{n}" for n in (1, 2, 3)}
    for node in nodes:
        argv = services[node]["command"]
        assert "-js" in argv and argv[argv.index("--cluster_name") + 1] == "mallbots"
        assert argv[argv.index("--server_name") + 1] == node
        routes = {re.match(r"nats://(\w+):6222", r).group(1) for r in argv[argv.index("--routes") + 1].split(",")}
        assert routes == nodes - {node}
        assert services[node]["volumes"] == [f"{node}:/data"] and argv[argv.index("-sd") + 1] == "/data"

    init = " ".join(services["init"]["command"])
    steps = [argv[0] for argv in manage_commands(services["init"]["command"])]
    assert steps == ["migrate", "ensure_stream", "setup_roles", "setup_schedules"], init
    for name, service in app_services(services).items():
        if name != "init":
            assert service["depends_on"]["init"]["condition"] == "service_completed_successfully", name

    assert services["web"]["deploy"]["replicas"] >= 2 and services["relay"]["deploy"]["replicas"] == 2
    assert services["proxy"]["ports"] == ["8080:8080"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]
    assert "/readiness" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["bots"]["command"][2] == "run_bots"
    assert services["bots"]["environment"]["BOT_SIM_BASE_URL"] == "http://proxy:8080"
    assert services["qcluster"]["command"][2] == "qcluster"


def test_one_consumer_service_per_module_with_durables(services):
    consumers = {service["command"][-1]: name for name, service in services.items()
                 if service.get("command", [None] * 3)[2:3] == ["run_consumers"]}
    assert all(name == f"consumers-{module}" for module, name in consumers.items())
    declared = {durable.module for durable in messaging.durables()} - {"toy"}
    assert declared <= set(consumers), f"modules with durables but no consumer service: {declared - set(consumers)}"
    assert {"baskets", "customers", "depot", "ordering", "payments", "notifications", "search"} <= set(consumers)


def test_every_app_variable_is_one_the_settings_read_and_the_shared_ones_are_set(services):
    known = settings_variables()
    for name, service in app_services(services).items():
        environment = service["environment"]
        assert not set(environment) - known, f"{name} sets variables the settings never read: {set(environment) - known}"
        assert environment["NATS_URL"] == "nats://nats1:4222,nats://nats2:4222,nats://nats3:4222"
        assert (environment["NATS_STREAM_REPLICAS"], environment["ENVIRONMENT"], environment["WEB_HOST"],
                environment["DJANGO_ALLOWED_HOSTS"]) == ("3", "production", "0.0.0.0", "*")
        assert environment["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


def test_the_proxy_upgrades_websockets_on_ws_and_passes_everything_to_the_web_replicas():
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"listen 8080;", conf) and re.search(r"upstream web \{\s*server web:8080", conf)
    websocket = re.search(r"location /ws/ \{(.*?)\}", conf, re.S).group(1)
    assert "proxy_pass http://web;" in websocket and "proxy_set_header Upgrade $http_upgrade;" in websocket
    assert "proxy_set_header Connection $connection_upgrade;" in websocket
    assert "proxy_pass http://web;" in re.search(r"location / \{(.*?)\}", conf, re.S).group(1)


def test_the_image_installs_the_lock_and_runs_as_a_user_that_is_not_root():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    install = next(i for i, line in enumerate(lines) if re.match(r"RUN pip install .*-r requirements\.txt", line))
    assert any(line.startswith("COPY requirements.txt") for line in lines[:install])
    users = [(i, line.split()[1]) for i, line in enumerate(lines) if line.startswith("USER ")]
    assert users and users[-1][0] > install and users[-1][1] not in ("root", "0")
    assert any(users[-1][1] in line and "useradd" in line for line in lines)
    assert (ROOT / ".dockerignore").read_text().split().count("var") == 1
