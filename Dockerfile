# The code location's image: photon_archive installed as `pip install .` installs it (the product
# alone: no workshop, no emulator, no development tools), serving its Dagster definitions with
# `dagster code-server start` on port 4000. The same image runs each run's worker, which the run
# launcher starts from it (deploy/README.md).
#
#   docker build -t photon-archive .                         # for the ECS run launcher, or one machine
#   docker build --build-arg EXTRAS=k8s -t photon-archive .  # for Dagster's Helm chart (dagster-k8s)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Optional extras of pyproject.toml to install with the product: `k8s` for runs on Kubernetes.
ARG EXTRAS=""

# What `pip install .` reads: the project's metadata (its readme included) and the package itself.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY photon_archive/ photon_archive/
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && rm -rf /src

RUN useradd --create-home --uid 10001 dagster
USER dagster
# Outside the source tree, so the code server imports the installed package.
WORKDIR /home/dagster

EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
CMD ["dagster", "code-server", "start", "-m", "photon_archive.definitions", "-h", "0.0.0.0", "-p", "4000"]
