# rlhf: the Gradio app, its engine and a prebuilt starter model, serving on port 7860.
#
#   CPU (default):  docker build -t rlhf . && docker run -p 7860:7860 rlhf
#   CUDA:           docker build --build-arg DEVICE=cuda -t rlhf-gpu . && docker run --gpus all -p 7860:7860 rlhf-gpu
#
# On a Hugging Face Space (sdk: docker) this file is built as is; runs go to /data when persistent storage is on.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# cpu: the CPU wheel of torch from PyTorch's index; cuda: the default (CUDA) wheel, which ships its own CUDA
# libraries, so the host only needs the NVIDIA driver and container toolkit.
ARG DEVICE=cpu
ARG TORCH_VERSION=2.13.0
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    HOME=/home/user \
    RLHF_CACHE_DIR=/home/user/.cache/rlhf \
    PATH=/home/user/.local/bin:$PATH

# Spaces run the container as uid 1000 with a writable HOME; so does this image everywhere.
RUN useradd --create-home --uid 1000 user && mkdir -p /home/user/app && chown -R user:user /home/user

WORKDIR /home/user/app
COPY requirements.txt .
# The same requirements the README installs, after the torch wheel for the device.
RUN if [ "$DEVICE" = "cpu" ]; then \
        pip install torch==${TORCH_VERSION} --index-url ${TORCH_CPU_INDEX}; \
    else \
        pip install torch==${TORCH_VERSION}; \
    fi \
    && pip install -r requirements.txt

COPY --chown=user:user . .
USER user
# Build the starter model now, so the app is useful at first paint with no network.
RUN python -m rlhf.starter

EXPOSE 7860
CMD ["python", "app.py", "--host", "0.0.0.0"]
