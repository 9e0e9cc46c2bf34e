"""Dataset registry: one manifest per dataset, verified fetching, and the dataset builders."""

from motive.data.datasets.registry import DATASETS, default_cache_dir, fetch, get_dataset

__all__ = ["DATASETS", "default_cache_dir", "fetch", "get_dataset"]
