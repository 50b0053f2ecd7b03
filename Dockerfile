# Winnow as a container: one static binary (no cgo: SQLite is pure Go), run as a
# non-root user, with its data (SQLite database and uploads) in the /data volume.
#
#   docker build -t winnow .
#   docker run -p 8080:8080 -v winnow-data:/data -e WINNOW_SECRET_KEY=$(openssl rand -hex 32) winnow
#
# compose.yaml beside this file runs it with PostgreSQL.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/winnow ./cmd/winnow \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/winnow /usr/local/bin/winnow
# An empty /data owned by the non-root user, so a new named volume starts writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV WINNOW_DATA_DIR=/data \
    WINNOW_ADDR=:8080
VOLUME /data
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["/usr/local/bin/winnow", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/winnow"]
CMD ["serve"]
