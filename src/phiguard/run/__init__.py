"""Running the pipeline: the `Deidentifier`, the streaming batch API, jobs over files, Spark."""
