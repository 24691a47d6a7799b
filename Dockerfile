# Ripcord's container image: `docker build -t ripcord .` (or `podman build`,
# `buildah bud`). Two stages:
# - build: compiles the release binary and assembles the runtime's whole root
#   in /rootfs with scripts/image-rootfs (the stripped binary, exactly the
#   shared libraries it links, the CA bundle, a non-root user);
# - runtime: FROM scratch, that root and nothing else (no shell, no RUN).
# CI builds this same file with `--build-arg RUST_IMAGE=` a local Debian
# bookworm root holding the same Rust toolchain (scripts/image); the README's
# "Container image" section says why the two images are equivalent.
ARG RUST_IMAGE=docker.io/library/rust:1.95.0-slim-bookworm

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ripcord \
    && scripts/image-rootfs /rootfs target/release/ripcord

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="ripcord" \
      org.opencontainers.image.description="Ripcord: event-driven orchestration of AWS Elastic Disaster Recovery drills" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /rootfs/ /
# The workdir again with its owner: COPY --from keeps ownership with BuildKit
# and buildah, this says it for any builder that would not.
COPY --from=build --chown=10001:10001 /rootfs/var/lib/ripcord/ /var/lib/ripcord/
USER 10001:10001
WORKDIR /var/lib/ripcord
ENTRYPOINT ["/usr/local/bin/ripcord"]
