-- Failures counted in fixed windows, shared by every instance on the database: failed
-- sign-ins per account (the normalised e-mail typed, known or not) and per client address,
-- and failed gate authentications per client address. A window starts at its first
-- failure; a row whose window has ended counts for nothing and is swept on a timer.
-- Never a password or a key: only what names the account or the address.
--
-- PostgreSQL dialect: the same table and constraints as in SQLite.
CREATE TABLE failure_windows (
    scope          TEXT NOT NULL CHECK (scope IN ('sign_in_account', 'sign_in_address', 'gate_address')),
    subject        TEXT NOT NULL CHECK (length(subject) <= 254),
    window_started TIMESTAMP NOT NULL,
    failures       INTEGER NOT NULL CHECK (failures >= 0),
    PRIMARY KEY (scope, subject)
);
-- The sweep, and the gate's read of the windows at their limit, go by start.
CREATE INDEX failure_windows_by_start ON failure_windows (scope, window_started);
