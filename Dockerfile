# flowlab with its CUDA code paths, built against the LibTorch of the PyTorch in the base image.
#
#   docker build -t flowlab .
#   docker run --gpus all -v $PWD/runs:/runs flowlab train configs/toy/moons.yaml --set run.dir=/runs
#   docker run --gpus all -v $PWD/runs:/runs flowlab sample /runs/moons --out /runs/moons/samples.npy
#
# The build steps are scripts/docker_build.sh (build, cmake --install, smoke check), which CI's
# second lane also runs, without Docker, on PyPI's torch wheel. The base image must hold a
# PyTorch >= 2.7 (C++11 string ABI) with the CUDA toolkit (a -devel image).
ARG BASE_IMAGE=pytorch/pytorch:2.14.0-cuda12.6-cudnn9-devel
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive
# The packages of scripts/setup.sh that the build needs (Ubuntu names), without Debian's LibTorch
# 1.13 and the Python test oracles. Gloo's headers (data-parallel training on the CPU) and
# Fashion-MNIST are optional: the build leaves Gloo out, and configs need the data, when missing.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libcli11-dev zlib1g-dev libstb-dev \
      libcairo2-dev fonts-dejavu-core \
 && for optional in libgloo-dev dataset-fashion-mnist; do \
      apt-get install -y --no-install-recommends "$optional" || echo "flowlab image: no $optional in this distribution"; \
    done \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/flowlab
COPY . .
RUN FLOWLAB_TORCH_PYTHON="$(command -v python3)" FLOWLAB_BUILD_DIR=/tmp/flowlab-build FLOWLAB_PREFIX=/usr/local \
      scripts/docker_build.sh \
 && rm -rf /tmp/flowlab-build

# Relative config paths (configs/...) resolve against the sources; runs go where run.dir says.
ENTRYPOINT ["flowlab"]
CMD ["--help"]
