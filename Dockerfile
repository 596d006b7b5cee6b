# A small image for the nightly CronJob (deploy/cronjob.yaml).
#   docker build -t registry.example.com/confdrift:0.1.0 .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin confdrift

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/confdrift /usr/local/bin/confdrift
ENTRYPOINT ["/usr/local/bin/confdrift"]
