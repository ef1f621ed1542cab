# Local equivalents of the public images docker-compose.yml uses (postgres, redis, prometheus,
# label-studio), built FROM debian:bookworm-slim for machines that reach no container
# registry; docker-compose.local.yml picks a stage per service. Same ports, volumes, users and
# commands as the public images, as far as compose sees them.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS postgres
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
    && chmod 700 /var/lib/postgresql/data
COPY docker/local/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint"]

FROM ${BASE} AS redis
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]

FROM ${BASE} AS prometheus
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

FROM ${BASE} AS label-studio
ARG PIP_CERT=""
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/label-studio \
    && PIP_CERT=$PIP_CERT /opt/label-studio/bin/pip install --no-cache-dir --disable-pip-version-check label-studio==1.23.2 \
    && useradd --create-home --uid 1001 labelstudio \
    && mkdir -p /label-studio/data && chown -R labelstudio /label-studio
ENV PATH=/opt/label-studio/bin:$PATH LABEL_STUDIO_BASE_DATA_DIR=/label-studio/data PYTHONUNBUFFERED=1
WORKDIR /label-studio
USER labelstudio
EXPOSE 8080
CMD ["label-studio", "start", "--port", "8080", "--internal-host", "0.0.0.0", "--no-browser"]
