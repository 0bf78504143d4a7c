-- 0002: collector checkpoints.
--
-- checkpoints holds, per source and key (a Glue job, an Airflow DAG), where
-- a poller stopped reading, so that a restart neither re-reads history nor
-- misses what happened meanwhile. The value is the collector's own text.
CREATE TABLE checkpoints (
    source     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
