# Both binaries in one distroless, non-root image; the Go build flags match `make build`.
FROM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
COPY webhookbridge/ webhookbridge/
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o /out/manager ./cmd/manager \
 && CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o /out/webhookbridge ./cmd/webhookbridge

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/manager /out/webhookbridge /
USER 65532:65532
ENTRYPOINT ["/manager"]
