# The worker, projector and web image: the project installed the way `make run` installs it
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
RUN pip install --no-cache-dir .
USER nobody
# The web tier (`childreg web --host 0.0.0.0`) listens here; the worker and projector need no port.
EXPOSE 8080
CMD ["childreg", "worker"]
