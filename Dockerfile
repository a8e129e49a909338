# reportbot: a static binary on a small base, running as a non-root user with
# its data (database, exports, login session) in the /data volume.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/reportbot . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/reportbot /usr/local/bin/reportbot
COPY --from=build /src/config.example.toml /src/schedule.example.toml /etc/reportbot/
COPY --from=build /src/schedules.example /etc/reportbot/schedules.example
# distroless' nonroot user is 65532; the volume must be writable by it.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
# The dashboard: set [web] listen = "0.0.0.0:8080" in config.toml to reach it from outside the container.
EXPOSE 8080
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/reportbot"]
# The bot in the WeChat group: /data holds config.toml, the schedule, the
# database and the login session. Scan the QR code on the terminal
# (docker run -it) or in docker logs. Check files first with:
#   docker run --rm -v "$PWD/data:/data" reportbot check --config /data/config.toml
CMD ["run", "--config", "/data/config.toml", "--data", "/data"]
