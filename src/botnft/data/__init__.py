"""Market data: columnar bar batches, loaders for gz-CSV and Parquet, and the bundled real data set."""
