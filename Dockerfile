# credsweep as a small static container image: `docker build -t credsweep .`, then
#   docker run --rm -v "$PWD:/repo" credsweep git .
# The final image is FROM scratch: one statically linked (musl) binary and nothing else. Scanning
# needs no git (credsweep reads repositories itself) and no CA bundle (--verify's TLS carries its
# own roots). `--target ci` builds the same binary on Alpine, with a shell, for CI systems that
# run scripts inside the image (GitLab CI): docs/ci-recipes.md.

# Build: Alpine's Rust targets musl, whose binaries are static by default (no RUSTFLAGS: forcing
# crt-static on the host would also apply to proc-macros, which cannot be static); a C compiler
# builds `ring` (--verify's TLS).
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev gcc
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin credsweep \
 && ./target/release/credsweep --version

# For CI systems that need a shell in the job's image; git for scripts that inspect the clone.
FROM alpine:3 AS ci
RUN apk add --no-cache git
COPY --from=build /src/target/release/credsweep /usr/local/bin/credsweep
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/credsweep"]
CMD ["dir", "."]

# The default image: the binary alone.
FROM scratch
COPY --from=build /src/target/release/credsweep /usr/local/bin/credsweep
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/credsweep"]
CMD ["dir", "."]
