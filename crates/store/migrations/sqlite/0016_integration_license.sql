-- The HelpDesk license (the customer account, `GET /v1/licenses`) an integration reads. With a
-- personal access token the Account ID names one person, so two people of one HelpDesk account
-- connect with different Account IDs; the license is what they share. NULL for integrations
-- connected before it was read, until their next sync fills it in.
ALTER TABLE integrations ADD COLUMN license_id INTEGER;
