DELETE FROM endpoints;
-- PostgreSQL: put the identity sequence back where the previous migration left it.
SELECT setval(pg_get_serial_sequence('endpoints', 'id'), 1, false);
