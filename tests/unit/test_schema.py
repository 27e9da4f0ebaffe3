"""The data model is defined once; every rendering of it agrees."""
from __future__ import annotations

from common import schema


def test_csv_columns_follow_the_field_tables():
    assert schema.EVENT_COLUMNS == ["event_id", "customer_id", "track_id", "datetime", "ismobile",
                                    "listening_zip_code"]
    assert schema.csv_columns(schema.CUSTOMER_FIELDS) == schema.CUSTOMER_COLUMNS
    assert schema.CUSTOMER_COLUMNS[:3] == ["CustID", "Name", "Gender"]


def test_es_template_and_spark_schema_agree():
    for fields in (schema.STAGE1_DOC_FIELDS, schema.STAGE2_DOC_FIELDS, schema.STAGE3_DOC_FIELDS):
        props = schema.es_index_template("x", fields)["template"]["mappings"]["properties"]
        spark_fields = {f.name: f.dataType.typeName() for f in schema.spark_schema(fields).fields}
        assert set(props) == {f.name for f in fields}
        # every field except the geo_point is in the Spark schema, with a matching type
        assert set(spark_fields) == {f.name for f in fields if f.kind != "geo_point"}
        for f in fields:
            es_type = props[f.name]["type"]
            if f.kind == "geo_point":
                assert es_type == "geo_point"
                continue
            spark_type = spark_fields[f.name]
            if es_type == "date":
                assert spark_type == "timestamp"
            elif es_type in ("integer", "long"):
                assert spark_type == es_type
            elif es_type == "boolean":
                assert spark_type == "boolean"
            elif f.name in ("event_id", "customer_id", "track_id"):
                assert es_type == "keyword"        # ids: exact values in ES, numbers in Spark
            else:
                assert spark_type == "string"


def test_es_template_types():
    props = schema.es_index_template("ba_realtime", schema.STAGE1_DOC_FIELDS)["template"]["mappings"]["properties"]
    assert props["datetime"]["type"] == "date" and "yyyy-MM-dd HH:mm:ss" in props["datetime"]["format"]
    assert props["ismobile"]["type"] == "integer"
    assert props["location"]["type"] == "geo_point"
    assert props["event_id"]["type"] == props["customer_id"]["type"] == "keyword"


def test_date_formats_mean_the_same():
    from datetime import datetime

    text = "2026-09-01 07:05:09"
    parsed = datetime.strptime(text, schema.EVENT_DATETIME_FORMAT)
    java = schema.EVENT_DATETIME_JAVA.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d") \
        .replace("HH", "%H").replace("mm", "%M").replace("ss", "%S")
    assert java == schema.EVENT_DATETIME_FORMAT
    assert parsed.strftime(java) == text
