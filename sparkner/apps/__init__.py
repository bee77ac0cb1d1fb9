"""Applications on top of the stages and the runtime: the LightPipeline, the pretrained
pipelines, the annotate job, the command line and the notebook display."""
