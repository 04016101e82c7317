ALTER TABLE endpoints DROP COLUMN last_segment_optional;
DROP TABLE gate_requests;
