"""Provisions and runs the local services (Kafka in KRaft mode, redis-server, Milvus Lite) under one data dir."""
