# The pulseline image: one image, the command picks the role (collect, worker, topics create,
# demo, webhook-receiver...). Two stages: wheels are built in the first, and only the installed
# packages reach the second, which runs as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY agents ./agents
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/pulseline --create-home \
        --shell /usr/sbin/nologin pulseline \
    && install -d -o pulseline -g pulseline /etc/pulseline/targets
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels
COPY rules /etc/pulseline/rules
COPY deploy/docker/entrypoint.sh /usr/local/bin/pulseline-entrypoint
ENV PYTHONUNBUFFERED=1 \
    PULSELINE_WORKER__DATA_DIR=/var/lib/pulseline/data
WORKDIR /var/lib/pulseline
USER pulseline:pulseline
ENTRYPOINT ["pulseline-entrypoint"]
CMD ["--help"]
