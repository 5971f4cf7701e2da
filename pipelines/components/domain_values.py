"""The string values a split's data holds for a feature, from TFDV's statistics: what a schema
change PR adds to the feature's domain, read from structured output rather than from the
anomaly's prose (whose values are C-escaped, joined with `, ` and cut by `(~N%)`, so a value
holding any of those cannot be read back).

TFDV's string-domain check compares the feature's rank histogram (its values, most frequent
first; `top_values` when there is none) with the schema's domain, so these are exactly the
values it may report. Only tensorflow_metadata's protos are needed.
"""

from tensorflow_metadata.proto.v0 import statistics_pb2

# StatisticsGen's default rank histogram holds up to 1000 values; the summary keeps as many.
MAX_VALUES = 1000


def seen_values(stats: statistics_pb2.DatasetFeatureStatisticsList, feature: str) -> list[str]:
    """The feature's distinct string values in these statistics, most frequent first."""
    found: dict[str, None] = {}
    for dataset in stats.datasets:
        for described in dataset.features:
            name = ".".join(described.path.step) or described.name
            if name != feature or described.WhichOneof("stats") != "string_stats":
                continue
            strings = described.string_stats
            labels = [b.label for b in strings.rank_histogram.buckets] or [
                v.value for v in strings.top_values
            ]
            found.update(dict.fromkeys(labels))
    return list(found)[:MAX_VALUES]
