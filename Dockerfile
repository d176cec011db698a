# The controller's image: the self-contained single-file `foresight` on a chiseled Ubuntu base (no shell, no package
# manager), running as non-root with a read-only root filesystem.
#
#   docker build -t ghcr.io/foresight/foresight:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD/../shared/data:/data:ro" -e FORESIGHT_DATA=/data \
#     ghcr.io/foresight/foresight:0.1.0 simulate --duration 1d
#
# deploy/controller.yaml runs this image name. Writable state: /tmp (native libraries extracted from the single file,
# the runtime's diagnostics socket) and the journal's volume (/var/lib/foresight in deploy/controller.yaml).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Only what the binary is built from: the build files and src/ (.dockerignore leaves out tests, bin and obj).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet restore src/Foresight.Cli -r linux-x64
RUN dotnet publish src/Foresight.Cli -c Release -r linux-x64 --no-restore -o /out

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
LABEL org.opencontainers.image.title="foresight" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.description="Forecasts per-site edge traffic and migrates service instances ahead of it."
COPY --from=build /out/foresight /app/foresight
# The single file extracts SkiaSharp and SQLite natives on first use: to /tmp, the one writable place besides volumes.
ENV DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp \
    HOME=/tmp
WORKDIR /tmp
USER 65532:65532
ENTRYPOINT ["/app/foresight"]
