# PRH Cluster images (README "Operate"). One executable, `prh` (project Client/), is both the
# client and the silo (`prh silo`). Targets:
#   docker build --target silo-cpu -t REGISTRY/prh:TAG-cpu    .   # CPU silo (ONNX Runtime, CPU)
#   docker build --target silo-gpu -t REGISTRY/prh:TAG-gpu    .   # GPU silo (ONNX Runtime CUDA)
#   docker build --target client   -t REGISTRY/prh:TAG-client .   # `prh sweep submit ...` etc.
# The tags are what k8s/base/kustomization.yaml `images:` maps prh-silo-cpu, prh-silo-gpu and
# prh-client to. The context is the repository root; only the projects the executable needs are
# copied, and host build outputs (bin/, obj/) are dropped in the image.

ARG DOTNET_VERSION=10.0
# CUDA base of the GPU silo: its CUDA/cuDNN major versions must be the ones the
# Microsoft.ML.OnnxRuntime.Gpu package below was built for (see the ONNX Runtime CUDA EP docs).
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04
ARG ORT_VERSION=1.31.1

# ---- build: sources ------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS source
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
# Project files first, restored in their own layer so that code changes reuse the restore.
COPY Directory.Build.props Directory.Packages.props ./
COPY Alignment/Alignment.csproj Alignment/
COPY Contracts/Contracts.csproj Contracts/
COPY Extraction/Extraction.csproj Extraction/
COPY Grains/Grains.csproj Grains/
COPY Silo/Silo.csproj Silo/
COPY Client/Client.csproj Client/
RUN dotnet restore Client
COPY Alignment/ Alignment/
COPY Contracts/ Contracts/
COPY Extraction/ Extraction/
COPY Grains/ Grains/
COPY Silo/ Silo/
COPY Client/ Client/
RUN find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +

# ---- build: CPU (Microsoft.ML.OnnxRuntime, as the repository restores it) ------------------
FROM source AS build-cpu
RUN dotnet publish Client -c Release -o /app

# ---- build: GPU (the same code with Microsoft.ML.OnnxRuntime.Gpu of the same version) -------
# README "ONNX models in sweeps": only the package changes; the extractor picks the CUDA
# execution provider when ONNX Runtime offers it.
FROM source AS build-gpu
ARG ORT_VERSION
RUN dotnet remove Extraction package Microsoft.ML.OnnxRuntime \
 && dotnet add Extraction package Microsoft.ML.OnnxRuntime.Gpu --version ${ORT_VERSION} \
 && dotnet publish Client -c Release -o /app

# ---- runtime: CPU base (ASP.NET Core runtime on Ubuntu 24.04, non-root user `app`, UID 1654) -
# ASP.NET Core, not the bare .NET runtime: the silo serves its probes, /metrics and the dashboard with
# Kestrel, and `prh` (client and silo in one executable) needs that shared framework to start at all.
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime-cpu
USER root
# OpenBLAS: the engine's BLAS path (it falls back to managed code without it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Numeric UID so that Kubernetes' runAsNonRoot can verify it (the k8s manifests use 1654).
USER 1654

# ---- target: silo-cpu ------------------------------------------------------------------------
FROM runtime-cpu AS silo-cpu
COPY --from=build-cpu /app /app
# 11111 silo-to-silo, 30000 gateway (clients), 8080 operational HTTP (/healthz/live, /healthz/ready,
# /metrics, and /dashboard with PRH_Dashboard__Enabled=true).
EXPOSE 11111 30000 8080
ENTRYPOINT ["/app/prh"]
CMD ["silo"]

# ---- target: client --------------------------------------------------------------------------
# e.g. docker run REGISTRY/prh:TAG-client sweep submit /spec/sweep.yaml --cluster HOST:30000
FROM runtime-cpu AS client
COPY --from=build-cpu /app /app
ENTRYPOINT ["/app/prh"]
CMD ["--help"]

# ---- target: silo-gpu ------------------------------------------------------------------------
# A CUDA + cuDNN runtime base with the .NET and ASP.NET Core runtimes copied from the official image
# (also Ubuntu 24.04, so its native dependencies match). Needs the NVIDIA container toolkit on the node
# (Kubernetes: the NVIDIA device plugin, resources.limits["nvidia.com/gpu"]).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS dotnet-runtime
FROM ${CUDA_IMAGE} AS silo-gpu
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libicu74 libssl3t64 zlib1g tzdata libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --create-home app
COPY --from=dotnet-runtime /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
COPY --from=build-gpu /app /app
WORKDIR /app
USER 1654
EXPOSE 11111 30000 8080
ENTRYPOINT ["/app/prh"]
CMD ["silo"]
