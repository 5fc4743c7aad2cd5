# jira-chase as a container: one `sync` per start, for a scheduler (a Kubernetes
# CronJob: examples/kubernetes/cronjob.yaml; or `docker run` from cron).
#
#   docker build -t jira-chase .
#   docker run --rm -v "$PWD/chase.toml:/config/chase.toml:ro" -v jira-chase-state:/state \
#     -e JIRA_CHASE_JIRA__TOKEN jira-chase
#
# The configuration is mounted read-only at /config/chase.toml; the state file lives on
# the volume at /state (JIRA_CHASE_STATE__PATH wins over the file's state.path); the
# token comes from the environment, never from the image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY jira_chase ./jira_chase
RUN pip install . && rm -rf /src

# An unprivileged user owns the state volume; nothing else is writable to it.
RUN useradd --system --uid 10001 --home-dir /state --shell /usr/sbin/nologin chase \
    && mkdir -p /state /config && chown chase /state
USER 10001
WORKDIR /state
VOLUME ["/state"]

ENV JIRA_CHASE_CONFIG=/config/chase.toml \
    JIRA_CHASE_STATE__PATH=/state/jira-chase.sqlite

ENTRYPOINT ["jira-chase"]
CMD ["sync", "--quiet"]
