# Builds the single blobgate binary with deno compile, then runs it as non-root.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY src ./src
RUN deno install --frozen --entrypoint src/main.ts \
 && deno compile -A --frozen --v8-flags=--max-semi-space-size=8 --output /out/blobgate src/main.ts \
 && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/blobgate /usr/local/bin/blobgate
# The fs store lives in /data; mount a volume there, or configure an s3 store.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV BLOBGATE_LISTEN__S3=0.0.0.0:9000 \
    BLOBGATE_LISTEN__REGISTRY=0.0.0.0:5000 \
    BLOBGATE_STORE__PATH=/data
USER 65532:65532
EXPOSE 9000 5000
ENTRYPOINT ["/usr/local/bin/blobgate"]
CMD ["serve"]
