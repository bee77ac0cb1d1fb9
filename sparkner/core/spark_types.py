"""The annotation column as a Spark SQL type: ``array<struct<annotatorType, begin, end,
result, metadata, embeddings>>``, the same schema as :data:`~sparkner.core.annotation.
ANNOTATIONS_ARROW_TYPE`."""

from pyspark.sql.types import (
    ArrayType,
    FloatType,
    IntegerType,
    MapType,
    StringType,
    StructField,
    StructType,
)

ANNOTATION_SPARK_TYPE = StructType(
    [
        StructField("annotatorType", StringType(), True),
        StructField("begin", IntegerType(), False),
        StructField("end", IntegerType(), False),
        StructField("result", StringType(), True),
        StructField("metadata", MapType(StringType(), StringType(), True), True),
        StructField("embeddings", ArrayType(FloatType(), False), True),
    ]
)
ANNOTATIONS_SPARK_TYPE = ArrayType(ANNOTATION_SPARK_TYPE, True)
