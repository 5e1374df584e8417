-- clew's benchmark span tables in ClickHouse, shaped like those of
-- ClickHouse-based tracing systems (Uptrace, SigNoz, Jaeger-ClickHouse):
-- an index table of span rows ordered by service, span name and time, with
-- attributes as parallel key and value arrays, and a data table ordered by
-- trace id that holds each span whole (here its OTLP protobuf encoding and
-- its resource's) for trace-by-id lookups. ClickHouse 18.16 has no data
-- skipping indices (SigNoz's bloom filter on trace id) nor per-column
-- codecs; compression is zstd for every part through the server config.
-- The trace table reads 1024-row granules (SigNoz's setting for its trace
-- table): a lookup then decompresses 8 times less than with the default.
CREATE TABLE spans (
    trace_id FixedString(16),
    span_id FixedString(8),
    parent_span_id FixedString(8),
    service_name String,
    span_name String,
    kind UInt8,
    start_ns UInt64,
    duration_ns UInt64,
    status_code UInt8,
    status_message String,
    attr_keys Array(String),
    attr_values Array(String),
    resource_keys Array(String),
    resource_values Array(String),
    event_times_ns Array(UInt64),
    event_names Array(String)
) ENGINE = MergeTree()
PARTITION BY toDate(toDateTime(intDiv(start_ns, 1000000000)))
ORDER BY (service_name, span_name, start_ns);

CREATE TABLE spans_by_trace (
    trace_id FixedString(16),
    start_ns UInt64,
    service_name String,
    resource String,
    span String
) ENGINE = MergeTree()
PARTITION BY toDate(toDateTime(intDiv(start_ns, 1000000000)))
ORDER BY (trace_id, start_ns)
SETTINGS index_granularity = 1024;
