"""Datasets on disk: the file layout, scene records and layers, shards and their records,
executors and workers, generate/finish/fill, verify, the stream, and the export formats."""
