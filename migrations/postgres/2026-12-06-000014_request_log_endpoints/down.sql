ALTER TABLE gate_requests DROP COLUMN refused_address;
ALTER TABLE gate_requests DROP COLUMN endpoint_id;
