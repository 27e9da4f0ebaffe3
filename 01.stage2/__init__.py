"""Stage 2: Kafka -> Spark Structured Streaming -> Elasticsearch and Redis (import name of 01.stage2/)."""
