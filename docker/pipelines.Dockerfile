# The pipeline image: TFX 1.16 (Python 3.10) plus this repository, pinned to the same package set
# the local pipeline environment runs (pipelines/requirements.lock, installed without resolution).
# Compiled templates name this image by commit: REGION-docker.pkg.dev/PROJECT/retrain/pipelines:SHA.
# Build from the repository root:
#   docker build -f docker/pipelines.Dockerfile -t REGION-docker.pkg.dev/PROJECT/retrain/pipelines:SHA .
FROM gcr.io/tfx-oss-public/tfx:1.16.0

ENV TF_USE_LEGACY_KERAS=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /pipeline

# Dependencies first (a separate layer: the lock changes less often than the code).
COPY pipelines/requirements.lock pipelines/requirements.lock
RUN python -m pip install --no-deps -r pipelines/requirements.lock

COPY pyproject.toml README.md ./
COPY src src
COPY pipelines pipelines
COPY specs specs
RUN python -m pip install --no-deps --no-build-isolation -e . \
    && ln -sf "$(command -v python)" /usr/local/bin/retrain-pipelines-python \
    && python -c "import pipelines.factory, retrain.spec"

# `retrain compile` inside this image runs the pipeline modules with this interpreter.
ENV PYTHONPATH=/pipeline \
    RETRAIN_PIPELINES_PYTHON=/usr/local/bin/retrain-pipelines-python

# Dataflow runs this image as its SDK container (`runner: dataflow` in a spec), so the trainer and
# transform modules import on the workers. Dataflow starts a container through its entrypoint,
# which must be Beam's boot program of the installed Beam (2.74, pipelines/requirements.lock).
# Vertex steps and custom jobs set their own command, so they are unaffected.
COPY --from=apache/beam_python3.10_sdk:2.74.0 /opt/apache/beam /opt/apache/beam
ENTRYPOINT ["/opt/apache/beam/boot"]
