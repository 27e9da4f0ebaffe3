"""Stage 1: live listening log -> shipper -> Elasticsearch (import name of 00.stage1/)."""
