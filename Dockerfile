# The pulseline image: one image, the command picks the role (collect, worker, topics create).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY agents ./agents
COPY rules ./rules
RUN pip install --no-cache-dir .
ENTRYPOINT ["pulseline"]
