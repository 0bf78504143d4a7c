-- 0003: alert delivery state and silences.
--
-- An alert row is both what the incident message should say and how far its
-- delivery got (an outbox): revision counts changes of content, delivered is
-- the revision Slack shows, notes_sent how many thread replies went out.
-- body is a JSON object {"fields": [...], "links": [...], "notes": [...]}.
ALTER TABLE alerts ADD COLUMN owner TEXT;
ALTER TABLE alerts ADD COLUMN since TEXT;
ALTER TABLE alerts ADD COLUMN body TEXT;                              -- JSON
ALTER TABLE alerts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN notes_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN posting INTEGER NOT NULL DEFAULT 0;     -- boolean
ALTER TABLE alerts ADD COLUMN silenced TEXT;                          -- silence ID
ALTER TABLE alerts ADD COLUMN last_error TEXT;

CREATE INDEX alerts_updated_at ON alerts (updated_at);
CREATE INDEX alerts_status ON alerts (status, created_at, id);

-- silences keep alerts from being sent between start and end, for the SLOs
-- in slos and the jobs matching jobs (JSON arrays; both empty: everything).
CREATE TABLE silences (
    id         TEXT NOT NULL PRIMARY KEY,
    slos       TEXT,                     -- JSON array of SLO names
    jobs       TEXT,                     -- JSON array of job globs
    start_at   TEXT NOT NULL,
    end_at     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT
);

CREATE INDEX silences_end ON silences (end_at);
