-- 0004: leases, for electing one leader among the kant serve processes on
-- one file. generation only grows: it is the fencing token the leader's
-- writes carry (alerts, checkpoints), refused once a newer one exists.
-- Times are Unix nanoseconds (INTEGER), compared in SQL.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    since_ns   INTEGER NOT NULL,
    expires_ns INTEGER NOT NULL
);
