-- Where responders talk: an incident's call bridge and chat channel (http(s) URLs).
ALTER TABLE incidents ADD COLUMN bridge_url TEXT;
ALTER TABLE incidents ADD COLUMN chat_url TEXT;
