# The worker and projector image: the project installed the way `make run` installs it
# (pip install of this directory into a virtual environment), without the test extra.
FROM python:3.11-slim
WORKDIR /app
RUN python -m venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH"
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY projections ./projections
COPY workers ./workers
COPY web ./web
COPY demo ./demo
RUN pip install --no-cache-dir .
USER nobody
CMD ["childreg", "worker"]
