# The operator as a static binary on a distroless, non-root image.
#   docker build -t wandb-operator:dev .
# The binary packaged is the one `cargo test --workspace --locked` tests: same sources, same
# lockfile, release profile, musl target for a static executable.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl -p wandb-operator --bin wandb-operator \
 && cp target/x86_64-unknown-linux-musl/release/wandb-operator /wandb-operator

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /wandb-operator /usr/local/bin/wandb-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wandb-operator"]
CMD ["run"]
