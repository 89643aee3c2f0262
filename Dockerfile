# evalgate in a container, for a team's own repository (built by its users: see README "Install").
#   docker build -t evalgate .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/project" evalgate run
FROM rust:1-slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p evalgate

FROM debian:stable-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 --user-group evalgate
COPY --from=build /src/target/release/evalgate /usr/local/bin/evalgate
# uid 1000 owns the mounted project on most single-user machines; otherwise pass --user.
USER evalgate
WORKDIR /project
ENTRYPOINT ["evalgate"]
CMD ["--help"]
