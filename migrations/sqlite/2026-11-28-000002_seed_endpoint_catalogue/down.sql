DELETE FROM endpoints;
